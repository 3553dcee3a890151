/*
 * aj_claims.h — a verified JWT claim set: reading it and checking the
 * registered claims (RFC 7519 §4.1, RFC 8725).  Issued claims: aj_issue.h;
 * the packed image's format: aj_claims_pack.h.
 */
#ifndef AJ_CLAIMS_H
#define AJ_CLAIMS_H

#include "aj.h"
#include <apr_tables.h>
#include <json-c/json.h>

typedef struct aj_claims_t aj_claims_t;

/* What a verifier requires of the registered claims. */
typedef struct {
    const char *issuer;                  /* NULL: iss not checked */
    const apr_array_header_t *audiences; /* const char *; NULL or empty: aud not checked */
    apr_int64_t leeway;                  /* seconds allowed for exp/nbf/iat skew */
} aj_policy_t;

/* Wraps a parsed claims object (which must be a JSON object and stays owned
 * by the pool it was parsed into). */
aj_claims_t *aj_claims_wrap(apr_pool_t *p, json_object *obj);
/* The same, remembering the payload text obj was parsed from (text must
 * live as long as p): such a claim set can be packed. */
aj_claims_t *aj_claims_wrap_text(apr_pool_t *p, json_object *obj, const char *text, apr_size_t len);
/* The claims as a JSON object (a packed claim set parses its payload text
 * into its pool on the first call). */
json_object *aj_claims_object(const aj_claims_t *c);

/* The packed image (aj_claims_pack.h): a claim set digested once so it can
 * be reused without json-c (the verified-token cache keeps it).  A claim set
 * restored from it answers the time rules, iss, a string aud, the
 * string/scalar claims, Require jwt-claim/jwt-scope on string and scalar
 * claims and aj_claims_visit without parsing; anything else (array claims,
 * aj_claims_object, other numbers) parses the payload text once, on demand.
 *
 * aj_claims_pack: from a claim set made by aj_claims_wrap_text, into p.
 * APR_EINVAL without payload text (or when c was unpacked), AJ_E2BIG over
 * AJ_CLAIMS_IMAGE_MAX (64 KiB).
 * aj_claims_unpack: image (len bytes, 8-byte aligned, living as long as p)
 * as a claim set; NULL when it is not a consistent image. */
apr_status_t aj_claims_pack(void **image, apr_size_t *len, apr_pool_t *p, const aj_claims_t *c);
aj_claims_t *aj_claims_unpack(apr_pool_t *p, const void *image, apr_size_t len);

/* exp required; nbf/iat honoured with leeway; iss/aud when the policy names
 * them.  now is seconds since the epoch. */
aj_verdict_e aj_claims_check(const aj_claims_t *c, const aj_policy_t *policy, apr_int64_t now);

/* Non-zero when the auth_time claim (docs/reference.md §12, Require
 * jwt-fresh) says the password was entered at most max_age seconds before
 * now, the policy's leeway allowed for clock skew both ways.  0 when
 * auth_time is absent or not a number, lies in the future beyond the
 * leeway, or max_age is negative: a freshness that cannot be shown fails. */
int aj_claims_fresh(const aj_claims_t *c, const aj_policy_t *policy, apr_int64_t max_age,
                    apr_int64_t now);

/* The claim as a string, or NULL when absent or not a string. */
const char *aj_claims_get_string(const aj_claims_t *c, const char *name);
/* The claim as an integer NumericDate/number (fraction truncated);
 * 0 when absent or not a number, else 1 with *out set. */
int aj_claims_get_int(const aj_claims_t *c, const char *name, apr_int64_t *out);

/* Non-zero when the claim equals value (strings exactly; numbers and
 * booleans by their JSON text) or, for an array claim, one element does. */
int aj_claims_match(const aj_claims_t *c, const char *name, const char *value);

/* Non-zero when every scope in scopes (const char *) is a member of the
 * space-separated "scope" claim (or of a "scope"/"scp" array; a
 * space-separated "scp" string counts too).  0 when scopes is NULL or
 * empty: nothing to grant on fails closed. */
int aj_claims_has_scopes(const aj_claims_t *c, const apr_array_header_t *scopes);

/* Non-zero when s is one scope-token of RFC 6749 §3.3:
 *
 *     scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
 *
 * printable ASCII without space, '"' or '\'.  A scope that is not one could
 * never match a space-separated "scope" claim, and could not be written
 * unescaped into the scope="…" of an insufficient_scope challenge. */
int aj_claims_scope_token_ok(const char *s);

/* Calls fn for each top-level claim with a scalar text form: strings as is,
 * numbers and booleans as JSON text, arrays of scalars joined by single
 * spaces; objects and null are skipped.  Stops if fn returns non-zero. */
typedef int aj_claims_visit_fn(void *baton, const char *name, const char *value);
void aj_claims_visit(const aj_claims_t *c, apr_pool_t *p, aj_claims_visit_fn *fn, void *baton);

#endif /* AJ_CLAIMS_H */

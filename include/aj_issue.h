/*
 * aj_issue.h — the claims an issuer sets: an issued token's claim set
 * (docs/reference.md §5), the claims a password login stands for, the
 * reserved claim names, random ids, and the revoke-all time.
 */
#ifndef AJ_ISSUE_H
#define AJ_ISSUE_H

#include "aj.h"
#include "aj_claims.h"
#include <apr_tables.h>

/* What an issued token says (docs/reference.md §5). */
typedef struct {
    const char *sub;  /* user id as a string */
    const char *name; /* username */
    apr_int64_t iat, nbf, exp, auth_time;
    const char *jti;               /* see aj_random_id() */
    const char *iss;               /* NULL: omitted */
    const apr_array_header_t *aud; /* const char *; NULL/empty: omitted; 1: string */
    const char *extra_json;        /* the user's stored claims object, NULL: none */
    const char *csrf;              /* double-submit value for cookie clients, NULL: none */
    const char *sid;               /* refresh family (docs/reference.md §12), NULL: none */
} aj_issue_t;

/* Builds the compact claims JSON of an issued token.  Members of
 * extra_json that are reserved are ignored; APR_EINVAL when extra_json is
 * not a JSON object within aj_json_body_limits. */
apr_status_t aj_claims_build(const char **json, apr_pool_t *p, const aj_issue_t *in);

/* The claims a password login stands for: the user's stored claims
 * (claims_json; reserved names left out, and all of them when they are not
 * one JSON object), then sub (id as a string) and name (username), so
 * Require jwt-claim and JWT_CLAIM_* work the same for both credential
 * kinds.  Built with their JSON text, so they can be packed
 * (aj_claims_pack).  NULL when out of memory. */
const aj_claims_t *aj_issue_user_claims(apr_pool_t *p, apr_int64_t id, const char *username,
                                        const char *claims_json);

/* Claim names an issuer sets itself; stored per-user claims cannot override them. */
int aj_claims_is_reserved(const char *name);
/* Those names as one list for people: "iss, sub, aud, ...". */
const char *aj_claims_reserved_names(apr_pool_t *p);

/* nbytes of OpenSSL randomness, base64url encoded (jti, csrf values). */
apr_status_t aj_random_id(const char **out, apr_pool_t *p, apr_size_t nbytes);

/* The tokens_valid_after value that revokes every token issued up to now
 * (seconds since the epoch): tokens issued in this very second are covered
 * too, so a token issued after the revocation waits for the next second. */
apr_int64_t aj_issue_revoke_all_value(apr_int64_t now);

#endif /* AJ_ISSUE_H */

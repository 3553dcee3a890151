/*
 * aj_cred.h — the credential a client sends, read from header values:
 * the Authorization header (Bearer, or Basic by way of aj_basic.h), the
 * token cookie of a Cookie header, and the CSRF double-submit rule.
 * Pure functions over (pointer, length) slices: no httpd, no logging; the
 * glue (src/httpd/auth_jwt_authn.c) only finds the headers.
 *
 * Input bounds: httpd bounds each header line (LimitRequestFieldSize)
 * before these run; here every parser is one pass over its len bytes,
 * copies only the value it returns, and never reads past len (the input
 * need not be NUL-terminated).  A NUL byte inside len is malformed.
 */
#ifndef AJ_CRED_H
#define AJ_CRED_H

#include "aj.h"

/* The header that repeats the token's csrf claim (docs/reference.md §2
 * form 4), and the claim it repeats. */
#define AJ_CRED_CSRF_HEADER "X-CSRF-Token"
#define AJ_CRED_CSRF_CLAIM  "csrf"

/* What a request's credential is (docs/reference.md §2). */
typedef enum {
    AJ_CRED_NONE = 0, /* nothing sent */
    AJ_CRED_BEARER,   /* a token: Authorization: Bearer, or the cookie */
    AJ_CRED_BASIC,    /* Authorization: Basic; a token when the user-id is one */
    AJ_CRED_OTHER,    /* an Authorization scheme that is not ours */
    AJ_CRED_BAD       /* malformed (a 400): see problem */
} aj_cred_kind_e;

typedef struct {
    const char *token; /* Bearer, the cookie, or a Basic user-id shaped
                               * like a JWT (REST-auth); NUL-terminated */
    apr_size_t token_len;
    const char *user; /* Basic: the user-id and password, NUL-terminated */
    const char *password;
    const char *problem; /* AJ_CRED_BAD: a fixed text, never echoing input */
    int from_cookie;     /* the token came from the cookie (CSRF applies) */
} aj_cred_t;

/* The headers a credential can come from.  A NULL header is absent; a
 * NULL cookie_name means no token cookie is configured (AuthJWTCookie),
 * else it is the cookie's name (an HTTP token, checked by the directive). */
typedef struct {
    const char *authorization; /* (Proxy-)Authorization value */
    apr_size_t authorization_len;
    const char *cookie; /* Cookie value (httpd joins several with ", ") */
    apr_size_t cookie_len;
    const char *cookie_name;
} aj_cred_in_t;

/* Reads the Authorization header value line[0..len) (line NULL: absent)
 * into *cred (cleared first): `<scheme> <value>`, whitespace (SP, HTAB)
 * around the value tolerated, nothing after it.  Schemes compare without
 * regard to case: Bearer (a non-empty token) and Basic (aj_basic_decode;
 * a user-id that looks like a JWT is also the token).  Malformed, with
 * cred->problem: a ',' anywhere (neither a JWT nor base64 has one: it is
 * two headers joined by httpd), a second word after the value, an empty
 * Bearer or Basic value, Basic that does not decode, a NUL byte.  Any
 * other scheme is AJ_CRED_OTHER. */
aj_cred_kind_e aj_cred_authorization(aj_cred_t *cred, apr_pool_t *p, const char *line,
                                     apr_size_t len);

/* The value of cookie `name` in the Cookie header value header[0..len):
 * pairs are split at ';' and ',' (several Cookie headers are joined with
 * ", "), SP/HTAB before a pair and after its value trimmed, names compared
 * exactly (case too), the value is everything after the first '='.
 * APR_SUCCESS with *value the pool copy, or NULL when the cookie is absent
 * or empty.  APR_EINVAL with *problem when the
 * cookie appears twice with different values, or the header holds a NUL;
 * *value is then untouched. */
apr_status_t aj_cred_cookie(const char **value, const char **problem, apr_pool_t *p,
                            const char *header, apr_size_t len, const char *name);

/* The credential of a request (docs/reference.md §2): the Authorization
 * header (forms 1-3), else the token cookie (form 4, from_cookie set).
 * A header token and a cookie token that differ, or a cookie sent twice
 * with different values, are malformed: no guessing which one counts.  A
 * Basic username/password leaves the cookie unused.  Returns the kind;
 * *cred as for aj_cred_authorization. */
aj_cred_kind_e aj_cred_parse(aj_cred_t *cred, apr_pool_t *p, const aj_cred_in_t *in);

/* The CSRF double submit: non-zero when the header value sent[0..sent_len)
 * equals the token's claim want[0..want_len) (compared in constant time
 * for a given length).  A missing header or claim (NULL) never matches. */
int aj_cred_csrf_match(const char *sent, apr_size_t sent_len, const char *want,
                       apr_size_t want_len);

#endif /* AJ_CRED_H */

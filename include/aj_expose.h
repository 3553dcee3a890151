/*
 * aj_expose.h — what of a verified claim set a request carries beyond the
 * environment: the user (AuthJWTUserClaim) and the claim headers
 * (AuthJWTClaimHeader), docs/reference.md §11.  The rules live here, where
 * cmocka reaches them; the glue (auth_jwt_claimhdr.c, auth_jwt_authn.c)
 * only moves the results in and out of request_rec.
 */
#ifndef AJ_EXPOSE_H
#define AJ_EXPOSE_H

#include "aj.h"
#include "aj_claims.h"

/* docs/reference.md §11: without AuthJWTUserClaim the user is "name" when
 * that is a non-empty string, else "sub". */
#define AJ_EXPOSE_USER_CLAIM    "name"
#define AJ_EXPOSE_USER_FALLBACK "sub"

/* docs/reference.md §11: control characters are the bytes below 0x20 and 0x7F. */
#define AJ_EXPOSE_CTL_LIMIT 0x20
#define AJ_EXPOSE_DEL       0x7F

/* Non-zero when s[0..len) holds no control character. */
int aj_expose_text_ok(const char *s, apr_size_t len);

/* The username a verified token stands for: the string claim `claim`, or
 * with claim NULL "name" when it is a non-empty string, else "sub".  NULL
 * when the claim so chosen is absent, not a string, empty, or holds a
 * control character: such a token names no user. */
const char *aj_expose_user(const aj_claims_t *c, const char *claim);

/* What a claim header gets from the claims. */
typedef enum {
    AJ_EXPOSE_SET = 0, /* *value is the header's value */
    AJ_EXPOSE_ABSENT,  /* no such claim, or an object, null, or an array of non-scalars */
    AJ_EXPOSE_CONTROL  /* the text would hold a control character: not set */
} aj_expose_e;

/* The value of the header that carries `claim`: aj_claims_visit's text
 * (strings as is, numbers and booleans as JSON text, arrays of scalars
 * joined by single spaces), the same as its JWT_CLAIM_* variable. */
aj_expose_e aj_expose_header_value(const char **value, const aj_claims_t *c, apr_pool_t *p,
                                   const char *claim);

/* Non-zero when the request header sent as `sent` is the header `name` to
 * httpd or to a CGI: equal ignoring letter case (httpd's header table does)
 * with '_' and '-' the same (CGI turns both into '_' in HTTP_* variables). */
int aj_expose_header_same(const char *name, const char *sent);

/* NULL when name may be an AuthJWTClaimHeader HEADER, else a short reason:
 * it must be an HTTP token, and not a header whose client value the module
 * or httpd itself needs (credentials, Host, framing, the CSRF header). */
const char *aj_expose_header_problem(const char *name);

#endif /* AJ_EXPOSE_H */

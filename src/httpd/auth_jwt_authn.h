/*
 * auth_jwt_authn.h — AuthType JWT and the jwt authn provider (auth_jwt_authn.c)
 */
#ifndef AUTH_JWT_AUTHN_H
#define AUTH_JWT_AUTHN_H

#include <httpd.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_store.h"
#include "auth_jwt_config.h"

/* The AuthType this module answers (compared without regard to case). */
#define AUTH_JWT_AUTH_TYPE "JWT"

/* How the request authenticated; kept in r->request_config. */
typedef enum {
    AUTH_JWT_VIA_NONE = 0,
    AUTH_JWT_VIA_TOKEN,
    AUTH_JWT_VIA_PASSWORD
} auth_jwt_via_e;

typedef struct {
    auth_jwt_via_e via;
    const aj_claims_t *claims;         /* via token */
    const aj_user_t *user;             /* via password */
    const char *username;              /* what r->user becomes */
} auth_jwt_req_t;

const auth_jwt_req_t *auth_jwt_req_get(request_rec *r);

/* Adds the challenges of a 401 to r->err_headers_out: WWW-Authenticate
 * Bearer (with RFC 6750 error="invalid_token" and the verdict's text when a
 * token was refused, i.e. refused != AJ_OK) and, while password login is
 * on, Basic.  The realm is the AuthName, else the ServerName (a handler
 * such as auth-jwt-login needs no AuthName). */
void auth_jwt_challenge(request_rec *r, aj_verdict_e refused);

void auth_jwt_authn_register(apr_pool_t *p);
/* Creates this child's verified-token cache (AuthJWTVerifyCache). */
void auth_jwt_vcache_child_init(apr_pool_t *p, server_rec *s);

/* Verifies a token with this directory's keys, policy and the revocation
 * table.  Returns OK with *verdict (on AJ_OK *claims is set; any other
 * verdict is logged at info, jti/sub only), or HTTP_SERVICE_UNAVAILABLE
 * when revocations cannot be known. */
int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len);

/* Checks username/password against the store, under the login throttle.
 * Returns OK (with *user), HTTP_UNAUTHORIZED (unknown user or wrong
 * password: same answer and time either way, audit line logged),
 * HTTP_TOO_MANY_REQUESTS (throttled, nothing checked; Retry-After is set in
 * r->err_headers_out) or HTTP_SERVICE_UNAVAILABLE (store failure, logged). */
int auth_jwt_check_password(const aj_user_t **user, request_rec *r,
                            const auth_jwt_dir_conf *c, const char *username,
                            const char *password);

/* Checks the password of a user already known (the old password of
 * auth-jwt-password) with the login throttle and the failed-check floor.
 * OK; HTTP_UNAUTHORIZED (wrong, logged); HTTP_TOO_MANY_REQUESTS (throttled:
 * Retry-After is set). */
int auth_jwt_check_user_password(request_rec *r, const auth_jwt_dir_conf *c,
                                 const aj_user_t *user, const char *password);

#endif /* AUTH_JWT_AUTHN_H */

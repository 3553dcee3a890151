/*
 * auth_jwt_authn.h — AuthType JWT and the jwt authn provider, and the
 * request state they leave (auth_jwt_authn.c)
 */
#ifndef AUTH_JWT_AUTHN_H
#define AUTH_JWT_AUTHN_H

#include <httpd.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_store.h"

/* The AuthType this module answers (compared without regard to case). */
#define AUTH_JWT_AUTH_TYPE "JWT"

/* How the request authenticated; kept in r->request_config. */
typedef enum { AUTH_JWT_VIA_NONE = 0, AUTH_JWT_VIA_TOKEN, AUTH_JWT_VIA_PASSWORD } auth_jwt_via_e;

typedef struct {
    auth_jwt_via_e via;
    const aj_claims_t *claims; /* via token */
    const aj_user_t *user;     /* via password */
    const char *username;      /* what r->user becomes */
    const char *issuer;        /* a trusted issuer's token: its iss; NULL: this site's own */
} auth_jwt_req_t;

const auth_jwt_req_t *auth_jwt_req_get(request_rec *r);

/* Adds the challenges of a 401 to r->err_headers_out: WWW-Authenticate
 * Bearer (with RFC 6750 error="invalid_token" and the verdict's text when a
 * token was refused, i.e. refused != AJ_OK; else a refused Require line's
 * noted error, below) and, while password login is on, Basic.  Every
 * Bearer challenge names AuthJWTResourceMetadata as resource_metadata
 * (RFC 9728 §5.1) when the section sets it.  The realm is the AuthName,
 * else the ServerName (a handler such as auth-jwt-login needs no
 * AuthName). */
void auth_jwt_challenge(request_rec *r, aj_verdict_e refused);

/* A Require line refused the request in a way the client can act on; noted
 * for the request, not sent: only if the request ends in a 401
 * (auth_jwt_challenge) or 403 (auth_jwt_challenge_authz) does the Bearer
 * challenge carry the error, and a Require line that grants after all
 * leaves no trace.  The first line noted is the one sent (in
 * configuration order); each returns non-zero if its note is that one.
 *   - RFC 9470 step-up (docs/reference.md §12): Require jwt-fresh refused a
 *     token whose password login is older than max_age seconds:
 *     error="insufficient_user_authentication" with max_age.
 *   - RFC 6750 §3.1 (docs/reference.md §11): Require jwt-scope refused a
 *     token: error="insufficient_scope" with scope="scopes", the line's
 *     scopes joined by spaces; scopes must be scope-tokens
 *     (aj_claims_scope_token_ok) and live as long as the request. */
int auth_jwt_note_step_up(request_rec *r, apr_int64_t max_age);
int auth_jwt_note_insufficient_scope(request_rec *r, const char *scopes);
/* Adds the Bearer challenge noted so; non-zero if it did. */
int auth_jwt_challenge_authz(request_rec *r);

/* Registers the jwt authn provider and the hooks of AuthType JWT. */
void auth_jwt_authn_register(apr_pool_t *p);

#endif /* AUTH_JWT_AUTHN_H */

/*
 * auth_jwt_handlers.c — the dispatch of the JSON endpoints of
 * docs/reference.md §4, mounted with SetHandler at any path:
 *
 *   auth-jwt-users     registration, a user by id    auth_jwt_h_users.c
 *   auth-jwt-password  the password change           auth_jwt_h_users.c
 *   auth-jwt-token     a fresh token (REST-auth)     auth_jwt_h_token.c
 *   auth-jwt-login     a token for a password        auth_jwt_h_token.c
 *   auth-jwt-status    who the request is            auth_jwt_h_session.c
 *   auth-jwt-logout    revoke the token (or all)     auth_jwt_h_session.c
 *   auth-jwt-refresh   rotate a refresh token        auth_jwt_h_refresh.c
 *   auth-jwt-jwks      the public keys (JWK Set)     auth_jwt_h_jwks.c
 *   auth-jwt-resource-metadata  RFC 9728 metadata    auth_jwt_h_metadata.c
 *
 * What they share to speak JSON over HTTP is auth_jwt_http.c.
 */
#include <string.h>

#include "auth_jwt_handlers.h"
#include "auth_jwt_h_jwks.h"
#include "auth_jwt_h_metadata.h"
#include "auth_jwt_h_refresh.h"
#include "auth_jwt_h_session.h"
#include "auth_jwt_h_token.h"
#include "auth_jwt_h_users.h"
#include "auth_jwt_http.h"

/* Every handler name starts so: one compare declines other handlers. */
#define AUTH_JWT_H_PREFIX     "auth-jwt-"
#define AUTH_JWT_H_PREFIX_LEN (sizeof(AUTH_JWT_H_PREFIX) - 1)

typedef struct {
    const char *name; /* the SetHandler value */
    int (*handler)(request_rec *r);
} auth_jwt_handler_t;

static const auth_jwt_handler_t auth_jwt_handlers[] = {
    { "auth-jwt-users", auth_jwt_users_handler },
    { "auth-jwt-token", auth_jwt_token_handler },
    { "auth-jwt-login", auth_jwt_login_handler },
    { "auth-jwt-status", auth_jwt_status_handler },
    { "auth-jwt-logout", auth_jwt_logout_handler },
    { "auth-jwt-password", auth_jwt_password_handler },
    { "auth-jwt-jwks", auth_jwt_jwks_handler },
    { "auth-jwt-refresh", auth_jwt_refresh_handler },
    { "auth-jwt-resource-metadata", auth_jwt_metadata_handler },
};

int auth_jwt_handler(request_rec *r)
{
    apr_size_t i;

    if (!r->handler || strncmp(r->handler, AUTH_JWT_H_PREFIX, AUTH_JWT_H_PREFIX_LEN)) {
        return DECLINED;
    }
    /* Handlers that take no body (token, status, logout, jwks, users GET)
     * refuse one of another type too: nothing a form posts reaches them. */
    if (!auth_jwt_http_body_type_ok(r, 0)) {
        return auth_jwt_http_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                        AUTH_JWT_HTTP_NOT_JSON_TEXT);
    }
    for (i = 0; i < sizeof(auth_jwt_handlers) / sizeof(auth_jwt_handlers[0]); ++i) {
        if (!strcmp(r->handler, auth_jwt_handlers[i].name)) {
            return auth_jwt_handlers[i].handler(r);
        }
    }
    return DECLINED;
}

/*
 * auth_jwt_h_token.h — the handlers that hand out tokens (auth_jwt_h_token.c).
 */
#ifndef AUTH_JWT_H_TOKEN_H
#define AUTH_JWT_H_TOKEN_H

#include <httpd.h>

#include "auth_jwt_refresh.h"

/* SetHandler auth-jwt-token: an authenticated GET/POST gets a fresh token. */
int auth_jwt_token_handler(request_rec *r);
/* SetHandler auth-jwt-login: POST {"username","password"} gets a token. */
int auth_jwt_login_handler(request_rec *r);

/* The token answer, in one of two shapes (docs/reference.md §4): the login
 * one ({"status","auth_token","token","expires_in"}) or the REST-auth one
 * ({"token","duration","token_type","expires_in"}). */
typedef enum { AUTH_JWT_TOKEN_REST, AUTH_JWT_TOKEN_LOGIN } auth_jwt_token_shape_e;

/* Answers 200 with a token (and, with AuthJWTCookie, its cookie) and, when
 * grant names one, a refresh token: "refresh_token" in the body, or in
 * cookie mode the NAME_refresh cookie; "refresh_expires_in" either way.
 * Never cached. */
int auth_jwt_token_answer(request_rec *r, const char *token, apr_int64_t expires_in,
                          const char *csrf, const auth_jwt_refresh_grant_t *grant,
                          auth_jwt_token_shape_e shape);

#endif /* AUTH_JWT_H_TOKEN_H */

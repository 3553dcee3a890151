/*
 * auth_jwt_h_token.h — the handlers that hand out tokens (auth_jwt_h_token.c).
 */
#ifndef AUTH_JWT_H_TOKEN_H
#define AUTH_JWT_H_TOKEN_H

#include <httpd.h>

/* SetHandler auth-jwt-token: an authenticated GET/POST gets a fresh token. */
int auth_jwt_token_handler(request_rec *r);
/* SetHandler auth-jwt-login: POST {"username","password"} gets a token. */
int auth_jwt_login_handler(request_rec *r);

#endif /* AUTH_JWT_H_TOKEN_H */

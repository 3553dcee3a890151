/*
 * auth_jwt_h_jwks.h — the auth-jwt-jwks handler (auth_jwt_h_jwks.c)
 */
#ifndef AUTH_JWT_H_JWKS_H
#define AUTH_JWT_H_JWKS_H

#include <httpd.h>

/* SetHandler auth-jwt-jwks: GET/HEAD the public keys as an RFC 7517 JWK Set. */
int auth_jwt_jwks_handler(request_rec *r);

#endif /* AUTH_JWT_H_JWKS_H */

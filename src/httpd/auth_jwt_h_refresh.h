/*
 * auth_jwt_h_refresh.h — the refresh handler (auth_jwt_h_refresh.c).
 */
#ifndef AUTH_JWT_H_REFRESH_H
#define AUTH_JWT_H_REFRESH_H

#include <httpd.h>

/* SetHandler auth-jwt-refresh: POST a refresh token, get the next one and
 * a new access token (docs/reference.md §12). */
int auth_jwt_refresh_handler(request_rec *r);

#endif /* AUTH_JWT_H_REFRESH_H */

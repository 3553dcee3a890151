/*
 * auth_jwt_h_session.h — the handlers of a signed-in session
 * (auth_jwt_h_session.c): who am I, log out.
 */
#ifndef AUTH_JWT_H_SESSION_H
#define AUTH_JWT_H_SESSION_H

#include <httpd.h>

/* SetHandler auth-jwt-status: an authenticated GET says who the request is. */
int auth_jwt_status_handler(request_rec *r);
/* SetHandler auth-jwt-logout: POST revokes the token (?all=1: every token
 * of its user). */
int auth_jwt_logout_handler(request_rec *r);

#endif /* AUTH_JWT_H_SESSION_H */

/*
 * auth_jwt_h_users.h — the user handlers (auth_jwt_h_users.c): registration,
 * a user by id, the password change.
 */
#ifndef AUTH_JWT_H_USERS_H
#define AUTH_JWT_H_USERS_H

#include <httpd.h>

/* SetHandler auth-jwt-users: POST <base> registers, GET <base>/<id> reads. */
int auth_jwt_users_handler(request_rec *r);
/* SetHandler auth-jwt-password: POST {"old_password","new_password"}. */
int auth_jwt_password_handler(request_rec *r);

#endif /* AUTH_JWT_H_USERS_H */

/*
 * auth_jwt_handlers.h — the auth-jwt-* handlers (auth_jwt_handlers.c)
 */
#ifndef AUTH_JWT_HANDLERS_H
#define AUTH_JWT_HANDLERS_H

#include <httpd.h>

int auth_jwt_handler(request_rec *r);

#endif /* AUTH_JWT_HANDLERS_H */

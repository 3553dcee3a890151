/*
 * auth_jwt_handlers.h — the dispatch of the auth-jwt-* handlers (auth_jwt_handlers.c)
 */
#ifndef AUTH_JWT_HANDLERS_H
#define AUTH_JWT_HANDLERS_H

#include <httpd.h>

/* The handler hook: runs the auth-jwt-* handler r->handler names; DECLINED
 * for any other. */
int auth_jwt_handler(request_rec *r);

#endif /* AUTH_JWT_HANDLERS_H */

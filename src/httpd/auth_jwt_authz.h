/*
 * auth_jwt_authz.h — Require jwt-claim / jwt-scope / jwt-fresh (auth_jwt_authz.c)
 */
#ifndef AUTH_JWT_AUTHZ_H
#define AUTH_JWT_AUTHZ_H

#include <apr_pools.h>

void auth_jwt_authz_register(apr_pool_t *p);

#endif /* AUTH_JWT_AUTHZ_H */

/*
 * auth_jwt_bcache.h — the Basic credential cache (auth_jwt_bcache.c)
 */
#ifndef AUTH_JWT_BCACHE_H
#define AUTH_JWT_BCACHE_H

#include <httpd.h>

#include "aj_claims.h"
#include "aj_store.h"
#include "auth_jwt_bflight.h"
#include "auth_jwt_config.h"

int auth_jwt_bcache_pre_config(apr_pool_t *pconf);
int auth_jwt_bcache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void auth_jwt_bcache_child_init(apr_pool_t *p, server_rec *s);
/* Creates this child's copy of recent verdicts (in front of shmcb). */
void auth_jwt_bcache_child_init_local(apr_pool_t *p, server_rec *s);
/* What the cache knows of a username/password. */
typedef enum {
    AUTH_JWT_BC_MISS = 0, /* nothing (or nothing usable): check the store */
    AUTH_JWT_BC_HIT,      /* a successful check, still valid */
    AUTH_JWT_BC_DUE       /* the same, but the entry is near its end and this
                             * request should check the password against the
                             * store again (falling back to the entry when the
                             * store cannot answer) */
} auth_jwt_bc_e;

/* A cached successful check of username/password.  On AUTH_JWT_BC_HIT and
 * AUTH_JWT_BC_DUE *user is set, and *claims when the claims were cached too
 * (else NULL: build them); on AUTH_JWT_BC_MISS *claims is NULL.
 * A miss first waits (bounded) for a check of the same credential already
 * under way in this child, and looks again (auth_jwt_bflight.c).  *lead is
 * set when this request leads that check: land it with
 * auth_jwt_bflight_land once the outcome is cached or known not to be
 * (r->pool's cleanup lands it at the latest). */
auth_jwt_bc_e auth_jwt_bcache_get(const aj_user_t **user, const aj_claims_t **claims,
                                  auth_jwt_bflight_t **lead, request_rec *r,
                                  const auth_jwt_dir_conf *c, const char *username,
                                  const char *password);
/* Remembers a successful check for AuthJWTBasicCacheTTL seconds. */
void auth_jwt_bcache_put(request_rec *r, const auth_jwt_dir_conf *c, const char *password,
                         const aj_user_t *user);

#endif /* AUTH_JWT_BCACHE_H */

/*
 * auth_jwt_bflight.h — one check per credential at a time in a child
 * (auth_jwt_bflight.c), for the Basic credential cache
 */
#ifndef AUTH_JWT_BFLIGHT_H
#define AUTH_JWT_BFLIGHT_H

#include <httpd.h>

/* The length of a flight's key: the Basic cache's HMAC-SHA256 id. */
#define AUTH_JWT_BFLIGHT_KEY_LEN 32

/* A flight this request leads (opaque; NULL when it leads none). */
typedef struct auth_jwt_bflight_t auth_jwt_bflight_t;

/* What auth_jwt_bflight_join made of a request. */
typedef enum {
    AUTH_JWT_BF_ALONE, /* no flight: check alone (no threads, table full) */
    AUTH_JWT_BF_LEAD,  /* first of its key: check, then auth_jwt_bflight_land */
    AUTH_JWT_BF_WAITED /* another request of the same key led a check and
                        * landed, or the bounded wait ran out: look at the
                        * cache again, and check alone if it has nothing */
} auth_jwt_bf_e;

/* Creates this child's flight table (none without threads: one request at
 * a time needs no flight). */
void auth_jwt_bflight_child_init(apr_pool_t *pchild, server_rec *s);

/* Joins the flight of key (AUTH_JWT_BFLIGHT_KEY_LEN bytes): leads it when
 * none is under way (*lead is set, and landed by r->pool's cleanup at the
 * latest), else waits for it to land, at most AUTH_JWT_BFLIGHT_WAIT. */
auth_jwt_bf_e auth_jwt_bflight_join(auth_jwt_bflight_t **lead, request_rec *r,
                                    const unsigned char *key);

/* Ends a flight this request leads and wakes its waiters (NULL: nothing).
 * Call it once the outcome is in the cache, or known not to be. */
void auth_jwt_bflight_land(request_rec *r, auth_jwt_bflight_t *lead);

#endif /* AUTH_JWT_BFLIGHT_H */

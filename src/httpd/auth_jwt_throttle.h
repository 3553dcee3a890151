/*
 * auth_jwt_throttle.h — the login throttle and failed-check timing (auth_jwt_throttle.c)
 */
#ifndef AUTH_JWT_THROTTLE_H
#define AUTH_JWT_THROTTLE_H

#include <httpd.h>

#include "aj_store.h"
#include "aj_throttle.h"
#include "auth_jwt_config.h"

int auth_jwt_throttle_pre_config(apr_pool_t *pconf);
int auth_jwt_throttle_post_config(apr_pool_t *pconf, server_rec *s);
void auth_jwt_throttle_child_init(apr_pool_t *p, server_rec *s);

/* One password check as the throttle sees it (on the caller's stack). */
typedef struct {
    aj_throttle_keys_t keys;   /* valid when counted */
    aj_throttle_state_t state; /* what the check before found */
    const char *username;      /* as sent (audit lines escape it) */
    int counted;               /* the throttle is on for this check */
} auth_jwt_throttle_t;

/* Before a password check (before the Basic cache and bcrypt): 0 to go on,
 * else the seconds the client must wait (the check is refused without any
 * work; logged at info). */
apr_int64_t auth_jwt_throttle_check(auth_jwt_throttle_t *th, request_rec *r,
                                    const auth_jwt_dir_conf *c, const char *username);
/* A refused check: its audit line (error, tag AJ200), one failure on both
 * counters, and a line (error, AJ201/AJ202) for a counter that reached its
 * limit.  why: "unknown user", "wrong password", ... */
void auth_jwt_throttle_refused(auth_jwt_throttle_t *th, request_rec *r, const auth_jwt_dir_conf *c,
                               const char *why);
/* A successful check: clears its (username, address) counter. */
void auth_jwt_throttle_passed(auth_jwt_throttle_t *th, request_rec *r);

/* Equal time for every failed check (docs/reference.md §10).  Before hashing: the
 * highest bcrypt cost among the store's hashes (queried once per store
 * after a start; learnt from every hash checked), kept in shared memory. */
void auth_jwt_pace_learn_store(request_rec *r, aj_store_t *st);
void auth_jwt_pace_learn_hash(request_rec *r, const char *hash);
/* A bcrypt run of this child at cost that took `took`. */
void auth_jwt_pace_sample(int cost, apr_interval_time_t took);
/* A failed check whose hashing started at `started`: sleeps (wall time,
 * no CPU) until one bcrypt at the highest cost in play would have ended. */
void auth_jwt_pace_pad(request_rec *r, const auth_jwt_dir_conf *c, apr_time_t started);

#endif /* AUTH_JWT_THROTTLE_H */

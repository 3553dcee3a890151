/*
 * aj_password.h — password hashing (bcrypt $2y$ through apr_bcrypt_encode)
 * and verification (apr_password_validate: bcrypt, and every htpasswd hash
 * APR understands).
 */
#ifndef AJ_PASSWORD_H
#define AJ_PASSWORD_H

#include "aj.h"

#define AJ_BCRYPT_COST_MIN     4
#define AJ_BCRYPT_COST_MAX     17
#define AJ_BCRYPT_COST_DEFAULT 10
/* Longest password accepted anywhere; bcrypt reads only 72 bytes anyway. */
#define AJ_PASSWORD_MAX_LEN    1024

/* A fresh bcrypt hash with a random salt at cost. */
apr_status_t aj_password_hash(const char **hash, apr_pool_t *p, const char *password, int cost);

/* Non-zero when password matches hash. */
int aj_password_verify(const char *password, const char *hash);

/* The cost of a bcrypt hash ($2a$, $2b$, $2x$ or $2y$ followed by two
 * digits and '$'), 0 for any other hash (htpasswd's $apr1$, {SHA},
 * crypt(3)) or for a cost outside 4..31. */
int aj_password_bcrypt_cost(const char *hash);

/* ---- equal timing of failed checks (docs/reference.md §10) --------------------------
 *
 * A failed password check must take the same time whatever the stored
 * hash is (bcrypt at any cost, $apr1$, none at all for an unknown user).
 * The caller pads every failed check with a sleep up to a floor: the time
 * one bcrypt takes at the highest cost in play.  That time is estimated
 * from the bcrypt runs the caller observes: a run at cost c that took d
 * gives d / 2^c per unit of work; the estimate is the median of the last
 * AJ_PACE_SAMPLES of them (robust against a run slowed by a busy CPU, or a
 * lucky fast one).  Not thread-safe: the caller serializes.  Pure: no
 * clock, no sleeping here. */
#define AJ_PACE_SAMPLES 15

typedef struct {
    apr_uint64_t unit_ns[AJ_PACE_SAMPLES]; /* nanoseconds per unit, a ring */
    apr_uint32_t n;                        /* samples held (<= AJ_PACE_SAMPLES) */
    apr_uint32_t next;                     /* ring position of the next sample */
} aj_pace_t;

/* An empty estimator (no floor until the first sample). */
void aj_pace_init(aj_pace_t *pace);

/* One bcrypt run at cost that took `took` (ignored unless cost is 4..31
 * and took > 0). */
void aj_pace_add(aj_pace_t *pace, int cost, apr_interval_time_t took);

/* The floor for a failed check whose slowest possible hash is a bcrypt at
 * cost: the estimated duration of that bcrypt with a safety margin
 * (AJ_PACE_MARGIN_*), so that the real runs end before it; 0 when there is
 * no sample yet. */
apr_interval_time_t aj_pace_floor(const aj_pace_t *pace, int cost);

#endif /* AJ_PASSWORD_H */

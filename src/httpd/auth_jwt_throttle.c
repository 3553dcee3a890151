/*
 * auth_jwt_throttle.c — password guessing made expensive (docs/reference.md §10).
 *
 * Two concerns that meet at every failed password check:
 *
 * The login throttle (AuthJWTLoginThrottle).  Failed checks are counted per
 * (store, username, client address) and per (store, address) in one table
 * in shared memory (aj_throttle), so every child counts together.  Reading
 * is lock-free, so a request with a cached Basic password pays two SHA-256
 * and a look at 16 slots; writing (a failure, or the first success after
 * failures) takes a global mutex.  The address is r->useragent_ip, so
 * mod_remoteip's client address counts behind a proxy.  The limits are a
 * per-directory setting; the counters are one per store for the server.
 *
 * Equal time for failed checks.  A wrong password against a cost-12 bcrypt
 * hash, against an $apr1$ hash, and an unknown user (a dummy bcrypt at
 * AuthJWTBcryptCost) would take 4x, 1/60x and 1x of a cost-10 bcrypt: the
 * time tells which users exist.  Every failed check therefore ends no
 * earlier than a floor: the estimated time of one bcrypt at the highest
 * cost in play for the store (AuthJWTBcryptCost, or the highest cost among
 * the store's hashes, queried once per store and learnt from every hash
 * checked; kept in shared memory, so every child pads alike).  The floor is
 * reached by sleeping (wall time): burning CPU instead would hand an
 * attacker a cheaper denial of service.  The estimate is this child's own
 * median of recent bcrypt runs (aj_pace).  Successful checks are never
 * padded.
 *
 * Audit lines (tags stable; conf/fail2ban matches AJ200-AJ202):
 *   AJ200 error  password check refused: client ADDR, user "NAME" (why)
 *   AJ201 error  login throttle: client ADDR, user "NAME" reached N ...
 *   AJ202 error  login throttle: client ADDR reached N ... over all usernames
 *   AJ203 info   password check throttled: client ADDR, user "NAME" ...
 * The address comes before anything the client chose, so a crafted
 * username cannot make a filter read another address.
 */
#include <string.h>

#include <apr_global_mutex.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "auth_jwt_throttle.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_scope.h"
#include "auth_jwt_shm.h"
#include "aj_audit.h"
#include "aj_throttle.h"
#include "aj_password.h"
#include "aj_store.h"

#define AUTH_JWT_THROTTLE_MUTEX "auth-jwt-throttle"
/* Slots of the shared table (32 bytes each: 512 KiB).  Each failure uses
 * two; when every slot in a key's probe window holds a live counter, the
 * oldest is replaced (aj_throttle.h). */
#define AUTH_JWT_THROTTLE_SLOTS 16384
/* The per-store word after the table: the highest bcrypt cost seen (low
 * byte) and whether the store was asked (AUTH_JWT_COST_QUERIED). */
#define AUTH_JWT_COST_MASK      0xffu
#define AUTH_JWT_COST_QUERIED   0x100u
/* The per-store words start 8-byte aligned after the table. */
#define AUTH_JWT_THROTTLE_ALIGN 8
/* The dummy password of the calibration run (never compared to anything). */
#define AUTH_JWT_PACE_DUMMY     "mod_auth_jwt"

/* Counting failures across children needs the segment: no start without. */
static const auth_jwt_shm_spec_t auth_jwt_throttle_shm = AUTH_JWT_SHM_SPEC_REQUIRED(
    "login throttle", AJ_LOGNO(210), AUTH_JWT_THROTTLE_MUTEX, "login throttle", AJ_LOGNO(213));

/* The throttle's table and the per-store cost words after it, laid out in
 * post_config; read-only afterwards and meaningful while seg is set. */
static struct {
    auth_jwt_shm_t *seg;
    aj_throttle_t *tab;
    apr_uint32_t *costs; /* one word per store index (shared) */
    apr_uint32_t nstores;
} auth_jwt_ts;

/* This child's estimate of bcrypt's speed (guarded by its mutex). */
static aj_pace_t auth_jwt_pace;
static apr_thread_mutex_t *auth_jwt_pace_mutex;

int auth_jwt_throttle_pre_config(apr_pool_t *pconf)
{
    return auth_jwt_shm_pre_config(&auth_jwt_ts.seg, pconf, &auth_jwt_throttle_shm);
}

int auth_jwt_throttle_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t tsize =
        APR_ALIGN(aj_throttle_size(AUTH_JWT_THROTTLE_SLOTS), AUTH_JWT_THROTTLE_ALIGN);
    apr_uint32_t n = auth_jwt_scope_count();
    apr_size_t size = tsize + (apr_size_t)n * sizeof(apr_uint32_t);
    char *base;
    int rc;

    rc = auth_jwt_shm_post_config(&auth_jwt_ts.seg, pconf, s, &auth_jwt_throttle_shm, size);
    if (rc != OK) {
        return rc;
    }
    base = auth_jwt_ts.seg->base;
    auth_jwt_ts.nstores = n;
    auth_jwt_ts.tab = aj_throttle_format(base, tsize, AUTH_JWT_THROTTLE_SLOTS);
    if (!auth_jwt_ts.tab) {
        auth_jwt_ts.seg = NULL; /* the start is refused: no throttle */
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(211) "cannot lay out the login throttle in shared memory");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* No child exists yet: plain zeroing; atomics only from here on. */
    auth_jwt_ts.costs = (apr_uint32_t *)(base + tsize);
    memset(auth_jwt_ts.costs, 0, (apr_size_t)n * sizeof(apr_uint32_t));
    return OK;
}

void auth_jwt_throttle_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    aj_pace_init(&auth_jwt_pace);
    rv = apr_thread_mutex_create(&auth_jwt_pace_mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        auth_jwt_pace_mutex = NULL;
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, rv, s,
            AJ_LOGNO(212) "cannot create the mutex of the failed-check timing in this child");
    }
    auth_jwt_shm_child_init(auth_jwt_ts.seg, p, s);
}

/* ---- the throttle ----------------------------------------------------------- */

/* The username as audit lines show it (made only when a line is written:
 * the hot path of a cached Basic login logs nothing). */
static const char *auth_jwt_log_user(const auth_jwt_throttle_t *th, request_rec *r)
{
    return aj_audit_username(r->pool, th->username);
}

static void auth_jwt_throttle_policy(aj_throttle_policy_t *policy, const auth_jwt_dir_conf *c)
{
    policy->attempts = (apr_uint32_t)auth_jwt_cfg_throttle_attempts(c);
    policy->seconds = auth_jwt_cfg_throttle_seconds(c);
}

apr_int64_t auth_jwt_throttle_check(auth_jwt_throttle_t *th, request_rec *r,
                                    const auth_jwt_dir_conf *c, const char *username)
{
    aj_throttle_policy_t policy;
    apr_status_t rv;

    memset(th, 0, sizeof(*th));
    th->username = username;
    if (!auth_jwt_ts.seg || auth_jwt_cfg_throttle_attempts(c) == AUTH_JWT_THROTTLE_OFF) {
        return 0;
    }
    rv = aj_throttle_keys(&th->keys, &auth_jwt_scope(r->server)->id, r->useragent_ip, username);
    if (rv != APR_SUCCESS) {
        /* An address longer than any IP address text (or no SHA-256): this
         * check is not counted. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r,
                      AJ_LOGNO(214) "login throttle: cannot key the client address; not counted");
        return 0;
    }
    th->counted = 1;
    auth_jwt_throttle_policy(&policy, c);
    aj_throttle_check(&th->state, auth_jwt_ts.tab, &th->keys, &policy,
                      apr_time_sec(r->request_time));
    if (th->state.retry_after > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(203) "password check throttled: client %s, user \"%s\"; retry after "
                                    "%" APR_INT64_T_FMT " s",
                      r->useragent_ip, auth_jwt_log_user(th, r), th->state.retry_after);
    }
    return th->state.retry_after;
}

/* The throttle's writers hold the global mutex.  A graceful restart
 * destroys the old generation's mutex while its children finish: a lock
 * that fails then only loses a count. */
static int auth_jwt_throttle_lock(request_rec *r)
{
    apr_status_t rv = apr_global_mutex_lock(auth_jwt_ts.seg->mutex);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r,
                      AJ_LOGNO(215) "cannot lock the login throttle; this check is not counted");
        return 0;
    }
    return 1;
}

void auth_jwt_throttle_refused(auth_jwt_throttle_t *th, request_rec *r, const auth_jwt_dir_conf *c,
                               const char *why)
{
    aj_throttle_policy_t policy;
    unsigned reached = 0;

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  AJ_LOGNO(200) "password check refused: client %s, user \"%s\" (%s)",
                  r->useragent_ip, auth_jwt_log_user(th, r), why);
    if (!th->counted || !auth_jwt_throttle_lock(r)) {
        return;
    }
    auth_jwt_throttle_policy(&policy, c);
    reached = aj_throttle_fail(auth_jwt_ts.tab, &th->keys, &policy, apr_time_sec(r->request_time));
    apr_global_mutex_unlock(auth_jwt_ts.seg->mutex);
    if (reached & AJ_THROTTLE_REACHED_USER) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            AJ_LOGNO(201) "login throttle: client %s, user \"%s\" reached %u failed password "
                          "checks; refused for %" APR_INT64_T_FMT " s",
            r->useragent_ip, auth_jwt_log_user(th, r), policy.attempts, policy.seconds);
    }
    if (reached & AJ_THROTTLE_REACHED_ADDR) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            AJ_LOGNO(202) "login throttle: client %s reached %u failed password checks over "
                          "all usernames; refused for %" APR_INT64_T_FMT " s",
            r->useragent_ip, policy.attempts * AJ_THROTTLE_ADDR_FACTOR, policy.seconds);
    }
}

void auth_jwt_throttle_passed(auth_jwt_throttle_t *th, request_rec *r)
{
    /* Most successes follow no failure: no lock then. */
    if (!th->counted || th->state.user_count == 0 || !auth_jwt_throttle_lock(r)) {
        return;
    }
    aj_throttle_clear(auth_jwt_ts.tab, &th->keys);
    apr_global_mutex_unlock(auth_jwt_ts.seg->mutex);
}

/* ---- equal time for failed checks ------------------------------------------ */

static apr_uint32_t *auth_jwt_cost_word(request_rec *r)
{
    apr_uint32_t idx = auth_jwt_scope(r->server)->index;

    return (auth_jwt_ts.seg && idx < auth_jwt_ts.nstores) ? &auth_jwt_ts.costs[idx] : NULL;
}

/* Raises the store's highest cost to `cost` (and sets `flags`). */
static void auth_jwt_cost_raise(apr_uint32_t *word, int cost, apr_uint32_t flags)
{
    apr_uint32_t old = __atomic_load_n(word, __ATOMIC_RELAXED), want;

    if (cost < 0) {
        cost = 0;
    }
    do {
        want = (old | flags) & ~AUTH_JWT_COST_MASK;
        want |= (old & AUTH_JWT_COST_MASK) > (apr_uint32_t)cost ? (old & AUTH_JWT_COST_MASK)
                                                                : (apr_uint32_t)cost;
        if (want == old) {
            return;
        }
    } while (!__atomic_compare_exchange_n(word, &old, want, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

void auth_jwt_pace_learn_store(request_rec *r, aj_store_t *st)
{
    apr_uint32_t *word = auth_jwt_cost_word(r);
    int cost = 0;
    apr_status_t rv;

    if (!word || (__atomic_load_n(word, __ATOMIC_RELAXED) & AUTH_JWT_COST_QUERIED)) {
        return;
    }
    /* Children meeting here at once each ask: harmless, and only once. */
    rv = aj_store_max_bcrypt_cost(&cost, st, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r,
                      AJ_LOGNO(216) "cannot read the highest bcrypt cost of the store (%s); failed "
                                    "checks are padded from the costs seen so far",
                      aj_store_error(st, rv));
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(217) "highest bcrypt cost among the store's hashes: %d", cost);
    auth_jwt_cost_raise(word, cost, AUTH_JWT_COST_QUERIED);
}

void auth_jwt_pace_learn_hash(request_rec *r, const char *hash)
{
    apr_uint32_t *word = auth_jwt_cost_word(r);

    if (word) {
        auth_jwt_cost_raise(word, aj_password_bcrypt_cost(hash), 0);
    }
}

void auth_jwt_pace_sample(int cost, apr_interval_time_t took)
{
    if (auth_jwt_pace_mutex && apr_thread_mutex_lock(auth_jwt_pace_mutex) == APR_SUCCESS) {
        aj_pace_add(&auth_jwt_pace, cost, took);
        apr_thread_mutex_unlock(auth_jwt_pace_mutex);
    }
}

static apr_interval_time_t auth_jwt_pace_floor(int cost)
{
    apr_interval_time_t floor = 0;

    if (auth_jwt_pace_mutex && apr_thread_mutex_lock(auth_jwt_pace_mutex) == APR_SUCCESS) {
        floor = aj_pace_floor(&auth_jwt_pace, cost);
        apr_thread_mutex_unlock(auth_jwt_pace_mutex);
    }
    return floor;
}

void auth_jwt_pace_pad(request_rec *r, const auth_jwt_dir_conf *c, apr_time_t started)
{
    apr_uint32_t *word = auth_jwt_cost_word(r);
    int cfg_cost = auth_jwt_cfg_bcrypt_cost(c);
    int cost = cfg_cost, seen = 0;
    apr_interval_time_t floor, elapsed;
    const char *ignored = NULL;
    apr_time_t t0;

    if (word) {
        seen = (int)(__atomic_load_n(word, __ATOMIC_RELAXED) & AUTH_JWT_COST_MASK);
    }
    if (seen > cost) {
        /* A hash beyond what the module can configure (a hand-made one) is
         * padded as the highest configurable cost: never an absurd sleep. */
        cost = seen < AJ_BCRYPT_COST_MAX ? seen : AJ_BCRYPT_COST_MAX;
    }
    floor = auth_jwt_pace_floor(cost);
    if (floor == 0) {
        /* No bcrypt has run in this child yet (the first failure was against
         * a cheap hash): one calibration run, as an unknown user costs. */
        t0 = apr_time_now();
        (void)aj_password_hash(&ignored, r->pool, AUTH_JWT_PACE_DUMMY, cfg_cost);
        auth_jwt_pace_sample(cfg_cost, apr_time_now() - t0);
        floor = auth_jwt_pace_floor(cost);
    }
    elapsed = apr_time_now() - started;
    if (floor > elapsed) {
        apr_sleep(floor - elapsed);
    }
}

/*
 * auth_jwt_bflight.c — "single flight" for the Basic credential cache.
 *
 * When a client's cached login has expired (after an idle period longer
 * than AuthJWTBasicCacheTTL), all its keep-alive connections miss the cache
 * at once; without this, each of them would pay bcrypt (about 65 ms of CPU
 * at cost 10).  Here the first request of a credential in a child leads a
 * "flight": it checks the credential against the store; the requests of
 * the same credential that arrive meanwhile wait for it to land, then look
 * at the cache again.
 *
 * What waiters are given is deliberately nothing but a wake-up: the only
 * result they ever reuse is the cache entry that the leader's successful
 * check made, found under the same key (the cache's HMAC of store id, user
 * and password: only the same credential on the same store shares it).
 * Everything else — a wrong password, an unknown user, a store failure, an
 * entry the cache declined, a wait that ran out — leaves the waiter to check
 * alone, exactly as it would have without the flight.  So:
 *   - a store failure of the leader is never taken as a wrong password, and
 *     a waiter answers 503 only if its own check cannot reach the store;
 *   - a waiter never answers 503 because it waited (the wait is bounded,
 *     then it checks alone);
 *   - a wrong password is never shared: each attempt is checked and counted
 *     by the login throttle (auth_jwt_throttle.c), as before;
 *   - flights come after the cache look-up (a cached login never waits) and
 *     the cache's refresh-ahead does not use them.
 * A flight always lands: the leader lands it when its check is done, and a
 * cleanup of its request pool does so at the latest, whatever path the
 * request took.
 *
 * Bounded: a table of at most AUTH_JWT_BFLIGHT_SLOTS flights per child (and
 * never more than its threads), fixed at child start; a credential that
 * finds it full is checked alone.  A slot lives only while its leader
 * checks, so distinct (hostile) credentials cannot grow anything.  Keys are
 * HMACs: no password is kept here.  Without threads (prefork) there is no
 * table: a child serves one request at a time and nothing can wait.
 */
#include <string.h>

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <ap_mpm.h>
#include <http_log.h>
#include <openssl/crypto.h>

#include "auth_jwt_bflight.h"
#include "mod_auth_jwt.h"

/* Flights under way at once in a child, at most (a leader is a thread
 * checking a password: never more than the child's threads). */
#define AUTH_JWT_BFLIGHT_SLOTS 64
/* How long a waiter waits for a flight to land before checking alone.  A
 * leader always lands (its request pool's cleanup sees to it), and a
 * waiter's own check would cost what the leader's costs (the same store,
 * the same hash), so the bound is generous: on a host loaded enough that a
 * cost-12 bcrypt takes seconds, waiters that stopped early would each add
 * a check of their own, just when the CPU is shortest.  It only matters
 * for a check that hangs (a store that does not answer). */
#define AUTH_JWT_BFLIGHT_WAIT  apr_time_from_sec(5)

struct auth_jwt_bflight_t {
    unsigned char key[AUTH_JWT_BFLIGHT_KEY_LEN];
    apr_uint64_t landings; /* how many flights this slot has landed */
    int busy;              /* a leader is checking key */
#if APR_HAS_THREADS
    apr_thread_cond_t *landed;
#endif
};

#if APR_HAS_THREADS
/* This child's table; NULL without threads or when it could not be made. */
static struct {
    apr_thread_mutex_t *mutex;
    auth_jwt_bflight_t *slots;
    int n;
} * auth_jwt_bf;
#endif

void auth_jwt_bflight_child_init(apr_pool_t *pchild, server_rec *s)
{
#if APR_HAS_THREADS
    int threaded = AP_MPMQ_NOT_SUPPORTED, threads = 1, i;
    apr_status_t rv;

    auth_jwt_bf = NULL;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS
        || threaded == AP_MPMQ_NOT_SUPPORTED
        || ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 2) {
        return; /* one request at a time: nothing to share */
    }
    auth_jwt_bf = apr_pcalloc(pchild, sizeof(*auth_jwt_bf));
    auth_jwt_bf->n = threads < AUTH_JWT_BFLIGHT_SLOTS ? threads : AUTH_JWT_BFLIGHT_SLOTS;
    auth_jwt_bf->slots = apr_pcalloc(pchild, sizeof(*auth_jwt_bf->slots) * auth_jwt_bf->n);
    rv = apr_thread_mutex_create(&auth_jwt_bf->mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    for (i = 0; rv == APR_SUCCESS && i < auth_jwt_bf->n; ++i) {
        rv = apr_thread_cond_create(&auth_jwt_bf->slots[i].landed, pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     AJ_LOGNO(135) "no single flight for Basic logins in this child: each "
                                   "request that misses the Basic cache checks alone");
        auth_jwt_bf = NULL;
    }
#else
    (void)pchild;
    (void)s;
#endif
}

#if APR_HAS_THREADS
static apr_status_t auth_jwt_bflight_cleanup(void *data)
{
    auth_jwt_bflight_t *slot = data;

    apr_thread_mutex_lock(auth_jwt_bf->mutex);
    slot->busy = 0;
    ++slot->landings;
    OPENSSL_cleanse(slot->key, sizeof(slot->key));
    apr_thread_cond_broadcast(slot->landed);
    apr_thread_mutex_unlock(auth_jwt_bf->mutex);
    return APR_SUCCESS;
}

/* Waits (mutex held) until slot's flight number `landings` lands or the
 * bounded wait runs out; non-zero if it landed. */
static int auth_jwt_bflight_wait(auth_jwt_bflight_t *slot, apr_uint64_t landings)
{
    apr_time_t deadline = apr_time_now() + AUTH_JWT_BFLIGHT_WAIT, now;

    while (slot->landings == landings) {
        now = apr_time_now();
        if (now >= deadline) {
            return 0;
        }
        /* a spurious wake-up or APR_TIMEUP both loop back to the test */
        (void)apr_thread_cond_timedwait(slot->landed, auth_jwt_bf->mutex, deadline - now);
    }
    return 1;
}
#endif

auth_jwt_bf_e auth_jwt_bflight_join(auth_jwt_bflight_t **lead, request_rec *r,
                                    const unsigned char *key)
{
#if APR_HAS_THREADS
    auth_jwt_bflight_t *slot, *mine = NULL, *free_slot = NULL;
    int i, landed;

    *lead = NULL;
    if (!auth_jwt_bf) {
        return AUTH_JWT_BF_ALONE;
    }
    apr_thread_mutex_lock(auth_jwt_bf->mutex);
    for (i = 0; i < auth_jwt_bf->n; ++i) {
        slot = &auth_jwt_bf->slots[i];
        if (!slot->busy) {
            free_slot = free_slot ? free_slot : slot;
        }
        else if (!CRYPTO_memcmp(slot->key, key, AUTH_JWT_BFLIGHT_KEY_LEN)) {
            mine = slot;
            break;
        }
    }
    if (mine) {
        landed = auth_jwt_bflight_wait(mine, mine->landings);
        apr_thread_mutex_unlock(auth_jwt_bf->mutex);
        if (!landed) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          AJ_LOGNO(136) "a check of the same Basic credential is still under "
                                        "way after %d s: checking alone",
                          (int)apr_time_sec(AUTH_JWT_BFLIGHT_WAIT));
        }
        return AUTH_JWT_BF_WAITED;
    }
    if (!free_slot) {
        apr_thread_mutex_unlock(auth_jwt_bf->mutex);
        return AUTH_JWT_BF_ALONE;
    }
    memcpy(free_slot->key, key, AUTH_JWT_BFLIGHT_KEY_LEN);
    free_slot->busy = 1;
    apr_thread_mutex_unlock(auth_jwt_bf->mutex);
    apr_pool_cleanup_register(r->pool, free_slot, auth_jwt_bflight_cleanup, apr_pool_cleanup_null);
    *lead = free_slot;
    return AUTH_JWT_BF_LEAD;
#else
    (void)r;
    (void)key;
    *lead = NULL;
    return AUTH_JWT_BF_ALONE;
#endif
}

void auth_jwt_bflight_land(request_rec *r, auth_jwt_bflight_t *lead)
{
#if APR_HAS_THREADS
    if (lead) {
        /* runs the cleanup now, and only once */
        (void)apr_pool_cleanup_run(r->pool, lead, auth_jwt_bflight_cleanup);
    }
#else
    (void)r;
    (void)lead;
#endif
}

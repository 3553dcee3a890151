/*
 * auth_jwt_revoke.c — revocation on the hot path without a database round
 * trip (docs/reference.md §6).
 *
 * The database (revoked_tokens, users.tokens_valid_after) is the truth and
 * survives restarts.  Every child reads a copy in one shared-memory table
 * (aj_revtab: lock-free reads); a logout or revoke-all on this server writes
 * the database first, then the table, so every child and thread refuses the
 * token at once.  Revocations made by other httpd instances sharing the
 * database arrive by polling: at most every AuthJWTRevocationRefresh seconds
 * one request (whichever claims the due refresh) reads the rows recorded
 * since the last poll.  After each (re)start the first request loads every
 * unexpired revocation before any token is trusted; if the database cannot
 * be read then, tokens get 503 (fail closed) until it can.
 *
 * Several stores (docs/reference.md §9).  Each virtual host may have its own database,
 * and the same jti or user id in two of them are two different things.  The
 * one table serves every store of the configuration (auth_jwt_scope.c):
 * each store has its own keys (its id is mixed into every key), its own
 * "loaded" flag, refresh schedule, watermark and overflow mark.  A request
 * only ever reads and loads the store of its own server, so a restart
 * whose first request goes to host A does not make host B trust a table
 * that never read B's database.
 *
 * Recovering.  When the table was full, a store's misses went to its
 * database; each due refresh then reloads that store completely instead of
 * incrementally, and when everything fits again (entries expired
 * meanwhile) the mark is cleared.  A
 * child killed inside a write section leaves the table torn: readers give up
 * waiting after a bound and ask the database; the next writer resets the
 * table and every store is loaded again (aj_revtab_recover).
 *
 * Why not mod_socache: shmcb is a ring that drops the oldest entries when
 * full, and a dropped revocation is a revoked token accepted again.  The
 * table never drops a live entry; when it is full it says so, and misses
 * are then checked against the database (correct, slower, logged).
 */
#include <string.h>

#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_core.h>
#include <ap_mpm.h>
#include <scoreboard.h>
#include <util_mutex.h>

#include "auth_jwt_revoke.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_scope.h"
#include "aj_issue.h"
#include "aj_revtab.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_store.h"

#define AUTH_JWT_REVOKE_MUTEX      "auth-jwt-revoke"
/* Re-read this many seconds before the last poll: clock skew between nodes
 * and transactions that commit after their revoked_at. */
#define AUTH_JWT_REFRESH_SLACK     60
/* Expired rows of revoked_tokens are deleted this often. */
#define AUTH_JWT_PRUNE_INTERVAL    600
/* An overflowed store is reloaded completely at its due refreshes, at most
 * this often.  While it is overflowed every token check of the store asks
 * the database, so one complete reload per refresh costs little beside
 * that, and it ends the degraded mode as soon as entries have expired. */
#define AUTH_JWT_RECOVERY_INTERVAL 1
/* auth_jwt_refresh(): this child cannot use the table; ask the store. */
#define AUTH_JWT_ASK_STORE         (-2)

typedef struct {
    apr_shm_t *shm;
    aj_revtab_t *tab;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    apr_uint32_t nstores;
    /* Per store, each child's own copy (made before the fork): log a failing
     * refresh once per streak, not every interval; prune now and then. */
    int *refresh_failing;
    apr_int64_t *last_prune;
} auth_jwt_revoke_state;

/* Set in post_config (parent, before children exist), then read-only. */
static auth_jwt_revoke_state *auth_jwt_rs;

int auth_jwt_revoke_pre_config(apr_pool_t *pconf)
{
    auth_jwt_rs = NULL;
    return ap_mutex_register(pconf, AUTH_JWT_REVOKE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t auth_jwt_revoke_reset(void *data)
{
    auth_jwt_rs = NULL;
    return APR_SUCCESS;
}

int auth_jwt_revoke_post_config(apr_pool_t *pconf, server_rec *s, apr_uint32_t slots)
{
    auth_jwt_revoke_state *rs = apr_pcalloc(pconf, sizeof(*rs));
    apr_uint32_t n = auth_jwt_scope_count();
    aj_store_id_t *ids;
    const auth_jwt_scope_t *scope;
    apr_size_t size;
    apr_status_t rv;
    server_rec *v;

    if (n > AJ_REVTAB_MAX_STORES) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(121)
                     "%u distinct stores (DBDriver/DBDParams) configured; at most %u are "
                     "supported", n, AJ_REVTAB_MAX_STORES);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ids = apr_pcalloc(pconf, n * sizeof(*ids));
    for (v = s; v; v = v->next) {
        scope = auth_jwt_scope(v);
        if (scope->index < n) {
            ids[scope->index] = scope->id;
        }
    }
    rs->nstores = n;
    rs->refresh_failing = apr_pcalloc(pconf, n * sizeof(*rs->refresh_failing));
    rs->last_prune = apr_pcalloc(pconf, n * sizeof(*rs->last_prune));
    size = aj_revtab_size(slots, n);

    rv = apr_shm_create(&rs->shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, AJ_LOGNO(110)
                     "cannot create %" APR_SIZE_T_FMT " bytes of shared memory for the "
                     "revocation table (AuthJWTRevocationCacheSize)", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rs->tab = aj_revtab_format(apr_shm_baseaddr_get(rs->shm), size, slots, ids, n);
    if (!rs->tab) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(120)
                     "cannot lay out the revocation table in shared memory");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = ap_global_mutex_create(&rs->mutex, &rs->mutex_file, AUTH_JWT_REVOKE_MUTEX, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    auth_jwt_rs = rs;
    apr_pool_cleanup_register(pconf, NULL, auth_jwt_revoke_reset, apr_pool_cleanup_null);
    return OK;
}

void auth_jwt_revoke_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (!auth_jwt_rs) {
        return;
    }
    rv = apr_global_mutex_child_init(&auth_jwt_rs->mutex, auth_jwt_rs->mutex_file, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AJ_LOGNO(111)
                     "cannot attach the revocation mutex in this child");
    }
}

/* ---- writing the table -------------------------------------------------- */

typedef struct {
    request_rec *r;
    apr_uint32_t store;
    apr_int64_t now;
    int full;
} auth_jwt_fill;

/* The store index of the request's server. */
static apr_uint32_t auth_jwt_store_index(request_rec *r)
{
    return auth_jwt_scope(r->server)->index;
}

static void auth_jwt_fill_init(auth_jwt_fill *f, request_rec *r, apr_int64_t now)
{
    f->r = r;
    f->store = auth_jwt_store_index(r);
    f->now = now;
    f->full = 0;
}

static void auth_jwt_fill_jti(void *baton, const char *jti, apr_int64_t exp)
{
    auth_jwt_fill *f = baton;

    /* any failure (no room, or no digest: out of memory) leaves the
     * revocation out, so it counts as full: misses are not trusted */
    if (aj_revtab_put_jti(auth_jwt_rs->tab, f->store, jti, exp, f->now) != APR_SUCCESS) {
        f->full = 1;
    }
}

static void auth_jwt_fill_user(void *baton, apr_int64_t id, apr_int64_t valid_after,
                               apr_int64_t changed_at)
{
    auth_jwt_fill *f = baton;
    const char *sub = apr_psprintf(f->r->pool, "%" APR_INT64_T_FMT, id);

    /* revoke-all for tokens; the last password or claims change for the
     * Basic cache (entries made before it are void) */
    if (aj_revtab_put_user(auth_jwt_rs->tab, f->store, sub, valid_after, f->now) != APR_SUCCESS
        || aj_revtab_put_changed(auth_jwt_rs->tab, f->store, sub, changed_at, f->now)
               != APR_SUCCESS) {
        f->full = 1;
    }
}

static void auth_jwt_note_full(request_rec *r, const auth_jwt_fill *f)
{
    if (f->full) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AJ_LOGNO(112)
                      "the revocation table is full: token checks of this site now ask "
                      "the database on a miss until expired entries make room; raise "
                      "AuthJWTRevocationCacheSize");
    }
}

/* 1 when a graceful restart has replaced this child's generation (the
 * parent bumps the scoreboard's generation before it clears the old
 * configuration pool), or the child already knows it is winding down. */
static int auth_jwt_child_stopping(void)
{
    int state = AP_MPMQ_RUNNING, mine = 0;

    if (ap_scoreboard_image && ap_mpm_query(AP_MPMQ_GENERATION, &mine) == APR_SUCCESS
        && ap_scoreboard_image->global->running_generation != mine) {
        return 1;
    }
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

/* A graceful restart destroys the old generation's mutex (with pconf) while
 * its children still finish their requests: for them a failing lock is
 * expected, not an error (the callers cope without it). */
static int auth_jwt_lock(request_rec *r)
{
    apr_status_t rv = apr_global_mutex_lock(auth_jwt_rs->mutex);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, auth_jwt_child_stopping() ? APLOG_DEBUG : APLOG_ERR, rv, r,
                      AJ_LOGNO(113) "cannot lock the revocation table");
        return 0;
    }
    if (aj_revtab_recover(auth_jwt_rs->tab)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AJ_LOGNO(122)
                      "the revocation table was left half-written (a process died while "
                      "writing it): emptied, and every site's revocations are read again "
                      "from its store");
    }
    return 1;
}

/* Reads revocations since `since` (0: all) into the table.  The database
 * rows are read with the mutex held so two refreshes never interleave. */
static apr_status_t auth_jwt_load(int *full, request_rec *r, aj_store_t *st,
                                  apr_int64_t since, apr_int64_t now)
{
    auth_jwt_fill f;
    apr_status_t rv;

    auth_jwt_fill_init(&f, r, now);
    rv = aj_store_revoked_since(st, r->pool, since, now, auth_jwt_fill_jti, &f);
    if (rv == APR_SUCCESS) {
        rv = aj_store_users_revoked_since(st, r->pool, since ? since : 1, auth_jwt_fill_user, &f);
    }
    auth_jwt_note_full(r, &f);
    *full = f.full;
    return rv;
}

static void auth_jwt_maybe_prune(request_rec *r, aj_store_t *st, apr_int64_t now)
{
    apr_int64_t *last = &auth_jwt_rs->last_prune[auth_jwt_store_index(r)];
    int pruned = 0;

    if (now - *last < AUTH_JWT_PRUNE_INTERVAL) {
        return;
    }
    *last = now;
    if (aj_store_revoke_prune(&pruned, st, r->pool, now) == APR_SUCCESS && pruned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AJ_LOGNO(114)
                      "pruned %d expired revocations", pruned);
    }
}

static void auth_jwt_refresh_failed(request_rec *r, const char *what)
{
    apr_uint32_t store = auth_jwt_store_index(r);

    if (!__atomic_exchange_n(&auth_jwt_rs->refresh_failing[store], 1, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(115)
                      "revocations could not be %s from the store; %s", what,
                      aj_revtab_loaded(auth_jwt_rs->tab, store)
                          ? "tokens are checked against the last known state"
                          : "tokens are refused with 503 until the store answers");
    }
}

static void auth_jwt_refresh_ok(request_rec *r)
{
    apr_uint32_t store = auth_jwt_store_index(r);

    if (__atomic_exchange_n(&auth_jwt_rs->refresh_failing[store], 0, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, AJ_LOGNO(116)
                      "revocations are read from the store again");
    }
}

/* Brings the request's store up to date in the table when a refresh is
 * due (or when the store was never loaded).  OK; or AUTH_JWT_ASK_STORE when
 * the store was never loaded and the table cannot be locked (a child whose
 * generation a graceful restart replaced): the store is then asked per
 * token; or HTTP_SERVICE_UNAVAILABLE when the store was never loaded and
 * cannot be read.  An overflowed store is reloaded completely, at most
 * every AUTH_JWT_RECOVERY_INTERVAL seconds, and its mark cleared when
 * everything fits again. */
static int auth_jwt_refresh(request_rec *r, const auth_jwt_dir_conf *c, apr_int64_t now)
{
    aj_revtab_t *tab = auth_jwt_rs->tab;
    apr_uint32_t store = auth_jwt_store_index(r);
    apr_int64_t due = aj_revtab_next_refresh(tab, store);
    apr_int64_t interval = auth_jwt_cfg_revocation_refresh(c);
    apr_int64_t since;
    aj_store_t *st;
    apr_status_t rv;
    int claimed = 0, full = 0, recovering = 0;

    if (aj_revtab_loaded(tab, store)) {
        if (now < due || !aj_revtab_claim_refresh(tab, store, due, now + interval)) {
            return OK;      /* not due, or another request refreshes it */
        }
        claimed = 1;
    }
    if (!auth_jwt_lock(r)) {
        return aj_revtab_loaded(tab, store) ? OK : AUTH_JWT_ASK_STORE;
    }
    if (!claimed && aj_revtab_loaded(tab, store)) {
        /* another request loaded it while this one waited */
        apr_global_mutex_unlock(auth_jwt_rs->mutex);
        return OK;
    }
    if (!aj_revtab_loaded(tab, store)) {
        since = 0;
    }
    else if (aj_revtab_overflowed(tab, store)
             && now - aj_revtab_last_recovery(tab, store) >= AUTH_JWT_RECOVERY_INTERVAL) {
        since = 0;
        recovering = 1;
        aj_revtab_set_last_recovery(tab, store, now);
    }
    else {
        since = aj_revtab_watermark(tab, store) - AUTH_JWT_REFRESH_SLACK;
        since = since > 1 ? since : 1;
    }
    st = auth_jwt_store(r);
    rv = st ? auth_jwt_load(&full, r, st, since, now) : APR_EGENERAL;
    if (rv == APR_SUCCESS) {
        aj_revtab_set_watermark(tab, store, now);
        if (!aj_revtab_loaded(tab, store)) {
            aj_revtab_set_next_refresh(tab, store, now + interval);
            aj_revtab_set_loaded(tab, store, 1);
        }
        if (recovering && !full) {
            /* every unexpired revocation of this store is in the table again */
            aj_revtab_clear_overflowed(tab, store);
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, AJ_LOGNO(123)
                          "the revocation table has room again: token checks of this site "
                          "no longer ask the database");
        }
        auth_jwt_maybe_prune(r, st, now);
    }
    apr_global_mutex_unlock(auth_jwt_rs->mutex);

    if (rv != APR_SUCCESS) {
        auth_jwt_store_reset(r, st);
        auth_jwt_refresh_failed(r, since ? "refreshed" : "loaded");
        return aj_revtab_loaded(tab, store) ? OK : HTTP_SERVICE_UNAVAILABLE;
    }
    auth_jwt_refresh_ok(r);
    return OK;
}

/* Asks the store whether a token is revoked (the table cannot answer: it
 * overflowed, or this child cannot use it).  OK with *verdict, or
 * APR_EGENERAL when the store could not be read. */
static apr_status_t auth_jwt_check_store(aj_verdict_e *verdict, request_rec *r,
                                         const char *jti, const char *sub, apr_int64_t iat,
                                         int has_iat, apr_int64_t now)
{
    aj_store_t *st = auth_jwt_store(r);
    apr_int64_t exp = 0, id;
    aj_user_t *u = NULL;
    char *end = NULL;
    apr_status_t rv;

    *verdict = AJ_OK;
    if (!st) {
        return APR_EGENERAL;
    }
    if (jti) {
        rv = aj_store_revoke_get(&exp, st, r->pool, jti);
        if (rv == APR_SUCCESS && exp > now) {
            *verdict = AJ_REVOKED;
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            return rv;
        }
    }
    if (sub) {
        id = apr_strtoi64(sub, &end, 10);
        if (end && !*end && id > 0) {
            rv = aj_store_user_by_id(&u, r->pool, st, id);
            if (rv == APR_SUCCESS && u->tokens_valid_after
                && (!has_iat || iat < u->tokens_valid_after)) {
                *verdict = AJ_REVOKED;
            }
            else if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
                return rv;
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t auth_jwt_revkeys_make(auth_jwt_revkeys *keys, request_rec *r,
                                   const aj_claims_t *claims)
{
    const char *jti = aj_claims_get_string(claims, "jti");
    const char *sub = aj_claims_get_string(claims, "sub");
    apr_uint32_t store = auth_jwt_store_index(r);
    apr_status_t rv;

    memset(keys, 0, sizeof(*keys));
    if (!auth_jwt_rs) {
        return APR_EINIT;
    }
    keys->store = store;
    if (jti) {
        if ((rv = aj_revtab_jti_key(&keys->jti, auth_jwt_rs->tab, store, jti)) != APR_SUCCESS) {
            return rv;
        }
        keys->has_jti = 1;
    }
    if (sub) {
        if ((rv = aj_revtab_user_key(&keys->user, auth_jwt_rs->tab, store, sub))
            != APR_SUCCESS) {
            return rv;
        }
        keys->has_user = 1;
    }
    return APR_SUCCESS;
}

/* The table's answer for a token's keys: APR_SUCCESS with *revoked, or an
 * error when the table cannot answer (a stalled writer, or the store was
 * unloaded meanwhile by a reset: then nothing it said may be trusted). */
static apr_status_t auth_jwt_table_says(int *revoked, int *overflowed,
                                        const auth_jwt_revkeys *keys, int has_iat,
                                        apr_int64_t iat, apr_int64_t now)
{
    aj_revtab_t *tab = auth_jwt_rs->tab;
    apr_int64_t valid_after = 0;
    apr_status_t rv;
    int hit = 0;

    *revoked = 0;
    *overflowed = 1;
    if (keys->has_jti) {
        rv = aj_revtab_key_revoked(&hit, tab, &keys->jti, now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!hit && keys->has_user) {
        rv = aj_revtab_key_value(&valid_after, tab, &keys->user);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        hit = valid_after && (!has_iat || iat < valid_after);
    }
    /* Read after the look-ups, overflowed before loaded: a reset that
     * empties the table unloads the store first and clears its overflow
     * mark after, so a reader that sees the mark cleared by a reset also
     * sees the store unloaded (and asks the store). */
    *overflowed = aj_revtab_overflowed(tab, keys->store);
    if (!aj_revtab_loaded(tab, keys->store)) {
        return APR_EINIT;
    }
    *revoked = hit;
    return APR_SUCCESS;
}

int auth_jwt_revoke_check(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                          const aj_claims_t *claims, const auth_jwt_revkeys *keys)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_uint32_t store;
    const char *jti, *sub;
    apr_int64_t iat = 0;
    auth_jwt_revkeys own;
    int has_iat, rc, revoked = 0, overflowed = 1;

    *verdict = AJ_OK;
    if (!auth_jwt_cfg_revocation(c)) {
        return OK;
    }
    if (!auth_jwt_rs) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(117)
                      "revocation table missing; refusing the token");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    store = auth_jwt_store_index(r);
    rc = auth_jwt_refresh(r, c, now);
    jti = aj_claims_get_string(claims, "jti");
    sub = aj_claims_get_string(claims, "sub");
    has_iat = aj_claims_get_int(claims, "iat", &iat);
    if (rc == AUTH_JWT_ASK_STORE) {
        /* nothing known here: the store decides, or nobody does (fail closed) */
        return auth_jwt_check_store(verdict, r, jti, sub, iat, has_iat, now) == APR_SUCCESS
                   ? OK : HTTP_SERVICE_UNAVAILABLE;
    }
    if (rc != OK) {
        return rc;
    }

    if (!keys || keys->store != store) {
        /* none cached, or cached under another site's store */
        if (auth_jwt_revkeys_make(&own, r, claims) != APR_SUCCESS) {
            *verdict = AJ_REVOKED;      /* cannot look it up: fail closed */
            return OK;
        }
        keys = &own;
    }
    if (auth_jwt_table_says(&revoked, &overflowed, keys, has_iat, iat, now) != APR_SUCCESS) {
        /* the table cannot answer now: the store decides, or nobody does */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AJ_LOGNO(124)
                      "revocation table busy or being reloaded: asking the store");
        return auth_jwt_check_store(verdict, r, jti, sub, iat, has_iat, now) == APR_SUCCESS
                   ? OK : HTTP_SERVICE_UNAVAILABLE;
    }
    if (revoked) {
        *verdict = AJ_REVOKED;
        return OK;
    }
    if (overflowed
        && auth_jwt_check_store(verdict, r, jti, sub, iat, has_iat, now) != APR_SUCCESS) {
        *verdict = AJ_OK;       /* store down: the last known state stands (docs/reference.md §6) */
    }
    return OK;
}

/* ---- recording a revocation made here ---------------------------------- */

static void auth_jwt_table_put(request_rec *r, const char *jti, apr_int64_t exp,
                               const char *sub, apr_int64_t valid_after)
{
    auth_jwt_fill f;

    if (!auth_jwt_rs || !auth_jwt_lock(r)) {
        return;     /* the database has it; the next refresh brings it */
    }
    auth_jwt_fill_init(&f, r, apr_time_sec(r->request_time));
    if (jti) {
        auth_jwt_fill_jti(&f, jti, exp);
    }
    if (sub && aj_revtab_put_user(auth_jwt_rs->tab, f.store, sub, valid_after, f.now)
               != APR_SUCCESS) {
        f.full = 1;
    }
    apr_global_mutex_unlock(auth_jwt_rs->mutex);
    auth_jwt_note_full(r, &f);
}

apr_status_t auth_jwt_revoke_token(request_rec *r, aj_store_t *st, const char *jti,
                                   apr_int64_t exp)
{
    apr_status_t rv = aj_store_revoke_add(st, r->pool, jti, exp,
                                          apr_time_sec(r->request_time));

    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "recording a logout", rv);
        return rv;
    }
    auth_jwt_table_put(r, jti, exp, NULL, 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(118) "revoked token jti=%s", jti);
    return APR_SUCCESS;
}

apr_int64_t auth_jwt_revoke_all_value(request_rec *r)
{
    /* a token issued after the revocation waits for the next second
     * (auth_jwt_issue) */
    return aj_issue_revoke_all_value(apr_time_sec(apr_time_now()));
}

void auth_jwt_revoke_user_recorded(request_rec *r, apr_int64_t id, apr_int64_t valid_after)
{
    auth_jwt_table_put(r, NULL, 0, apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id), valid_after);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(119)
                  "revoked every token of user id %" APR_INT64_T_FMT " issued so far", id);
}

apr_status_t auth_jwt_userkeys_make(auth_jwt_userkeys *keys, request_rec *r, apr_int64_t id)
{
    const char *sub = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id);
    apr_uint32_t store = auth_jwt_store_index(r);
    apr_status_t rv;

    memset(keys, 0, sizeof(*keys));
    if (!auth_jwt_rs) {
        return APR_EINIT;
    }
    keys->store = store;
    rv = aj_revtab_user_key(&keys->user, auth_jwt_rs->tab, store, sub);
    return rv == APR_SUCCESS ? aj_revtab_changed_key(&keys->changed, auth_jwt_rs->tab, store, sub)
                             : rv;
}

int auth_jwt_revoke_user_state(apr_int64_t *valid_after, apr_int64_t *stamp, request_rec *r,
                               const auth_jwt_dir_conf *c, const auth_jwt_userkeys *keys)
{
    aj_revtab_t *tab = auth_jwt_rs ? auth_jwt_rs->tab : NULL;
    apr_int64_t va = 0, changed = 0;

    *valid_after = *stamp = APR_INT64_MAX;
    if (!tab) {
        *valid_after = *stamp = 0;
        return 1;
    }
    if (keys->store != auth_jwt_store_index(r)) {
        return 0;       /* keys of another site's store: never */
    }
    if (auth_jwt_cfg_revocation(c)
        && (auth_jwt_refresh(r, c, apr_time_sec(r->request_time)) != OK
            || !aj_revtab_loaded(tab, keys->store))) {
        return 0;       /* unknown: nothing cached may be trusted */
    }
    /* A store whose revocations do not all fit may be missing this user's
     * entries: nothing cached may be trusted then (the overflow mark is read
     * before the loaded flag, as in auth_jwt_table_says). */
    if (aj_revtab_key_value(&va, tab, &keys->user) != APR_SUCCESS
        || aj_revtab_key_value(&changed, tab, &keys->changed) != APR_SUCCESS
        || aj_revtab_overflowed(tab, keys->store)
        || (auth_jwt_cfg_revocation(c) && !aj_revtab_loaded(tab, keys->store))) {
        return 0;
    }
    *valid_after = va;
    *stamp = va > changed ? va : changed;
    return 1;
}

void auth_jwt_revoke_fill(apr_uint64_t *entries, apr_uint64_t *capacity)
{
    *entries = auth_jwt_rs ? aj_revtab_count(auth_jwt_rs->tab) : 0;
    *capacity = auth_jwt_rs ? aj_revtab_capacity(auth_jwt_rs->tab) : 0;
}

/*
 * auth_jwt_revtab.c — the shared revocation table: revocation on the hot
 * path without a database round trip (docs/reference.md §6).  Its set-up,
 * its loading and refresh from each store, and writes to it; the token
 * checks that read it are in auth_jwt_revoke.c.
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
#include <apr_strings.h>
#include <ap_mpm.h>
#include <scoreboard.h>

#include "auth_jwt_revtab.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_scope.h"
#include "auth_jwt_shm.h"
#include "aj_revtab.h"
#include "aj_store.h"
#include "aj_store_refresh.h"
#include "aj.h"

#define AUTH_JWT_REVOKE_MUTEX "auth-jwt-revoke"
/* The table cannot work without its segment: the start is refused. */
static const auth_jwt_shm_spec_t auth_jwt_revtab_shm =
    AUTH_JWT_SHM_SPEC_REQUIRED("revocation table (AuthJWTRevocationCacheSize)", AJ_LOGNO(110),
                               AUTH_JWT_REVOKE_MUTEX, "revocation", AJ_LOGNO(111));

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

/* This generation's table, made in post_config (parent, before the
 * children exist); every field but seg is meaningful only while seg is set
 * (auth_jwt_shm clears it when pconf goes). */
static struct {
    auth_jwt_shm_t *seg;
    aj_revtab_t *tab;
    /* Per store, each child's own copy (made before the fork): log a failing
     * refresh once per streak, not every interval; prune now and then. */
    int *refresh_failing;
    apr_int64_t *last_prune;
} auth_jwt_rs;

int auth_jwt_revtab_pre_config(apr_pool_t *pconf)
{
    return auth_jwt_shm_pre_config(&auth_jwt_rs.seg, pconf, &auth_jwt_revtab_shm);
}

int auth_jwt_revtab_post_config(apr_pool_t *pconf, server_rec *s, apr_uint32_t slots)
{
    apr_uint32_t n = auth_jwt_scope_count();
    aj_store_id_t *ids;
    const auth_jwt_scope_t *scope;
    apr_size_t size;
    server_rec *v;
    int rc;

    if (n > AJ_REVTAB_MAX_STORES) {
        ap_log_error(
            APLOG_MARK, APLOG_EMERG, 0, s,
            AJ_LOGNO(121) "%u distinct stores (DBDriver/DBDParams) configured; at most %u are "
                          "supported",
            n, AJ_REVTAB_MAX_STORES);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ids = apr_pcalloc(pconf, n * sizeof(*ids));
    for (v = s; v; v = v->next) {
        scope = auth_jwt_scope(v);
        if (scope->index < n) {
            ids[scope->index] = scope->id;
        }
    }
    size = aj_revtab_size(slots, n);
    rc = auth_jwt_shm_post_config(&auth_jwt_rs.seg, pconf, s, &auth_jwt_revtab_shm, size);
    if (rc != OK) {
        return rc;
    }
    auth_jwt_rs.refresh_failing = apr_pcalloc(pconf, n * sizeof(*auth_jwt_rs.refresh_failing));
    auth_jwt_rs.last_prune = apr_pcalloc(pconf, n * sizeof(*auth_jwt_rs.last_prune));
    auth_jwt_rs.tab = aj_revtab_format(auth_jwt_rs.seg->base, size, slots, ids, n);
    if (!auth_jwt_rs.tab) {
        auth_jwt_rs.seg = NULL; /* the start is refused: no table */
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(120) "cannot lay out the revocation table in shared memory");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void auth_jwt_revtab_child_init(apr_pool_t *p, server_rec *s)
{
    auth_jwt_shm_child_init(auth_jwt_rs.seg, p, s);
}

aj_revtab_t *auth_jwt_revtab(void)
{
    return auth_jwt_rs.seg ? auth_jwt_rs.tab : NULL;
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
    if (aj_revtab_put_jti(auth_jwt_rs.tab, f->store, jti, exp, f->now) != APR_SUCCESS) {
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
    if (aj_revtab_put_user(auth_jwt_rs.tab, f->store, sub, valid_after, f->now) != APR_SUCCESS
        || aj_revtab_put_changed(auth_jwt_rs.tab, f->store, sub, changed_at, f->now)
               != APR_SUCCESS) {
        f->full = 1;
    }
}

static void auth_jwt_note_full(request_rec *r, const auth_jwt_fill *f)
{
    if (f->full) {
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            AJ_LOGNO(112) "the revocation table is full: token checks of this site now ask "
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
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

/* A graceful restart destroys the old generation's mutex (with pconf) while
 * its children still finish their requests: for them a failing lock is
 * expected, not an error (the callers cope without it). */
static int auth_jwt_lock(request_rec *r)
{
    apr_status_t rv = apr_global_mutex_lock(auth_jwt_rs.seg->mutex);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, auth_jwt_child_stopping() ? APLOG_DEBUG : APLOG_ERR, rv, r,
                      AJ_LOGNO(113) "cannot lock the revocation table");
        return 0;
    }
    if (aj_revtab_recover(auth_jwt_rs.tab)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            AJ_LOGNO(122) "the revocation table was left half-written (a process died while "
                          "writing it): emptied, and every site's revocations are read again "
                          "from its store");
    }
    return 1;
}

/* Reads revocations since `since` (0: all) into the table.  The database
 * rows are read with the mutex held so two refreshes never interleave.
 *
 * A full load (since 0) reads the table in pages, one statement each, not
 * as one snapshot (aj_store_revoked_since), so a revocation committed by
 * another node while it runs may be missed.  It is not lost: `now` was
 * taken before the first page (the request's time, before the mutex was
 * even waited for), the caller records it as the watermark only once the
 * whole load succeeded, and the next refresh reads every row with
 * revoked_at >= watermark - AUTH_JWT_REFRESH_SLACK; a row committed during
 * the load has a revoked_at after (or, by clock skew and late commits, at
 * most the slack before) the start.  That is the same window as for a row
 * committed just after a single-query load.  Revocations made on this
 * server wait for the mutex and are written to the table after the load
 * (auth_jwt_revtab_put).  A failed page fails the load: the store is not
 * marked loaded and its tokens keep getting 503; the entries already put
 * are real revocations and stay. */
static apr_status_t auth_jwt_load(int *full, request_rec *r, aj_store_t *st, apr_int64_t since,
                                  apr_int64_t now)
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
    apr_int64_t *last = &auth_jwt_rs.last_prune[auth_jwt_store_index(r)];
    int pruned = 0;

    if (now - *last < AUTH_JWT_PRUNE_INTERVAL) {
        return;
    }
    *last = now;
    if (aj_store_revoke_prune(&pruned, st, r->pool, now) == APR_SUCCESS && pruned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AJ_LOGNO(114) "pruned %d expired revocations",
                      pruned);
    }
    pruned = 0;
    if (aj_store_refresh_prune(&pruned, st, r->pool, now) == APR_SUCCESS && pruned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(068) "pruned %d expired refresh tokens and families", pruned);
    }
}

static void auth_jwt_refresh_failed(request_rec *r, const char *what)
{
    apr_uint32_t store = auth_jwt_store_index(r);

    if (!__atomic_exchange_n(&auth_jwt_rs.refresh_failing[store], 1, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(115) "revocations could not be %s from the store; %s", what,
                      aj_revtab_loaded(auth_jwt_rs.tab, store)
                          ? "tokens are checked against the last known state"
                          : "tokens are refused with 503 until the store answers");
    }
}

static void auth_jwt_refresh_ok(request_rec *r)
{
    apr_uint32_t store = auth_jwt_store_index(r);

    if (__atomic_exchange_n(&auth_jwt_rs.refresh_failing[store], 0, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      AJ_LOGNO(116) "revocations are read from the store again");
    }
}

/* (auth_jwt_revtab.h)  An overflowed store is reloaded completely, at most
 * every AUTH_JWT_RECOVERY_INTERVAL seconds, and its mark cleared when
 * everything fits again. */
int auth_jwt_revtab_refresh(request_rec *r, const auth_jwt_dir_conf *c, apr_int64_t now)
{
    aj_revtab_t *tab = auth_jwt_rs.tab;
    apr_uint32_t store = auth_jwt_store_index(r);
    apr_int64_t due = aj_revtab_next_refresh(tab, store);
    apr_int64_t interval = auth_jwt_cfg_revocation_refresh(c);
    apr_int64_t since;
    aj_store_t *st;
    apr_status_t rv;
    int claimed = 0, full = 0, recovering = 0;

    if (aj_revtab_loaded(tab, store)) {
        if (now < due || !aj_revtab_claim_refresh(tab, store, due, now + interval)) {
            return OK; /* not due, or another request refreshes it */
        }
        claimed = 1;
    }
    if (!auth_jwt_lock(r)) {
        return aj_revtab_loaded(tab, store) ? OK : AUTH_JWT_REVTAB_ASK_STORE;
    }
    if (!claimed && aj_revtab_loaded(tab, store)) {
        /* another request loaded it while this one waited */
        apr_global_mutex_unlock(auth_jwt_rs.seg->mutex);
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
            ap_log_rerror(
                APLOG_MARK, APLOG_NOTICE, 0, r,
                AJ_LOGNO(123) "the revocation table has room again: token checks of this site "
                              "no longer ask the database");
        }
        auth_jwt_maybe_prune(r, st, now);
    }
    apr_global_mutex_unlock(auth_jwt_rs.seg->mutex);

    if (rv != APR_SUCCESS) {
        auth_jwt_store_reset(r, st);
        auth_jwt_refresh_failed(r, since ? "refreshed" : "loaded");
        return aj_revtab_loaded(tab, store) ? OK : HTTP_SERVICE_UNAVAILABLE;
    }
    auth_jwt_refresh_ok(r);
    return OK;
}

/* ---- recording a revocation made here ---------------------------------- */

void auth_jwt_revtab_put(request_rec *r, const char *jti, apr_int64_t exp, const char *sub,
                         apr_int64_t valid_after)
{
    auth_jwt_fill f;

    if (!auth_jwt_rs.seg || !auth_jwt_lock(r)) {
        return; /* the database has it; the next refresh brings it */
    }
    auth_jwt_fill_init(&f, r, apr_time_sec(r->request_time));
    if (jti) {
        auth_jwt_fill_jti(&f, jti, exp);
    }
    if (sub
        && aj_revtab_put_user(auth_jwt_rs.tab, f.store, sub, valid_after, f.now) != APR_SUCCESS) {
        f.full = 1;
    }
    apr_global_mutex_unlock(auth_jwt_rs.seg->mutex);
    auth_jwt_note_full(r, &f);
}

void auth_jwt_revtab_fill(apr_uint64_t *entries, apr_uint64_t *capacity)
{
    aj_revtab_t *tab = auth_jwt_revtab();

    *entries = tab ? aj_revtab_count(tab) : 0;
    *capacity = tab ? aj_revtab_capacity(tab) : 0;
}

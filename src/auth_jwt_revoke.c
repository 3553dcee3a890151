/*
 * auth_jwt_revoke.c — revocation on the hot path without a database round
 * trip (SPEC §6).
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

#include "auth_jwt.h"
#include "aj_revtab.h"

#define AUTH_JWT_REVOKE_MUTEX      "auth-jwt-revoke"
/* Re-read this many seconds before the last poll: clock skew between nodes
 * and transactions that commit after their revoked_at. */
#define AUTH_JWT_REFRESH_SLACK     60
/* Expired rows of revoked_tokens are deleted this often. */
#define AUTH_JWT_PRUNE_INTERVAL    600
/* auth_jwt_refresh(): this child cannot use the table; ask the store. */
#define AUTH_JWT_ASK_STORE         (-2)

typedef struct {
    apr_shm_t *shm;
    aj_revtab_t *tab;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
} auth_jwt_revoke_state;

/* Set in post_config (parent, before children exist), then read-only. */
static auth_jwt_revoke_state *auth_jwt_rs;
/* Log a failing refresh once per streak, not every interval. */
static volatile int auth_jwt_refresh_failing;
static apr_int64_t auth_jwt_last_prune;

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
    apr_size_t size = aj_revtab_size(slots);
    apr_status_t rv;

    rv = apr_shm_create(&rs->shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, AJ_LOGNO(110)
                     "cannot create %" APR_SIZE_T_FMT " bytes of shared memory for the "
                     "revocation table (AuthJWTRevocationCacheSize)", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rs->tab = aj_revtab_format(apr_shm_baseaddr_get(rs->shm), size, slots);
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
    apr_int64_t now;
    int full;
} auth_jwt_fill;

static void auth_jwt_fill_jti(void *baton, const char *jti, apr_int64_t exp)
{
    auth_jwt_fill *f = baton;

    if (aj_revtab_put_jti(auth_jwt_rs->tab, jti, exp, f->now) == APR_ENOSPC) {
        f->full = 1;
    }
}

static void auth_jwt_fill_user(void *baton, apr_int64_t id, apr_int64_t valid_after,
                               apr_int64_t changed_at)
{
    auth_jwt_fill *f = baton;
    const char *sub = apr_psprintf(f->r->pool, "%" APR_INT64_T_FMT, id);

    /* changed_at (password or claims changed) is for the Basic cache, which
     * the integration wires to this poll; the table only needs valid_after
     * (a row reported for changed_at alone carries an older valid_after,
     * which the table ignores: a later value wins, 0 is ignored). */
    (void)changed_at;
    if (aj_revtab_put_user(auth_jwt_rs->tab, sub, valid_after, f->now) == APR_ENOSPC) {
        f->full = 1;
    }
}

static void auth_jwt_note_full(request_rec *r, const auth_jwt_fill *f)
{
    if (f->full) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AJ_LOGNO(112)
                      "the revocation table is full: token checks now ask the database "
                      "on a miss; raise AuthJWTRevocationCacheSize");
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
    return 1;
}

/* Reads revocations since `since` (0: all) into the table.  The database
 * rows are read with the mutex held so two refreshes never interleave. */
static apr_status_t auth_jwt_load(request_rec *r, aj_store_t *st, apr_int64_t since,
                                  apr_int64_t now)
{
    auth_jwt_fill f;
    apr_status_t rv;

    f.r = r;
    f.now = now;
    f.full = 0;
    rv = aj_store_revoked_since(st, r->pool, since, now, auth_jwt_fill_jti, &f);
    if (rv == APR_SUCCESS) {
        rv = aj_store_users_revoked_since(st, r->pool, since ? since : 1, auth_jwt_fill_user, &f);
    }
    auth_jwt_note_full(r, &f);
    return rv;
}

static void auth_jwt_maybe_prune(request_rec *r, aj_store_t *st, apr_int64_t now)
{
    int pruned = 0;

    if (now - auth_jwt_last_prune < AUTH_JWT_PRUNE_INTERVAL) {
        return;
    }
    auth_jwt_last_prune = now;
    if (aj_store_revoke_prune(&pruned, st, r->pool, now) == APR_SUCCESS && pruned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AJ_LOGNO(114)
                      "pruned %d expired revocations", pruned);
    }
}

static void auth_jwt_refresh_failed(request_rec *r, const char *what)
{
    if (!__atomic_exchange_n(&auth_jwt_refresh_failing, 1, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(115)
                      "revocations could not be %s from the store; %s", what,
                      aj_revtab_loaded(auth_jwt_rs->tab)
                          ? "tokens are checked against the last known state"
                          : "tokens are refused with 503 until the store answers");
    }
}

static void auth_jwt_refresh_ok(request_rec *r)
{
    if (__atomic_exchange_n(&auth_jwt_refresh_failing, 0, __ATOMIC_RELAXED)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, AJ_LOGNO(116)
                      "revocations are read from the store again");
    }
}

/* Brings the table up to date when a refresh is due.  OK; or
 * AUTH_JWT_ASK_STORE when the table was never loaded and cannot be locked
 * (a child whose generation a graceful restart replaced): the store is
 * then asked per token; or HTTP_SERVICE_UNAVAILABLE when the table was
 * never loaded and the store cannot be read. */
static int auth_jwt_refresh(request_rec *r, const auth_jwt_dir_conf *c, apr_int64_t now)
{
    aj_revtab_t *tab = auth_jwt_rs->tab;
    apr_int64_t due = aj_revtab_next_refresh(tab);
    apr_int64_t interval = auth_jwt_cfg_revocation_refresh(c);
    apr_int64_t since;
    aj_store_t *st;
    apr_status_t rv;
    int claimed = 0;

    if (aj_revtab_loaded(tab)) {
        if (now < due || !aj_revtab_claim_refresh(tab, due, now + interval)) {
            return OK;      /* not due, or another request refreshes it */
        }
        claimed = 1;
    }
    if (!auth_jwt_lock(r)) {
        return aj_revtab_loaded(tab) ? OK : AUTH_JWT_ASK_STORE;
    }
    if (!claimed && aj_revtab_loaded(tab)) {
        /* another request loaded it while this one waited */
        apr_global_mutex_unlock(auth_jwt_rs->mutex);
        return OK;
    }
    if (!aj_revtab_loaded(tab)) {
        since = 0;
    }
    else {
        since = aj_revtab_watermark(tab) - AUTH_JWT_REFRESH_SLACK;
        since = since > 1 ? since : 1;
    }
    st = auth_jwt_store(r);
    rv = st ? auth_jwt_load(r, st, since, now) : APR_EGENERAL;
    if (rv == APR_SUCCESS) {
        aj_revtab_set_watermark(tab, now);
        if (!aj_revtab_loaded(tab)) {
            aj_revtab_set_next_refresh(tab, now + interval);
            aj_revtab_set_loaded(tab, 1);
        }
        auth_jwt_maybe_prune(r, st, now);
    }
    apr_global_mutex_unlock(auth_jwt_rs->mutex);

    if (rv != APR_SUCCESS) {
        auth_jwt_store_reset(r, st);
        auth_jwt_refresh_failed(r, since ? "refreshed" : "loaded");
        return aj_revtab_loaded(tab) ? OK : HTTP_SERVICE_UNAVAILABLE;
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

apr_status_t auth_jwt_revkeys_make(auth_jwt_revkeys *keys, const aj_claims_t *claims)
{
    const char *jti = aj_claims_get_string(claims, "jti");
    const char *sub = aj_claims_get_string(claims, "sub");
    apr_status_t rv;

    memset(keys, 0, sizeof(*keys));
    if (jti) {
        if ((rv = aj_revtab_jti_key(&keys->jti, jti)) != APR_SUCCESS) {
            return rv;
        }
        keys->has_jti = 1;
    }
    if (sub) {
        if ((rv = aj_revtab_user_key(&keys->user, sub)) != APR_SUCCESS) {
            return rv;
        }
        keys->has_user = 1;
    }
    return APR_SUCCESS;
}

int auth_jwt_revoke_check(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                          const aj_claims_t *claims, const auth_jwt_revkeys *keys)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    const char *jti, *sub;
    apr_int64_t iat = 0, valid_after;
    auth_jwt_revkeys own;
    int has_iat, rc;

    *verdict = AJ_OK;
    if (!auth_jwt_cfg_revocation(c)) {
        return OK;
    }
    if (!auth_jwt_rs) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(117)
                      "revocation table missing; refusing the token");
        return HTTP_SERVICE_UNAVAILABLE;
    }
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

    if (!keys) {
        if (auth_jwt_revkeys_make(&own, claims) != APR_SUCCESS) {
            *verdict = AJ_REVOKED;      /* cannot look it up: fail closed */
            return OK;
        }
        keys = &own;
    }
    if (keys->has_jti && aj_revtab_key_revoked(auth_jwt_rs->tab, &keys->jti, now)) {
        *verdict = AJ_REVOKED;
        return OK;
    }
    valid_after = keys->has_user ? aj_revtab_key_valid_after(auth_jwt_rs->tab, &keys->user) : 0;
    if (valid_after && (!has_iat || iat < valid_after)) {
        *verdict = AJ_REVOKED;
        return OK;
    }
    if (aj_revtab_overflowed(auth_jwt_rs->tab)
        && auth_jwt_check_store(verdict, r, jti, sub, iat, has_iat, now) != APR_SUCCESS) {
        *verdict = AJ_OK;       /* store down: the last known state stands (SPEC §6) */
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
    f.r = r;
    f.now = apr_time_sec(r->request_time);
    f.full = 0;
    if (jti) {
        auth_jwt_fill_jti(&f, jti, exp);
    }
    if (sub && aj_revtab_put_user(auth_jwt_rs->tab, sub, valid_after, f.now) == APR_ENOSPC) {
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
    /* Tokens issued in this very second are covered too; a token issued
     * after the revocation waits for the next second (auth_jwt_issue). */
    return apr_time_sec(apr_time_now()) + 1;
}

void auth_jwt_revoke_user_recorded(request_rec *r, apr_int64_t id, apr_int64_t valid_after)
{
    auth_jwt_table_put(r, NULL, 0, apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id), valid_after);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(119)
                  "revoked every token of user id %" APR_INT64_T_FMT " issued so far", id);
}

apr_int64_t auth_jwt_revoke_user_valid_after_key(request_rec *r, const auth_jwt_dir_conf *c,
                                                 const aj_revtab_key_t *key)
{
    if (!auth_jwt_rs) {
        return 0;
    }
    if (auth_jwt_cfg_revocation(c)
        && (auth_jwt_refresh(r, c, apr_time_sec(r->request_time)) != OK
            || !aj_revtab_loaded(auth_jwt_rs->tab))) {
        return APR_INT64_MAX;      /* unknown: nothing cached may be trusted */
    }
    return aj_revtab_key_valid_after(auth_jwt_rs->tab, key);
}

apr_int64_t auth_jwt_revoke_user_valid_after(request_rec *r, const auth_jwt_dir_conf *c,
                                             apr_int64_t id)
{
    aj_revtab_key_t key;

    if (aj_revtab_user_key(&key, apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id))
        != APR_SUCCESS) {
        return APR_INT64_MAX;
    }
    return auth_jwt_revoke_user_valid_after_key(r, c, &key);
}

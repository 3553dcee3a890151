/*
 * auth_jwt_dbd.c — the store on mod_dbd's connections.
 *
 * mod_dbd prepares the statements registered with ap_dbd_prepare() when it
 * opens a connection, and a statement that names a missing table fails to
 * prepare (taking the whole connection down).  docs/reference.md §6 wants the tables
 * created on first use of an empty database, so the store's statements are
 * prepared here instead, on the first use of each connection, after the
 * idempotent DDL; the ready store is kept in that connection's own
 * `prepared` table under our label, so it lives and dies with the
 * connection and costs one hash lookup per request afterwards.
 *
 * A statement that fails may leave the connection's store unusable even
 * after the database is fine again: with persistent connections (mod_dbd's
 * default) the SQLite connection whose file was corrupted and then repaired
 * keeps failing its prepared statements ("file is not a database"), and
 * mod_dbd's health check (apr_dbd_check_conn) cannot see it: SQLite keeps
 * the bad first page in the connection's page cache, and in WAL mode that
 * cache stays "valid" until some connection writes.  So after any store
 * failure the store is dropped from its connection, and the next request on
 * that connection first has SQLite release its cached pages (PRAGMA
 * shrink_memory) and then prepares a new store (the DDL is idempotent and
 * cheap).
 * Each store lives in its own subpool of the connection's pool, destroyed
 * when the failing request ends.  (apr_dbd_sqlite3 allocates each prepared
 * statement in the connection's own pool and finalizes it only when the
 * connection closes, so every new store on a pooled SQLite connection
 * still leaves its statements behind until then; pgsql statements are
 * unnamed and hold nothing.)
 *
 * What this cannot heal: a SQLite file that was read-only when a child
 * opened its connections stays read-only for that child after it is made
 * writable (SQLite shares one read-only mapping of the -shm file among all
 * the process's connections to it, until every one is closed, and mod_dbd
 * keeps them open); a graceful restart is the remedy (deployment.md).
 */
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_strings.h>
#include <apr_user.h>
#include <http_request.h>
#include <mod_dbd.h>

#include <apr_optional.h>

#include "auth_jwt_dbd.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_scope.h"
#include "aj_store.h"

#define AUTH_JWT_STORE_LABEL "mod_auth_jwt:store"

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * auth_jwt_dbd_acquire;

/* What a connection's `prepared` table holds under our label. */
typedef struct {
    aj_store_t *st;
    apr_pool_t *pool; /* the store's statements live here */
} auth_jwt_conn_store;

void auth_jwt_dbd_post_config(server_rec *s)
{
    auth_jwt_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!auth_jwt_dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     AJ_LOGNO(100) "mod_dbd is not loaded: the user store is unavailable "
                                   "(set AuthJWTRevocation Off where tokens are only verified)");
    }
}

/* SQLite: drops the connection's cached pages, so a page read while the file
 * was bad (a corrupted header, since repaired) is read again.  Costs nothing
 * on a fresh connection; other drivers need nothing. */
static void auth_jwt_dbd_heal(ap_dbd_t *dbd)
{
    int nrows = 0;

    if (!strcmp(apr_dbd_name(dbd->driver), "sqlite3")) {
        (void)apr_dbd_query(dbd->driver, dbd->handle, &nrows, "PRAGMA shrink_memory");
    }
}

/* docs/reference.md §13: a store error names what to fix.  With SQLite,
 * may this process (the child's User) not open or write the database
 * file or create files beside it (-wal, -shm, -journal)?  Checked only
 * after a failure, when mod_dbd gave no reason of its own. */
static int auth_jwt_dbd_sqlite_denied(request_rec *r, const char *file)
{
    char *dir = ap_make_dirstr_parent(r->pool, file);

    if (access(*dir ? dir : ".", W_OK | X_OK) != 0 && errno == EACCES) {
        return 1;
    }
    return access(file, R_OK | W_OK) != 0 && errno == EACCES;
}

/* The end of a store failure's log line: the store (file or connection,
 * never a password) and, for a permission error, the user that needs
 * access.  msg/rv: the failure, NULL/APR_SUCCESS when unknown. */
static const char *auth_jwt_dbd_what_to_fix(request_rec *r, const char *msg, apr_status_t rv)
{
    const auth_jwt_scope_t *scope = auth_jwt_scope(r->server);
    const char *file = scope->sqlite_file;
    char *user = NULL;
    apr_uid_t uid = geteuid();
    const char *text = auth_jwt_scope_store_text(r->server);

    if (!aj_store_error_is_permission(msg, rv)
        && !(file && !msg && auth_jwt_dbd_sqlite_denied(r, file))) {
        return apr_pstrcat(r->pool, " (", text, ")", NULL);
    }
    if (apr_uid_name_get(&user, uid, r->pool) != APR_SUCCESS) {
        user = apr_psprintf(r->pool, "#%ld", (long)uid);
    }
    if (file) {
        return apr_psprintf(r->pool,
                            " (%s); permission denied: user %s (uid %ld) needs read "
                            "and write access to %s and write access to its directory %s",
                            text, user, (long)uid, file, ap_make_dirstr_parent(r->pool, file));
    }
    return apr_psprintf(r->pool, " (%s); permission denied for user %s (uid %ld)", text, user,
                        (long)uid);
}

aj_store_t *auth_jwt_store(request_rec *r)
{
    ap_dbd_t *dbd;
    auth_jwt_conn_store *cs;
    aj_store_t *st = NULL;
    apr_pool_t *sp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    if (!auth_jwt_dbd_acquire) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(001) "store unavailable: mod_dbd is not loaded");
        return NULL;
    }
    dbd = auth_jwt_dbd_acquire(r);
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(002) "store unavailable: no database connection%s; see mod_dbd's "
                                    "messages (DBDriver, DBDParams)",
                      auth_jwt_dbd_what_to_fix(r, NULL, APR_SUCCESS));
        return NULL;
    }
    cs = apr_hash_get(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING);
    if (cs) {
        return cs->st;
    }
    auth_jwt_dbd_heal(dbd);
    rv = apr_pool_create(&sp, dbd->pool);
    if (rv == APR_SUCCESS) {
        rv = aj_store_open(&st, &err, sp, dbd->driver, dbd->handle);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(003) "store unavailable: %s%s",
                      err ? err : "cannot prepare the store", auth_jwt_dbd_what_to_fix(r, err, rv));
        if (sp) {
            apr_pool_destroy(sp);
        }
        return NULL;
    }
    cs = apr_palloc(sp, sizeof(*cs));
    cs->st = st;
    cs->pool = sp;
    apr_hash_set(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING, cs);
    return st;
}

static apr_status_t auth_jwt_store_destroy(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

void auth_jwt_store_reset(request_rec *r, aj_store_t *st)
{
    ap_dbd_t *dbd = (st && auth_jwt_dbd_acquire) ? auth_jwt_dbd_acquire(r) : NULL;
    auth_jwt_conn_store *cs;

    if (!dbd) {
        return;
    }
    cs = apr_hash_get(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING);
    if (!cs || cs->st != st) {
        return;
    }
    /* Unlisted now; freed when the request that holds the connection (the
     * initial one, as in ap_dbd_acquire) ends.  A pre-cleanup: it runs
     * before that pool's subpools are destroyed (DBDPersist Off: the
     * connection's pool, cs->pool's parent) and before its cleanups
     * (persistent: mod_dbd's release of the connection to its pool). */
    while (!ap_is_initial_req(r)) {
        r = r->prev ? r->prev : r->main;
    }
    apr_hash_set(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING, NULL);
    apr_pool_pre_cleanup_register(r->pool, cs->pool, auth_jwt_store_destroy);
}

void auth_jwt_store_failed(request_rec *r, aj_store_t *st, const char *what, apr_status_t rv)
{
    const char *msg = st ? aj_store_error(st, (int)rv) : NULL;

    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(004) "store unavailable: %s failed: %s%s",
                  what, msg ? msg : "no connection", auth_jwt_dbd_what_to_fix(r, msg, rv));
    auth_jwt_store_reset(r, st);
}

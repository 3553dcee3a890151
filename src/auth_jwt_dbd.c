/*
 * auth_jwt_dbd.c — the store on mod_dbd's connections.
 *
 * mod_dbd prepares the statements registered with ap_dbd_prepare() when it
 * opens a connection, and a statement that names a missing table fails to
 * prepare (taking the whole connection down).  SPEC §6 wants the tables
 * created on first use of an empty database, so the store's statements are
 * prepared here instead, on the first use of each connection, after the
 * idempotent DDL; the ready store is kept in that connection's own
 * `prepared` table under our label, so it lives and dies with the
 * connection and costs one hash lookup per request afterwards.
 */
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "auth_jwt.h"

#define AUTH_JWT_STORE_LABEL "mod_auth_jwt:store"

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *auth_jwt_dbd_acquire;

int auth_jwt_dbd_init(void)
{
    auth_jwt_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    return auth_jwt_dbd_acquire != NULL;
}

aj_store_t *auth_jwt_store(request_rec *r)
{
    ap_dbd_t *dbd;
    aj_store_t *st;
    const char *err = NULL;
    apr_status_t rv;

    if (!auth_jwt_dbd_acquire) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(001)
                      "store unavailable: mod_dbd is not loaded");
        return NULL;
    }
    dbd = auth_jwt_dbd_acquire(r);
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(002)
                      "store unavailable: no database connection (see mod_dbd's "
                      "messages; DBDriver/DBDParams)");
        return NULL;
    }
    st = apr_hash_get(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING);
    if (st) {
        return st;
    }
    rv = aj_store_open(&st, &err, dbd->pool, dbd->driver, dbd->handle);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(003)
                      "store unavailable: %s", err ? err : "cannot prepare the store");
        return NULL;
    }
    apr_hash_set(dbd->prepared, AUTH_JWT_STORE_LABEL, APR_HASH_KEY_STRING, st);
    return st;
}

void auth_jwt_store_failed(request_rec *r, aj_store_t *st, const char *what, apr_status_t rv)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(004)
                  "store unavailable: %s failed: %s", what,
                  st ? aj_store_error(st, (int)rv) : "no connection");
}

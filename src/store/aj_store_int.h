/*
 * aj_store_int.h — what the files of the store share, and nothing else
 * (callers use include/aj_store.h; aj_store_t stays opaque to them).
 *
 *   aj_store.c          opening a store, the one statement table, running
 *                       a statement (with the pgsql reconnect and the
 *                       sqlite3 re-prepare after a schema change), columns
 *   aj_store_schema.c   creating the schema and upgrading an older one;
 *                       its version (SQLite)
 *   aj_store_users.c    the users table
 *   aj_store_revoke.c   revocations: revoked_tokens and the refresh poll
 *   aj_store_refresh.c  refresh tokens and their families
 *   aj_store_describe.c what a log line may say about a store
 *
 * Every file calls down into aj_store.c (which alone calls
 * aj_store_schema.c); none calls another sideways.
 */
#ifndef AJ_STORE_INT_H
#define AJ_STORE_INT_H

#include "aj_store.h"

/* The statements of aj_sql_text (aj_store.c), prepared by aj_store_open. */
typedef enum {
    AJ_SQL_USER_BY_NAME,
    AJ_SQL_USER_BY_ID,
    AJ_SQL_USER_INSERT,
    AJ_SQL_USER_SET_PASSWORD,
    AJ_SQL_USER_SET_CLAIMS,
    AJ_SQL_USER_SET_VALID_AFTER,
    AJ_SQL_USER_DELETE,
    AJ_SQL_USER_LIST,
    AJ_SQL_USERS_REVOKED_SINCE,
    AJ_SQL_REVOKE_ADD,
    AJ_SQL_REVOKE_SINCE,
    AJ_SQL_REVOKE_PRUNE,
    AJ_SQL_REVOKE_GET,
    AJ_SQL_REVOKE_PAGE_FIRST,
    AJ_SQL_REVOKE_PAGE_NEXT,
    AJ_SQL_BCRYPT_PREFIXES,
    AJ_SQL_REFRESH_FAMILY_ADD,
    AJ_SQL_REFRESH_FAMILY_GET,
    AJ_SQL_REFRESH_ISSUE,
    AJ_SQL_REFRESH_CONSUME,
    AJ_SQL_REFRESH_GET,
    AJ_SQL_REFRESH_REVOKE_FAMILY,
    AJ_SQL_REFRESH_USE_FAMILY,
    AJ_SQL_REFRESH_SID_FAMILY,
    AJ_SQL_REFRESH_REVOKE_USER,
    AJ_SQL_REFRESH_USE_USER,
    AJ_SQL_REFRESH_SID_USER,
    AJ_SQL_REFRESH_REVOKED_OF_USER,
    AJ_SQL_REFRESH_PRUNE_TOKENS,
    AJ_SQL_REFRESH_PRUNE_FAMILIES,
    AJ_SQL_COUNT
} aj_sql_e;

/* The driver's message of the last failed statement, kept: a follow-up
 * look-up (aj_store_user_add) would otherwise reset it to "not an error". */
#define AJ_STORE_ERROR_MAX 256

struct aj_store_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_pool_t *pool; /* the store's: statements prepared again live here */
    int is_sqlite3;   /* the driver is sqlite3 */
    int reconnect;    /* reset a dropped connection and retry (not sqlite3) */
    /* sqlite3: PRAGMA schema_version read before the statements were last
     * prepared (or prepared again); see aj_store_reprepared */
    apr_int64_t schema_version;
    int revoke_page_rows; /* rows per page of the full load (aj_store_revoke.c) */
    apr_dbd_prepared_t *stmt[AJ_SQL_COUNT];
    char last_error[AJ_STORE_ERROR_MAX];
};

/* The rows per page of a full revocation load: bounds the memory of one
 * page (apr_dbd holds a whole result in memory) while keeping the number of
 * statements small (100 for a million rows). */
#define AJ_STORE_REVOKE_PAGE_ROWS 10000

/* Creates the schema if missing and upgrades one made by an earlier
 * version, on this connection (aj_store_schema.c).  APR_EGENERAL on a
 * failure; the caller retries (connections racing on an empty database). */
apr_status_t aj_store_schema_create(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                    apr_pool_t *p);

/* SQLite: the schema's version (PRAGMA schema_version), which every change
 * of the schema by any connection increases (aj_store_schema.c). */
apr_status_t aj_store_schema_version(apr_int64_t *version, const apr_dbd_driver_t *driver,
                                     apr_dbd_t *handle, apr_pool_t *p);

/* Runs a prepared statement that returns rows (random access: the driver
 * reports a failed query); 0 or the driver's error, noted for
 * aj_store_error. */
int aj_store_select(aj_store_t *st, apr_pool_t *p, apr_dbd_results_t **res, aj_sql_e which,
                    int nargs, const char **args);

/* Runs a prepared statement that changes rows; *retried tells whether it
 * ran twice after a reconnect (the first attempt may have committed before
 * its connection dropped).  A run again after a re-prepare does not count:
 * the first attempt wrote nothing (aj_store.c). */
int aj_store_exec(aj_store_t *st, apr_pool_t *p, int *nrows, int *retried, aj_sql_e which,
                  int nargs, const char **args);

/* Column col of row as an integer (0 when NULL) or as a copy in p (dflt
 * when NULL). */
apr_int64_t aj_store_col_int(const apr_dbd_driver_t *driver, apr_dbd_row_t *row, int col);
const char *aj_store_col_str(const apr_dbd_driver_t *driver, apr_dbd_row_t *row, int col,
                             apr_pool_t *p, const char *dflt);

/* An integer as the text a statement parameter is bound with. */
const char *aj_store_i64(apr_pool_t *p, apr_int64_t v);

#endif /* AJ_STORE_INT_H */

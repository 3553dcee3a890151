/*
 * store.c — a real SQLite database file for store tests (see store.h).
 */
#include "aj_test.h"
#include "store.h"
#include "tmp.h"

#define AJ_TEST_DB_FILE "store.db"

static apr_status_t aj_test_db_cleanup(void *data)
{
    aj_test_db_t *db = data;

    if (db->handle) {
        (void)apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    return APR_SUCCESS;
}

const char *aj_test_db_path(apr_pool_t *p)
{
    return aj_test_tmp_path(p, aj_test_tmp_dir(p), AJ_TEST_DB_FILE);
}

aj_test_db_t *aj_test_db_open(apr_pool_t *p, const char *path)
{
    aj_test_db_t *db = apr_pcalloc(p, sizeof(*db));
    const char *err = NULL;

    assert_int_equal(apr_dbd_init(p), APR_SUCCESS);
    assert_int_equal(apr_dbd_get_driver(p, AJ_STORE_SQLITE_DRIVER, &db->driver), APR_SUCCESS);
    if (apr_dbd_open_ex(db->driver, p, path, &db->handle, &err) != APR_SUCCESS) {
        fail_msg("opening %s: %s", path, err ? err : "?");
    }
    db->path = path;
    /* registered after the directory's clean-up, so it runs before it */
    apr_pool_cleanup_register(p, db, aj_test_db_cleanup, apr_pool_cleanup_null);
    return db;
}

void aj_test_db_close(aj_test_db_t *db, apr_pool_t *p)
{
    apr_pool_cleanup_run(p, db, aj_test_db_cleanup);
}

void aj_test_db_exec(const aj_test_db_t *db, const char *sql)
{
    int nrows = 0;

    if (apr_dbd_query(db->driver, db->handle, &nrows, sql) != 0) {
        fail_msg("SQL failed: %s: %s", sql, apr_dbd_error(db->driver, db->handle, 1));
    }
}

const char *aj_test_db_value(const aj_test_db_t *db, apr_pool_t *p, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    assert_int_equal(apr_dbd_select(db->driver, p, db->handle, &res, sql, 1), 0);
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        if (!v) {
            const char *e = apr_dbd_get_entry(db->driver, row, 0);
            v = apr_pstrdup(p, e ? e : "");
        }
    }
    return v;
}

const char *aj_test_db_plan(const aj_test_db_t *db, apr_pool_t *p, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *out = "";

    assert_int_equal(apr_dbd_select(db->driver, p, db->handle, &res,
                                    apr_pstrcat(p, "EXPLAIN QUERY PLAN ", sql, NULL), 1),
                     0);
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        out = apr_pstrcat(p, out, apr_dbd_get_entry(db->driver, row, 3), "\n", NULL);
    }
    return out;
}

aj_store_t *aj_test_store_open(const aj_test_db_t *db, apr_pool_t *p)
{
    aj_store_t *st = NULL;
    const char *err = NULL;

    if (aj_store_open(&st, &err, p, db->driver, db->handle) != APR_SUCCESS) {
        fail_msg("aj_store_open: %s", err ? err : "?");
    }
    return st;
}

aj_store_t *aj_test_store_fresh(aj_test_db_t **db, apr_pool_t *p)
{
    *db = aj_test_db_open(p, aj_test_db_path(p));
    return aj_test_store_open(*db, p);
}

apr_int64_t aj_test_user_add(aj_store_t *st, apr_pool_t *p, const char *name, const char *hash,
                             apr_int64_t now)
{
    apr_int64_t id = 0;

    assert_int_equal(aj_store_user_add(&id, p, st, name, hash, "{}", now), APR_SUCCESS);
    assert_true(id > 0);
    return id;
}

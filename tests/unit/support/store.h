/*
 * store.h — unit-test fixture: a real SQLite database file for the store.
 *
 *     aj_test_db_t *db = aj_test_db_open(p, aj_test_db_path(p)); // new file, temp dir
 *     aj_store_t *st = aj_test_store_open(db, p);   // schema made, statements prepared
 *     ... aj_test_db_exec(db, "UPDATE ...") to reach under the store ...
 *
 * The connection is closed and the directory removed when p goes (the
 * per-test pool), so a failing test cleans up too; aj_test_db_close closes
 * it earlier, e.g. before a second connection upgrades the file.
 */
#ifndef AJ_TEST_SUPPORT_STORE_H
#define AJ_TEST_SUPPORT_STORE_H

#include <apr_dbd.h>

#include "aj_store.h"

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle; /* NULL once closed */
    const char *path;
} aj_test_db_t;

/* A path for a new database file in a fresh temporary directory (the file
 * itself does not exist yet: SQLite creates it). */
const char *aj_test_db_path(apr_pool_t *p);

/* Opens the SQLite database at path (created when missing) through
 * apr_dbd's sqlite3 driver; closed when p is cleared.  The fixture lives in
 * p, not on the test's stack, because a failed assertion leaves the test
 * function before the pool's clean-up runs. */
aj_test_db_t *aj_test_db_open(apr_pool_t *p, const char *path);

/* Closes the connection now (idempotent). */
void aj_test_db_close(aj_test_db_t *db, apr_pool_t *p);

/* Runs one SQL statement that returns no rows; fails the test on error. */
void aj_test_db_exec(const aj_test_db_t *db, const char *sql);

/* The first column of the first row of sql ("" for NULL), or NULL when
 * there is no row.  Every row is read (apr_dbd requires it). */
const char *aj_test_db_value(const aj_test_db_t *db, apr_pool_t *p, const char *sql);

/* The plan SQLite chooses for sql (EXPLAIN QUERY PLAN), one detail line
 * per step. */
const char *aj_test_db_plan(const aj_test_db_t *db, apr_pool_t *p, const char *sql);

/* aj_store_open on db; fails the test, with the store's message, on error. */
aj_store_t *aj_test_store_open(const aj_test_db_t *db, apr_pool_t *p);

/* A store on a new database file (schema made); *db is its connection. */
aj_store_t *aj_test_store_fresh(aj_test_db_t **db, apr_pool_t *p);

/* Adds a user with no claims and returns its id; fails the test when the
 * store refuses. */
apr_int64_t aj_test_user_add(aj_store_t *st, apr_pool_t *p, const char *name, const char *hash,
                             apr_int64_t now);

#endif /* AJ_TEST_SUPPORT_STORE_H */

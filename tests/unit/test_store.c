/*
 * test_store.c — the store (aj_store.c) over apr_dbd's sqlite3 driver, on a
 * temporary file: schema creation, the upgrade of a database made by an
 * earlier version, users.changed_at and the poll that reports it, and
 * revocations inserted by an operator with the documented columns only.
 */
#include "aj_test.h"
#include "aj_store.h"

#include <apr_dbd.h>
#include <apr_file_io.h>

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *path;
} db_t;

/* A fresh, empty database file in the temporary directory. */
static void db_open_file(db_t *db, apr_pool_t *p, const char *path)
{
    const char *err = NULL;

    assert_int_equal(apr_dbd_init(p), APR_SUCCESS);
    assert_int_equal(apr_dbd_get_driver(p, "sqlite3", &db->driver), APR_SUCCESS);
    assert_int_equal(apr_dbd_open_ex(db->driver, p, path, &db->handle, &err), APR_SUCCESS);
    db->path = path;
}

static const char *temp_db_path(apr_pool_t *p)
{
    const char *dir = NULL;
    char *tmpl;
    apr_file_t *f = NULL;

    assert_int_equal(apr_temp_dir_get(&dir, p), APR_SUCCESS);
    tmpl = apr_pstrcat(p, dir, "/aj_test_store_XXXXXX", NULL);
    assert_int_equal(
        apr_file_mktemp(&f, tmpl,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    apr_file_close(f);
    return tmpl;
}

static void db_remove(const db_t *db, apr_pool_t *p)
{
    apr_dbd_close(db->driver, db->handle);
    apr_file_remove(db->path, p);
    apr_file_remove(apr_pstrcat(p, db->path, "-wal", NULL), p);
    apr_file_remove(apr_pstrcat(p, db->path, "-shm", NULL), p);
}

static void db_exec(const db_t *db, const char *sql)
{
    int nrows = 0;

    if (apr_dbd_query(db->driver, db->handle, &nrows, sql) != 0) {
        fail_msg("SQL failed: %s: %s", sql, apr_dbd_error(db->driver, db->handle, 1));
    }
}

/* The first column of the first row of sql, or NULL when no row. */
static const char *db_value(const db_t *db, apr_pool_t *p, const char *sql)
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

static aj_store_t *store_open(const db_t *db, apr_pool_t *p)
{
    aj_store_t *st = NULL;
    const char *err = NULL;

    if (aj_store_open(&st, &err, p, db->driver, db->handle) != APR_SUCCESS) {
        fail_msg("aj_store_open: %s", err ? err : "?");
    }
    return st;
}

/* ---- the poll ----------------------------------------------------------- */

#define POLL_MAX 8
typedef struct {
    int n;
    apr_int64_t id[POLL_MAX], valid_after[POLL_MAX], changed_at[POLL_MAX];
} poll_t;

static void poll_one(void *baton, apr_int64_t id, apr_int64_t valid_after, apr_int64_t changed_at)
{
    poll_t *pl = baton;

    assert_true(pl->n < POLL_MAX);
    pl->id[pl->n] = id;
    pl->valid_after[pl->n] = valid_after;
    pl->changed_at[pl->n] = changed_at;
    ++pl->n;
}

static poll_t poll_users(aj_store_t *st, apr_pool_t *p, apr_int64_t since)
{
    poll_t pl;

    memset(&pl, 0, sizeof(pl));
    assert_int_equal(aj_store_users_revoked_since(st, p, since, poll_one, &pl), APR_SUCCESS);
    return pl;
}

static void test_changed_at(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    db_t db;
    aj_store_t *st;
    aj_user_t *u = NULL;
    apr_int64_t id = 0, other = 0;
    poll_t pl;

    db_open_file(&db, p, temp_db_path(p));
    st = store_open(&db, p);
    assert_int_equal(aj_store_user_add(&id, p, st, "alice", "$2y$04$x", "{}", 100), APR_SUCCESS);
    assert_int_equal(aj_store_user_add(&other, p, st, "bob", "$2y$04$y", "{}", 100), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_int_equal(u->changed_at, 0); /* never changed */
    assert_int_equal(poll_users(st, p, 1).n, 0);

    /* claims: changed_at, not tokens_valid_after */
    assert_int_equal(aj_store_user_set_claims(st, p, id, "{\"role\":\"admin\"}", 1000),
                     APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_int_equal(u->changed_at, 1000);
    assert_string_equal(u->claims_json, "{\"role\":\"admin\"}");
    assert_int_equal(u->tokens_valid_after, 0);
    pl = poll_users(st, p, 1000);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.id[0], id);
    assert_int_equal(pl.valid_after[0], 0);
    assert_int_equal(pl.changed_at[0], 1000);
    assert_int_equal(poll_users(st, p, 1001).n, 0);

    /* password: both */
    assert_int_equal(aj_store_user_set_password(st, p, id, "$2y$04$z", 3001, 3000), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_int_equal(u->changed_at, 3000);
    assert_int_equal(u->tokens_valid_after, 3001);
    pl = poll_users(st, p, 3001); /* by tokens_valid_after */
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.changed_at[0], 3000);
    assert_int_equal(pl.valid_after[0], 3001);

    /* revoke-all alone: reported by tokens_valid_after, changed_at untouched */
    assert_int_equal(aj_store_user_set_valid_after(st, p, other, 5000), APR_SUCCESS);
    pl = poll_users(st, p, 4000);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.id[0], other);
    assert_int_equal(pl.changed_at[0], 0);
    assert_int_equal(poll_users(st, p, 1).n, 2);

    /* a missing user */
    assert_int_equal(aj_store_user_set_claims(st, p, id + 100, "{}", 1), APR_NOTFOUND);
    assert_int_equal(aj_store_user_set_password(st, p, id + 100, "h", 1, 1), APR_NOTFOUND);
    db_remove(&db, p);
}

/* The poll reads the rows that changed through an index for each side of
 * its OR, never the whole table. */
static void test_poll_uses_indexes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *plan = "";
    db_t db;

    db_open_file(&db, p, temp_db_path(p));
    (void)store_open(&db, p);
    db_exec(&db, "ANALYZE");
    assert_int_equal(apr_dbd_select(db.driver, p, db.handle, &res,
                                    "EXPLAIN QUERY PLAN SELECT id, tokens_valid_after, changed_at"
                                    " FROM users WHERE tokens_valid_after >= CAST('5' AS BIGINT)"
                                    " OR changed_at >= CAST('5' AS BIGINT)",
                                    1),
                     0);
    while (apr_dbd_get_row(db.driver, p, res, &row, -1) == 0) {
        plan = apr_pstrcat(p, plan, apr_dbd_get_entry(db.driver, row, 3), "\n", NULL);
    }
    if (!strstr(plan, "users_tokens_valid_after") || !strstr(plan, "users_changed_at")) {
        fail_msg("the poll does not use both indexes:\n%s", plan);
    }
    db_remove(&db, p);
}

/* ---- revocations ---------------------------------------------------------- */

typedef struct {
    int n;
    char jti[64];
    apr_int64_t exp;
} revs_t;

static void rev_one(void *baton, const char *jti, apr_int64_t exp)
{
    revs_t *r = baton;

    ++r->n;
    apr_cpystrn(r->jti, jti, sizeof(r->jti));
    r->exp = exp;
}

/* An operator's row with only (jti, expires_at): accepted, and stamped with
 * the insert time so that a refresh from just before it sees it. */
static void assert_operator_insert_seen(const db_t *db, aj_store_t *st, apr_pool_t *p,
                                        const char *jti)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t exp = now + 3600;
    revs_t r;

    db_exec(db, apr_psprintf(p,
                             "INSERT INTO revoked_tokens (jti, expires_at)"
                             " VALUES ('%s', %" APR_INT64_T_FMT ")",
                             jti, exp));
    memset(&r, 0, sizeof(r));
    assert_int_equal(aj_store_revoked_since(st, p, now - 1, now, rev_one, &r), APR_SUCCESS);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.jti, jti);
    assert_int_equal(r.exp, exp);
}

static void test_operator_revocation(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_int64_t now = apr_time_sec(apr_time_now());
    db_t db;
    aj_store_t *st;
    const char *created;

    db_open_file(&db, p, temp_db_path(p));
    st = store_open(&db, p);
    assert_operator_insert_seen(&db, st, p, "op-jti-1");
    /* and a user inserted with the required columns only */
    db_exec(&db, "INSERT INTO users (username, password_hash) VALUES ('op', '$2y$04$x')");
    created = db_value(&db, p, "SELECT created_at FROM users WHERE username = 'op'");
    assert_non_null(created);
    assert_true(apr_atoi64(created) >= now && apr_atoi64(created) <= now + 5);
    db_remove(&db, p);
}

/* ---- upgrade of a database made by the previous version ------------------ */

static const char *const old_schema[] = {
    "CREATE TABLE users ( id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL, claims TEXT NOT NULL DEFAULT '{}',"
    " tokens_valid_after BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)",
    "CREATE TABLE revoked_tokens ( jti TEXT NOT NULL PRIMARY KEY,"
    " expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL)",
    "CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at)",
    "CREATE INDEX users_tokens_valid_after ON users (tokens_valid_after)",
    "INSERT INTO users (username, password_hash, created_at) VALUES ('old', '$2y$04$o', 7)",
    "INSERT INTO users (username, password_hash, created_at) VALUES ('gone', '$2y$04$g', 8)",
    "DELETE FROM users WHERE username = 'gone'",
    "INSERT INTO revoked_tokens VALUES ('old-jti', 99999999999, 42)",
    NULL};

static void test_upgrade(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *path = temp_db_path(p);
    const char *const *sql;
    db_t db, db2;
    aj_store_t *st;
    aj_user_t *u = NULL;
    apr_int64_t id = 0, exp = 0;
    int nrows = 0;

    db_open_file(&db, p, path);
    for (sql = old_schema; *sql; ++sql) {
        db_exec(&db, *sql);
    }
    /* the old definition refuses an operator's row */
    assert_int_not_equal(apr_dbd_query(db.driver, db.handle, &nrows,
                                       "INSERT INTO revoked_tokens (jti, expires_at)"
                                       " VALUES ('x', 1)"),
                         0);

    st = store_open(&db, p);
    /* the data survived */
    assert_int_equal(aj_store_user_by_name(&u, p, st, "old"), APR_SUCCESS);
    assert_int_equal(u->id, 1);
    assert_int_equal(u->created_at, 7);
    assert_int_equal(u->changed_at, 0);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "old-jti"), APR_SUCCESS);
    assert_int_equal(exp, 99999999999LL);
    assert_string_equal(db_value(&db, p,
                                 "SELECT revoked_at FROM revoked_tokens"
                                 " WHERE jti = 'old-jti'"),
                        "42");
    /* the new columns and indexes are there */
    assert_non_null(db_value(&db, p,
                             "SELECT name FROM sqlite_master WHERE type = 'index'"
                             " AND name = 'revoked_tokens_revoked_at'"));
    assert_non_null(db_value(&db, p,
                             "SELECT name FROM sqlite_master WHERE type = 'index'"
                             " AND name = 'users_changed_at'"));
    assert_null(db_value(&db, p,
                         "SELECT name FROM sqlite_master"
                         " WHERE name = 'revoked_tokens_aj_upgrade'"));
    assert_operator_insert_seen(&db, st, p, "op-jti-2");
    assert_int_equal(aj_store_user_set_claims(st, p, u->id, "{}", 1234), APR_SUCCESS);
    assert_int_equal(poll_users(st, p, 1234).n, 1);
    /* ids are never reused: the AUTOINCREMENT sequence was kept */
    assert_int_equal(aj_store_user_add(&id, p, st, "new", "$2y$04$n", "{}", 9), APR_SUCCESS);
    assert_int_equal(id, 3);

    /* a second connection (another child) finds nothing left to do, and
     * opening again is harmless */
    db_open_file(&db2, p, path);
    (void)store_open(&db2, p);
    (void)store_open(&db2, p);
    assert_string_equal(db_value(&db2, p, "SELECT count(*) FROM revoked_tokens"), "2");
    apr_dbd_close(db2.driver, db2.handle);
    db_remove(&db, p);
}

/* Store descriptions for log lines name the database and never a password
 * (docs/reference.md §13). */
static void test_describe(void **state)
{
    static const struct {
        const char *driver, *params, *want;
    } cases[] = {
        { "sqlite3", "/var/lib/auth/users.db", "sqlite3 database /var/lib/auth/users.db" },
        { "pgsql", "host=db dbname=auth user=web password=s3cret",
          "pgsql connection 'host=db dbname=auth user=web'" },
        { "pgsql", "password = 's3 \\' cret' host=db",
          "pgsql connection (parameters not shown)" },
        { "pgsql", "password=se\\ cret=1 host=db", "pgsql connection (parameters not shown)" },
        { "pgsql", "host=db PassWord=x", "pgsql connection 'host=db'" },
        { "mysql", "host=db,user=web,pass=s3cret,dbname=auth",
          "mysql connection 'host=db user=web dbname=auth'" },
        { "pgsql", "postgresql://web:s3cret@db:5432/auth?sslmode=require&password=x",
          "pgsql connection 'postgresql://web@db:5432/auth?sslmode=require'" },
        { "pgsql", "postgresql://web@db/auth", "pgsql connection 'postgresql://web@db/auth'" },
        { "pgsql", "postgresql://db/auth?password=x", "pgsql connection 'postgresql://db/auth'" },
        { "pgsql", "host=db password='unterminated",
          "pgsql connection (parameters not shown)" },
        { "pgsql", "s3cret", "pgsql connection (parameters not shown)" },
        { NULL, "x", "the store" },
    };
    apr_pool_t *p = NULL;
    apr_size_t i;

    (void)state;
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *got = aj_store_describe(p, cases[i].driver, cases[i].params);
        if (strcmp(got, cases[i].want) || strstr(got, "s3cret")) {
            fail_msg("[%s] gave [%s], want [%s]", cases[i].params, got, cases[i].want);
        }
    }
    apr_pool_destroy(p);
}

static void test_permission_errors(void **state)
{
    (void)state;
    assert_true(aj_store_error_is_permission("unable to open database file", APR_EGENERAL));
    assert_true(aj_store_error_is_permission("attempt to write a readonly database", 8));
    assert_true(aj_store_error_is_permission(NULL, APR_FROM_OS_ERROR(EACCES)));
    assert_false(aj_store_error_is_permission("database is locked", APR_EGENERAL));
    assert_false(aj_store_error_is_permission("file is not a database", APR_EGENERAL));
    assert_false(aj_store_error_is_permission(NULL, APR_SUCCESS));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_changed_at),
    AJ_TEST(test_poll_uses_indexes),
    AJ_TEST(test_operator_revocation),
    AJ_TEST(test_upgrade),
    AJ_TEST(test_describe),
    AJ_TEST(test_permission_errors),
};

AJ_TEST_MAIN("aj_store", tests)

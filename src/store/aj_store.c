/*
 * aj_store.c — users over apr_dbd prepared statements (docs/reference.md §6).
 *
 * One set of DML for sqlite3 and pgsql.  What the pgsql driver needs
 * (apr-util's dbd/apr_dbd_pgsql.c):
 *  - Statements are prepared without a label, so the driver sends each one
 *    with PQexecParams and no parameter types: PostgreSQL infers them (text
 *    for `col = %s` and the INSERT ... SELECT list, bigint for
 *    CAST(%s AS BIGINT)).  Nothing lives in the server session, so a
 *    connection that libpq resets (PQreset) needs nothing prepared again.
 *  - Rows are read in random-access mode (apr_dbd_pselect, random = 1):
 *    the driver then checks the result status.  In sequential mode it
 *    sends the query asynchronously, and a failed query (the server went
 *    away, a missing table) reads as "no rows" -- a login would answer 401
 *    instead of 503 and a revocation refresh would see nothing new -- and
 *    every empty result costs a 100 ms sleep in the driver.
 *  - A server that went away (restart, failover, idle timeout) fails the
 *    next statement on each pooled connection; mod_dbd would reset the
 *    connection only when it next hands it out, after this request had
 *    failed.  The store resets it at once (apr_dbd_check_conn: PQreset)
 *    and runs the statement once more, so a database that is back is used
 *    at once.
 *  - Connections meeting an empty database race to create the schema
 *    (CREATE TABLE IF NOT EXISTS is not atomic in PostgreSQL: the loser
 *    fails on pg_type's unique index); the DDL runs in one transaction
 *    under an advisory lock, and only when an object is missing.
 *
 * Schema upgrades of databases made by earlier versions run in
 * aj_store_open, idempotently, on whichever connection sees them first:
 *  - users.changed_at (added): ALTER TABLE ... ADD COLUMN.
 *  - revoked_tokens.revoked_at and users.created_at have DEFAULT "now" in
 *    epoch seconds, so a row an operator inserts with the documented
 *    columns only is valid and, being recent, seen by the periodic
 *    refresh.  pgsql: ALTER COLUMN ... SET DEFAULT.  SQLite cannot change
 *    a column's default: revoked_tokens is rebuilt (create, copy, drop,
 *    rename) in one BEGIN IMMEDIATE transaction.  users is not rebuilt on
 *    SQLite (its AUTOINCREMENT sequence must never go back, and copying it
 *    is not worth the risk): there created_at keeps no default.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "aj_store.h"
#include "aj_password.h"

/* SQLite: how long one statement waits on a writer's lock before SQLITE_BUSY.
 * apr_dbd_sqlite3 then retries a busy step 15 times 100 ms apart, so a
 * statement gives up (and the glue answers 503) after about
 * 16 * (250 + 100) ms = 5.6 s of contention. */
#define AJ_SQLITE_BUSY_TIMEOUT_MS 250
/* Connections that meet on an empty database race to create the schema;
 * the loser sees "schema has changed" and simply runs the DDL again. */
#define AJ_SCHEMA_ATTEMPTS        8
#define AJ_SCHEMA_RETRY_WAIT      apr_time_from_msec(20)
/* pgsql: the advisory lock key that serialises schema creation ("aj_store"). */
#define AJ_PG_SCHEMA_LOCK         "7020366232371900005"

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
    AJ_SQL_BCRYPT_PREFIXES,
    AJ_SQL_COUNT
} aj_sql_e;

#define AJ_USER_COLUMNS \
    "id, username, password_hash, claims, tokens_valid_after, created_at, changed_at"

/* The DML: identical for sqlite3 and pgsql.  apr_dbd turns %s into the
 * driver's placeholder; integers are bound as text and CAST here. */
static const char *const aj_sql_text[AJ_SQL_COUNT] = {
    [AJ_SQL_USER_BY_NAME] =
        "SELECT " AJ_USER_COLUMNS " FROM users WHERE username = %s",
    [AJ_SQL_USER_BY_ID] =
        "SELECT " AJ_USER_COLUMNS " FROM users WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_INSERT] =
        "INSERT INTO users (username, password_hash, claims, tokens_valid_after, created_at)"
        " SELECT %s, %s, %s, 0, CAST(%s AS BIGINT)"
        " WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = %s)",
    [AJ_SQL_USER_SET_PASSWORD] =
        "UPDATE users SET password_hash = %s, tokens_valid_after = CAST(%s AS BIGINT),"
        " changed_at = CAST(%s AS BIGINT) WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_SET_CLAIMS] =
        "UPDATE users SET claims = %s, changed_at = CAST(%s AS BIGINT)"
        " WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_SET_VALID_AFTER] =
        "UPDATE users SET tokens_valid_after = CAST(%s AS BIGINT) WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_DELETE] =
        "DELETE FROM users WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_LIST] =
        "SELECT " AJ_USER_COLUMNS " FROM users ORDER BY id",
    /* Each side of the OR has its own index (users_tokens_valid_after,
     * users_changed_at): SQLite answers it with its OR-by-union plan and
     * PostgreSQL with a BitmapOr, so a poll reads the rows that changed,
     * not the table. */
    [AJ_SQL_USERS_REVOKED_SINCE] =
        "SELECT id, tokens_valid_after, changed_at FROM users"
        " WHERE tokens_valid_after >= CAST(%s AS BIGINT) OR changed_at >= CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_ADD] =
        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
        " SELECT %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT)"
        " WHERE NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = %s)",
    [AJ_SQL_REVOKE_SINCE] =
        "SELECT jti, expires_at FROM revoked_tokens"
        " WHERE revoked_at >= CAST(%s AS BIGINT) AND expires_at > CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_PRUNE] =
        "DELETE FROM revoked_tokens WHERE expires_at <= CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_GET] =
        "SELECT expires_at FROM revoked_tokens WHERE jti = %s",
    /* The distinct "$2y$NN$" prefixes of the stored bcrypt hashes: a few
     * rows, parsed by aj_password_bcrypt_cost() (a malformed hash cannot
     * confuse a string MAX). */
    [AJ_SQL_BCRYPT_PREFIXES] =
        "SELECT DISTINCT substr(password_hash, 1, 7) FROM users"
        " WHERE substr(password_hash, 1, 2) = '$2'",
};

/* The DDL differs only in how each driver spells an auto-increment key and
 * "now in epoch seconds" (the default of the time columns). */
#define AJ_SQLITE_ID  "INTEGER PRIMARY KEY AUTOINCREMENT"
#define AJ_SQLITE_NOW "(CAST(strftime('%s','now') AS INTEGER))"
#define AJ_PG_ID      "BIGSERIAL PRIMARY KEY"
#define AJ_PG_NOW     "(CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))"

#define AJ_DDL_USERS(id_column, now_expr)                                        \
    "CREATE TABLE IF NOT EXISTS users ("                                         \
    " id " id_column ","                                                         \
    " username TEXT NOT NULL UNIQUE,"                                            \
    " password_hash TEXT NOT NULL,"                                              \
    " claims TEXT NOT NULL DEFAULT '{}',"                                        \
    " tokens_valid_after BIGINT NOT NULL DEFAULT 0,"                             \
    " created_at BIGINT NOT NULL DEFAULT " now_expr ","                          \
    " changed_at BIGINT NOT NULL DEFAULT 0)"
#define AJ_DDL_REVOKED_TOKENS(table, now_expr)                                   \
    "CREATE TABLE IF NOT EXISTS " table " ("                                     \
    " jti TEXT NOT NULL PRIMARY KEY,"                                            \
    " expires_at BIGINT NOT NULL,"                                               \
    " revoked_at BIGINT NOT NULL DEFAULT " now_expr ")"
/* users.changed_at, for databases made before it existed; the same text on
 * both drivers (SQLite allows NOT NULL here because of the default). */
#define AJ_DDL_ADD_CHANGED_AT                                                    \
    "ALTER TABLE users ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0"
/* After the tables and their upgrades: an index needs its column. */
#define AJ_DDL_INDEXES                                                           \
    "CREATE INDEX IF NOT EXISTS revoked_tokens_revoked_at ON revoked_tokens (revoked_at)", \
    "CREATE INDEX IF NOT EXISTS users_tokens_valid_after ON users (tokens_valid_after)",   \
    "CREATE INDEX IF NOT EXISTS users_changed_at ON users (changed_at)"

static const char *const aj_ddl_sqlite3_tables[] = {
    AJ_DDL_USERS(AJ_SQLITE_ID, AJ_SQLITE_NOW),
    AJ_DDL_REVOKED_TOKENS("revoked_tokens", AJ_SQLITE_NOW),
    NULL
};

static const char *const aj_ddl_sqlite3_indexes[] = {
    AJ_DDL_INDEXES,
    NULL
};

/* SQLite: revoked_tokens made before revoked_at had a default, rebuilt.
 * Runs inside BEGIN IMMEDIATE; the DROP also drops the old index, which
 * the index step recreates. */
#define AJ_SQLITE_REBUILD_TABLE "revoked_tokens_aj_upgrade"
static const char *const aj_ddl_sqlite3_rebuild_revocations[] = {
    "DROP TABLE IF EXISTS " AJ_SQLITE_REBUILD_TABLE,
    AJ_DDL_REVOKED_TOKENS(AJ_SQLITE_REBUILD_TABLE, AJ_SQLITE_NOW),
    "INSERT INTO " AJ_SQLITE_REBUILD_TABLE " (jti, expires_at, revoked_at)"
    " SELECT jti, expires_at, revoked_at FROM revoked_tokens",
    "DROP TABLE revoked_tokens",
    "ALTER TABLE " AJ_SQLITE_REBUILD_TABLE " RENAME TO revoked_tokens",
    NULL
};

/* SQLite: 1 when table.column has a default, 0 when it has none, a row
 * count of 0 (the column is missing) reads as -2; -1 on error.  The
 * arguments are the constants of this file, never input. */
#define AJ_SQLITE_COLUMN_DEFAULT \
    "SELECT CASE WHEN dflt_value IS NULL THEN 0 ELSE 1 END" \
    " FROM pragma_table_info('%s') WHERE name = '%s'"
#define AJ_COLUMN_MISSING (-2)

/* pgsql: sent as one multi-statement PQexec, which PostgreSQL runs as one
 * transaction, after AJ_PG_SCHEMA_LOCK.  Every statement is idempotent, so
 * the upgrades of an older database are simply part of it. */
static const char *const aj_ddl_pgsql[] = {
    AJ_DDL_USERS(AJ_PG_ID, AJ_PG_NOW),
    AJ_DDL_REVOKED_TOKENS("revoked_tokens", AJ_PG_NOW),
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS changed_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE users ALTER COLUMN created_at SET DEFAULT " AJ_PG_NOW,
    "ALTER TABLE revoked_tokens ALTER COLUMN revoked_at SET DEFAULT " AJ_PG_NOW,
    AJ_DDL_INDEXES,
    NULL
};

/* pgsql: concurrent first uses wait for each other here (the lock ends
 * with the transaction), then find the tables made by the first. */
#define AJ_PG_SCHEMA_LOCK_SQL "SELECT pg_advisory_xact_lock(" AJ_PG_SCHEMA_LOCK ")"
/* pgsql: every object of the schema exists, upgrades included (a catalog
 * look-up; no lock): users_changed_at is made after its column, and both
 * time columns have their default. */
#define AJ_PG_SCHEMA_PRESENT \
    "SELECT CASE WHEN to_regclass('users') IS NOT NULL" \
    " AND to_regclass('revoked_tokens') IS NOT NULL" \
    " AND to_regclass('revoked_tokens_revoked_at') IS NOT NULL" \
    " AND to_regclass('users_tokens_valid_after') IS NOT NULL" \
    " AND to_regclass('users_changed_at') IS NOT NULL" \
    " AND (SELECT count(*) FROM information_schema.columns" \
    "      WHERE table_schema = current_schema() AND column_default IS NOT NULL" \
    "      AND ((table_name = 'users' AND column_name = 'created_at')" \
    "        OR (table_name = 'revoked_tokens' AND column_name = 'revoked_at'))) = 2" \
    " THEN 1 ELSE 0 END"

/* The driver's message of the last failed statement, kept: a follow-up
 * look-up (aj_store_user_add) would otherwise reset it to "not an error". */
#define AJ_STORE_ERROR_MAX 256

struct aj_store_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    int reconnect;      /* reset a dropped connection and retry (not sqlite3) */
    apr_dbd_prepared_t *stmt[AJ_SQL_COUNT];
    char last_error[AJ_STORE_ERROR_MAX];
};

static void aj_store_note_error(aj_store_t *st, int ret)
{
    const char *msg = apr_dbd_error(st->driver, st->handle, ret);

    apr_cpystrn(st->last_error, msg && *msg ? msg : "unknown database error",
                sizeof(st->last_error));
}

/* Runs a statement that returns rows (a PRAGMA), draining them. */
static apr_status_t aj_store_pragma(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                    apr_pool_t *p, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (apr_dbd_select(driver, p, handle, &res, sql, 0) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        /* drain */
    }
    return APR_SUCCESS;
}

/* pgsql: 1 when the whole schema is there, 0 when not, -1 on error. */
static int aj_store_pg_schema_present(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                      apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int present = 0;

    if (apr_dbd_select(driver, p, handle, &res, AJ_PG_SCHEMA_PRESENT, 1) != 0) {
        return -1;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(driver, row, 0);
        present = v && !strcmp(v, "1");
    }
    return present;
}

/* Runs a NULL-terminated list of statements, stopping at the first error. */
static apr_status_t aj_store_run(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                 const char *const *ddl)
{
    int nrows;

    for (; *ddl; ++ddl) {
        if (apr_dbd_query(driver, handle, &nrows, *ddl) != 0) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* SQLite: 1 when table.column has a default, 0 when not, AJ_COLUMN_MISSING
 * when there is no such column, -1 on error. */
static int aj_store_sqlite_column(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                  apr_pool_t *p, const char *table, const char *column)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int state = AJ_COLUMN_MISSING;

    if (apr_dbd_select(driver, p, handle, &res,
                       apr_psprintf(p, AJ_SQLITE_COLUMN_DEFAULT, table, column), 1) != 0) {
        return -1;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(driver, row, 0);
        state = (v && !strcmp(v, "1")) ? 1 : 0;
    }
    return state;
}

/* SQLite: what an older database lacks.  APR_SUCCESS with the two flags,
 * or APR_EGENERAL when the catalog cannot be read. */
static apr_status_t aj_store_sqlite_outdated(int *add_changed_at, int *rebuild_revocations,
                                             const apr_dbd_driver_t *driver,
                                             apr_dbd_t *handle, apr_pool_t *p)
{
    int changed_at = aj_store_sqlite_column(driver, handle, p, "users", "changed_at");
    int revoked_at = aj_store_sqlite_column(driver, handle, p, "revoked_tokens", "revoked_at");

    if (changed_at == -1 || revoked_at == -1 || revoked_at == AJ_COLUMN_MISSING) {
        return APR_EGENERAL;
    }
    *add_changed_at = changed_at == AJ_COLUMN_MISSING;
    *rebuild_revocations = revoked_at == 0;
    return APR_SUCCESS;
}

/* SQLite: upgrades a database made by an earlier version.  The check runs
 * once without a lock (the common case: nothing to do), then again inside
 * BEGIN IMMEDIATE, which holds the write lock from the start: of several
 * connections meeting an old database (httpd children, htjwt), one
 * upgrades and the others, after waiting, find nothing left to do. */
static apr_status_t aj_store_sqlite_upgrade(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                            apr_pool_t *p)
{
    int add_changed_at = 0, rebuild = 0, nrows;
    apr_status_t rv;

    rv = aj_store_sqlite_outdated(&add_changed_at, &rebuild, driver, handle, p);
    if (rv != APR_SUCCESS || (!add_changed_at && !rebuild)) {
        return rv;
    }
    if (apr_dbd_query(driver, handle, &nrows, "BEGIN IMMEDIATE") != 0) {
        return APR_EGENERAL;
    }
    rv = aj_store_sqlite_outdated(&add_changed_at, &rebuild, driver, handle, p);
    if (rv == APR_SUCCESS && add_changed_at
        && apr_dbd_query(driver, handle, &nrows, AJ_DDL_ADD_CHANGED_AT) != 0) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS && rebuild) {
        rv = aj_store_run(driver, handle, aj_ddl_sqlite3_rebuild_revocations);
    }
    if (rv == APR_SUCCESS && apr_dbd_query(driver, handle, &nrows, "COMMIT") != 0) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        (void)apr_dbd_query(driver, handle, &nrows, "ROLLBACK");
    }
    return rv;
}

static apr_status_t aj_store_schema(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                    apr_pool_t *p)
{
    const char *name = apr_dbd_name(driver);
    const char *const *ddl;
    int nrows;

    if (!strcmp(name, "pgsql")) {
        int present = aj_store_pg_schema_present(driver, handle, p);
        const char *sql = AJ_PG_SCHEMA_LOCK_SQL ";";

        if (present < 0) {
            return APR_EGENERAL;
        }
        if (present) {
            return APR_SUCCESS;
        }
        for (ddl = aj_ddl_pgsql; *ddl; ++ddl) {
            sql = apr_pstrcat(p, sql, *ddl, ";", NULL);
        }
        return apr_dbd_query(driver, handle, &nrows, sql) == 0 ? APR_SUCCESS : APR_EGENERAL;
    }

    if (!strcmp(name, "sqlite3")) {
        /* Per connection: wait for a writer instead of failing at once. */
        if (aj_store_pragma(driver, handle, p,
                            apr_psprintf(p, "PRAGMA busy_timeout = %d",
                                         AJ_SQLITE_BUSY_TIMEOUT_MS)) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        /* Persistent in the file; readers then never block the writer. */
        if (aj_store_pragma(driver, handle, p, "PRAGMA journal_mode = WAL") != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (aj_store_run(driver, handle, aj_ddl_sqlite3_tables) != APR_SUCCESS
            || aj_store_sqlite_upgrade(driver, handle, p) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        return aj_store_run(driver, handle, aj_ddl_sqlite3_indexes);
    }
    /* other drivers: the pgsql text statement by statement */
    return aj_store_run(driver, handle, aj_ddl_pgsql);
}

apr_status_t aj_store_open(aj_store_t **st, const char **err, apr_pool_t *p,
                           const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    aj_store_t *s;
    apr_status_t rv;
    int i;

    s = apr_pcalloc(p, sizeof(*s));
    s->driver = driver;
    s->handle = handle;
    s->reconnect = strcmp(apr_dbd_name(driver), "sqlite3") != 0;

    for (i = 0; i < AJ_SCHEMA_ATTEMPTS; ++i) {
        rv = aj_store_schema(driver, handle, p);
        if (rv == APR_SUCCESS) {
            break;
        }
        /* pgsql: a connection the server dropped is reopened (or, when the
         * server is still away, fails at once: no point in waiting) */
        if (s->reconnect && apr_dbd_check_conn(driver, p, handle) != APR_SUCCESS) {
            break;
        }
        apr_sleep(AJ_SCHEMA_RETRY_WAIT);
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "creating the schema failed: %s",
                            apr_dbd_error(driver, handle, rv));
        goto cleanup;
    }
    for (i = 0; i < AJ_SQL_COUNT; ++i) {
        int ret = apr_dbd_prepare(driver, p, handle, aj_sql_text[i], NULL, &s->stmt[i]);
        if (ret != 0) {
            *err = apr_psprintf(p, "preparing statement %d failed: %s", i,
                                apr_dbd_error(driver, handle, ret));
            rv = APR_EGENERAL;
            goto cleanup;
        }
    }
    *st = s;

cleanup:
    return rv;
}

const char *aj_store_error(const aj_store_t *st, int rv)
{
    const char *msg;

    if (st->last_error[0]) {
        return st->last_error;
    }
    msg = apr_dbd_error(st->driver, st->handle, rv);
    return msg && *msg ? msg : "unknown database error";
}

/* After a failed statement: 1 when it is worth running once more, because
 * the connection could be reset (pgsql: a dropped connection is reopened by
 * PQreset; a healthy one is left alone, and re-running a statement that
 * failed on it changes nothing: every statement here is a single
 * autocommitted one, and the inserts skip existing rows). */
static int aj_store_reconnected(aj_store_t *st, apr_pool_t *p)
{
    return st->reconnect && apr_dbd_check_conn(st->driver, p, st->handle) == APR_SUCCESS;
}

/* Runs a prepared statement that returns rows (random access: the driver
 * reports a failed query, see the top of this file). */
static int aj_store_select(aj_store_t *st, apr_pool_t *p, apr_dbd_results_t **res,
                           aj_sql_e which, int nargs, const char **args)
{
    int ret = apr_dbd_pselect(st->driver, p, st->handle, res, st->stmt[which], 1, nargs, args);

    if (ret != 0 && aj_store_reconnected(st, p)) {
        *res = NULL;
        ret = apr_dbd_pselect(st->driver, p, st->handle, res, st->stmt[which], 1, nargs, args);
    }
    if (ret != 0) {
        aj_store_note_error(st, ret);
    }
    return ret;
}

/* Runs a prepared statement that changes rows; *retried tells whether it
 * ran twice (the first attempt may have committed before its connection
 * dropped). */
static int aj_store_exec(aj_store_t *st, apr_pool_t *p, int *nrows, int *retried,
                         aj_sql_e which, int nargs, const char **args)
{
    int ret = apr_dbd_pquery(st->driver, p, st->handle, nrows, st->stmt[which], nargs, args);

    *retried = 0;
    if (ret != 0 && aj_store_reconnected(st, p)) {
        *retried = 1;
        *nrows = 0;
        ret = apr_dbd_pquery(st->driver, p, st->handle, nrows, st->stmt[which], nargs, args);
    }
    if (ret != 0) {
        aj_store_note_error(st, ret);
    }
    return ret;
}

static apr_int64_t aj_store_col_int(const apr_dbd_driver_t *driver, apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(driver, row, col);
    return v ? apr_atoi64(v) : 0;
}

static const char *aj_store_col_str(const apr_dbd_driver_t *driver, apr_dbd_row_t *row,
                                    int col, apr_pool_t *p, const char *dflt)
{
    const char *v = apr_dbd_get_entry(driver, row, col);
    return v ? apr_pstrdup(p, v) : dflt;
}

static void aj_store_read_user(aj_user_t *u, const aj_store_t *st, apr_dbd_row_t *row,
                               apr_pool_t *p)
{
    u->id = aj_store_col_int(st->driver, row, 0);
    u->username = aj_store_col_str(st->driver, row, 1, p, "");
    u->password_hash = aj_store_col_str(st->driver, row, 2, p, "");
    u->claims_json = aj_store_col_str(st->driver, row, 3, p, "{}");
    u->tokens_valid_after = aj_store_col_int(st->driver, row, 4);
    u->created_at = aj_store_col_int(st->driver, row, 5);
    u->changed_at = aj_store_col_int(st->driver, row, 6);
}

/* Runs a one-parameter user SELECT; drains every row. */
static apr_status_t aj_store_user_select(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                         aj_sql_e which, const char *arg)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    aj_user_t *u = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (aj_store_select(st, p, &res, which, 1, &arg) != 0) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!u) {
            u = apr_pcalloc(p, sizeof(*u));
            aj_store_read_user(u, st, row, p);
        }
    }
    if (!u) {
        rv = APR_NOTFOUND;
        goto cleanup;
    }
    *user = u;

cleanup:
    return rv;
}

apr_status_t aj_store_user_by_name(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                   const char *username)
{
    return aj_store_user_select(user, p, st, AJ_SQL_USER_BY_NAME, username);
}

apr_status_t aj_store_user_by_id(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                 apr_int64_t id)
{
    return aj_store_user_select(user, p, st, AJ_SQL_USER_BY_ID,
                                apr_psprintf(p, "%" APR_INT64_T_FMT, id));
}

apr_status_t aj_store_user_add(apr_int64_t *id, apr_pool_t *p, aj_store_t *st,
                               const char *username, const char *password_hash,
                               const char *claims_json, apr_int64_t now)
{
    aj_user_t *u = NULL;
    apr_status_t rv;
    const char *args[5];
    int nrows = 0, retried = 0;
    int ret;

    args[0] = username;
    args[1] = password_hash;
    args[2] = claims_json ? claims_json : "{}";
    args[3] = apr_psprintf(p, "%" APR_INT64_T_FMT, now);
    args[4] = username;
    ret = aj_store_exec(st, p, &nrows, &retried, AJ_SQL_USER_INSERT, 5, args);
    if (ret != 0 || nrows != 1) {
        /* Zero rows: the name exists.  An error: maybe a concurrent insert of
         * the same name hit the UNIQUE constraint (pgsql); tell the two apart
         * by looking.  After a retry the row may be our own first attempt,
         * committed just before its connection dropped: a bcrypt hash is
         * salted, so the same hash means the same insert. */
        rv = aj_store_user_by_name(&u, p, st, username);
        if (rv == APR_SUCCESS && retried && ret == 0
            && !strcmp(u->password_hash, password_hash)) {
            *id = u->id;
            goto cleanup;
        }
        if (rv == APR_SUCCESS) {
            rv = APR_EEXIST;
        }
        else if (rv == APR_NOTFOUND) {
            rv = APR_EGENERAL;
        }
        goto cleanup;
    }
    rv = aj_store_user_by_name(&u, p, st, username);
    if (rv == APR_NOTFOUND) {
        rv = APR_EGENERAL;   /* inserted and gone: deleted concurrently */
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *id = u->id;

cleanup:
    return rv;
}

/* Runs an UPDATE/DELETE that must touch exactly the one row of user id;
 * its arguments are a1 and those of a2..a4 up to the first NULL. */
#define AJ_USER_WRITE_MAX_ARGS 4
static apr_status_t aj_store_user_write(aj_store_t *st, apr_pool_t *p, aj_sql_e which,
                                        const char *a1, const char *a2, const char *a3,
                                        const char *a4)
{
    const char *args[AJ_USER_WRITE_MAX_ARGS];
    int nargs = 0, nrows = 0, retried = 0;

    args[nargs++] = a1;
    if (a2) {
        args[nargs++] = a2;
        if (a3) {
            args[nargs++] = a3;
            if (a4) {
                args[nargs++] = a4;
            }
        }
    }
    if (aj_store_exec(st, p, &nrows, &retried, which, nargs, args) != 0) {
        return APR_EGENERAL;
    }
    return nrows == 1 ? APR_SUCCESS : APR_NOTFOUND;
}

static const char *aj_i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

apr_status_t aj_store_user_set_password(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                        const char *password_hash, apr_int64_t valid_after,
                                        apr_int64_t now)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_PASSWORD, password_hash,
                               aj_i64(p, valid_after), aj_i64(p, now), aj_i64(p, id));
}

apr_status_t aj_store_user_set_claims(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                      const char *claims_json, apr_int64_t now)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_CLAIMS, claims_json, aj_i64(p, now),
                               aj_i64(p, id), NULL);
}

apr_status_t aj_store_user_set_valid_after(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                           apr_int64_t valid_after)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_VALID_AFTER, aj_i64(p, valid_after),
                               aj_i64(p, id), NULL, NULL);
}

apr_status_t aj_store_user_delete(aj_store_t *st, apr_pool_t *p, apr_int64_t id)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_DELETE, aj_i64(p, id), NULL, NULL, NULL);
}

apr_status_t aj_store_user_each(aj_store_t *st, apr_pool_t *p, aj_store_user_fn *fn,
                                void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int stop = 0;

    if (aj_store_select(st, p, &res, AJ_SQL_USER_LIST, 0, NULL) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!stop) {
            aj_user_t u;
            aj_store_read_user(&u, st, row, p);
            stop = fn(baton, &u);
        }
    }
    return APR_SUCCESS;
}

/* ---- revocations -------------------------------------------------------- */

apr_status_t aj_store_revoke_get(apr_int64_t *expires_at, aj_store_t *st, apr_pool_t *p,
                                 const char *jti)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_int64_t exp = 0;
    int found = 0;

    if (aj_store_select(st, p, &res, AJ_SQL_REVOKE_GET, 1, &jti) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!found) {
            exp = aj_store_col_int(st->driver, row, 0);
            found = 1;
        }
    }
    if (!found) {
        return APR_NOTFOUND;
    }
    *expires_at = exp;
    return APR_SUCCESS;
}

apr_status_t aj_store_revoke_add(aj_store_t *st, apr_pool_t *p, const char *jti,
                                 apr_int64_t expires_at, apr_int64_t now)
{
    apr_int64_t known = 0;
    const char *args[4];
    int nrows = 0, retried = 0;

    args[0] = jti;
    args[1] = aj_i64(p, expires_at);
    args[2] = aj_i64(p, now);
    args[3] = jti;
    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REVOKE_ADD, 4, args) != 0) {
        /* A concurrent logout of the same token may have hit the key first. */
        return aj_store_revoke_get(&known, st, p, jti) == APR_SUCCESS ? APR_SUCCESS
                                                                       : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t aj_store_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                    apr_int64_t now, aj_store_revoked_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = aj_i64(p, since);
    args[1] = aj_i64(p, now);
    if (aj_store_select(st, p, &res, AJ_SQL_REVOKE_SINCE, 2, args) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        const char *jti = apr_dbd_get_entry(st->driver, row, 0);
        if (jti) {
            fn(baton, jti, aj_store_col_int(st->driver, row, 1));
        }
    }
    return APR_SUCCESS;
}

apr_status_t aj_store_users_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                          aj_store_valid_after_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = aj_i64(p, since);
    args[1] = args[0];
    if (aj_store_select(st, p, &res, AJ_SQL_USERS_REVOKED_SINCE, 2, args) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        fn(baton, aj_store_col_int(st->driver, row, 0), aj_store_col_int(st->driver, row, 1),
           aj_store_col_int(st->driver, row, 2));
    }
    return APR_SUCCESS;
}

apr_status_t aj_store_revoke_prune(int *pruned, aj_store_t *st, apr_pool_t *p, apr_int64_t now)
{
    const char *now_s = aj_i64(p, now);
    int nrows = 0, retried = 0;

    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REVOKE_PRUNE, 1, &now_s) != 0) {
        return APR_EGENERAL;
    }
    *pruned = nrows;
    return APR_SUCCESS;
}

/* ---- password hashes ------------------------------------------------------ */

apr_status_t aj_store_max_bcrypt_cost(int *cost, aj_store_t *st, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int max = 0, c;

    if (aj_store_select(st, p, &res, AJ_SQL_BCRYPT_PREFIXES, 0, NULL) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        c = aj_password_bcrypt_cost(apr_dbd_get_entry(st->driver, row, 0));
        if (c > max) {
            max = c;
        }
    }
    *cost = max;
    return APR_SUCCESS;
}

/* ---- what a log line may say about a store -------------------------------- */

/* Words of SQLite's and the OS's messages for an access the OS refused
 * (sqlite3_errstr: SQLITE_CANTOPEN, SQLITE_READONLY; strerror(EACCES)). */
static const char *const aj_store_permission_words[] = {
    "unable to open database file",
    "readonly database",
    "Permission denied",
};

int aj_store_error_is_permission(const char *msg, apr_status_t rv)
{
    apr_size_t i;

    if (APR_STATUS_IS_EACCES(rv) || rv == APR_FROM_OS_ERROR(EPERM)) {
        return 1;
    }
    for (i = 0; msg && i < sizeof(aj_store_permission_words) / sizeof(*aj_store_permission_words);
         ++i) {
        if (strstr(msg, aj_store_permission_words[i])) {
            return 1;
        }
    }
    return 0;
}

/* A key=value key that names a secret (password=, pass=, passwd=). */
static int aj_store_key_is_secret(const char *key, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i + 4 <= len; ++i) {
        if (apr_tolower(key[i]) == 'p' && apr_tolower(key[i + 1]) == 'a'
            && apr_tolower(key[i + 2]) == 's' && apr_tolower(key[i + 3]) == 's') {
            return 1;
        }
    }
    return 0;
}

/* The key=value form (libpq's conninfo; apr_dbd_mysql's list, which may
 * separate pairs by ',' or ';'): the pairs without the secret ones, joined
 * by spaces; NULL when it does not parse (an unterminated quote, no '='). */
static const char *aj_store_redact_pairs(apr_pool_t *p, const char *s)
{
    const char *out = NULL, *key, *key_end, *val;
    apr_size_t klen;

    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ',' || *s == ';') {
            ++s;
        }
        if (!*s) {
            return out ? out : "";
        }
        key = s;
        while (*s && *s != '=' && *s != ' ' && *s != '\t') {
            ++s;
        }
        key_end = s;
        while (*s == ' ' || *s == '\t') {
            ++s;
        }
        if (*s != '=' || key_end == key) {
            return NULL;
        }
        ++s;
        while (*s == ' ' || *s == '\t') {
            ++s;
        }
        val = s;
        if (*s == '\'') {
            for (++s; *s && *s != '\''; ++s) {
                if (*s == '\\' && s[1]) {
                    ++s;
                }
            }
            if (*s != '\'') {
                return NULL;
            }
            ++s;
        }
        else {
            while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ','
                   && *s != ';') {
                ++s;
            }
        }
        klen = (apr_size_t)(key_end - key);
        if (!aj_store_key_is_secret(key, klen)) {
            const char *pair = apr_pstrcat(p, apr_pstrmemdup(p, key, klen), "=",
                                           apr_pstrmemdup(p, val, (apr_size_t)(s - val)), NULL);
            out = out ? apr_pstrcat(p, out, " ", pair, NULL) : pair;
        }
    }
}

/* The URI form (postgresql://user:secret@host/db?password=x&...): without
 * the userinfo's password and without password query parameters. */
static const char *aj_store_redact_uri(apr_pool_t *p, const char *s, const char *authority)
{
    const char *at, *colon, *end = authority + strcspn(authority, "/?#");
    const char *query, *out, *param, *next, *sep = "?";

    out = apr_pstrmemdup(p, s, (apr_size_t)(authority - s));
    at = memchr(authority, '@', (apr_size_t)(end - authority));
    if (at) {
        colon = memchr(authority, ':', (apr_size_t)(at - authority));
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, authority, (apr_size_t)
                                                 ((colon ? colon : at) - authority)),
                          NULL);
        authority = at;
    }
    query = strchr(end, '?');
    if (!query) {
        return apr_pstrcat(p, out, authority, NULL);
    }
    out = apr_pstrcat(p, out, apr_pstrmemdup(p, authority, (apr_size_t)(query - authority)),
                      NULL);
    for (param = query + 1; *param && *param != '#'; param = next) {
        apr_size_t len = strcspn(param, "&#");
        next = param + len + (param[len] == '&');
        if (!aj_store_key_is_secret(param, strcspn(param, "=&#"))) {
            out = apr_pstrcat(p, out, sep, apr_pstrmemdup(p, param, len), NULL);
            sep = "&";
        }
    }
    return out;             /* a #fragment means nothing to a database */
}

const char *aj_store_describe(apr_pool_t *p, const char *driver, const char *params)
{
    const char *scheme_end, *shown;

    if (!driver || !params) {
        return "the store";
    }
    if (!strcmp(driver, AJ_STORE_SQLITE_DRIVER)) {
        return apr_pstrcat(p, driver, " database ", params, NULL);
    }
    /* libpq reads backslash escapes in values ("password=se\\ cret"):
     * rather than follow them, show nothing of such parameters */
    scheme_end = strstr(params, "://");
    shown = strchr(params, '\\') ? NULL
            : scheme_end ? aj_store_redact_uri(p, params, scheme_end + 3)
                         : aj_store_redact_pairs(p, params);
    return shown ? apr_psprintf(p, "%s connection '%s'", driver, shown)
                 : apr_pstrcat(p, driver, " connection (parameters not shown)", NULL);
}

/*
 * aj_store_schema.c — creating the store's schema and upgrading one made by
 * an earlier version (docs/reference.md §6), on the connection
 * aj_store_open is given.
 *
 * Connections meeting an empty database race to create the schema
 * (CREATE TABLE IF NOT EXISTS is not atomic in PostgreSQL: the loser
 * fails on pg_type's unique index); the DDL runs in one transaction
 * under an advisory lock, and only when an object is missing.
 *
 * Schema upgrades of databases made by earlier versions run in
 * aj_store_open, idempotently, on whichever connection sees them first:
 *  - users.changed_at (added): ALTER TABLE ... ADD COLUMN.
 *  - refresh_families and refresh_tokens (added), with their indexes: made
 *    by the CREATE ... IF NOT EXISTS that make an empty database.
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

#include <apr_strings.h>

#include "aj_store_int.h"

/* SQLite: how long one statement waits on a writer's lock before SQLITE_BUSY.
 * apr_dbd_sqlite3 then retries a busy step 15 times 100 ms apart, so a
 * statement gives up (and the glue answers 503) after about
 * 16 * (250 + 100) ms = 5.6 s of contention. */
#define AJ_SQLITE_BUSY_TIMEOUT_MS 250
/* pgsql: the advisory lock key that serialises schema creation ("aj_store"). */
#define AJ_PG_SCHEMA_LOCK         "7020366232371900005"

/* The DDL differs only in how each driver spells an auto-increment key and
 * "now in epoch seconds" (the default of the time columns). */
#define AJ_SQLITE_ID  "INTEGER PRIMARY KEY AUTOINCREMENT"
#define AJ_SQLITE_NOW "(CAST(strftime('%s','now') AS INTEGER))"
#define AJ_PG_ID      "BIGSERIAL PRIMARY KEY"
#define AJ_PG_NOW     "(CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))"

#define AJ_DDL_USERS(id_column, now_expr) \
    "CREATE TABLE IF NOT EXISTS users (" \
    " id " id_column "," \
    " username TEXT NOT NULL UNIQUE," \
    " password_hash TEXT NOT NULL," \
    " claims TEXT NOT NULL DEFAULT '{}'," \
    " tokens_valid_after BIGINT NOT NULL DEFAULT 0," \
    " created_at BIGINT NOT NULL DEFAULT " now_expr "," \
    " changed_at BIGINT NOT NULL DEFAULT 0)"
#define AJ_DDL_REVOKED_TOKENS(table, now_expr) \
    "CREATE TABLE IF NOT EXISTS " table " (" \
    " jti TEXT NOT NULL PRIMARY KEY," \
    " expires_at BIGINT NOT NULL," \
    " revoked_at BIGINT NOT NULL DEFAULT " now_expr ")"
/* Refresh tokens (docs/reference.md §12), by the SHA-256 of the token only.
 * A family is what one password login started: every token rotated from
 * it, and every access token minted from them (their `sid` claim).  Its own
 * table holds what all its tokens share: one row decides a revocation
 * (revoked_at, checked by the same statement that consumes a token, so a
 * consume racing a logout cannot slip between the writes of a revocation),
 * and auth_time (Require jwt-fresh) and the family's end (the login +
 * AuthJWTMaxSessionAge, a hard cap on every token of it) survive any number
 * of rotations.  used_at and revoked_at are NULL while
 * unused / live.  No FOREIGN KEY: SQLite enforces one only under PRAGMA
 * foreign_keys, and the two drivers must behave alike; the store writes a
 * family before its tokens and prunes tokens before their family.  Added to
 * an older database by CREATE TABLE IF NOT EXISTS, like any missing table. */
#define AJ_DDL_REFRESH_FAMILIES \
    "CREATE TABLE IF NOT EXISTS refresh_families (" \
    " family TEXT NOT NULL PRIMARY KEY," \
    " user_id BIGINT NOT NULL," \
    " auth_time BIGINT NOT NULL," \
    " expires_at BIGINT NOT NULL," \
    " revoked_at BIGINT)"
#define AJ_DDL_REFRESH_TOKENS \
    "CREATE TABLE IF NOT EXISTS refresh_tokens (" \
    " hash TEXT NOT NULL PRIMARY KEY," \
    " family TEXT NOT NULL," \
    " user_id BIGINT NOT NULL," \
    " expires_at BIGINT NOT NULL," \
    " used_at BIGINT)"
/* users.changed_at, for databases made before it existed; the same text on
 * both drivers (SQLite allows NOT NULL here because of the default). */
#define AJ_DDL_ADD_CHANGED_AT "ALTER TABLE users ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0"
/* Revoking a family or all of a user's (tokens and families by family and
 * by user) and pruning (by expires_at). */
#define AJ_DDL_REFRESH_INDEXES \
    "CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family)", \
        "CREATE INDEX IF NOT EXISTS refresh_tokens_user_id ON refresh_tokens (user_id)", \
        "CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at)", \
        "CREATE INDEX IF NOT EXISTS refresh_families_user_id ON refresh_families (user_id)", \
        "CREATE INDEX IF NOT EXISTS refresh_families_expires_at ON refresh_families (expires_at)"
/* After the tables and their upgrades: an index needs its column.  The
 * polls read by revoked_at; the prune deletes by expires_at (without that
 * index it reads the whole table: 105 ms at 1,000,000 rows on PostgreSQL,
 * bench/scale pgsql). */
#define AJ_DDL_INDEXES \
    "CREATE INDEX IF NOT EXISTS revoked_tokens_revoked_at ON revoked_tokens (revoked_at)", \
        "CREATE INDEX IF NOT EXISTS revoked_tokens_expires_at ON revoked_tokens (expires_at)", \
        "CREATE INDEX IF NOT EXISTS users_tokens_valid_after ON users (tokens_valid_after)", \
        "CREATE INDEX IF NOT EXISTS users_changed_at ON users (changed_at)", \
        AJ_DDL_REFRESH_INDEXES

static const char *const aj_ddl_sqlite3_tables[] = {
    AJ_DDL_USERS(AJ_SQLITE_ID, AJ_SQLITE_NOW),
    AJ_DDL_REVOKED_TOKENS("revoked_tokens", AJ_SQLITE_NOW),
    AJ_DDL_REFRESH_FAMILIES,
    AJ_DDL_REFRESH_TOKENS,
    NULL,
};

static const char *const aj_ddl_sqlite3_indexes[] = { AJ_DDL_INDEXES, NULL };

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
    AJ_DDL_REFRESH_FAMILIES,
    AJ_DDL_REFRESH_TOKENS,
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
    " AND to_regclass('revoked_tokens_expires_at') IS NOT NULL" \
    " AND to_regclass('users_tokens_valid_after') IS NOT NULL" \
    " AND to_regclass('users_changed_at') IS NOT NULL" \
    " AND to_regclass('refresh_families') IS NOT NULL" \
    " AND to_regclass('refresh_tokens') IS NOT NULL" \
    " AND to_regclass('refresh_tokens_family') IS NOT NULL" \
    " AND to_regclass('refresh_tokens_user_id') IS NOT NULL" \
    " AND to_regclass('refresh_tokens_expires_at') IS NOT NULL" \
    " AND to_regclass('refresh_families_user_id') IS NOT NULL" \
    " AND to_regclass('refresh_families_expires_at') IS NOT NULL" \
    " AND (SELECT count(*) FROM information_schema.columns" \
    "      WHERE table_schema = current_schema() AND column_default IS NOT NULL" \
    "      AND ((table_name = 'users' AND column_name = 'created_at')" \
    "        OR (table_name = 'revoked_tokens' AND column_name = 'revoked_at'))) = 2" \
    " THEN 1 ELSE 0 END"

/* Runs a statement that returns rows, draining them (apr_dbd wants every
 * row read); *value is a pool copy of the first column of the last row,
 * NULL when there is no row or the column is NULL.  A copy, because the
 * pgsql driver frees its result (and every entry of it) once the last row
 * has been read.  APR_EGENERAL when the query fails. */
static apr_status_t aj_store_value(const char **value, const apr_dbd_driver_t *driver,
                                   apr_dbd_t *handle, apr_pool_t *p, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    if (apr_dbd_select(driver, p, handle, &res, sql, 1) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        const char *entry = apr_dbd_get_entry(driver, row, 0);
        v = entry ? apr_pstrdup(p, entry) : NULL;
    }
    *value = v;
    return APR_SUCCESS;
}

/* Runs a PRAGMA, ignoring what it returns. */
static apr_status_t aj_store_pragma(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                    apr_pool_t *p, const char *sql)
{
    const char *ignored;

    return aj_store_value(&ignored, driver, handle, p, sql);
}

/* pgsql: 1 when the whole schema is there, 0 when not, -1 on error. */
static int aj_store_pg_schema_present(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                      apr_pool_t *p)
{
    const char *v = NULL;

    if (aj_store_value(&v, driver, handle, p, AJ_PG_SCHEMA_PRESENT) != APR_SUCCESS) {
        return -1;
    }
    return v && !strcmp(v, "1");
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
static int aj_store_sqlite_column(const apr_dbd_driver_t *driver, apr_dbd_t *handle, apr_pool_t *p,
                                  const char *table, const char *column)
{
    const char *v = NULL;

    if (aj_store_value(&v, driver, handle, p,
                       apr_psprintf(p, AJ_SQLITE_COLUMN_DEFAULT, table, column))
        != APR_SUCCESS) {
        return -1;
    }
    if (!v) {
        return AJ_COLUMN_MISSING;
    }
    return strcmp(v, "1") ? 0 : 1;
}

/* SQLite: what an older database lacks.  APR_SUCCESS with the two flags,
 * or APR_EGENERAL when the catalog cannot be read. */
static apr_status_t aj_store_sqlite_outdated(int *add_changed_at, int *rebuild_revocations,
                                             const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                                             apr_pool_t *p)
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

apr_status_t aj_store_schema_create(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
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
                            apr_psprintf(p, "PRAGMA busy_timeout = %d", AJ_SQLITE_BUSY_TIMEOUT_MS))
            != APR_SUCCESS) {
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

apr_status_t aj_store_schema_version(apr_int64_t *version, const apr_dbd_driver_t *driver,
                                     apr_dbd_t *handle, apr_pool_t *p)
{
    const char *v = NULL;
    apr_status_t rv = aj_store_value(&v, driver, handle, p, "PRAGMA schema_version");

    if (rv == APR_SUCCESS && !v) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        *version = apr_atoi64(v);
    }
    return rv;
}

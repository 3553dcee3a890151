/*
 * aj_store.c — opening a store over apr_dbd, its one statement table, and
 * running a statement (docs/reference.md §6).
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
 *
 * What the sqlite3 driver needs (apr-util's dbd/apr_dbd_sqlite3.c):
 *  - It prepares with the legacy sqlite3_prepare(), whose statements SQLite
 *    does not prepare again when the schema changes.  After any change by
 *    any connection (an operator's CREATE INDEX, the first ANALYZE, VACUUM,
 *    another process creating or upgrading the schema) every statement
 *    prepared before it fails, until the connection closes: the first with
 *    "database schema has changed", the others with "not an error".  So
 *    after a failed statement the store reads PRAGMA schema_version; when
 *    it differs from the version read before the statements were prepared,
 *    it prepares the whole set again on the same connection and runs the
 *    statement once more.  That is safe for writes: SQLite checks the
 *    schema before a statement touches a row, and a failed statement is
 *    rolled back, so the first attempt wrote nothing.  A failure with the
 *    same version (a locked or broken database) is reported as it is.
 *  - The driver keeps every statement it prepared, in the connection's own
 *    pool, until the connection closes (there is no call to finalize one),
 *    so each re-prepare leaves the old set behind until then.  That is
 *    bounded: the set is prepared again at most once per schema version the
 *    connection sees, also when preparing fails (a table an operator
 *    dropped is not looked for again on every request).
 *
 * The rest of the store is split by concern (see aj_store_int.h): the
 * schema and its upgrades in aj_store_schema.c, users in aj_store_users.c,
 * revocations in aj_store_revoke.c, refresh tokens in aj_store_refresh.c,
 * log-safe descriptions in aj_store_describe.c.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "aj_refresh.h"
#include "aj_store_int.h"

/* Connections that meet on an empty database race to create the schema;
 * the loser sees "schema has changed" and simply runs the DDL again. */
#define AJ_SCHEMA_ATTEMPTS   8
#define AJ_SCHEMA_RETRY_WAIT apr_time_from_msec(20)

/* aj_store_t.schema_version when it could not be read at open: the first
 * failed statement then finds another version and prepares the set again. */
#define AJ_SCHEMA_VERSION_UNKNOWN (-1)

#define AJ_USER_COLUMNS \
    "id, username, password_hash, claims, tokens_valid_after, created_at, changed_at"

/* The revoked_tokens key of refresh family f (aj_refresh_sid_key in SQL). */
#define AJ_SID_KEY   "'" AJ_REFRESH_SID_PREFIX "' || f.family"
/* A family's access tokens are revoked until its end + this parameter. */
#define AJ_SID_UNTIL "f.expires_at + CAST(%s AS BIGINT)"

/* One page of unexpired revocations in the order of `key`, after the last
 * key read (`after`: "key > %s AND ", or "" for the first page); columns:
 * key, jti, expires_at.  The page size is a parameter (a test runs pages
 * of 3).  The unary + keeps the expires_at index out of the plan: with it
 * (chosen when statistics say most rows are expired) every page would sort
 * the table's unexpired rows again; the key's own order needs no sort. */
#define AJ_REVOKE_PAGE(key, after) \
    "SELECT " key ", jti, expires_at FROM revoked_tokens WHERE " after \
    "+expires_at > CAST(%s AS BIGINT) ORDER BY " key " LIMIT CAST(%s AS BIGINT)"

/* The DML: identical for sqlite3 and pgsql but for the key of the paged
 * full load (aj_sql_sqlite3_page).  apr_dbd turns %s into the
 * driver's placeholder; integers are bound as text and CAST here. */
static const char *const aj_sql_text[AJ_SQL_COUNT] = {
    [AJ_SQL_USER_BY_NAME] = "SELECT " AJ_USER_COLUMNS " FROM users WHERE username = %s",
    [AJ_SQL_USER_BY_ID] = "SELECT " AJ_USER_COLUMNS " FROM users WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_INSERT] =
        "INSERT INTO users (username, password_hash, claims, tokens_valid_after, created_at)"
        " SELECT %s, %s, %s, 0, CAST(%s AS BIGINT)"
        " WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = %s)",
    [AJ_SQL_USER_SET_PASSWORD] =
        "UPDATE users SET password_hash = %s, tokens_valid_after = CAST(%s AS BIGINT),"
        " changed_at = CAST(%s AS BIGINT) WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_SET_CLAIMS] = "UPDATE users SET claims = %s, changed_at = CAST(%s AS BIGINT)"
                               " WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_SET_VALID_AFTER] =
        "UPDATE users SET tokens_valid_after = CAST(%s AS BIGINT) WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_DELETE] = "DELETE FROM users WHERE id = CAST(%s AS BIGINT)",
    [AJ_SQL_USER_LIST] = "SELECT " AJ_USER_COLUMNS " FROM users ORDER BY id",
    /* Each side of the OR has its own index (users_tokens_valid_after,
     * users_changed_at): SQLite answers it with its OR-by-union plan and
     * PostgreSQL with a BitmapOr, so a poll reads the rows that changed,
     * not the table. */
    [AJ_SQL_USERS_REVOKED_SINCE] =
        "SELECT id, tokens_valid_after, changed_at FROM users"
        " WHERE tokens_valid_after >= CAST(%s AS BIGINT) OR changed_at >= CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_ADD] = "INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
                          " SELECT %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT)"
                          " WHERE NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = %s)",
    [AJ_SQL_REVOKE_SINCE] =
        "SELECT jti, expires_at FROM revoked_tokens"
        " WHERE revoked_at >= CAST(%s AS BIGINT) AND expires_at > CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_PRUNE] = "DELETE FROM revoked_tokens WHERE expires_at <= CAST(%s AS BIGINT)",
    [AJ_SQL_REVOKE_GET] = "SELECT expires_at FROM revoked_tokens WHERE jti = %s",
    /* The full load, in pages by the table's key (aj_store_revoke.c); the
     * pgsql text here, sqlite3's in aj_sql_sqlite3_page below. */
    [AJ_SQL_REVOKE_PAGE_FIRST] = AJ_REVOKE_PAGE("jti", ""),
    [AJ_SQL_REVOKE_PAGE_NEXT] = AJ_REVOKE_PAGE("jti", "jti > %s AND "),
    /* The distinct "$2y$NN$" prefixes of the stored bcrypt hashes: a few
     * rows, parsed by aj_password_bcrypt_cost() (a malformed hash cannot
     * confuse a string MAX). */
    [AJ_SQL_BCRYPT_PREFIXES] = "SELECT DISTINCT substr(password_hash, 1, 7) FROM users"
                               " WHERE substr(password_hash, 1, 2) = '$2'",
    /* refresh tokens and their families (aj_store_refresh.c explains the
     * model; the conditions here are what makes it race-free) */
    [AJ_SQL_REFRESH_FAMILY_ADD] =
        "INSERT INTO refresh_families (family, user_id, auth_time, expires_at)"
        " SELECT %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT)"
        " WHERE NOT EXISTS (SELECT 1 FROM refresh_families WHERE family = %s)",
    [AJ_SQL_REFRESH_FAMILY_GET] = "SELECT user_id, auth_time, expires_at, COALESCE(revoked_at, 0)"
                                  " FROM refresh_families WHERE family = %s",
    /* only into a live family: a rotation that lost to a logout adds nothing */
    [AJ_SQL_REFRESH_ISSUE] =
        "INSERT INTO refresh_tokens (hash, family, user_id, expires_at)"
        " SELECT %s, family, user_id, CAST(%s AS BIGINT) FROM refresh_families"
        " WHERE family = %s AND revoked_at IS NULL AND expires_at > CAST(%s AS BIGINT)"
        " AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = %s)",
    /* the one write that decides a consume: its row count is the verdict */
    [AJ_SQL_REFRESH_CONSUME] =
        "UPDATE refresh_tokens SET used_at = CAST(%s AS BIGINT)"
        " WHERE hash = %s AND used_at IS NULL AND expires_at > CAST(%s AS BIGINT)"
        " AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.family = refresh_tokens.family"
        " AND f.revoked_at IS NULL AND f.expires_at > CAST(%s AS BIGINT))",
    /* NULL tested in SQL: apr_dbd's pgsql driver reads a NULL column as ""
     * (sqlite3's as a NULL pointer), so the row says 0 or 1 itself */
    [AJ_SQL_REFRESH_GET] =
        "SELECT t.family, t.user_id, t.expires_at, CASE WHEN t.used_at IS NULL THEN 0 ELSE 1 END,"
        " f.auth_time, f.expires_at, CASE WHEN f.family IS NULL THEN 0 ELSE 1 END,"
        " CASE WHEN f.revoked_at IS NULL THEN 0 ELSE 1 END"
        " FROM refresh_tokens t LEFT JOIN refresh_families f ON f.family = t.family"
        " WHERE t.hash = %s",
    [AJ_SQL_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_families SET revoked_at = CAST(%s AS BIGINT)"
                                     " WHERE family = %s AND revoked_at IS NULL",
    [AJ_SQL_REFRESH_USE_FAMILY] = "UPDATE refresh_tokens SET used_at = CAST(%s AS BIGINT)"
                                  " WHERE family = %s AND used_at IS NULL",
    [AJ_SQL_REFRESH_SID_FAMILY] =
        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
        " SELECT " AJ_SID_KEY ", " AJ_SID_UNTIL ", CAST(%s AS BIGINT)"
        " FROM refresh_families f WHERE f.family = %s AND f.revoked_at IS NOT NULL"
        " AND " AJ_SID_UNTIL " > CAST(%s AS BIGINT)"
        " AND NOT EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = " AJ_SID_KEY ")",
    [AJ_SQL_REFRESH_REVOKE_USER] = "UPDATE refresh_families SET revoked_at = CAST(%s AS BIGINT)"
                                   " WHERE user_id = CAST(%s AS BIGINT) AND revoked_at IS NULL",
    [AJ_SQL_REFRESH_USE_USER] = "UPDATE refresh_tokens SET used_at = CAST(%s AS BIGINT)"
                                " WHERE user_id = CAST(%s AS BIGINT) AND used_at IS NULL",
    [AJ_SQL_REFRESH_SID_USER] =
        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
        " SELECT " AJ_SID_KEY ", " AJ_SID_UNTIL ", CAST(%s AS BIGINT)"
        " FROM refresh_families f WHERE f.user_id = CAST(%s AS BIGINT)"
        " AND f.revoked_at IS NOT NULL AND " AJ_SID_UNTIL " > CAST(%s AS BIGINT)"
        " AND NOT EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = " AJ_SID_KEY ")",
    [AJ_SQL_REFRESH_REVOKED_OF_USER] =
        "SELECT f.family, " AJ_SID_UNTIL " FROM refresh_families f"
        " WHERE f.user_id = CAST(%s AS BIGINT) AND f.revoked_at IS NOT NULL"
        " AND " AJ_SID_UNTIL " > CAST(%s AS BIGINT)",
    [AJ_SQL_REFRESH_PRUNE_TOKENS] =
        "DELETE FROM refresh_tokens WHERE expires_at <= CAST(%s AS BIGINT)",
    /* a token never outlives its family (aj_store_refresh_issue caps it);
     * the NOT EXISTS keeps the rule "tokens before their family" anyway */
    [AJ_SQL_REFRESH_PRUNE_FAMILIES] =
        "DELETE FROM refresh_families WHERE expires_at <= CAST(%s AS BIGINT)"
        " AND NOT EXISTS (SELECT 1 FROM refresh_tokens t"
        " WHERE t.family = refresh_families.family)",
};

/*
 * sqlite3 pages by rowid instead of jti.  revoked_tokens is a rowid table:
 * its rows are stored in the b-tree of the rowid, and jti's PRIMARY KEY is
 * a second b-tree whose every entry costs a look-up of the row in the
 * first.  jtis are random, so walking them in order reads the table's pages
 * at random (for 1,000,000 rows: 4.8 s of CPU against 0.45 s in rowid
 * order, measured with SQLite 3.40 and its default page cache).  A rowid
 * changes only with the schema version (VACUUM, the rebuild of an old
 * table), which the load watches (aj_store_revoked_all).  PostgreSQL has
 * no such key: pages by jti walk the primary key's index and read the heap
 * in random order (1,000,000 rows: 3.4 s of server time in 100 pages,
 * against 0.27 s for one sequential scan), so pgsql keeps the one query
 * (aj_store_revoked_since) and its pages below are not used.
 */
static const char *const aj_sql_sqlite3_page[] = {
    [AJ_SQL_REVOKE_PAGE_FIRST] = AJ_REVOKE_PAGE("rowid", ""),
    [AJ_SQL_REVOKE_PAGE_NEXT] = AJ_REVOKE_PAGE("rowid", "rowid > CAST(%s AS BIGINT) AND "),
};

/* The text of statement i for the driver. */
static const char *aj_store_sql(int is_sqlite, int i)
{
    if (is_sqlite && (i == AJ_SQL_REVOKE_PAGE_FIRST || i == AJ_SQL_REVOKE_PAGE_NEXT)) {
        return aj_sql_sqlite3_page[i];
    }
    return aj_sql_text[i];
}

static void aj_store_note_error(aj_store_t *st, int ret)
{
    const char *msg = apr_dbd_error(st->driver, st->handle, ret);

    apr_cpystrn(st->last_error, msg && *msg ? msg : "unknown database error",
                sizeof(st->last_error));
}

/* Prepares every statement of aj_sql_text into stmt, in p; 0, or the
 * driver's error with *failed the statement that failed. */
static int aj_store_prepare(apr_dbd_prepared_t **stmt, int *failed, apr_pool_t *p,
                            const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    int i, ret = 0, is_sqlite = strcmp(apr_dbd_name(driver), "sqlite3") == 0; /* not set yet */

    for (i = 0; i < AJ_SQL_COUNT && ret == 0; ++i) {
        ret = apr_dbd_prepare(driver, p, handle, aj_store_sql(is_sqlite, i), NULL, &stmt[i]);
    }
    *failed = i - 1;
    return ret;
}

apr_status_t aj_store_open(aj_store_t **st, const char **err, apr_pool_t *p,
                           const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    aj_store_t *s;
    apr_status_t rv;
    int i, ret;

    s = apr_pcalloc(p, sizeof(*s));
    s->driver = driver;
    s->handle = handle;
    s->pool = p;
    s->is_sqlite3 = strcmp(apr_dbd_name(driver), "sqlite3") == 0;
    s->reconnect = !s->is_sqlite3;
    s->schema_version = AJ_SCHEMA_VERSION_UNKNOWN;
    s->revoke_page_rows = AJ_STORE_REVOKE_PAGE_ROWS;

    for (i = 0; i < AJ_SCHEMA_ATTEMPTS; ++i) {
        rv = aj_store_schema_create(driver, handle, p);
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
        *err = apr_psprintf(p, "creating the schema failed: %s", apr_dbd_error(driver, handle, rv));
        goto cleanup;
    }
    /* Read before preparing: a change in between then reads as newer at the
     * first failure, never as the version the statements were made for. */
    if (!s->reconnect
        && aj_store_schema_version(&s->schema_version, driver, handle, p) != APR_SUCCESS) {
        s->schema_version = AJ_SCHEMA_VERSION_UNKNOWN;
    }
    ret = aj_store_prepare(s->stmt, &i, p, driver, handle);
    if (ret != 0) {
        *err = apr_psprintf(p, "preparing statement %d failed: %s", i,
                            apr_dbd_error(driver, handle, ret));
        rv = APR_EGENERAL;
        goto cleanup;
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

/* sqlite3, after a failed statement: 1 when another connection changed
 * the schema since the statements were prepared and the set is prepared
 * again (it replaces the stale one only when every statement prepared). */
static int aj_store_reprepared(aj_store_t *st, apr_pool_t *p)
{
    apr_dbd_prepared_t *fresh[AJ_SQL_COUNT];
    apr_int64_t version;
    int failed, ret, again = 0;

    if (aj_store_schema_version(&version, st->driver, st->handle, p) != APR_SUCCESS
        || version == st->schema_version) {
        goto cleanup;
    }
    st->schema_version = version; /* once per version, even on failure */
    ret = aj_store_prepare(fresh, &failed, st->pool, st->driver, st->handle);
    if (ret != 0) {
        aj_store_note_error(st, ret); /* e.g. "no such table: users" */
        goto cleanup;
    }
    memcpy(st->stmt, fresh, sizeof(st->stmt));
    again = 1;

cleanup:
    return again;
}

/* After a statement failed with ret: notes the driver's message and says
 * whether the statement is worth running once more.
 *  - pgsql: when the connection could be reset (a dropped connection is
 *    reopened by PQreset; a healthy one is left alone, and re-running a
 *    statement that failed on it changes nothing: every statement here is
 *    a single autocommitted one, and the inserts skip existing rows).  The
 *    message is taken after the reset: when the server is still away, why
 *    reopening failed.
 *  - sqlite3: when the statements were stale and are prepared again.  The
 *    message is taken first: reading the schema version replaces it. */
static int aj_store_recovered(aj_store_t *st, apr_pool_t *p, int ret)
{
    int again;

    if (st->reconnect) {
        again = apr_dbd_check_conn(st->driver, p, st->handle) == APR_SUCCESS;
        aj_store_note_error(st, ret);
    }
    else {
        aj_store_note_error(st, ret);
        again = aj_store_reprepared(st, p);
    }
    return again;
}

int aj_store_select(aj_store_t *st, apr_pool_t *p, apr_dbd_results_t **res, aj_sql_e which,
                    int nargs, const char **args)
{
    int ret = apr_dbd_pselect(st->driver, p, st->handle, res, st->stmt[which], 1, nargs, args);

    if (ret != 0 && aj_store_recovered(st, p, ret)) {
        *res = NULL;
        ret = apr_dbd_pselect(st->driver, p, st->handle, res, st->stmt[which], 1, nargs, args);
        if (ret != 0) {
            aj_store_note_error(st, ret);
        }
    }
    return ret;
}

int aj_store_exec(aj_store_t *st, apr_pool_t *p, int *nrows, int *retried, aj_sql_e which,
                  int nargs, const char **args)
{
    int ret = apr_dbd_pquery(st->driver, p, st->handle, nrows, st->stmt[which], nargs, args);

    *retried = 0;
    if (ret != 0 && aj_store_recovered(st, p, ret)) {
        /* a re-prepared statement's first attempt wrote nothing */
        *retried = st->reconnect;
        *nrows = 0;
        ret = apr_dbd_pquery(st->driver, p, st->handle, nrows, st->stmt[which], nargs, args);
        if (ret != 0) {
            aj_store_note_error(st, ret);
        }
    }
    return ret;
}

apr_int64_t aj_store_col_int(const apr_dbd_driver_t *driver, apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(driver, row, col);
    return v ? apr_atoi64(v) : 0;
}

const char *aj_store_col_str(const apr_dbd_driver_t *driver, apr_dbd_row_t *row, int col,
                             apr_pool_t *p, const char *dflt)
{
    const char *v = apr_dbd_get_entry(driver, row, col);
    return v ? apr_pstrdup(p, v) : dflt;
}

const char *aj_store_i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

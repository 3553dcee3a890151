/*
 * test_store_errors.c — the store (aj_store.c) when things go wrong, on a
 * real SQLite file in a temporary directory (tests/unit/support/store.h): a
 * read-only file, a missing table, a corrupt file, inputs at their limits,
 * a driver message longer than the store keeps; and what the store lets a
 * log line say: descriptions without passwords, permission errors, the
 * username rule.
 */
#include "aj_test.h"
#include "aj_store.h"
#include "aj_user.h"
#include "store.h"
#include "tmp.h"

#define HASH_A "$2y$04$x"
#define HASH_B "$2y$04$y"

/* Keeps the jti of the revocation reported (a buffer of AJ_JTI_MAX_LEN + 1). */
static void copy_revocation(void *baton, const char *jti, apr_int64_t exp)
{
    apr_cpystrn(baton, jti, AJ_JTI_MAX_LEN + 1);
}

/* Callbacks that only count how often the store called them. */
static int count_user(void *baton, const aj_user_t *user)
{
    ++*(int *)baton;
    return 0;
}

static void count_changed_user(void *baton, apr_int64_t id, apr_int64_t valid_after,
                               apr_int64_t changed_at)
{
    ++*(int *)baton;
}

static void count_revocation(void *baton, const char *jti, apr_int64_t exp)
{
    ++*(int *)baton;
}

/* ---- failures --------------------------------------------------------------- */

/* Opening must fail, with a message, and leave *st alone. */
static const char *assert_open_fails(const aj_test_db_t *db, apr_pool_t *p)
{
    aj_store_t *st = NULL;
    const char *err = NULL;

    assert_int_not_equal(aj_store_open(&st, &err, p, db->driver, db->handle), APR_SUCCESS);
    assert_null(st);
    assert_non_null(err);
    return err;
}

/* SQLite opens the file read-only ("file:" URI, mode=ro): the OS refusing
 * a write looks the same to the store, and this works under root too. */
static aj_test_db_t *open_read_only(apr_pool_t *p, const char *path)
{
    return aj_test_db_open(p, apr_pstrcat(p, "file:", path, "?mode=ro", NULL));
}

static void test_read_only_file(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_db_path(p), *err;
    aj_test_db_t *db, *ro;
    aj_store_t *st;
    apr_int64_t id = 0;
    aj_user_t *u = NULL;

    /* an empty read-only file: the schema cannot be made */
    aj_test_write_file(p, path, "", 0);
    err = assert_open_fails(open_read_only(p, path), p);
    if (!strstr(err, "creating the schema failed") || !aj_store_error_is_permission(err, 1)) {
        fail_msg("unexpected message: %s", err);
    }

    /* a store made read-write, then used read-only: reads work, writes fail
     * with the driver's reason */
    db = aj_test_db_open(p, path);
    st = aj_test_store_open(db, p);
    (void)aj_test_user_add(st, p, "alice", HASH_A, 1);
    (void)aj_test_db_value(db, p, "PRAGMA wal_checkpoint(TRUNCATE)");
    ro = open_read_only(p, path);
    st = aj_test_store_open(ro, p);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
    assert_int_equal(aj_store_user_add(&id, p, st, "bob", HASH_A, "{}", 1), APR_EGENERAL);
    assert_int_equal(id, 0);
    assert_int_equal(aj_store_user_set_claims(st, p, u->id, "{}", 2), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_add(st, p, "j", 10, 1), APR_EGENERAL);
    if (!aj_store_error_is_permission(aj_store_error(st, 1), 1)) {
        fail_msg("not a permission error: %s", aj_store_error(st, 1));
    }
}

/* A table dropped under the store (an operator's mistake): every function
 * reports APR_EGENERAL, none reports "not found" (a login would then answer
 * 401 instead of 503), and opening the store again makes the schema anew. */
static void test_missing_table(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    apr_int64_t id = aj_test_user_add(st, p, "alice", HASH_A, 1), exp = 0;
    aj_user_t *u = NULL;
    int listed = 0, n = 0;

    aj_test_db_exec(db, "DROP TABLE users");
    aj_test_db_exec(db, "DROP TABLE revoked_tokens");
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_EGENERAL);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_EGENERAL);
    assert_null(u);
    assert_int_equal(aj_store_user_add(&id, p, st, "bob", HASH_A, "{}", 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_password(st, p, id, HASH_B, 1, 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_claims(st, p, id, "{}", 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_valid_after(st, p, id, 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_delete(st, p, id), APR_EGENERAL);
    assert_int_equal(aj_store_user_each(st, p, count_user, &listed), APR_EGENERAL);
    assert_int_equal(aj_store_users_revoked_since(st, p, 0, count_changed_user, &n), APR_EGENERAL);
    assert_int_equal(aj_store_max_bcrypt_cost(&n, st, p), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_add(st, p, "j", 10, 1), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j"), APR_EGENERAL);
    assert_int_equal(aj_store_revoked_since(st, p, 0, 0, count_revocation, &n), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_prune(&n, st, p, 1), APR_EGENERAL);
    assert_int_equal(listed, 0);
    assert_true(*aj_store_error(st, 1) != '\0');
    /* opening again makes the schema anew */
    st = aj_test_store_open(db, p);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_NOTFOUND);
}

/* A file that is not a database: open fails with SQLite's reason, which is
 * not mistaken for a permission problem. */
static void test_corrupt_file(void **state)
{
    static const char garbage[] = "this is not an SQLite database, only text long enough "
                                  "to fill a header of a hundred bytes or so, and more text.";
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_db_path(p), *err;

    aj_test_write_file(p, path, garbage, sizeof(garbage) - 1);
    err = assert_open_fails(aj_test_db_open(p, path), p);
    if (!strstr(err, "not a database") || aj_store_error_is_permission(err, APR_EGENERAL)) {
        fail_msg("unexpected message: %s", err);
    }
}

/* apr_dbd_sqlite3 prepares with the legacy sqlite3_prepare(), whose
 * statements SQLite does not prepare again after a schema change.  Any
 * change made by another connection (an operator's CREATE INDEX or
 * ANALYZE, another process creating the schema) would make every statement
 * of an open store fail until its connection is closed; the store notices
 * the new schema version and prepares its statements again. */
static void test_schema_change_elsewhere(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db, *other;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    aj_user_t *u = NULL;

    (void)aj_test_user_add(st, p, "alice", HASH_A, 1);
    other = aj_test_db_open(p, db->path);
    aj_test_db_exec(other, "CREATE INDEX operator_extra ON users (username, created_at)");
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
}

/* The same for writes, which run once only (the failed attempt wrote
 * nothing), and for every statement after the first; a statement that then
 * fails for its own reason reports that reason, not the schema change. */
static void test_schema_change_writes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db, *other;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    apr_int64_t alice = aj_test_user_add(st, p, "alice", HASH_A, 1), id = 0, exp = 0;
    aj_user_t *u = NULL;

    other = aj_test_db_open(p, db->path);
    aj_test_db_exec(other, "ANALYZE"); /* the first one makes sqlite_stat1 */
    assert_int_equal(aj_store_revoke_add(st, p, "j1", 10, 1), APR_SUCCESS);
    assert_string_equal(aj_test_db_value(db, p, "SELECT count(*) FROM revoked_tokens"), "1");
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j1"), APR_SUCCESS);
    assert_int_equal(exp, 10);
    assert_int_equal(aj_store_user_set_valid_after(st, p, alice, 5), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, alice), APR_SUCCESS);
    assert_int_equal(u->tokens_valid_after, 5);

    aj_test_db_exec(other, "CREATE TRIGGER refuse BEFORE INSERT ON users"
                           " BEGIN SELECT RAISE(ABORT, 'refused by the operator'); END");
    assert_int_equal(aj_store_user_add(&id, p, st, "bob", HASH_B, "{}", 2), APR_EGENERAL);
    assert_string_equal(aj_store_error(st, 1), "refused by the operator");
    assert_int_equal(aj_store_user_by_name(&u, p, st, "bob"), APR_NOTFOUND);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
}

/* ---- limits ----------------------------------------------------------------- */

static const char *repeat(apr_pool_t *p, char c, apr_size_t n)
{
    char *s = apr_palloc(p, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Values at the limits the callers enforce go in and come out byte for
 * byte (the store truncates nothing). */
static void test_values_at_limits(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *name = repeat(p, 'n', AJ_USERNAME_MAX_LEN);
    const char *jti = repeat(p, 'j', AJ_JTI_MAX_LEN);
    char *claims = apr_palloc(p, AJ_CLAIMS_MAX_LEN + 1);
    apr_int64_t id = 0, exp = 0;
    aj_user_t *u = NULL;
    char polled[AJ_JTI_MAX_LEN + 1] = "";
    int n = 0;

    /* {"k":"vvv...v"} of exactly AJ_CLAIMS_MAX_LEN bytes */
    memset(claims, 'v', AJ_CLAIMS_MAX_LEN);
    memcpy(claims, "{\"k\":\"", 6);
    memcpy(claims + AJ_CLAIMS_MAX_LEN - 2, "\"}", 3);
    assert_int_equal(strlen(claims), AJ_CLAIMS_MAX_LEN);
    assert_int_equal(aj_store_user_add(&id, p, st, name, HASH_A, claims, 1), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_string_equal(u->username, name);
    assert_string_equal(u->claims_json, claims);
    assert_int_equal(aj_store_revoke_add(st, p, jti, 99, 1), APR_SUCCESS);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, jti), APR_SUCCESS);
    assert_int_equal(aj_store_revoked_since(st, p, 0, 0, copy_revocation, polled), APR_SUCCESS);
    assert_string_equal(polled, jti);
    assert_int_equal(aj_store_revoked_since(st, p, 0, 0, count_revocation, &n), APR_SUCCESS);
    assert_int_equal(n, 1);
}

/* A driver message longer than the store keeps is cut, not overrun: a
 * trigger makes SQLite fail the insert with a message of our choosing.  The
 * store is opened again after the trigger is made, so that the message is
 * the insert's own on the first attempt (test_schema_change_writes covers
 * a trigger made under an open store). */
#define LONG_MESSAGE_LEN 1000
static void test_long_error_message(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st;
    const char *msg = repeat(p, 'm', LONG_MESSAGE_LEN), *got;
    apr_int64_t id = 0;

    (void)aj_test_store_fresh(&db, p);
    aj_test_db_exec(db, apr_psprintf(p,
                                     "CREATE TRIGGER refuse BEFORE INSERT ON users"
                                     " BEGIN SELECT RAISE(ABORT, '%s'); END",
                                     msg));
    st = aj_test_store_open(db, p);
    assert_int_equal(aj_store_user_add(&id, p, st, "alice", HASH_A, "{}", 1), APR_EGENERAL);
    got = aj_store_error(st, 1);
    assert_true(strlen(got) > 0 && strlen(got) < LONG_MESSAGE_LEN);
    assert_memory_equal(got, msg, strlen(got));
}

/* The registration rule for names (docs/reference.md §4). */
static void test_username_problem(void **state)
{
    /* empty, ':', control characters (also C1's NEL), an overlong '/', a
     * surrogate, a truncated sequence, and a JWT */
    static const char *const refused[] = {
        "",
        "a:b",
        "a\tb",
        "a\x7f",
        "a\xc2\x85",
        "\xc0\xaf",
        "\xed\xa0\x80",
        "\xe2\x82",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    };
    apr_pool_t *p = AJ_POOL(state);
    const char *longest = repeat(p, 'a', AJ_USERNAME_MAX_LEN);
    const char *too_long = repeat(p, 'a', AJ_USERNAME_MAX_LEN + 1);
    apr_size_t i;

    assert_null(aj_user_name_problem("alice", 5));
    assert_null(aj_user_name_problem("j\xc3\xbcrgen", 7)); /* UTF-8 */
    for (i = 0; i < sizeof(refused) / sizeof(*refused); ++i) {
        if (!aj_user_name_problem(refused[i], strlen(refused[i]))) {
            fail_msg("accepted: case %d", (int)i);
        }
    }
    assert_null(aj_user_name_problem(longest, AJ_USERNAME_MAX_LEN));
    assert_non_null(aj_user_name_problem(too_long, AJ_USERNAME_MAX_LEN + 1));
    /* the length given is what counts, not a NUL further on */
    assert_non_null(aj_user_name_problem("a\0b", 3));
}

/* ---- what a log line may say ------------------------------------------------ */

static void assert_described(apr_pool_t *p, const char *driver, const char *params,
                             const char *want)
{
    const char *got = aj_store_describe(p, driver, params);

    if (strcmp(got, want) || strstr(got, "s3cret")) {
        fail_msg("[%s] gave [%s], want [%s]", params ? params : "(null)", got, want);
    }
}

/* Store descriptions for log lines name the database and never a password
 * (docs/reference.md §13). */
static void test_describe(void **state)
{
    /* shown: what the description quotes of the parameters; NULL: the
     * parameters are not shown at all */
    static const struct {
        const char *driver, *params, *shown;
    } cases[] = {
        /* key=value (libpq), secret keys in any case and spelling */
        { "pgsql", "host=db dbname=auth user=web password=s3cret", "host=db dbname=auth user=web" },
        { "pgsql", "host=db PassWord=x", "host=db" },
        { "pgsql", "host=db password='s3cret two' dbname=auth", "host=db dbname=auth" },
        /* apr_dbd_mysql's lists, separated by ',' or ';' */
        { "mysql", "host=db,user=web,pass=s3cret,dbname=auth", "host=db user=web dbname=auth" },
        { "mysql", "host=db;passwd=s3cret;dbname=auth", "host=db dbname=auth" },
        /* URIs: the userinfo's password and password= parameters left out */
        { "pgsql", "postgresql://web:s3cret@db:5432/auth?sslmode=require&password=x",
          "postgresql://web@db:5432/auth?sslmode=require" },
        { "pgsql", "postgresql://web@db/auth", "postgresql://web@db/auth" },
        { "pgsql", "postgresql://db/auth?password=x", "postgresql://db/auth" },
        { "pgsql", "postgres://web:s3cret@db/auth", "postgres://web@db/auth" },
        /* what does not parse, or needs libpq's escapes to read, is not shown */
        { "pgsql", "password = 's3 \\' cret' host=db", NULL },
        { "pgsql", "password=se\\ cret=1 host=db", NULL },
        { "pgsql", "host=db password='unterminated", NULL },
        { "pgsql", "s3cret", NULL },
    };
    apr_pool_t *p = NULL;
    apr_size_t i;

    (void)state;
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *want =
            cases[i].shown
                ? apr_psprintf(p, "%s connection '%s'", cases[i].driver, cases[i].shown)
                : apr_pstrcat(p, cases[i].driver, " connection (parameters not shown)", NULL);
        assert_described(p, cases[i].driver, cases[i].params, want);
    }
    /* SQLite: the file; no store named at all */
    assert_described(p, "sqlite3", "/var/lib/auth/users.db",
                     "sqlite3 database /var/lib/auth/users.db");
    assert_described(p, NULL, "x", "the store");
    assert_described(p, "pgsql", NULL, "the store");
    apr_pool_destroy(p);
}

/* Long parameters are described whole, still without the password. */
#define LONG_PARAM_LEN 10000
static void test_describe_long(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *host = repeat(p, 'h', LONG_PARAM_LEN);
    const char *got =
        aj_store_describe(p, "pgsql", apr_pstrcat(p, "password=s3cret host=", host, NULL));

    assert_string_equal(got, apr_pstrcat(p, "pgsql connection 'host=", host, "'", NULL));
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
    AJ_TEST(test_read_only_file),
    AJ_TEST(test_missing_table),
    AJ_TEST(test_corrupt_file),
    AJ_TEST(test_schema_change_elsewhere),
    AJ_TEST(test_schema_change_writes),
    AJ_TEST(test_values_at_limits),
    AJ_TEST(test_long_error_message),
    AJ_TEST(test_username_problem),
    AJ_TEST(test_describe),
    AJ_TEST(test_describe_long),
    AJ_TEST(test_permission_errors),
};

AJ_TEST_MAIN("aj_store_errors", tests)

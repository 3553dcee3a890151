/*
 * test_store.c — the store (aj_store.c) over apr_dbd's sqlite3 driver, on a
 * real database file in a temporary directory (tests/unit/support/store.h),
 * function by function: schema creation and the upgrade of a database made
 * by an earlier version; users added, looked up, listed, changed and
 * deleted; users.changed_at and the poll that reports it; revocations
 * recorded, polled and pruned, also when inserted by an operator with the
 * documented columns only.  Failures, limits and log-line texts:
 * test_store_errors.c.
 */
#include "aj_test.h"
#include "aj_store.h"
#include "store.h"
#include "tmp.h"

/* Hashes as the store sees them: it never checks them, only reads the
 * bcrypt cost out of the "$2y$NN$" prefix. */
#define HASH_A "$2y$04$x"
#define HASH_B "$2y$04$y"

/* Whether sqlite_master holds an object of that type and name. */
static int has_object(const aj_test_db_t *db, apr_pool_t *p, const char *type, const char *name)
{
    return aj_test_db_value(db, p,
                            apr_psprintf(p,
                                         "SELECT name FROM sqlite_master"
                                         " WHERE type = '%s' AND name = '%s'",
                                         type, name))
           != NULL;
}

/* ---- schema --------------------------------------------------------------- */

/* An empty file gets both tables, the indexes the polls and the prune use,
 * and WAL mode (kept in the file: readers never block the writer). */
static void test_schema_created(void **state)
{
    static const char *const tables[] = { "users", "revoked_tokens" };
    static const char *const indexes[] = { "revoked_tokens_revoked_at", "revoked_tokens_expires_at",
                                           "users_tokens_valid_after", "users_changed_at" };
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    apr_size_t i;

    (void)aj_test_store_fresh(&db, p);
    for (i = 0; i < sizeof(tables) / sizeof(*tables); ++i) {
        if (!has_object(db, p, "table", tables[i])) {
            fail_msg("table %s is missing", tables[i]);
        }
    }
    for (i = 0; i < sizeof(indexes) / sizeof(*indexes); ++i) {
        if (!has_object(db, p, "index", indexes[i])) {
            fail_msg("index %s is missing", indexes[i]);
        }
    }
    assert_string_equal(aj_test_db_value(db, p, "PRAGMA journal_mode"), "wal");
    assert_string_equal(aj_test_db_value(db, p, "SELECT count(*) FROM users"), "0");
    /* the prune finds expired rows through its index, not by reading all */
    aj_test_db_exec(db, "ANALYZE");
    if (!strstr(aj_test_db_plan(db, p, "DELETE FROM revoked_tokens WHERE expires_at <= 5"),
                "revoked_tokens_expires_at")) {
        fail_msg("the prune does not use revoked_tokens_expires_at");
    }
}

/* ---- users ------------------------------------------------------------------ */

static void test_user_add_and_lookup(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    aj_user_t *u = NULL, *by_id = NULL;
    apr_int64_t id = 0, dup = -1;

    /* no claims: stored as the empty object */
    assert_int_equal(aj_store_user_add(&id, p, st, "alice", HASH_A, NULL, 100), APR_SUCCESS);
    assert_true(id > 0);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
    assert_int_equal(u->id, id);
    assert_string_equal(u->username, "alice");
    assert_string_equal(u->password_hash, HASH_A);
    assert_string_equal(u->claims_json, "{}");
    assert_int_equal(u->tokens_valid_after, 0);
    assert_int_equal(u->created_at, 100);
    assert_int_equal(u->changed_at, 0);
    assert_int_equal(aj_store_user_by_id(&by_id, p, st, id), APR_SUCCESS);
    assert_string_equal(by_id->username, "alice");

    /* a taken name: APR_EEXIST, the out-parameter untouched, the row unchanged */
    assert_int_equal(aj_store_user_add(&dup, p, st, "alice", HASH_B, "{}", 200), APR_EEXIST);
    assert_int_equal(dup, -1);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
    assert_string_equal(u->password_hash, HASH_A);

    /* names are compared exactly, and bound as parameters, never as SQL */
    u = NULL;
    assert_int_equal(aj_store_user_by_name(&u, p, st, "Alice"), APR_NOTFOUND);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "x' OR '1'='1"), APR_NOTFOUND);
    assert_null(u);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id + 1), APR_NOTFOUND);
    id = aj_test_user_add(st, p, "o'brien \xc3\xbc", HASH_B, 100);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_string_equal(u->username, "o'brien \xc3\xbc");
}

static void test_user_update_and_delete(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    aj_user_t *u = NULL;
    apr_int64_t id = aj_test_user_add(st, p, "alice", HASH_A, 100), again;

    assert_int_equal(aj_store_user_set_valid_after(st, p, id, 500), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_int_equal(u->tokens_valid_after, 500);
    assert_int_equal(u->changed_at, 0); /* revoke-all is not a change of the user */
    assert_int_equal(aj_store_user_set_valid_after(st, p, id + 1, 500), APR_NOTFOUND);

    /* the password: hash, tokens_valid_after and changed_at together */
    assert_int_equal(aj_store_user_set_password(st, p, id, HASH_B, 700, 600), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_SUCCESS);
    assert_string_equal(u->password_hash, HASH_B);
    assert_int_equal(u->tokens_valid_after, 700);
    assert_int_equal(u->changed_at, 600);
    assert_int_equal(u->created_at, 100);

    assert_int_equal(aj_store_user_delete(st, p, id), APR_SUCCESS);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_NOTFOUND);
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_NOTFOUND);
    assert_int_equal(aj_store_user_delete(st, p, id), APR_NOTFOUND);
    /* the name is free again, under a new id (ids are never reused) */
    again = aj_test_user_add(st, p, "alice", HASH_A, 800);
    assert_true(again > id);
}

#define EACH_MAX 8
typedef struct {
    int n, stop_after;
    apr_int64_t id[EACH_MAX];
    char name[EACH_MAX][16];
} each_t;

static int each_one(void *baton, const aj_user_t *user)
{
    each_t *e = baton;

    assert_true(e->n < EACH_MAX);
    e->id[e->n] = user->id;
    apr_cpystrn(e->name[e->n], user->username, sizeof(e->name[0]));
    ++e->n;
    return e->n == e->stop_after;
}

static void test_user_each(void **state)
{
    static const char *const names[] = { "carol", "alice", "bob" };
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    apr_int64_t ids[3];
    each_t e;
    int i;

    memset(&e, 0, sizeof(e));
    assert_int_equal(aj_store_user_each(st, p, each_one, &e), APR_SUCCESS);
    assert_int_equal(e.n, 0);
    for (i = 0; i < 3; ++i) {
        ids[i] = aj_test_user_add(st, p, names[i], HASH_A, 1);
    }
    /* in id order, not name order */
    memset(&e, 0, sizeof(e));
    assert_int_equal(aj_store_user_each(st, p, each_one, &e), APR_SUCCESS);
    assert_int_equal(e.n, 3);
    for (i = 0; i < 3; ++i) {
        assert_int_equal(e.id[i], ids[i]);
        assert_string_equal(e.name[i], names[i]);
    }
    /* the callback stops the walk */
    memset(&e, 0, sizeof(e));
    e.stop_after = 2;
    assert_int_equal(aj_store_user_each(st, p, each_one, &e), APR_SUCCESS);
    assert_int_equal(e.n, 2);
}

/* The floor of failed password checks: the highest stored bcrypt cost;
 * hashes that are not bcrypt do not count. */
static void test_max_bcrypt_cost(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    int cost = -1;

    assert_int_equal(aj_store_max_bcrypt_cost(&cost, st, p), APR_SUCCESS);
    assert_int_equal(cost, 0);
    (void)aj_test_user_add(st, p, "a", "$2y$04$abc", 1);
    (void)aj_test_user_add(st, p, "b", "$2b$11$abc", 1);
    (void)aj_test_user_add(st, p, "c", "$2y$07$abc", 1);
    (void)aj_test_user_add(st, p, "d", "$argon2id$v=19$m=65536", 1);
    (void)aj_test_user_add(st, p, "e", "$2y$99$abc", 1); /* beyond bcrypt's range: ignored */
    assert_int_equal(aj_store_max_bcrypt_cost(&cost, st, p), APR_SUCCESS);
    assert_int_equal(cost, 11);
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
    aj_test_db_t *db;
    aj_store_t *st;
    aj_user_t *u = NULL;
    apr_int64_t id = 0, other = 0;
    poll_t pl;

    st = aj_test_store_fresh(&db, p);
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
}

/* The poll reads the rows that changed through an index for each side of
 * its OR, never the whole table. */
static void test_poll_uses_indexes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *plan = "";
    aj_test_db_t *db;

    (void)aj_test_store_fresh(&db, p);
    aj_test_db_exec(db, "ANALYZE");
    assert_int_equal(apr_dbd_select(db->driver, p, db->handle, &res,
                                    "EXPLAIN QUERY PLAN SELECT id, tokens_valid_after, changed_at"
                                    " FROM users WHERE tokens_valid_after >= CAST('5' AS BIGINT)"
                                    " OR changed_at >= CAST('5' AS BIGINT)",
                                    1),
                     0);
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        plan = apr_pstrcat(p, plan, apr_dbd_get_entry(db->driver, row, 3), "\n", NULL);
    }
    if (!strstr(plan, "users_tokens_valid_after") || !strstr(plan, "users_changed_at")) {
        fail_msg("the poll does not use both indexes:\n%s", plan);
    }
}

/* ---- revocations ---------------------------------------------------------- */

typedef struct {
    int n;
    char jti[AJ_JTI_MAX_LEN + 1]; /* the last one reported */
    apr_int64_t exp;
} revs_t;

static void rev_one(void *baton, const char *jti, apr_int64_t exp)
{
    revs_t *r = baton;

    ++r->n;
    apr_cpystrn(r->jti, jti, sizeof(r->jti));
    r->exp = exp;
}

static revs_t poll_revocations(aj_store_t *st, apr_pool_t *p, apr_int64_t since, apr_int64_t now)
{
    revs_t r;

    memset(&r, 0, sizeof(r));
    assert_int_equal(aj_store_revoked_since(st, p, since, now, rev_one, &r), APR_SUCCESS);
    return r;
}

/* An operator's row with only (jti, expires_at): accepted, and stamped with
 * the insert time so that a refresh from just before it sees it. */
static void assert_operator_insert_seen(const aj_test_db_t *db, aj_store_t *st, apr_pool_t *p,
                                        const char *jti)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t exp = now + 3600;
    revs_t r;

    aj_test_db_exec(db, apr_psprintf(p,
                                     "INSERT INTO revoked_tokens (jti, expires_at)"
                                     " VALUES ('%s', %" APR_INT64_T_FMT ")",
                                     jti, exp));
    r = poll_revocations(st, p, now - 1, now);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.jti, jti);
    assert_int_equal(r.exp, exp);
}

static void test_operator_revocation(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_int64_t now = apr_time_sec(apr_time_now());
    aj_test_db_t *db;
    aj_store_t *st;
    const char *created;

    st = aj_test_store_fresh(&db, p);
    assert_operator_insert_seen(db, st, p, "op-jti-1");
    /* and a user inserted with the required columns only */
    aj_test_db_exec(db, "INSERT INTO users (username, password_hash) VALUES ('op', '$2y$04$x')");
    created = aj_test_db_value(db, p, "SELECT created_at FROM users WHERE username = 'op'");
    assert_non_null(created);
    assert_true(apr_atoi64(created) >= now && apr_atoi64(created) <= now + 5);
}

static void test_revocations(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    apr_int64_t exp = -1;
    revs_t r;
    int pruned = -1;

    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j1"), APR_NOTFOUND);
    assert_int_equal(exp, -1);
    assert_int_equal(aj_store_revoke_add(st, p, "j1", 2000, 1000), APR_SUCCESS);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j1"), APR_SUCCESS);
    assert_int_equal(exp, 2000);
    /* a second logout of the same token changes nothing */
    assert_int_equal(aj_store_revoke_add(st, p, "j1", 9000, 1500), APR_SUCCESS);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j1"), APR_SUCCESS);
    assert_int_equal(exp, 2000);
    assert_string_equal(aj_test_db_value(db, p, "SELECT count(*) FROM revoked_tokens"), "1");
    assert_string_equal(aj_test_db_value(db, p, "SELECT revoked_at FROM revoked_tokens"), "1000");

    assert_int_equal(aj_store_revoke_add(st, p, "j2", 3000, 1200), APR_SUCCESS);
    /* since: recorded at or after it */
    r = poll_revocations(st, p, 1000, 1000);
    assert_int_equal(r.n, 2);
    r = poll_revocations(st, p, 1001, 1000);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.jti, "j2");
    assert_int_equal(r.exp, 3000);
    assert_int_equal(poll_revocations(st, p, 1201, 1000).n, 0);
    /* now: expired ones (expires_at <= now) are not reported */
    r = poll_revocations(st, p, 0, 2000);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.jti, "j2");
    assert_int_equal(poll_revocations(st, p, 0, 3000).n, 0);

    /* prune: what has expired at now, and only that */
    assert_int_equal(aj_store_revoke_prune(&pruned, st, p, 1999), APR_SUCCESS);
    assert_int_equal(pruned, 0);
    assert_int_equal(aj_store_revoke_prune(&pruned, st, p, 2000), APR_SUCCESS);
    assert_int_equal(pruned, 1);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j1"), APR_NOTFOUND);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j2"), APR_SUCCESS);
    assert_int_equal(aj_store_revoke_prune(&pruned, st, p, 2000), APR_SUCCESS);
    assert_int_equal(pruned, 0);
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
    NULL
};

static void test_upgrade(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_db_path(p);
    const char *const *sql;
    aj_test_db_t *db, *db2;
    aj_store_t *st;
    aj_user_t *u = NULL;
    apr_int64_t id = 0, exp = 0;
    int nrows = 0;

    db = aj_test_db_open(p, path);
    for (sql = old_schema; *sql; ++sql) {
        aj_test_db_exec(db, *sql);
    }
    /* the old definition refuses an operator's row */
    assert_int_not_equal(apr_dbd_query(db->driver, db->handle, &nrows,
                                       "INSERT INTO revoked_tokens (jti, expires_at)"
                                       " VALUES ('x', 1)"),
                         0);

    st = aj_test_store_open(db, p);
    /* the data survived */
    assert_int_equal(aj_store_user_by_name(&u, p, st, "old"), APR_SUCCESS);
    assert_int_equal(u->id, 1);
    assert_int_equal(u->created_at, 7);
    assert_int_equal(u->changed_at, 0);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "old-jti"), APR_SUCCESS);
    assert_int_equal(exp, 99999999999LL);
    assert_string_equal(aj_test_db_value(db, p,
                                         "SELECT revoked_at FROM revoked_tokens"
                                         " WHERE jti = 'old-jti'"),
                        "42");
    /* the new columns and indexes are there */
    assert_true(has_object(db, p, "index", "revoked_tokens_revoked_at"));
    assert_true(has_object(db, p, "index", "revoked_tokens_expires_at"));
    assert_true(has_object(db, p, "index", "users_changed_at"));
    assert_null(aj_test_db_value(db, p,
                                 "SELECT name FROM sqlite_master"
                                 " WHERE name = 'revoked_tokens_aj_upgrade'"));
    assert_operator_insert_seen(db, st, p, "op-jti-2");
    assert_int_equal(aj_store_user_set_claims(st, p, u->id, "{}", 1234), APR_SUCCESS);
    assert_int_equal(poll_users(st, p, 1234).n, 1);
    /* ids are never reused: the AUTOINCREMENT sequence was kept */
    assert_int_equal(aj_store_user_add(&id, p, st, "new", "$2y$04$n", "{}", 9), APR_SUCCESS);
    assert_int_equal(id, 3);

    /* a second connection (another child) finds nothing left to do, and
     * opening again is harmless */
    db2 = aj_test_db_open(p, path);
    (void)aj_test_store_open(db2, p);
    (void)aj_test_store_open(db2, p);
    assert_string_equal(aj_test_db_value(db2, p, "SELECT count(*) FROM revoked_tokens"), "2");
    aj_test_db_close(db2, p);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_schema_created),
    AJ_TEST(test_user_add_and_lookup),
    AJ_TEST(test_user_update_and_delete),
    AJ_TEST(test_user_each),
    AJ_TEST(test_max_bcrypt_cost),
    AJ_TEST(test_changed_at),
    AJ_TEST(test_poll_uses_indexes),
    AJ_TEST(test_operator_revocation),
    AJ_TEST(test_revocations),
    AJ_TEST(test_upgrade),
};

AJ_TEST_MAIN("aj_store", tests)

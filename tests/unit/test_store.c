/*
 * test_store.c — the store (aj_store.c) over apr_dbd's sqlite3 driver, on a
 * real database file in a temporary directory (tests/unit/support/store.h),
 * function by function: schema creation and the upgrade of a database made
 * by an earlier version; users added, looked up, listed, changed and
 * deleted; users.changed_at and the poll that reports it; revocations
 * recorded, polled and pruned, also when inserted by an operator with the
 * documented columns only; descriptions for log lines without passwords;
 * and the failures: a read-only file, a missing table, a corrupt file,
 * inputs at and over their limits.
 */
#include "aj_test.h"
#include "aj_store.h"
#include "store.h"
#include "tmp.h"

/* Hashes as the store sees them: it never checks them, only reads the
 * bcrypt cost out of the "$2y$NN$" prefix. */
#define HASH_A "$2y$04$x"
#define HASH_B "$2y$04$y"

/* An empty database file with the schema made. */
static aj_store_t *fresh_store(aj_test_db_t **db, apr_pool_t *p)
{
    *db = aj_test_db_open(p, aj_test_db_path(p));
    return aj_test_store_open(*db, p);
}

/* Adds a user and returns its id; fails the test when it cannot. */
static apr_int64_t add_user(aj_store_t *st, apr_pool_t *p, const char *name, const char *hash,
                            apr_int64_t now)
{
    apr_int64_t id = 0;

    assert_int_equal(aj_store_user_add(&id, p, st, name, hash, "{}", now), APR_SUCCESS);
    assert_true(id > 0);
    return id;
}

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

/* An empty file gets both tables, the three indexes the polls use, and WAL
 * mode (kept in the file: readers never block the writer). */
static void test_schema_created(void **state)
{
    static const char *const tables[] = { "users", "revoked_tokens" };
    static const char *const indexes[] = { "revoked_tokens_revoked_at",
                                           "users_tokens_valid_after", "users_changed_at" };
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    apr_size_t i;

    (void)fresh_store(&db, p);
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
}

/* ---- users ------------------------------------------------------------------ */

static void test_user_add_and_lookup(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = fresh_store(&db, p);
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
    id = add_user(st, p, "o'brien \xc3\xbc", HASH_B, 100);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_SUCCESS);
    assert_string_equal(u->username, "o'brien \xc3\xbc");
}

static void test_user_update_and_delete(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st = fresh_store(&db, p);
    aj_user_t *u = NULL;
    apr_int64_t id = add_user(st, p, "alice", HASH_A, 100), again;

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
    again = add_user(st, p, "alice", HASH_A, 800);
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
    aj_store_t *st = fresh_store(&db, p);
    apr_int64_t ids[3];
    each_t e;
    int i;

    memset(&e, 0, sizeof(e));
    assert_int_equal(aj_store_user_each(st, p, each_one, &e), APR_SUCCESS);
    assert_int_equal(e.n, 0);
    for (i = 0; i < 3; ++i) {
        ids[i] = add_user(st, p, names[i], HASH_A, 1);
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
    aj_store_t *st = fresh_store(&db, p);
    int cost = -1;

    assert_int_equal(aj_store_max_bcrypt_cost(&cost, st, p), APR_SUCCESS);
    assert_int_equal(cost, 0);
    (void)add_user(st, p, "a", "$2y$04$abc", 1);
    (void)add_user(st, p, "b", "$2b$11$abc", 1);
    (void)add_user(st, p, "c", "$2y$07$abc", 1);
    (void)add_user(st, p, "d", "$argon2id$v=19$m=65536", 1);
    (void)add_user(st, p, "e", "$2y$99$abc", 1); /* beyond bcrypt's range: ignored */
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

    st = fresh_store(&db, p);
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

    (void)fresh_store(&db, p);
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

#define REVS_MAX 8
typedef struct {
    int n;
    char jti[AJ_JTI_MAX_LEN + 1];   /* the last one reported */
    apr_int64_t exp;
} revs_t;

static void rev_one(void *baton, const char *jti, apr_int64_t exp)
{
    revs_t *r = baton;

    ++r->n;
    apr_cpystrn(r->jti, jti, sizeof(r->jti));
    r->exp = exp;
}

static revs_t poll_revocations(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                               apr_int64_t now)
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

    st = fresh_store(&db, p);
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
    aj_store_t *st = fresh_store(&db, p);
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
    assert_string_equal(aj_test_db_value(db, p, "SELECT revoked_at FROM revoked_tokens"),
                        "1000");

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
    NULL};

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
    (void)add_user(st, p, "alice", HASH_A, 1);
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
    aj_store_t *st = fresh_store(&db, p);
    apr_int64_t id = add_user(st, p, "alice", HASH_A, 1), exp = 0;
    aj_user_t *u = NULL;
    each_t e;
    poll_t pl;
    revs_t r;
    int n = 0;

    aj_test_db_exec(db, "DROP TABLE users");
    aj_test_db_exec(db, "DROP TABLE revoked_tokens");
    memset(&e, 0, sizeof(e));
    assert_int_equal(aj_store_user_by_name(&u, p, st, "alice"), APR_EGENERAL);
    assert_int_equal(aj_store_user_by_id(&u, p, st, id), APR_EGENERAL);
    assert_null(u);
    assert_int_equal(aj_store_user_add(&id, p, st, "bob", HASH_A, "{}", 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_password(st, p, id, HASH_B, 1, 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_claims(st, p, id, "{}", 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_set_valid_after(st, p, id, 1), APR_EGENERAL);
    assert_int_equal(aj_store_user_delete(st, p, id), APR_EGENERAL);
    assert_int_equal(aj_store_user_each(st, p, each_one, &e), APR_EGENERAL);
    assert_int_equal(aj_store_users_revoked_since(st, p, 0, poll_one, &pl), APR_EGENERAL);
    assert_int_equal(aj_store_max_bcrypt_cost(&n, st, p), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_add(st, p, "j", 10, 1), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_get(&exp, st, p, "j"), APR_EGENERAL);
    assert_int_equal(aj_store_revoked_since(st, p, 0, 0, rev_one, &r), APR_EGENERAL);
    assert_int_equal(aj_store_revoke_prune(&n, st, p, 1), APR_EGENERAL);
    assert_int_equal(e.n, 0);
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

/* KNOWN BUG, reported to the integrator, not fixed here (the store is being
 * reworked elsewhere): apr_dbd_sqlite3 prepares with the legacy
 * sqlite3_prepare(), whose statements are not prepared again after a schema
 * change.  Any change made by another connection (an operator's CREATE
 * INDEX or ANALYZE, another process creating the schema) makes every
 * statement of an open store fail until its connection is closed: the
 * first failure says "database schema has changed", the next ones "not an
 * error".  Skipped unless AJ_TEST_KNOWN_BUGS is set; it fails today. */
static void test_schema_change_elsewhere(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db, *other;
    aj_store_t *st = fresh_store(&db, p);
    aj_user_t *u = NULL;

    if (!getenv("AJ_TEST_KNOWN_BUGS")) {
        skip();
    }
    (void)add_user(st, p, "alice", HASH_A, 1);
    other = aj_test_db_open(p, db->path);
    aj_test_db_exec(other, "CREATE INDEX operator_extra ON users (username, created_at)");
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
    aj_store_t *st = fresh_store(&db, p);
    const char *name = repeat(p, 'n', AJ_USERNAME_MAX_LEN);
    const char *jti = repeat(p, 'j', AJ_JTI_MAX_LEN);
    char *claims = apr_palloc(p, AJ_CLAIMS_MAX_LEN + 1);
    apr_int64_t id = 0, exp = 0;
    aj_user_t *u = NULL;
    revs_t r;

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
    r = poll_revocations(st, p, 0, 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.jti, jti);
}

/* A driver message longer than the store keeps is cut, not overrun: a
 * trigger makes SQLite fail the insert with a message of our choosing.  The
 * store is opened again after the trigger is made: statements prepared
 * before a schema change fail (see test_schema_change_elsewhere). */
#define LONG_MESSAGE_LEN 1000
static void test_long_error_message(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    aj_store_t *st;
    const char *msg = repeat(p, 'm', LONG_MESSAGE_LEN), *got;
    apr_int64_t id = 0;

    (void)fresh_store(&db, p);
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
        "", "a:b", "a\tb", "a\x7f", "a\xc2\x85", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    };
    apr_pool_t *p = AJ_POOL(state);
    const char *longest = repeat(p, 'a', AJ_USERNAME_MAX_LEN);
    const char *too_long = repeat(p, 'a', AJ_USERNAME_MAX_LEN + 1);
    apr_size_t i;

    assert_null(aj_store_username_problem("alice", 5));
    assert_null(aj_store_username_problem("j\xc3\xbcrgen", 7)); /* UTF-8 */
    for (i = 0; i < sizeof(refused) / sizeof(*refused); ++i) {
        if (!aj_store_username_problem(refused[i], strlen(refused[i]))) {
            fail_msg("accepted: case %d", (int)i);
        }
    }
    assert_null(aj_store_username_problem(longest, AJ_USERNAME_MAX_LEN));
    assert_non_null(aj_store_username_problem(too_long, AJ_USERNAME_MAX_LEN + 1));
    /* the length given is what counts, not a NUL further on */
    assert_non_null(aj_store_username_problem("a\0b", 3));
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
        const char *want = cases[i].shown
                               ? apr_psprintf(p, "%s connection '%s'", cases[i].driver,
                                              cases[i].shown)
                               : apr_pstrcat(p, cases[i].driver,
                                             " connection (parameters not shown)", NULL);
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
    const char *got = aj_store_describe(p, "pgsql",
                                        apr_pstrcat(p, "password=s3cret host=", host, NULL));

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
    AJ_TEST(test_read_only_file),
    AJ_TEST(test_missing_table),
    AJ_TEST(test_corrupt_file),
    AJ_TEST(test_schema_change_elsewhere),
    AJ_TEST(test_values_at_limits),
    AJ_TEST(test_long_error_message),
    AJ_TEST(test_username_problem),
    AJ_TEST(test_describe),
    AJ_TEST(test_describe_long),
    AJ_TEST(test_permission_errors),
};

AJ_TEST_MAIN("aj_store", tests)

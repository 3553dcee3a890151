/*
 * test_store_refresh.c — refresh tokens and their families in the store
 * (aj_store_refresh.c) over apr_dbd's sqlite3 driver, on a real database
 * file (tests/unit/support/store.h): the tables on a new and on an older
 * database; issue, consume and rotation; expiry (the token's and the
 * family's); unknown tokens; reuse; revoking a family and every family of
 * a user, with the revocation rows the poll carries to other nodes;
 * pruning; and 20 connections racing to consume one token.
 */
#include <pthread.h>

#include <apr_hash.h>

#include "aj_test.h"
#include "aj_refresh.h"
#include "aj_store_refresh.h"
#include "store.h"

/* A password login at T_LOGIN, sessions of T_MAX_AGE (AuthJWTMaxSessionAge),
 * refresh tokens of T_LIFETIME (AuthJWTRefreshLifetime), access tokens of
 * T_ACCESS (AuthJWTLifetime). */
#define T_LOGIN    1000000
#define T_MAX_AGE  86400
#define T_LIFETIME 3600
#define T_ACCESS   300
#define T_END      (T_LOGIN + T_MAX_AGE)
/* Connections racing for one token (20 concurrent refreshes, one winner). */
#define RACERS     20

/* A new family of user uid, logged in at T_LOGIN, recorded in the store. */
static aj_refresh_family_t *family_add(aj_store_t *st, apr_pool_t *p, apr_int64_t uid)
{
    aj_refresh_family_t *fam = apr_pcalloc(p, sizeof(*fam));

    assert_int_equal(aj_refresh_family_new(&fam->family, p), APR_SUCCESS);
    fam->user_id = uid;
    fam->auth_time = T_LOGIN;
    fam->expires_at = T_END;
    assert_int_equal(aj_store_refresh_family_add(st, p, fam), APR_SUCCESS);
    return fam;
}

/* A new token of fam issued at now; its hash (the raw token is dropped, as
 * the glue hands it to the client). */
static const char *token_add(aj_store_t *st, apr_pool_t *p, const aj_refresh_family_t *fam,
                             apr_int64_t now)
{
    const char *raw = NULL, *hash = NULL;
    apr_int64_t exp = 0;

    assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, T_LIFETIME, now), APR_SUCCESS);
    assert_true(exp > now);
    return hash;
}

/* The verdict of consuming hash at now (the store must answer). */
static aj_refresh_verdict_e consume(aj_refresh_family_t **fam, aj_store_t *st, apr_pool_t *p,
                                    const char *hash, apr_int64_t now)
{
    aj_refresh_verdict_e v = AJ_REFRESH_UNKNOWN;
    aj_refresh_family_t *ignored = NULL;

    assert_int_equal(aj_store_refresh_consume(&v, fam ? fam : &ignored, st, p, hash, now),
                     APR_SUCCESS);
    return v;
}

static const char *count(const aj_test_db_t *db, apr_pool_t *p, const char *table)
{
    return aj_test_db_value(db, p, apr_psprintf(p, "SELECT count(*) FROM %s", table));
}

static void assert_refresh_schema(const aj_test_db_t *db, apr_pool_t *p)
{
    static const char *const objects[] = {
        "refresh_families",
        "refresh_tokens",
        "refresh_tokens_family",
        "refresh_tokens_user_id",
        "refresh_tokens_expires_at",
        "refresh_families_user_id",
        "refresh_families_expires_at",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(objects) / sizeof(*objects); ++i) {
        if (!aj_test_db_value(
                db, p,
                apr_psprintf(p, "SELECT name FROM sqlite_master WHERE name = '%s'", objects[i]))) {
            fail_msg("%s is missing", objects[i]);
        }
    }
}

/* ---- schema --------------------------------------------------------------- */

/* A new database gets both tables and the indexes the look-ups use: a
 * revocation by family or by user and pruning never read a whole table. */
static void test_schema(void **state)
{
    static const struct {
        const char *sql, *index;
    } uses[] = {
        { "UPDATE refresh_tokens SET used_at = 1 WHERE family = 'f' AND used_at IS NULL",
          "refresh_tokens_family" },
        { "UPDATE refresh_tokens SET used_at = 1 WHERE user_id = 1 AND used_at IS NULL",
          "refresh_tokens_user_id" },
        { "UPDATE refresh_families SET revoked_at = 1 WHERE user_id = 1 AND revoked_at IS NULL",
          "refresh_families_user_id" },
        { "DELETE FROM refresh_tokens WHERE expires_at <= 5", "refresh_tokens_expires_at" },
        { "DELETE FROM refresh_families WHERE expires_at <= 5 AND NOT EXISTS (SELECT 1"
          " FROM refresh_tokens t WHERE t.family = refresh_families.family)",
          "refresh_families_expires_at" },
    };
    apr_pool_t *p = AJ_POOL(state);
    aj_test_db_t *db;
    apr_size_t i;

    (void)aj_test_store_fresh(&db, p);
    assert_refresh_schema(db, p);
    assert_string_equal(count(db, p, "refresh_tokens"), "0");
    aj_test_db_exec(db, "ANALYZE");
    for (i = 0; i < sizeof(uses) / sizeof(*uses); ++i) {
        const char *how = aj_test_db_plan(db, p, uses[i].sql);
        if (!strstr(how, uses[i].index)) {
            fail_msg("%s does not use %s:\n%s", uses[i].sql, uses[i].index, how);
        }
    }
}

/* A database made before refresh tokens existed (users and revoked_tokens
 * only, as the previous version left it) gets both tables and their
 * indexes when a store opens it, keeping what it held. */
static void test_migration(void **state)
{
    static const char *const old_schema[] = {
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,"
        " password_hash TEXT NOT NULL, claims TEXT NOT NULL DEFAULT '{}',"
        " tokens_valid_after BIGINT NOT NULL DEFAULT 0,"
        " created_at BIGINT NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)),"
        " changed_at BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE revoked_tokens (jti TEXT NOT NULL PRIMARY KEY, expires_at BIGINT NOT NULL,"
        " revoked_at BIGINT NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)))",
        "CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at)",
        "CREATE INDEX users_tokens_valid_after ON users (tokens_valid_after)",
        "CREATE INDEX users_changed_at ON users (changed_at)",
        "INSERT INTO users (username, password_hash) VALUES ('old', '$2y$04$o')",
        "INSERT INTO revoked_tokens VALUES ('old-jti', 99999999999, 42)",
        NULL,
    };
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_db_path(p);
    const char *const *sql;
    aj_refresh_family_t *fam, *got = NULL;
    aj_test_db_t *db;
    aj_store_t *st;

    db = aj_test_db_open(p, path);
    for (sql = old_schema; *sql; ++sql) {
        aj_test_db_exec(db, *sql);
    }
    assert_null(
        aj_test_db_value(db, p, "SELECT name FROM sqlite_master WHERE name = 'refresh_tokens'"));
    aj_test_db_close(db, p);

    db = aj_test_db_open(p, path);
    st = aj_test_store_open(db, p);
    assert_refresh_schema(db, p);
    assert_string_equal(count(db, p, "users"), "1");
    assert_string_equal(count(db, p, "revoked_tokens"), "1");
    fam = family_add(st, p, 1);
    assert_int_equal(consume(&got, st, p, token_add(st, p, fam, T_LOGIN), T_LOGIN + 1),
                     AJ_REFRESH_OK);
    assert_string_equal(got->family, fam->family);
}

/* ---- issue, consume, rotate -------------------------------------------- */

static void test_rotation(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *fam, *got = NULL;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *first, *second;
    apr_int64_t now = T_LOGIN;
    int i;

    fam = family_add(st, p, 7);
    first = token_add(st, p, fam, now);
    /* only the hash is stored */
    assert_string_equal(aj_test_db_value(db, p, "SELECT hash FROM refresh_tokens"), first);

    /* a chain of rotations: each token is good once, the family stays */
    for (i = 0; i < 5; ++i) {
        now += T_LIFETIME / 2;
        assert_int_equal(consume(&got, st, p, first, now), AJ_REFRESH_OK);
        assert_string_equal(got->family, fam->family);
        assert_int_equal(got->user_id, 7);
        assert_int_equal(got->auth_time, T_LOGIN);
        assert_int_equal(got->expires_at, T_END);
        second = token_add(st, p, got, now);
        assert_string_not_equal(second, first);
        first = second;
    }
    assert_string_equal(count(db, p, "refresh_tokens WHERE used_at IS NULL"), "1");
    assert_string_equal(count(db, p, "refresh_families"), "1");
}

/* A token never outlives its family; a family that is unknown, revoked or
 * ended takes no new token; a raw token (or anything not a hash) is
 * refused before SQL, as are bad arguments. */
static void test_issue_limits(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *fam, ghost = { "no-such-family", 1, T_LOGIN, T_END };
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *raw = NULL, *hash = NULL, *key = NULL;
    apr_int64_t exp = 0, until = 0;

    fam = family_add(st, p, 1);
    assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);

    /* capped at the family's end */
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, T_LIFETIME, T_END - 10),
                     APR_SUCCESS);
    assert_int_equal(exp, T_END);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, token_add(st, p, fam, T_LOGIN),
                                            T_LIFETIME, T_LOGIN),
                     APR_NOTFOUND); /* that hash is taken */
    exp = 0;
    assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, T_LIFETIME, T_LOGIN),
                     APR_SUCCESS);
    assert_int_equal(exp, T_LOGIN + T_LIFETIME);

    /* ended, unknown */
    assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);
    exp = 42;
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, T_LIFETIME, T_END),
                     APR_NOTFOUND);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, &ghost, hash, T_LIFETIME, T_LOGIN),
                     APR_NOTFOUND);
    assert_int_equal(exp, 42); /* untouched on failure */

    /* refused before SQL */
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, raw, T_LIFETIME, T_LOGIN),
                     APR_EINVAL);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, NULL, T_LIFETIME, T_LOGIN),
                     APR_EINVAL);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, 0, T_LOGIN), APR_EINVAL);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, NULL, hash, T_LIFETIME, T_LOGIN),
                     APR_EINVAL);

    /* revoked */
    assert_int_equal(
        aj_store_refresh_revoke_family(&key, &until, st, p, fam->family, T_ACCESS, T_LOGIN + 1),
        APR_SUCCESS);
    assert_int_equal(aj_store_refresh_issue(&exp, st, p, fam, hash, T_LIFETIME, T_LOGIN + 2),
                     APR_NOTFOUND);
    assert_string_equal(count(db, p, "refresh_tokens"), "3");
}

/* Family records: added once, read back; a taken id is APR_EEXIST. */
static void test_family_records(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *fam, *got = NULL;
    apr_int64_t revoked_at = -1, until = 0;
    const char *key = NULL;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);

    fam = family_add(st, p, 3);
    assert_int_equal(aj_store_refresh_family_add(st, p, fam), APR_EEXIST);
    assert_int_equal(aj_store_refresh_family_get(&got, &revoked_at, st, p, fam->family),
                     APR_SUCCESS);
    assert_string_equal(got->family, fam->family);
    assert_int_equal(got->user_id, 3);
    assert_int_equal(got->auth_time, T_LOGIN);
    assert_int_equal(got->expires_at, T_END);
    assert_int_equal(revoked_at, 0);
    assert_int_equal(aj_store_refresh_family_get(&got, NULL, st, p, "nope"), APR_NOTFOUND);
    assert_int_equal(aj_store_refresh_family_get(&got, NULL, st, p, ""), APR_EINVAL);
    assert_int_equal(aj_store_refresh_revoke_family(&key, &until, st, p, fam->family, 0, 5000),
                     APR_SUCCESS);
    assert_int_equal(aj_store_refresh_family_get(NULL, &revoked_at, st, p, fam->family),
                     APR_SUCCESS);
    assert_int_equal(revoked_at, 5000);
}

/* ---- refusals ------------------------------------------------------------- */

static void test_expiry(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *fam, *got = NULL;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *hash;

    fam = family_add(st, p, 1);
    hash = token_add(st, p, fam, T_LOGIN);
    /* at its expiry exactly: expired (expires_at > now is required) */
    assert_int_equal(consume(&got, st, p, hash, T_LOGIN + T_LIFETIME), AJ_REFRESH_EXPIRED);
    assert_string_equal(got->family, fam->family);
    /* still unused: one second earlier it would have worked */
    assert_int_equal(consume(NULL, st, p, hash, T_LOGIN + T_LIFETIME - 1), AJ_REFRESH_OK);

    /* the family's end binds even a token an operator extended */
    hash = token_add(st, p, fam, T_LOGIN);
    aj_test_db_exec(db, "UPDATE refresh_tokens SET expires_at = 99999999999");
    assert_int_equal(consume(NULL, st, p, hash, T_END), AJ_REFRESH_EXPIRED);
    assert_int_equal(consume(NULL, st, p, hash, T_END - 1), AJ_REFRESH_OK);
}

static void test_unknown(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *got = NULL;
    aj_refresh_verdict_e v = AJ_REFRESH_OK;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *raw = NULL, *hash = NULL;

    assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);
    assert_int_equal(aj_store_refresh_consume(&v, &got, st, p, hash, T_LOGIN), APR_SUCCESS);
    assert_int_equal(v, AJ_REFRESH_UNKNOWN);
    assert_null(got);
    /* a raw token is never looked up */
    v = AJ_REFRESH_OK;
    assert_int_equal(aj_store_refresh_consume(&v, &got, st, p, raw, T_LOGIN), APR_EINVAL);
    assert_int_equal(aj_store_refresh_consume(&v, &got, st, p, NULL, T_LOGIN), APR_EINVAL);
    assert_int_equal(aj_store_refresh_consume(&v, &got, st, p, "' OR 1=1 --", T_LOGIN), APR_EINVAL);
    assert_int_equal(v, AJ_REFRESH_OK); /* untouched */
}

/* ---- reuse and revocation ------------------------------------------------ */

/* Presenting a consumed token is a reuse; revoking the family then spends
 * its live token too, blocks new ones, and records the revocation of every
 * access token of the family (sid) until its end + the access lifetime. */
static void test_reuse_revokes_family(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *fam, *other, *got = NULL;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *stolen, *next, *kept, *key = NULL;
    apr_int64_t until = 0, exp = 0, now = T_LOGIN + 60;

    fam = family_add(st, p, 1);
    other = family_add(st, p, 1);
    kept = token_add(st, p, other, T_LOGIN);
    stolen = token_add(st, p, fam, T_LOGIN);
    assert_int_equal(consume(&got, st, p, stolen, now), AJ_REFRESH_OK);
    next = token_add(st, p, got, now);

    /* the replay */
    assert_int_equal(consume(&got, st, p, stolen, now + 1), AJ_REFRESH_REUSED);
    assert_string_equal(got->family, fam->family);
    assert_int_equal(got->user_id, 1);
    assert_int_equal(
        aj_store_refresh_revoke_family(&key, &until, st, p, got->family, T_ACCESS, now + 1),
        APR_SUCCESS);
    assert_string_equal(key, aj_refresh_sid_key(p, fam->family));
    assert_int_equal(until, T_END + T_ACCESS);

    /* the legitimate holder's next token is dead too, and nothing new enters */
    assert_int_equal(consume(NULL, st, p, next, now + 2), AJ_REFRESH_REUSED);
    assert_int_equal(
        aj_store_refresh_issue(&exp, st, p, fam, token_add(st, p, other, now), 60, now + 2),
        APR_NOTFOUND);
    assert_string_equal(count(db, p,
                              apr_psprintf(p,
                                           "refresh_tokens WHERE family = '%s'"
                                           " AND used_at IS NULL",
                                           fam->family)),
                        "0");
    /* the revocation row other nodes poll */
    assert_string_equal(
        aj_test_db_value(db, p,
                         apr_psprintf(p,
                                      "SELECT expires_at || '/' || revoked_at FROM revoked_tokens"
                                      " WHERE jti = '%s'",
                                      key)),
        apr_psprintf(p, "%d/%" APR_INT64_T_FMT, T_END + T_ACCESS, now + 1));
    assert_int_equal(aj_store_revoke_get(&exp, st, p, key), APR_SUCCESS);
    assert_int_equal(exp, T_END + T_ACCESS);

    /* idempotent; the other family of the same user is untouched */
    assert_int_equal(
        aj_store_refresh_revoke_family(&key, &until, st, p, fam->family, T_ACCESS, now + 5),
        APR_SUCCESS);
    assert_string_equal(count(db, p, "revoked_tokens"), "1");
    assert_int_equal(consume(NULL, st, p, kept, now + 6), AJ_REFRESH_OK);
    key = "untouched";
    assert_int_equal(aj_store_refresh_revoke_family(&key, &until, st, p, "nope", 0, now),
                     APR_NOTFOUND);
    assert_string_equal(key, "untouched");
    assert_string_equal(count(db, p, "revoked_tokens"), "1");
}

typedef struct {
    apr_pool_t *p;
    apr_hash_t *keys; /* sid key -> until */
} sids_t;

static void collect_sid(void *baton, const char *sid_key, apr_int64_t until)
{
    sids_t *s = baton;
    apr_int64_t *u = apr_palloc(s->p, sizeof(*u));

    *u = until;
    apr_hash_set(s->keys, apr_pstrdup(s->p, sid_key), APR_HASH_KEY_STRING, u);
}

static apr_int64_t sid_until(const sids_t *s, apr_pool_t *p, const aj_refresh_family_t *fam)
{
    const apr_int64_t *u =
        apr_hash_get(s->keys, aj_refresh_sid_key(p, fam->family), APR_HASH_KEY_STRING);
    return u ? *u : -1;
}

/* Revoke-all / password change: every family of the user, none of
 * another's; each one's sid reported and recorded. */
static void test_revoke_user(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *a1, *a2, *b;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *ta1, *ta2, *tb;
    sids_t s = { p, apr_hash_make(p) };
    int revoked = -1;

    a1 = family_add(st, p, 1);
    a2 = family_add(st, p, 1);
    b = family_add(st, p, 2);
    ta1 = token_add(st, p, a1, T_LOGIN);
    ta2 = token_add(st, p, a2, T_LOGIN);
    tb = token_add(st, p, b, T_LOGIN);

    assert_int_equal(
        aj_store_refresh_revoke_user(&revoked, st, p, 1, T_ACCESS, T_LOGIN + 10, collect_sid, &s),
        APR_SUCCESS);
    assert_int_equal(revoked, 2);
    assert_int_equal(apr_hash_count(s.keys), 2);
    assert_int_equal(sid_until(&s, p, a1), T_END + T_ACCESS);
    assert_int_equal(sid_until(&s, p, a2), T_END + T_ACCESS);
    assert_string_equal(count(db, p, "revoked_tokens WHERE revoked_at = 1000010"), "2");
    assert_int_equal(consume(NULL, st, p, ta1, T_LOGIN + 11), AJ_REFRESH_REUSED);
    assert_int_equal(consume(NULL, st, p, ta2, T_LOGIN + 11), AJ_REFRESH_REUSED);
    assert_int_equal(consume(NULL, st, p, tb, T_LOGIN + 11), AJ_REFRESH_OK);

    /* again: nothing newly revoked, the live revocations reported again,
     * no duplicate rows; a NULL callback is allowed */
    s.keys = apr_hash_make(p);
    assert_int_equal(
        aj_store_refresh_revoke_user(&revoked, st, p, 1, T_ACCESS, T_LOGIN + 20, collect_sid, &s),
        APR_SUCCESS);
    assert_int_equal(revoked, 0);
    assert_int_equal(apr_hash_count(s.keys), 2);
    assert_string_equal(count(db, p, "revoked_tokens"), "2");
    assert_int_equal(
        aj_store_refresh_revoke_user(&revoked, st, p, 3, T_ACCESS, T_LOGIN + 20, NULL, NULL),
        APR_SUCCESS);
    assert_int_equal(revoked, 0);

    /* past a family's end + the access lifetime its revocation is moot */
    s.keys = apr_hash_make(p);
    assert_int_equal(aj_store_refresh_revoke_user(&revoked, st, p, 1, T_ACCESS, T_END + T_ACCESS,
                                                  collect_sid, &s),
                     APR_SUCCESS);
    assert_int_equal(apr_hash_count(s.keys), 0);
}

/* ---- pruning ------------------------------------------------------------- */

static void test_prune(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_refresh_family_t *old, *live;
    aj_test_db_t *db;
    aj_store_t *st = aj_test_store_fresh(&db, p);
    const char *key = NULL, *live_token;
    apr_int64_t until = 0;
    int pruned = -1;

    old = family_add(st, p, 1);
    (void)token_add(st, p, old, T_LOGIN);            /* expires T_LOGIN + T_LIFETIME */
    (void)token_add(st, p, old, T_END - T_LIFETIME); /* expires T_END */
    live = family_add(st, p, 1);
    aj_test_db_exec(db, apr_psprintf(p,
                                     "UPDATE refresh_families SET expires_at = %d"
                                     " WHERE family = '%s'",
                                     T_END + T_MAX_AGE, live->family));
    live->expires_at = T_END + T_MAX_AGE;
    live_token = token_add(st, p, live, T_END - 1);
    assert_int_equal(
        aj_store_refresh_revoke_family(&key, &until, st, p, old->family, T_ACCESS, T_LOGIN),
        APR_SUCCESS);

    /* the first token has expired; the family keeps a token: kept */
    assert_int_equal(aj_store_refresh_prune(&pruned, st, p, T_LOGIN + T_LIFETIME), APR_SUCCESS);
    assert_int_equal(pruned, 1);
    assert_string_equal(count(db, p, "refresh_families"), "2");
    /* at the family's end: its last token, then the family */
    assert_int_equal(aj_store_refresh_prune(&pruned, st, p, T_END), APR_SUCCESS);
    assert_int_equal(pruned, 2);
    assert_string_equal(count(db, p, "refresh_families"), "1");
    assert_string_equal(count(db, p, "refresh_tokens"), "1");
    assert_int_equal(aj_store_refresh_prune(&pruned, st, p, T_END), APR_SUCCESS);
    assert_int_equal(pruned, 0);
    /* the family's sid revocation outlives it, until its own expiry */
    assert_int_equal(aj_store_revoke_prune(&pruned, st, p, T_END), APR_SUCCESS);
    assert_int_equal(pruned, 0);
    assert_int_equal(aj_store_revoke_prune(&pruned, st, p, T_END + T_ACCESS), APR_SUCCESS);
    assert_int_equal(pruned, 1);
    /* the live family is untouched */
    assert_int_equal(consume(NULL, st, p, live_token, T_END), AJ_REFRESH_OK);
    /* a pruned token is unknown */
    assert_int_equal(aj_store_refresh_prune(&pruned, st, p, T_END + T_MAX_AGE), APR_SUCCESS);
    assert_int_equal(pruned, 2);
    assert_int_equal(consume(NULL, st, p, live_token, T_END + T_MAX_AGE), AJ_REFRESH_UNKNOWN);
}

/* ---- the race ------------------------------------------------------------- */

typedef struct {
    aj_store_t *st;        /* this racer's own connection */
    apr_pool_t *pool;      /* with its own allocator: used by this thread only */
    pthread_barrier_t *go; /* every racer starts at once */
    const char *hash;
    apr_status_t rv;
    aj_refresh_verdict_e verdict;
    const char *family;
} racer_t;

/* No cmocka assertion here (they are not thread-safe): the results are
 * checked by the main thread. */
static void *race(void *data)
{
    racer_t *r = data;
    aj_refresh_family_t *fam = NULL;

    (void)pthread_barrier_wait(r->go);
    r->rv = aj_store_refresh_consume(&r->verdict, &fam, r->st, r->pool, r->hash, T_LOGIN + 1);
    r->family = fam ? fam->family : NULL;
    return NULL;
}

/* RACERS connections (as many httpd children) consume one token at once:
 * exactly one wins; every other one sees a reuse of that family.  SQLite
 * serialises the writers (busy_timeout, aj_store_schema.c), and whichever
 * runs first is the one that finds used_at NULL.  (apr_dbd also holds a
 * process-wide mutex around each sqlite3 step, so in one process the
 * conditional UPDATE is what is tested, not SQLite's file locking: that
 * is the integration suite's race, across httpd children and on pgsql.) */
static void test_race(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_db_path(p);
    aj_test_db_t *db = aj_test_db_open(p, path);
    aj_store_t *st = aj_test_store_open(db, p);
    aj_refresh_family_t *fam = family_add(st, p, 1);
    const char *hash = token_add(st, p, fam, T_LOGIN);
    racer_t *racers = apr_pcalloc(p, RACERS * sizeof(*racers));
    pthread_t *threads = apr_pcalloc(p, RACERS * sizeof(*threads));
    pthread_barrier_t *go = apr_palloc(p, sizeof(*go));
    int i, ok = 0, reused = 0;

    for (i = 0; i < RACERS; ++i) {
        apr_allocator_t *alloc = NULL;

        assert_int_equal(apr_allocator_create(&alloc), APR_SUCCESS);
        assert_int_equal(apr_pool_create_ex(&racers[i].pool, p, NULL, alloc), APR_SUCCESS);
        apr_allocator_owner_set(alloc, racers[i].pool);
        racers[i].st = aj_test_store_open(aj_test_db_open(racers[i].pool, path), racers[i].pool);
        racers[i].go = go;
        racers[i].hash = hash;
        racers[i].rv = APR_EGENERAL;
    }
    assert_int_equal(pthread_barrier_init(go, NULL, RACERS), 0);
    for (i = 0; i < RACERS; ++i) {
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    for (i = 0; i < RACERS; ++i) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    (void)pthread_barrier_destroy(go);

    for (i = 0; i < RACERS; ++i) {
        if (racers[i].rv != APR_SUCCESS) {
            fail_msg("racer %d: status %d: %s", i, racers[i].rv,
                     aj_store_error(racers[i].st, racers[i].rv));
        }
        assert_non_null(racers[i].family);
        assert_string_equal(racers[i].family, fam->family);
        ok += racers[i].verdict == AJ_REFRESH_OK;
        reused += racers[i].verdict == AJ_REFRESH_REUSED;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(reused, RACERS - 1);
    assert_string_equal(count(db, p, "refresh_tokens WHERE used_at IS NOT NULL"), "1");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_schema),         AJ_TEST(test_migration),
    AJ_TEST(test_rotation),       AJ_TEST(test_issue_limits),
    AJ_TEST(test_family_records), AJ_TEST(test_expiry),
    AJ_TEST(test_unknown),        AJ_TEST(test_reuse_revokes_family),
    AJ_TEST(test_revoke_user),    AJ_TEST(test_prune),
    AJ_TEST(test_race),
};

AJ_TEST_MAIN("aj_store_refresh", tests)

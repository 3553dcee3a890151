/*
 * test_throttle.c — the login throttle's shared counters (aj_throttle).
 */
#include "aj_test.h"
#include "aj_digest.h"
#include "aj_throttle.h"

/* An arbitrary "now" (seconds); every test works relative to it. */
#define T_NOW       1700000000
#define T_ATTEMPTS  3
#define T_SECONDS   60
#define T_SMALL_CAP 64
#define T_CAP       16384
#define T_NAME_LEN  64

static const aj_throttle_policy_t t_policy = { T_ATTEMPTS, T_SECONDS };

static aj_throttle_t *new_table(apr_pool_t *p, apr_uint32_t capacity)
{
    apr_size_t size = aj_throttle_size(capacity);
    void *mem = apr_palloc(p, size);
    aj_throttle_t *t;

    assert_non_null(mem);
    memset(mem, 0xa5, size); /* format must not rely on zeroed memory */
    t = aj_throttle_format(mem, size, capacity);
    assert_non_null(t);
    return t;
}

static aj_store_id_t store_id(const char *params)
{
    aj_store_id_t id;

    assert_int_equal(aj_store_id_make(&id, "sqlite3", params), APR_SUCCESS);
    return id;
}

static aj_throttle_keys_t keys_of(const char *store, const char *addr, const char *user)
{
    aj_throttle_keys_t k;
    aj_store_id_t id = store_id(store);

    assert_int_equal(aj_throttle_keys(&k, &id, addr, user), APR_SUCCESS);
    return k;
}

static aj_throttle_state_t check(const aj_throttle_t *t, const aj_throttle_keys_t *k,
                                 apr_int64_t now)
{
    aj_throttle_state_t st;

    aj_throttle_check(&st, t, k, &t_policy, now);
    return st;
}

/* ---- layout ----------------------------------------------------------------- */

static void test_size_and_format(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t s64 = aj_throttle_size(64);
    char *mem;

    assert_int_equal(aj_throttle_size(0), s64);
    assert_int_equal(aj_throttle_size(65), aj_throttle_size(128));
    assert_int_equal(aj_throttle_size(128) - s64, 64 * 32);
    mem = apr_palloc(p, s64 + 8);
    assert_null(aj_throttle_format(NULL, s64, 64));
    assert_null(aj_throttle_format(mem, s64 - 1, 64));
    assert_null(aj_throttle_format(mem + 1, s64, 64)); /* misaligned */
    assert_non_null(aj_throttle_format(mem, s64, 64));
    assert_int_equal(aj_throttle_count((aj_throttle_t *)mem), 0);
}

static void test_keys(void **state)
{
    aj_throttle_keys_t a = keys_of("db1", "192.0.2.1", "alice");
    aj_throttle_keys_t b = keys_of("db1", "192.0.2.1", "bob");
    aj_throttle_keys_t c = keys_of("db2", "192.0.2.1", "alice");
    aj_throttle_keys_t d = keys_of("db1", "192.0.2.12", "lice");
    aj_throttle_keys_t k;
    aj_store_id_t id = store_id("db1");
    char addr[AJ_THROTTLE_ADDR_MAX + 2];

    (void)state;
    /* the same address shares its per-address counter across users ... */
    assert_memory_equal(&a.addr, &b.addr, sizeof(a.addr));
    assert_memory_not_equal(&a.user, &b.user, sizeof(a.user));
    /* ... but never across stores, and the address ends where it ends */
    assert_memory_not_equal(&a.addr, &c.addr, sizeof(a.addr));
    assert_memory_not_equal(&a.user, &c.user, sizeof(a.user));
    assert_memory_not_equal(&a.user, &d.user, sizeof(a.user));
    assert_memory_not_equal(&a.user, &a.addr, sizeof(a.user));
    memset(addr, '1', sizeof(addr) - 1);
    addr[sizeof(addr) - 1] = '\0';
    assert_int_equal(aj_throttle_keys(&k, &id, addr, "alice"), APR_EINVAL);
    assert_int_equal(aj_throttle_keys(&k, &id, NULL, "alice"), APR_EINVAL);
    assert_int_equal(aj_throttle_keys(&k, &id, "192.0.2.1", NULL), APR_EINVAL);
}

/* ---- limits ----------------------------------------------------------------- */

static void test_user_limit_and_retry_after(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    aj_throttle_keys_t k = keys_of("db", "192.0.2.1", "alice");
    aj_throttle_keys_t other = keys_of("db", "192.0.2.2", "alice");
    aj_throttle_state_t st;
    int i;

    for (i = 1; i < T_ATTEMPTS; i++) {
        assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW + i), 0);
        st = check(t, &k, T_NOW + i);
        assert_int_equal(st.retry_after, 0);
        assert_int_equal(st.user_count, i);
        assert_int_equal(st.addr_count, i);
    }
    /* the failure that reaches the limit says so, once */
    assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW + 10), AJ_THROTTLE_REACHED_USER);
    st = check(t, &k, T_NOW + 10);
    /* the window started at the first failure (T_NOW + 1) */
    assert_int_equal(st.retry_after, T_SECONDS - 9);
    assert_int_equal(check(t, &k, T_NOW + T_SECONDS).retry_after, 1);
    /* the same user from another address is not throttled */
    assert_int_equal(check(t, &other, T_NOW + 10).retry_after, 0);
    /* one more failure (a check that raced the limit) reports nothing new */
    assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW + 11), 0);
}

static void test_window_expiry(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    aj_throttle_keys_t k = keys_of("db", "192.0.2.1", "alice");
    aj_throttle_state_t st;
    int i;

    for (i = 0; i < T_ATTEMPTS; i++) {
        (void)aj_throttle_fail(t, &k, &t_policy, T_NOW);
    }
    assert_true(check(t, &k, T_NOW + T_SECONDS - 1).retry_after > 0);
    st = check(t, &k, T_NOW + T_SECONDS);
    assert_int_equal(st.retry_after, 0);
    assert_int_equal(st.user_count, 0);
    /* a failure after the window starts a new one at 1 */
    assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW + T_SECONDS), 0);
    st = check(t, &k, T_NOW + T_SECONDS);
    assert_int_equal(st.user_count, 1);
    assert_int_equal(st.retry_after, 0);
    /* a clock that went back does not make an old counter count */
    assert_int_equal(check(t, &k, T_NOW).user_count, 0);
}

static void test_address_limit_across_users(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    const int addr_limit = T_ATTEMPTS * AJ_THROTTLE_ADDR_FACTOR;
    char name[T_NAME_LEN];
    aj_throttle_keys_t k, fresh;
    unsigned reached;
    int i;

    for (i = 1; i <= addr_limit; i++) {
        snprintf(name, sizeof(name), "user-%d", i);
        k = keys_of("db", "192.0.2.7", name);
        assert_int_equal(check(t, &k, T_NOW).retry_after, 0);
        reached = aj_throttle_fail(t, &k, &t_policy, T_NOW);
        assert_int_equal(reached, i == addr_limit ? AJ_THROTTLE_REACHED_ADDR : 0u);
    }
    /* any username from that address is refused now ... */
    fresh = keys_of("db", "192.0.2.7", "never-tried");
    assert_int_equal(check(t, &fresh, T_NOW + 1).retry_after, T_SECONDS - 1);
    assert_int_equal(check(t, &fresh, T_NOW + 1).addr_count, addr_limit);
    /* ... from another address they are not; nor under another store */
    fresh = keys_of("db", "192.0.2.8", "never-tried");
    assert_int_equal(check(t, &fresh, T_NOW + 1).retry_after, 0);
    fresh = keys_of("db-other", "192.0.2.7", "never-tried");
    assert_int_equal(check(t, &fresh, T_NOW + 1).retry_after, 0);
}

static void test_clear_on_success(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    aj_throttle_keys_t k = keys_of("db", "192.0.2.1", "alice");
    aj_throttle_state_t st;
    int i;

    for (i = 0; i < T_ATTEMPTS - 1; i++) {
        (void)aj_throttle_fail(t, &k, &t_policy, T_NOW);
    }
    aj_throttle_clear(t, &k);
    st = check(t, &k, T_NOW);
    assert_int_equal(st.user_count, 0);
    /* the per-address count stays (a sprayer's one good password does not
     * reset the others) */
    assert_int_equal(st.addr_count, T_ATTEMPTS - 1);
    /* the user gets the full ATTEMPTS again */
    for (i = 1; i < T_ATTEMPTS; i++) {
        assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW), 0);
    }
    assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW), AJ_THROTTLE_REACHED_USER);
    /* clearing a key never counted is harmless */
    k = keys_of("db", "192.0.2.1", "nobody");
    aj_throttle_clear(t, &k);
}

static void test_stores_are_separate(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    aj_throttle_keys_t a = keys_of("store-a", "192.0.2.1", "admin");
    aj_throttle_keys_t b = keys_of("store-b", "192.0.2.1", "admin");
    int i;

    for (i = 0; i < T_ATTEMPTS; i++) {
        (void)aj_throttle_fail(t, &a, &t_policy, T_NOW);
    }
    assert_true(check(t, &a, T_NOW).retry_after > 0);
    assert_int_equal(check(t, &b, T_NOW).retry_after, 0);
    assert_int_equal(check(t, &b, T_NOW).user_count, 0);
    assert_int_equal(check(t, &b, T_NOW).addr_count, 0);
}

static void test_off_policy(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_CAP);
    aj_throttle_keys_t k = keys_of("db", "192.0.2.1", "alice");
    const aj_throttle_policy_t off = { 0, T_SECONDS };
    aj_throttle_state_t st;

    assert_int_equal(aj_throttle_fail(t, &k, &off, T_NOW), 0);
    assert_int_equal(aj_throttle_count(t), 0);
    aj_throttle_check(&st, t, &k, &off, T_NOW);
    assert_int_equal(st.retry_after, 0);
    aj_throttle_check(&st, NULL, &k, &t_policy, T_NOW);
    assert_int_equal(st.retry_after, 0);
}

/* ---- a full table ------------------------------------------------------------ */

/* Far more counters than slots: every failure is counted (the table never
 * refuses or grows), the newest counters are exact, and once their windows
 * end the slots serve new counters again. */
static void test_full_table(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_SMALL_CAP);
    const aj_throttle_policy_t one = { 1, T_SECONDS };
    char addr[T_NAME_LEN];
    aj_throttle_keys_t k, last;
    unsigned i, n = T_SMALL_CAP * 8;

    for (i = 0; i < n; i++) {
        snprintf(addr, sizeof(addr), "198.51.100.%u", i);
        k = keys_of("db", addr, "alice");
        /* the new counter always lands: with limit 1 it reaches at once */
        assert_int_equal(aj_throttle_fail(t, &k, &one, T_NOW + (apr_int64_t)i / 64),
                         AJ_THROTTLE_REACHED_USER);
        assert_true(aj_throttle_count(t) <= T_SMALL_CAP);
    }
    assert_int_equal(aj_throttle_count(t), T_SMALL_CAP);
    last = k;
    {
        aj_throttle_state_t st;
        aj_throttle_check(&st, t, &last, &one, T_NOW + n / 64);
        assert_true(st.retry_after > 0); /* the newest counter is there */
    }
    /* after every window ended, a new key is counted exactly */
    k = keys_of("db", "203.0.113.1", "bob");
    assert_int_equal(aj_throttle_fail(t, &k, &t_policy, T_NOW + 10 * T_SECONDS), 0);
    assert_int_equal(check(t, &k, T_NOW + 10 * T_SECONDS).user_count, 1);
    assert_int_equal(aj_throttle_count(t), T_SMALL_CAP);
}

/* The oldest window on the probe path is the one replaced: an attacker
 * filling the table pushes out old counters, never the newest. */
static void test_replaces_oldest(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_SMALL_CAP);
    char addr[T_NAME_LEN];
    aj_throttle_keys_t victim, k;
    unsigned i;

    victim = keys_of("db", "192.0.2.99", "victim");
    (void)aj_throttle_fail(t, &victim, &t_policy, T_NOW);
    for (i = 0; i < T_SMALL_CAP * 4; i++) {
        snprintf(addr, sizeof(addr), "198.51.100.%u", i);
        k = keys_of("db", addr, "x");
        (void)aj_throttle_fail(t, &k, &t_policy, T_NOW + 1);
    }
    /* the victim's counters were the oldest: gone (the documented
     * trade-off), and its key is free of any stale refusal */
    assert_int_equal(check(t, &victim, T_NOW + 1).user_count, 0);
    /* the attacker's most recent counter is exact */
    assert_int_equal(check(t, &k, T_NOW + 1).user_count, 1);
}

/* A writer killed inside a write section leaves a slot's version odd:
 * readers do not wait for it (they read it as absent), and the next write
 * in that probe window repairs it. */
static void test_dead_writer(void **state)
{
    aj_throttle_t *t = new_table(AJ_POOL(state), T_SMALL_CAP);
    aj_throttle_keys_t k = keys_of("db", "192.0.2.1", "alice");
    apr_uint32_t *ver;
    char *base = (char *)t;
    apr_size_t off;
    int i;

    for (i = 0; i < T_ATTEMPTS; i++) {
        (void)aj_throttle_fail(t, &k, &t_policy, T_NOW);
    }
    assert_true(check(t, &k, T_NOW).retry_after > 0);
    /* find the user's slot: the one whose key is k.user, and make its
     * version odd as a dead writer would leave it */
    for (off = 64; off < aj_throttle_size(T_SMALL_CAP); off += 32) {
        if (!memcmp(base + off, &k.user, sizeof(k.user))) {
            break;
        }
    }
    assert_true(off < aj_throttle_size(T_SMALL_CAP));
    ver = (apr_uint32_t *)(base + off + 28);
    *ver |= 1;
    /* the reader returns (fails open for that one counter) */
    assert_int_equal(check(t, &k, T_NOW).user_count, 0);
    /* the next failure repairs the slot and counts from 1 */
    (void)aj_throttle_fail(t, &k, &t_policy, T_NOW);
    assert_int_equal(*ver & 1, 0);
    assert_int_equal(check(t, &k, T_NOW).user_count, 1);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_size_and_format),
    AJ_TEST(test_keys),
    AJ_TEST(test_user_limit_and_retry_after),
    AJ_TEST(test_window_expiry),
    AJ_TEST(test_address_limit_across_users),
    AJ_TEST(test_clear_on_success),
    AJ_TEST(test_stores_are_separate),
    AJ_TEST(test_off_policy),
    AJ_TEST(test_full_table),
    AJ_TEST(test_replaces_oldest),
    AJ_TEST(test_dead_writer),
};

AJ_TEST_MAIN("aj_throttle", tests)

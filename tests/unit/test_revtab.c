/*
 * test_revtab.c — the shared-memory revocation table (aj_revtab).
 */
#include <pthread.h>

#include <openssl/sha.h>

#include "aj_test.h"
#include "aj_revtab.h"

/* An arbitrary "now" (seconds); every test works relative to it. */
#define T_NOW        1700000000
#define T_LATER      (T_NOW + 1000)
#define T_FAR        (T_NOW + 100000)
/* The smallest table and how many entries it takes (3/4 of its slots). */
#define T_SMALL_CAP  64
#define T_SMALL_MAX  48
#define T_NAME_LEN   64

/* Two stores: most tests use store 0 (T_S); store 1 proves isolation. */
#define T_S          0
#define T_NSTORES    2

static const aj_store_id_t t_ids[T_NSTORES] = {
    { { 'A' } }, { { 'B' } }
};

static aj_revtab_t *new_table(apr_pool_t *p, apr_uint32_t capacity)
{
    apr_size_t size = aj_revtab_size(capacity, T_NSTORES);
    void *mem = apr_palloc(p, size);

    assert_non_null(mem);
    memset(mem, 0xa5, size);    /* format must not rely on zeroed memory */
    return aj_revtab_format(mem, size, capacity, t_ids, T_NSTORES);
}

/* The smallest table, in the test's pool. */
static aj_revtab_t *small_table(void **state)
{
    aj_revtab_t *t = new_table(AJ_POOL(state), T_SMALL_CAP);

    assert_non_null(t);
    return t;
}

static const char *name(char *buf, const char *prefix, unsigned i)
{
    snprintf(buf, T_NAME_LEN, "%s-%u", prefix, i);
    return buf;
}

/* Puts the jtis prefix0 .. prefix(n-1) into store s; each put must succeed. */
static void put_jtis(aj_revtab_t *t, int s, const char *prefix, unsigned n, apr_int64_t exp,
                     apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_int_equal(aj_revtab_put_jti(t, s, name(buf, prefix, i), exp, now), APR_SUCCESS);
    }
}

/* ---- layout ----------------------------------------------------------------- */

static void test_size_and_format(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t s64 = aj_revtab_size(64, 1);
    char *mem;

    assert_int_equal(aj_revtab_size(0, 1), s64);
    assert_int_equal(aj_revtab_size(1, 0), s64);                 /* at least one store */
    assert_int_equal(aj_revtab_size(65, 1), aj_revtab_size(128, 1));
    assert_true(aj_revtab_size(128, 1) > s64);
    assert_int_equal(aj_revtab_size(128, 1) - s64, 64 * 32);
    assert_int_equal(aj_revtab_size(1000000, 1) - s64, ((apr_size_t)1 << 20) * 32 - 64 * 32);
    assert_int_equal(aj_revtab_size(64, 3) - s64, 2 * 64);       /* a record per store */

    mem = apr_palloc(p, aj_revtab_size(64, T_NSTORES) + 8);
    assert_null(aj_revtab_format(NULL, s64, 64, t_ids, 1));
    assert_null(aj_revtab_format(mem, s64 - 1, 64, t_ids, 1));
    assert_null(aj_revtab_format(mem + 1, s64, 64, t_ids, 1));  /* misaligned */
    assert_null(aj_revtab_format(mem, s64, 64, t_ids, 0));      /* no store */
    assert_null(aj_revtab_format(mem, s64, 64, NULL, 1));
    assert_null(aj_revtab_format(mem, s64, 64, t_ids, 2));      /* too small for two */
    assert_null(aj_revtab_format(mem, s64, 64, t_ids, AJ_REVTAB_MAX_STORES + 1));
    assert_non_null(aj_revtab_format(mem, s64, 64, t_ids, 1));
    assert_int_equal(aj_revtab_stores(aj_revtab_format(mem, aj_revtab_size(64, T_NSTORES), 64,
                                                       t_ids, T_NSTORES)), T_NSTORES);
}

/* ---- jti -------------------------------------------------------------------- */

static void test_empty_table(void **state)
{
    aj_revtab_t *t = small_table(state);

    assert_int_equal(aj_revtab_count(t), 0);
    assert_false(aj_revtab_jti_revoked(t, T_S, "abc", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, NULL, T_NOW));
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), 0);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, NULL), 0);
    assert_false(aj_revtab_overflowed(t, T_S));
    assert_false(aj_revtab_loaded(t, T_S));
    assert_int_equal(aj_revtab_next_refresh(t, T_S), 0);
    assert_int_equal(aj_revtab_watermark(t, T_S), 0);
}

static void test_put_jti(void **state)
{
    aj_revtab_t *t = small_table(state);

    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok-1", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-2", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-", T_NOW));
    assert_int_equal(aj_revtab_count(t), 1);

    /* idempotent; a later exp wins, an earlier one does not shorten it */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_FAR, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_NOW + 1, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_count(t), 1);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok-1", T_FAR - 1));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-1", T_FAR));

    /* a jti is not a user */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "tok-1"), 0);

    assert_int_equal(aj_revtab_put_jti(t, T_S, NULL, T_LATER, T_NOW), APR_EINVAL);
    assert_int_equal(aj_revtab_put_jti(NULL, T_S, "x", T_LATER, T_NOW), APR_EINVAL);
}

static void test_expired_jti(void **state)
{
    aj_revtab_t *t = small_table(state);

    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok", T_NOW + 10, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok", T_NOW + 9));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok", T_NOW + 10));     /* exp > now only */
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok", T_LATER));

    /* a revocation that is already over takes no room */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "old", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "older", T_NOW - 5, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_count(t), 1);
    assert_false(aj_revtab_jti_revoked(t, T_S, "old", T_NOW - 10));
}

/* ---- user ------------------------------------------------------------------- */

static void test_user_valid_after(void **state)
{
    aj_revtab_t *t = small_table(state);

    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_NOW);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "43"), 0);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "4"), 0);

    /* a later value wins */
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW - 100, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_NOW);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_count(t), 1);

    /* 0 is ignored */
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", 0, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_put_user(t, T_S, "7", 0, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "7"), 0);
    assert_int_equal(aj_revtab_count(t), 1);

    /* a user entry never expires, and is not a jti */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_false(aj_revtab_jti_revoked(t, T_S, "42", T_NOW));
    assert_int_equal(aj_revtab_put_jti(t, T_S, "42", T_FAR, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "42", T_NOW));
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_count(t), 2);

    assert_int_equal(aj_revtab_put_user(t, T_S, NULL, T_NOW, T_NOW), APR_EINVAL);
}

/* ---- capacity ----------------------------------------------------------------- */

/* Keys computed once answer exactly as the names do; a jti and a user of
 * the same text have different keys. */
static void test_precomputed_keys(void **state)
{
    aj_revtab_t *t = small_table(state);
    aj_revtab_key_t jk, uk, same_text, other;
    apr_int64_t v = -1;
    int revoked = -1;

    assert_int_equal(aj_revtab_jti_key(&jk, t, T_S, "tok-1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&uk, t, T_S, "42"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&same_text, t, T_S, "tok-1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, "tok-2"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, NULL), APR_EINVAL);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_NSTORES, "tok-2"), APR_EINVAL);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, "tok-2"), APR_SUCCESS);
    assert_memory_not_equal(&jk, &same_text, sizeof(jk));

    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, &uk), APR_SUCCESS);
    assert_int_equal(v, 0);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW + 5, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_NOW), APR_SUCCESS);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_LATER), APR_SUCCESS);
    assert_false(revoked);                                      /* expired */
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &other, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &same_text, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, &uk), APR_SUCCESS);
    assert_int_equal(v, T_NOW + 5);
    assert_int_equal(aj_revtab_key_value(&v, t, &same_text), APR_SUCCESS);
    assert_int_equal(v, 0);
    /* NULL arguments fail closed */
    assert_int_equal(aj_revtab_key_revoked(&revoked, NULL, &jk, T_NOW), APR_EINVAL);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, NULL, T_NOW), APR_EINVAL);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, NULL), APR_EINVAL);
    assert_int_equal(v, APR_INT64_MAX);
}

/* docs/reference.md §9: the same jti, user id or change under two stores are unrelated;
 * each store has its own loaded flag, schedule, watermark and overflow. */
static void test_stores_isolated(void **state)
{
    aj_revtab_t *t = small_table(state);
    aj_revtab_key_t a, b, ca;
    apr_int64_t v = -1;

    assert_int_equal(aj_revtab_jti_key(&a, t, 0, "tok"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&b, t, 1, "tok"), APR_SUCCESS);
    assert_memory_not_equal(&a, &b, sizeof(a));
    assert_int_equal(aj_revtab_changed_key(&ca, t, 0, "1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&b, t, 0, "1"), APR_SUCCESS);
    assert_memory_not_equal(&ca, &b, sizeof(ca));               /* changed != revoke-all */

    assert_int_equal(aj_revtab_put_jti(t, 0, "tok", T_LATER, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, 0, "tok", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, 1, "tok", T_NOW));
    assert_int_equal(aj_revtab_put_user(t, 0, "1", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, 0, "1"), T_NOW);
    assert_int_equal(aj_revtab_user_valid_after(t, 1, "1"), 0);  /* user 1 of B: someone else */
    assert_int_equal(aj_revtab_put_changed(t, 1, "1", T_NOW + 3, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_key_value(&v, t, &ca), APR_SUCCESS);
    assert_int_equal(v, 0);
    assert_int_equal(aj_revtab_changed_key(&ca, t, 1, "1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_key_value(&v, t, &ca), APR_SUCCESS);
    assert_int_equal(v, T_NOW + 3);

    aj_revtab_set_loaded(t, 0, 1);
    assert_true(aj_revtab_loaded(t, 0));
    assert_false(aj_revtab_loaded(t, 1));
    aj_revtab_set_watermark(t, 1, 77);
    assert_int_equal(aj_revtab_watermark(t, 0), 0);
    assert_int_equal(aj_revtab_watermark(t, 1), 77);
    aj_revtab_set_next_refresh(t, 0, 5);
    assert_true(aj_revtab_claim_refresh(t, 0, 5, 10));
    assert_false(aj_revtab_claim_refresh(t, 1, 5, 10));
    /* a bad index is never trusted and never written */
    assert_false(aj_revtab_loaded(t, T_NSTORES));
    assert_true(aj_revtab_overflowed(t, T_NSTORES));
    aj_revtab_set_loaded(t, T_NSTORES, 1);
    assert_false(aj_revtab_loaded(t, T_NSTORES));
    assert_int_equal(aj_revtab_put_jti(t, T_NSTORES, "x", T_LATER, T_NOW), APR_EINVAL);
}

/* Full: the put's store is marked, not the other; the mark stays until the
 * caller clears it (after a complete reload that fits), and expired entries
 * make room again. */
static void test_overflow_per_store_and_recovery(void **state)
{
    aj_revtab_t *t = small_table(state);

    put_jtis(t, 0, "short", T_SMALL_MAX, T_NOW + 10, T_NOW);
    assert_int_equal(aj_revtab_put_jti(t, 1, "late", T_LATER, T_NOW), APR_ENOSPC);
    assert_true(aj_revtab_overflowed(t, 1));
    assert_false(aj_revtab_overflowed(t, 0));
    /* the entries expire: the same put fits (compaction), the mark stays */
    assert_int_equal(aj_revtab_put_jti(t, 1, "late", T_LATER, T_NOW + 20), APR_SUCCESS);
    assert_true(aj_revtab_overflowed(t, 1));
    aj_revtab_clear_overflowed(t, 1);
    assert_false(aj_revtab_overflowed(t, 1));
    assert_true(aj_revtab_jti_revoked(t, 1, "late", T_NOW + 20));
}

/* A writer killed inside its write section: readers give up after
 * AJ_REVTAB_STALL_MS with APR_TIMEUP (failing closed), never spin forever;
 * the next writer resets the table and unloads every store. */
static void test_dead_writer(void **state)
{
    aj_revtab_t *t = small_table(state);
    apr_uint64_t *seq;
    apr_int64_t v = 0;
    apr_time_t t0, waited;
    aj_revtab_key_t k;
    int revoked = 0;

    assert_int_equal(aj_revtab_put_jti(t, 0, "tok", T_LATER, T_NOW), APR_SUCCESS);
    aj_revtab_set_loaded(t, 0, 1);
    aj_revtab_set_loaded(t, 1, 1);
    assert_int_equal(aj_revtab_recover(t), 0);                  /* nothing to recover */
    assert_true(aj_revtab_loaded(t, 0));

    /* the header's seq (after magic, version, capacity, max_entries, count,
     * nstores: six 32-bit words) left odd, as by a writer that died */
    seq = (apr_uint64_t *)(void *)((char *)t + 6 * sizeof(apr_uint32_t));
    assert_int_equal(*seq % 2, 0);
    *seq += 1;

    assert_int_equal(aj_revtab_jti_key(&k, t, 0, "other"), APR_SUCCESS);
    t0 = apr_time_now();
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &k, T_NOW), APR_TIMEUP);
    waited = apr_time_now() - t0;
    assert_true(revoked);                                       /* fails closed */
    assert_true(waited >= apr_time_from_msec(AJ_REVTAB_STALL_MS) / 2);
    assert_true(waited < apr_time_from_msec(AJ_REVTAB_STALL_MS) * 20);
    assert_int_equal(aj_revtab_key_value(&v, t, &k), APR_TIMEUP);
    assert_int_equal(v, APR_INT64_MAX);
    assert_true(aj_revtab_jti_revoked(t, 0, "other", T_NOW));   /* convenience: closed */

    assert_int_equal(aj_revtab_recover(t), 1);
    assert_int_equal(*seq % 2, 0);
    assert_false(aj_revtab_loaded(t, 0));
    assert_false(aj_revtab_loaded(t, 1));
    assert_int_equal(aj_revtab_count(t), 0);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &k, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_recover(t), 0);
}

static void test_full_then_enospc(void **state)
{
    aj_revtab_t *t = small_table(state);
    char buf[T_NAME_LEN];
    unsigned i;

    put_jtis(t, T_S, "live", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_count(t), T_SMALL_MAX);
    assert_false(aj_revtab_overflowed(t, T_S));

    /* existing keys may still be updated when full */
    assert_int_equal(aj_revtab_put_jti(t, T_S, name(buf, "live", 0), T_FAR + 1, T_NOW), APR_SUCCESS);
    assert_false(aj_revtab_overflowed(t, T_S));

    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR, T_NOW), APR_ENOSPC);
    assert_true(aj_revtab_overflowed(t, T_S));
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_ENOSPC);
    /* still full at a time when nothing has expired yet */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR, T_LATER), APR_ENOSPC);
    assert_int_equal(aj_revtab_count(t), T_SMALL_MAX);
    assert_false(aj_revtab_jti_revoked(t, T_S, "one-more", T_NOW));
    for (i = 0; i < T_SMALL_MAX; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, name(buf, "live", i), T_NOW));
    }
    /* the mark stays even once there is room again */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR + 10, T_FAR + 5), APR_SUCCESS);
    assert_true(aj_revtab_overflowed(t, T_S));
}

/* A table full of expired jtis takes new ones: their slots are reused, and
 * when a new key's probe chain holds no expired slot the table compacts. */
static void test_expired_reused(void **state)
{
    aj_revtab_t *t = small_table(state);
    char buf[T_NAME_LEN];
    unsigned i, round;

    for (round = 0; round < 4; round++) {
        apr_int64_t now = T_NOW + round * 100;

        for (i = 0; i < T_SMALL_MAX; i++) {
            assert_int_equal(aj_revtab_put_jti(t, T_S, name(buf, "r", round * 1000 + i), now + 50, now),
                             APR_SUCCESS);
        }
        assert_false(aj_revtab_overflowed(t, T_S));
        assert_true(aj_revtab_count(t) <= T_SMALL_MAX);
        for (i = 0; i < T_SMALL_MAX; i++) {
            assert_true(aj_revtab_jti_revoked(t, T_S, name(buf, "r", round * 1000 + i), now));
        }
    }
    /* the table is full again; everything expires at T_NOW + 350 */
    assert_int_equal(aj_revtab_count(t), T_SMALL_MAX);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "fresh", T_FAR, T_NOW + 350), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "fresh", T_NOW + 350));
    assert_false(aj_revtab_overflowed(t, T_S));
}

/* Half the entries expire, interleaved with live ones in the same clusters;
 * compaction must keep every live entry reachable.  A 1024-slot table. */
static void test_compaction_keeps_live(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_revtab_t *t = new_table(p, 1024);
    const unsigned max = 768;
    char buf[T_NAME_LEN];
    int compacted = 0;
    unsigned i;

    assert_non_null(t);
    for (i = 0; i < max; i++) {
        apr_int64_t exp = (i % 2) ? T_FAR : T_NOW + 10;

        assert_int_equal(aj_revtab_put_jti(t, T_S, name(buf, "mix", i), exp, T_NOW), APR_SUCCESS);
    }
    assert_int_equal(aj_revtab_count(t), max);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "x", T_FAR, T_NOW), APR_ENOSPC);

    /* later: the even ones are dead; fill up to the limit again.  Some puts
     * reuse dead slots, the first whose path has none compacts the table. */
    for (i = 0; i < max / 2; i++) {
        assert_int_equal(aj_revtab_put_jti(t, T_S, name(buf, "new", i), T_FAR, T_LATER), APR_SUCCESS);
        if (aj_revtab_count(t) < max) {
            compacted = 1;
        }
    }
    assert_true(compacted);
    assert_int_equal(aj_revtab_count(t), max);     /* max live entries */
    for (i = 0; i < max; i++) {
        assert_int_equal(aj_revtab_jti_revoked(t, T_S, name(buf, "mix", i), T_LATER), i % 2);
    }
    for (i = 0; i < max / 2; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, name(buf, "new", i), T_LATER));
    }
    /* nothing expired any more: nothing more fits */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "x", T_FAR, T_LATER), APR_ENOSPC);
    assert_true(aj_revtab_overflowed(t, T_S));
}

/* The bucket a key starts from, computed as the table does (white box). */
static unsigned home_of(char kind, const char *s, unsigned capacity)
{
    unsigned char in[T_NAME_LEN + 1], md[SHA256_DIGEST_LENGTH];
    size_t len = strlen(s);
    uint64_t w;

    in[0] = (unsigned char)kind;
    memcpy(in + 1, s, len);
    SHA256(in, len + 1, md);
    memcpy(&w, md, sizeof(w));
    return (unsigned)(w & (capacity - 1));
}

static void test_colliding_keys(void **state)
{
    aj_revtab_t *t = small_table(state);
    char a[T_NAME_LEN], b[T_NAME_LEN], c[T_NAME_LEN];
    unsigned i, ha;

    /* three jtis that start from the same bucket */
    name(a, "c", 0);
    ha = home_of('j', a, T_SMALL_CAP);
    for (i = 1, b[0] = c[0] = '\0'; !c[0]; i++) {
        char *dst = b[0] ? c : b;

        if (home_of('j', name(dst, "c", i), T_SMALL_CAP) != ha) {
            dst[0] = '\0';
        }
    }
    assert_int_equal(aj_revtab_put_jti(t, T_S, a, T_NOW + 10, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, b, T_FAR, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, c, T_FAR, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, a, T_NOW));
    assert_true(aj_revtab_jti_revoked(t, T_S, b, T_NOW));
    assert_true(aj_revtab_jti_revoked(t, T_S, c, T_NOW));
    assert_int_equal(aj_revtab_count(t), 3);

    /* a expires: b and c stay reachable through a's (still occupied) slot */
    assert_false(aj_revtab_jti_revoked(t, T_S, a, T_LATER));
    assert_true(aj_revtab_jti_revoked(t, T_S, b, T_LATER));
    assert_true(aj_revtab_jti_revoked(t, T_S, c, T_LATER));
    assert_int_equal(aj_revtab_put_user(t, T_S, "reuser", T_NOW, T_LATER), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, c, T_LATER));

    /* fill the table with short-lived entries, then add keys once they have
     * expired until one finds no expired slot on its path: compaction */
    for (i = 0; aj_revtab_count(t) < T_SMALL_MAX; i++) {
        assert_int_equal(aj_revtab_put_jti(t, T_S, name(a, "f", i), T_LATER + 10, T_LATER),
                         APR_SUCCESS);
    }
    for (i = 0; i < T_SMALL_CAP && aj_revtab_count(t) == T_SMALL_MAX; i++) {
        assert_int_equal(aj_revtab_put_jti(t, T_S, name(a, "after", i), T_FAR, T_LATER + 10),
                         APR_SUCCESS);
        assert_true(aj_revtab_jti_revoked(t, T_S, a, T_LATER + 10));
    }
    assert_true(aj_revtab_count(t) < T_SMALL_MAX);
    assert_true(aj_revtab_jti_revoked(t, T_S, b, T_LATER + 10));
    assert_true(aj_revtab_jti_revoked(t, T_S, c, T_LATER + 10));
    assert_true(aj_revtab_jti_revoked(t, T_S, a, T_LATER + 10));     /* the last "after" */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "reuser"), T_NOW);
    assert_false(aj_revtab_overflowed(t, T_S));
}

static void test_clear(void **state)
{
    aj_revtab_t *t = small_table(state);
    char buf[T_NAME_LEN];

    put_jtis(t, T_S, "k", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_ENOSPC);
    aj_revtab_set_loaded(t, T_S, 1);
    aj_revtab_set_watermark(t, T_S, T_NOW);
    aj_revtab_set_next_refresh(t, T_S, T_LATER);

    aj_revtab_clear(t);
    assert_int_equal(aj_revtab_count(t), 0);
    assert_false(aj_revtab_overflowed(t, T_S));
    assert_false(aj_revtab_loaded(t, T_S));
    assert_false(aj_revtab_jti_revoked(t, T_S, name(buf, "k", 0), T_NOW));
    /* only the table, the overflow mark and the loaded flag are reset */
    assert_int_equal(aj_revtab_watermark(t, T_S), T_NOW);
    assert_int_equal(aj_revtab_next_refresh(t, T_S), T_LATER);

    put_jtis(t, T_S, "k2", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "x", T_FAR, T_NOW), APR_ENOSPC);
}

static void test_refresh_bookkeeping(void **state)
{
    aj_revtab_t *t = small_table(state);

    aj_revtab_set_loaded(t, T_S, 1);
    assert_true(aj_revtab_loaded(t, T_S));
    aj_revtab_set_loaded(t, T_S, 0);
    assert_false(aj_revtab_loaded(t, T_S));

    aj_revtab_set_watermark(t, T_S, T_NOW - 5);
    assert_int_equal(aj_revtab_watermark(t, T_S), T_NOW - 5);

    aj_revtab_set_next_refresh(t, T_S, T_NOW);
    assert_int_equal(aj_revtab_next_refresh(t, T_S), T_NOW);
    /* two requests see the same due time: only one refreshes */
    assert_true(aj_revtab_claim_refresh(t, T_S, T_NOW, T_NOW + 30));
    assert_false(aj_revtab_claim_refresh(t, T_S, T_NOW, T_NOW + 30));
    assert_int_equal(aj_revtab_next_refresh(t, T_S), T_NOW + 30);
    assert_false(aj_revtab_claim_refresh(t, T_S, T_NOW + 29, T_NOW + 60));
    assert_true(aj_revtab_claim_refresh(t, T_S, T_NOW + 30, T_NOW + 60));
    assert_int_equal(aj_revtab_next_refresh(t, T_S), T_NOW + 60);
}

/* ---- concurrency ---------------------------------------------------------------- */

/* A concurrency run: one writer thread fills the table while MT_READERS
 * reader threads check it until the writer is done.  Every reader checks
 * that a jti never inserted is never reported revoked, plus what its run's
 * check_fn looks at; counters are updated atomically. */
#define MT_READERS     4

typedef struct run_t run_t;
/* The writer's step i, at time now; buf is scratch for a jti. */
typedef void run_step_fn(run_t *run, unsigned i, apr_int64_t now, char *buf);
struct run_t {
    aj_revtab_t *t;
    unsigned steps;             /* the writer runs step 0..steps-1 */
    run_step_fn *step;
    int done;
    unsigned long put_errors;
    unsigned long missing;      /* a published jti reported not revoked */
    unsigned long phantom;      /* a never-inserted jti reported revoked */
    unsigned long checks;
};

typedef struct run_reader run_reader;
/* One reader's check of what the writer has published so far. */
typedef void run_check_fn(run_reader *rd, char *buf);
struct run_reader {
    run_t *run;
    unsigned seed;
    run_check_fn *check;
};

static void *run_read(void *arg)
{
    run_reader *rd = arg;
    run_t *run = rd->run;
    char buf[T_NAME_LEN];
    unsigned long checks = 0;

    while (!__atomic_load_n(&run->done, __ATOMIC_ACQUIRE)) {
        rd->check(rd, buf);
        if (aj_revtab_jti_revoked(run->t, T_S, name(buf, "never", (unsigned)rand_r(&rd->seed)),
                                  T_NOW)) {
            __atomic_add_fetch(&run->phantom, 1, __ATOMIC_RELAXED);
        }
        checks++;
    }
    __atomic_add_fetch(&run->checks, checks, __ATOMIC_RELAXED);
    return NULL;
}

/* A run of steps writer steps over a new table of that capacity (the
 * rest of *run zeroed). */
static void run_init(run_t *run, apr_pool_t *p, unsigned capacity, unsigned steps,
                     run_step_fn *step)
{
    memset(run, 0, sizeof(*run));
    run->t = new_table(p, capacity);
    assert_non_null(run->t);
    run->steps = steps;
    run->step = step;
}

static void *run_write(void *arg)
{
    run_t *run = arg;
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < run->steps; i++) {
        run->step(run, i, T_NOW + i, buf);
    }
    __atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Permanent jtis "perm" 0..n-1 are all still revoked at now. */
static void assert_perm_revoked(aj_revtab_t *t, unsigned n, apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, name(buf, "perm", i), now));
    }
}

/* Starts the readers, then the writer (which sets run->done), joins all,
 * and asserts what holds for every run. */
static void run_threads(run_t *run, run_check_fn *check)
{
    pthread_t writer_thread, readers[MT_READERS];
    run_reader rd[MT_READERS];
    unsigned i;

    for (i = 0; i < MT_READERS; i++) {
        rd[i].run = run;
        rd[i].seed = i + 1;
        rd[i].check = check;
        assert_int_equal(pthread_create(&readers[i], NULL, run_read, &rd[i]), 0);
    }
    assert_int_equal(pthread_create(&writer_thread, NULL, run_write, run), 0);
    assert_int_equal(pthread_join(writer_thread, NULL), 0);
    for (i = 0; i < MT_READERS; i++) {
        assert_int_equal(pthread_join(readers[i], NULL), 0);
    }

    assert_int_equal(run->put_errors, 0);
    assert_int_equal(run->missing, 0);
    assert_int_equal(run->phantom, 0);
    assert_true(run->checks > 0);
    assert_false(aj_revtab_overflowed(run->t, T_S));
}

/* One writer puts MT_PUTS permanent jtis (plus as many short-lived ones,
 * which forces slot reuse and compaction) and raises a user's valid_after;
 * readers check that everything published is seen and nothing else. */
#define MT_PUTS        20000
#define MT_CAPACITY    32768
#define MT_USER_EVERY  16

typedef struct {
    run_t run;                  /* first: a run_t * is an mt_shared * */
    unsigned published;         /* permanent jtis 0..published-1 are in */
    apr_int64_t user_published; /* "alice" has at least this valid_after */
    unsigned long user_stale;   /* valid_after lower than published */
} mt_shared;

static void mt_step(run_t *run, unsigned i, apr_int64_t now, char *buf)
{
    mt_shared *sh = (mt_shared *)run;

    if (aj_revtab_put_jti(sh->run.t, T_S, name(buf, "perm", i), T_FAR + MT_PUTS, now) != APR_SUCCESS
        || aj_revtab_put_jti(sh->run.t, T_S, name(buf, "temp", i), now + 2, now) != APR_SUCCESS) {
        __atomic_add_fetch(&sh->run.put_errors, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&sh->published, i + 1, __ATOMIC_RELEASE);
    if (i % MT_USER_EVERY == 0) {
        if (aj_revtab_put_user(sh->run.t, T_S, "alice", now, now) != APR_SUCCESS) {
            __atomic_add_fetch(&sh->run.put_errors, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&sh->user_published, now, __ATOMIC_RELEASE);
    }
}

static void mt_check(run_reader *rd, char *buf)
{
    mt_shared *sh = (mt_shared *)rd->run;
    unsigned n, i;
    apr_int64_t va;

    n = __atomic_load_n(&sh->published, __ATOMIC_ACQUIRE);
    if (n) {
        i = (unsigned)rand_r(&rd->seed) % n;
        if (!aj_revtab_jti_revoked(sh->run.t, T_S, name(buf, "perm", i), T_NOW)
            || !aj_revtab_jti_revoked(sh->run.t, T_S, name(buf, "perm", n - 1), T_NOW)) {
            __atomic_add_fetch(&sh->run.missing, 1, __ATOMIC_RELAXED);
        }
    }
    va = __atomic_load_n(&sh->user_published, __ATOMIC_ACQUIRE);
    if (aj_revtab_user_valid_after(sh->run.t, T_S, "alice") < va) {
        __atomic_add_fetch(&sh->user_stale, 1, __ATOMIC_RELAXED);
    }
}

/* Short-lived jtis "temp" 0..n-1 have all expired at now. */
static void assert_temp_expired(aj_revtab_t *t, unsigned n, apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_false(aj_revtab_jti_revoked(t, T_S, name(buf, "temp", i), now));
    }
}

static void test_threads(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    mt_shared sh;

    memset(&sh, 0, sizeof(sh));
    run_init(&sh.run, p, MT_CAPACITY, MT_PUTS, mt_step);
    run_threads(&sh.run, mt_check);

    assert_int_equal(sh.user_stale, 0);
    assert_perm_revoked(sh.run.t, MT_PUTS, T_NOW + MT_PUTS);
    assert_temp_expired(sh.run.t, MT_PUTS - 2, T_NOW + MT_PUTS);
    assert_int_equal(aj_revtab_user_valid_after(sh.run.t, T_S, "alice"),
                     T_NOW + (MT_PUTS - 1) / MT_USER_EVERY * MT_USER_EVERY);
    /* 2 * MT_PUTS jtis went through a table of 3/4 * MT_CAPACITY entries */
    assert_true(aj_revtab_count(sh.run.t) <= MT_CAPACITY / 4 * 3);
}

/* Churn: a small table holds CH_LIVE permanent jtis while the writer pours
 * short-lived ones through it, so the table is compacted (and permanent
 * entries move) hundreds of times under the readers' feet. */
#define CH_CAPACITY    1024
#define CH_LIVE        512
#define CH_PUTS        100000

static void ch_step(run_t *run, unsigned i, apr_int64_t now, char *buf)
{
    if (aj_revtab_put_jti(run->t, T_S, name(buf, "churn", i), now + 1, now) != APR_SUCCESS) {
        __atomic_add_fetch(&run->put_errors, 1, __ATOMIC_RELAXED);
    }
}

static void ch_check(run_reader *rd, char *buf)
{
    run_t *run = rd->run;

    if (!aj_revtab_jti_revoked(run->t, T_S, name(buf, "perm", (unsigned)rand_r(&rd->seed) % CH_LIVE),
                               T_NOW)) {
        __atomic_add_fetch(&run->missing, 1, __ATOMIC_RELAXED);
    }
}

static void test_threads_churn(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    run_t run;

    run_init(&run, p, CH_CAPACITY, CH_PUTS, ch_step);
    put_jtis(run.t, T_S, "perm", CH_LIVE, T_FAR + CH_PUTS, T_NOW);
    run_threads(&run, ch_check);
    assert_perm_revoked(run.t, CH_LIVE, T_NOW + CH_PUTS);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_size_and_format),
    AJ_TEST(test_empty_table),
    AJ_TEST(test_put_jti),
    AJ_TEST(test_expired_jti),
    AJ_TEST(test_user_valid_after),
    AJ_TEST(test_precomputed_keys),
    AJ_TEST(test_stores_isolated),
    AJ_TEST(test_overflow_per_store_and_recovery),
    AJ_TEST(test_dead_writer),
    AJ_TEST(test_full_then_enospc),
    AJ_TEST(test_expired_reused),
    AJ_TEST(test_compaction_keeps_live),
    AJ_TEST(test_colliding_keys),
    AJ_TEST(test_clear),
    AJ_TEST(test_refresh_bookkeeping),
    AJ_TEST(test_threads),
    AJ_TEST(test_threads_churn),
};

AJ_TEST_MAIN("aj_revtab", tests)

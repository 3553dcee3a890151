/*
 * test_revtab_write.c — the revocation table's writers (aj_revtab_write.c):
 * a writer that died mid-write and the recovery, a full table, expired
 * slots reused, compaction, colliding keys, and clearing the table.
 */
#include <openssl/sha.h>

#include "aj_test.h"
#include "aj_revtab.h"
#include "revtab.h"

/* A writer killed inside its write section: readers give up after
 * AJ_REVTAB_STALL_MS with APR_TIMEUP (failing closed), never spin forever;
 * the next writer resets the table and unloads every store. */
static void test_dead_writer(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    apr_uint64_t *seq;
    apr_int64_t v = 0;
    apr_time_t t0, waited;
    aj_revtab_key_t k;
    int revoked = 0;

    assert_int_equal(aj_revtab_put_jti(t, 0, "tok", T_LATER, T_NOW), APR_SUCCESS);
    aj_revtab_set_loaded(t, 0, 1);
    aj_revtab_set_loaded(t, 1, 1);
    assert_int_equal(aj_revtab_recover(t), 0); /* nothing to recover */
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
    assert_true(revoked); /* fails closed */
    assert_true(waited >= apr_time_from_msec(AJ_REVTAB_STALL_MS) / 2);
    assert_true(waited < apr_time_from_msec(AJ_REVTAB_STALL_MS) * 20);
    assert_int_equal(aj_revtab_key_value(&v, t, &k), APR_TIMEUP);
    assert_int_equal(v, APR_INT64_MAX);
    assert_true(aj_revtab_jti_revoked(t, 0, "other", T_NOW)); /* convenience: closed */

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
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    char buf[T_NAME_LEN];
    unsigned i;

    aj_test_revtab_put_jtis(t, T_S, "live", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_count(t), T_SMALL_MAX);
    assert_false(aj_revtab_overflowed(t, T_S));

    /* existing keys may still be updated when full */
    assert_int_equal(
        aj_revtab_put_jti(t, T_S, aj_test_revtab_name(buf, "live", 0), T_FAR + 1, T_NOW),
        APR_SUCCESS);
    assert_false(aj_revtab_overflowed(t, T_S));

    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR, T_NOW), APR_ENOSPC);
    assert_true(aj_revtab_overflowed(t, T_S));
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_ENOSPC);
    /* still full at a time when nothing has expired yet */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR, T_LATER), APR_ENOSPC);
    assert_int_equal(aj_revtab_count(t), T_SMALL_MAX);
    assert_false(aj_revtab_jti_revoked(t, T_S, "one-more", T_NOW));
    for (i = 0; i < T_SMALL_MAX; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "live", i), T_NOW));
    }
    /* the mark stays even once there is room again */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "one-more", T_FAR + 10, T_FAR + 5), APR_SUCCESS);
    assert_true(aj_revtab_overflowed(t, T_S));
}

/* A table full of expired jtis takes new ones: their slots are reused, and
 * when a new key's probe chain holds no expired slot the table compacts. */
static void test_expired_reused(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    char buf[T_NAME_LEN];
    unsigned i, round;

    for (round = 0; round < 4; round++) {
        apr_int64_t now = T_NOW + round * 100;

        for (i = 0; i < T_SMALL_MAX; i++) {
            assert_int_equal(aj_revtab_put_jti(t, T_S,
                                               aj_test_revtab_name(buf, "r", round * 1000 + i),
                                               now + 50, now),
                             APR_SUCCESS);
        }
        assert_false(aj_revtab_overflowed(t, T_S));
        assert_true(aj_revtab_count(t) <= T_SMALL_MAX);
        for (i = 0; i < T_SMALL_MAX; i++) {
            assert_true(aj_revtab_jti_revoked(
                t, T_S, aj_test_revtab_name(buf, "r", round * 1000 + i), now));
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
    aj_revtab_t *t = aj_test_revtab_new(p, 1024);
    const unsigned max = 768;
    char buf[T_NAME_LEN];
    int compacted = 0;
    unsigned i;

    assert_non_null(t);
    for (i = 0; i < max; i++) {
        apr_int64_t exp = (i % 2) ? T_FAR : T_NOW + 10;

        assert_int_equal(aj_revtab_put_jti(t, T_S, aj_test_revtab_name(buf, "mix", i), exp, T_NOW),
                         APR_SUCCESS);
    }
    assert_int_equal(aj_revtab_count(t), max);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "x", T_FAR, T_NOW), APR_ENOSPC);

    /* later: the even ones are dead; fill up to the limit again.  Some puts
     * reuse dead slots, the first whose path has none compacts the table. */
    for (i = 0; i < max / 2; i++) {
        assert_int_equal(
            aj_revtab_put_jti(t, T_S, aj_test_revtab_name(buf, "new", i), T_FAR, T_LATER),
            APR_SUCCESS);
        if (aj_revtab_count(t) < max) {
            compacted = 1;
        }
    }
    assert_true(compacted);
    assert_int_equal(aj_revtab_count(t), max); /* max live entries */
    for (i = 0; i < max; i++) {
        assert_int_equal(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "mix", i), T_LATER),
                         i % 2);
    }
    for (i = 0; i < max / 2; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "new", i), T_LATER));
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
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    char a[T_NAME_LEN], b[T_NAME_LEN], c[T_NAME_LEN];
    unsigned i, ha;

    /* three jtis that start from the same bucket */
    aj_test_revtab_name(a, "c", 0);
    ha = home_of('j', a, T_SMALL_CAP);
    for (i = 1, b[0] = c[0] = '\0'; !c[0]; i++) {
        char *dst = b[0] ? c : b;

        if (home_of('j', aj_test_revtab_name(dst, "c", i), T_SMALL_CAP) != ha) {
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
        assert_int_equal(
            aj_revtab_put_jti(t, T_S, aj_test_revtab_name(a, "f", i), T_LATER + 10, T_LATER),
            APR_SUCCESS);
    }
    for (i = 0; i < T_SMALL_CAP && aj_revtab_count(t) == T_SMALL_MAX; i++) {
        assert_int_equal(
            aj_revtab_put_jti(t, T_S, aj_test_revtab_name(a, "after", i), T_FAR, T_LATER + 10),
            APR_SUCCESS);
        assert_true(aj_revtab_jti_revoked(t, T_S, a, T_LATER + 10));
    }
    assert_true(aj_revtab_count(t) < T_SMALL_MAX);
    assert_true(aj_revtab_jti_revoked(t, T_S, b, T_LATER + 10));
    assert_true(aj_revtab_jti_revoked(t, T_S, c, T_LATER + 10));
    assert_true(aj_revtab_jti_revoked(t, T_S, a, T_LATER + 10)); /* the last "after" */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "reuser"), T_NOW);
    assert_false(aj_revtab_overflowed(t, T_S));
}

static void test_clear(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    char buf[T_NAME_LEN];

    aj_test_revtab_put_jtis(t, T_S, "k", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_ENOSPC);
    aj_revtab_set_loaded(t, T_S, 1);
    aj_revtab_set_watermark(t, T_S, T_NOW);
    aj_revtab_set_next_refresh(t, T_S, T_LATER);

    aj_revtab_clear(t);
    assert_int_equal(aj_revtab_count(t), 0);
    assert_false(aj_revtab_overflowed(t, T_S));
    assert_false(aj_revtab_loaded(t, T_S));
    assert_false(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "k", 0), T_NOW));
    /* only the table, the overflow mark and the loaded flag are reset */
    assert_int_equal(aj_revtab_watermark(t, T_S), T_NOW);
    assert_int_equal(aj_revtab_next_refresh(t, T_S), T_LATER);

    aj_test_revtab_put_jtis(t, T_S, "k2", T_SMALL_MAX, T_FAR, T_NOW);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "x", T_FAR, T_NOW), APR_ENOSPC);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_dead_writer),    AJ_TEST(test_full_then_enospc),
    AJ_TEST(test_expired_reused), AJ_TEST(test_compaction_keeps_live),
    AJ_TEST(test_colliding_keys), AJ_TEST(test_clear),
};

AJ_TEST_MAIN("aj_revtab_write", tests)

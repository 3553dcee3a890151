/*
 * test_revtab_stores.c — the revocation table's per-store bookkeeping
 * (aj_revtab_stores.c): stores kept apart, the overflow mark of each store,
 * the loaded flag, the watermark and the refresh schedule.
 */
#include "aj_test.h"
#include "aj_revtab.h"
#include "revtab.h"

/* docs/reference.md §9: the same jti, user id or change under two stores are unrelated;
 * each store has its own loaded flag, schedule, watermark and overflow. */
static void test_stores_isolated(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    aj_revtab_key_t a, b, ca;
    apr_int64_t v = -1;

    assert_int_equal(aj_revtab_jti_key(&a, t, 0, "tok"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&b, t, 1, "tok"), APR_SUCCESS);
    assert_memory_not_equal(&a, &b, sizeof(a));
    assert_int_equal(aj_revtab_changed_key(&ca, t, 0, "1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&b, t, 0, "1"), APR_SUCCESS);
    assert_memory_not_equal(&ca, &b, sizeof(ca)); /* changed != revoke-all */

    assert_int_equal(aj_revtab_put_jti(t, 0, "tok", T_LATER, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, 0, "tok", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, 1, "tok", T_NOW));
    assert_int_equal(aj_revtab_put_user(t, 0, "1", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, 0, "1"), T_NOW);
    assert_int_equal(aj_revtab_user_valid_after(t, 1, "1"), 0); /* user 1 of B: someone else */
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
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

    aj_test_revtab_put_jtis(t, 0, "short", T_SMALL_MAX, T_NOW + 10, T_NOW);
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

static void test_refresh_bookkeeping(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

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

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_stores_isolated),
    AJ_TEST(test_overflow_per_store_and_recovery),
    AJ_TEST(test_refresh_bookkeeping),
};

AJ_TEST_MAIN("aj_revtab_stores", tests)

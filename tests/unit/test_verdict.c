/*
 * test_verdict.c — every verdict has a distinct fixed name and text.
 */
#include "aj_test.h"

static void test_names_and_texts(void **state)
{
    int i, j;

    for (i = 0; i < AJ_VERDICT_COUNT; ++i) {
        const char *name = aj_verdict_name((aj_verdict_e)i);
        const char *text = aj_verdict_text((aj_verdict_e)i);
        assert_non_null(name);
        assert_non_null(text);
        assert_string_not_equal(name, "unknown");
        for (j = 0; j < i; ++j) {
            assert_string_not_equal(name, aj_verdict_name((aj_verdict_e)j));
            assert_string_not_equal(text, aj_verdict_text((aj_verdict_e)j));
        }
    }
}

static void test_fixed_texts(void **state)
{
    assert_string_equal(aj_verdict_name(AJ_OK), "ok");
    assert_string_equal(aj_verdict_name(AJ_BAD_SIG), "bad_sig");
    assert_string_equal(aj_verdict_name(AJ_BAD_ALG), "bad_alg");
    assert_string_equal(aj_verdict_text(AJ_EXPIRED), "token expired");
    assert_string_equal(aj_verdict_text(AJ_BAD_SIG), "signature verification failed");
    assert_string_equal(aj_verdict_text(AJ_MALFORMED), "malformed token");
    assert_string_equal(aj_verdict_text(AJ_BAD_ALG), "algorithm not allowed");
    assert_string_equal(aj_verdict_text(AJ_NOT_YET_VALID), "token not yet valid");
    assert_string_equal(aj_verdict_text(AJ_BAD_IAT), "issued in the future");
    assert_string_equal(aj_verdict_text(AJ_BAD_ISS), "wrong issuer");
    assert_string_equal(aj_verdict_text(AJ_BAD_AUD), "wrong audience");
    assert_string_equal(aj_verdict_text(AJ_BAD_CRIT), "unsupported critical header");
    assert_string_equal(aj_verdict_text(AJ_MISSING_EXP), "token has no expiry");
    assert_string_equal(aj_verdict_text(AJ_REVOKED), "token revoked");
    assert_string_equal(aj_verdict_name(AJ_UNKNOWN_KID), "unknown_kid");
    assert_string_equal(aj_verdict_text(AJ_UNKNOWN_KID), "unknown key id");
}

/* htjwt prints "Signature: valid" only when this says so. */
static void test_signature_verified(void **state)
{
    assert_true(aj_verdict_signature_verified(AJ_OK));
    assert_true(aj_verdict_signature_verified(AJ_EXPIRED));
    assert_true(aj_verdict_signature_verified(AJ_REVOKED));
    assert_true(aj_verdict_signature_verified(AJ_BAD_AUD));
    assert_false(aj_verdict_signature_verified(AJ_MALFORMED));
    assert_false(aj_verdict_signature_verified(AJ_BAD_ALG));
    assert_false(aj_verdict_signature_verified(AJ_BAD_SIG));
    assert_false(aj_verdict_signature_verified(AJ_BAD_CRIT));
    assert_false(aj_verdict_signature_verified(AJ_UNKNOWN_KID));
    assert_false(aj_verdict_signature_verified(AJ_VERDICT_COUNT));
    assert_false(aj_verdict_signature_verified((aj_verdict_e)-1));
}

static void test_out_of_range(void **state)
{
    assert_string_equal(aj_verdict_name(AJ_VERDICT_COUNT), "unknown");
    assert_string_equal(aj_verdict_name((aj_verdict_e)-1), "unknown");
    assert_non_null(aj_verdict_text(AJ_VERDICT_COUNT));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_names_and_texts),
    AJ_TEST(test_fixed_texts),
    AJ_TEST(test_signature_verified),
    AJ_TEST(test_out_of_range),
};

AJ_TEST_MAIN("aj_verdict", tests)

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
    /* the names metrics and logs use, and the RFC 6750 error_description texts */
    static const struct {
        aj_verdict_e v;
        const char *name, *text; /* NULL: not pinned here */
    } fixed[] = {
        { AJ_OK, "ok", NULL },
        { AJ_BAD_SIG, "bad_sig", "signature verification failed" },
        { AJ_BAD_ALG, "bad_alg", "algorithm not allowed" },
        { AJ_EXPIRED, NULL, "token expired" },
        { AJ_MALFORMED, NULL, "malformed token" },
        { AJ_NOT_YET_VALID, NULL, "token not yet valid" },
        { AJ_BAD_IAT, NULL, "issued in the future" },
        { AJ_BAD_ISS, NULL, "wrong issuer" },
        { AJ_BAD_AUD, NULL, "wrong audience" },
        { AJ_BAD_CRIT, NULL, "unsupported critical header" },
        { AJ_MISSING_EXP, NULL, "token has no expiry" },
        { AJ_REVOKED, NULL, "token revoked" },
        { AJ_UNKNOWN_KID, "unknown_kid", "unknown key id" },
        { AJ_BAD_TYP, "bad_typ", "token type not accepted" },
        { AJ_NO_USER, "no_user", "token names no user" },
        { AJ_UNKNOWN_ISSUER, "unknown_issuer", "unknown issuer" },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(fixed) / sizeof(*fixed); ++i) {
        if (fixed[i].name) {
            assert_string_equal(aj_verdict_name(fixed[i].v), fixed[i].name);
        }
        if (fixed[i].text) {
            assert_string_equal(aj_verdict_text(fixed[i].v), fixed[i].text);
        }
    }
}

/* htjwt prints "Signature: valid" only when this says so. */
static void test_signature_verified(void **state)
{
    static const aj_verdict_e verified[] = { AJ_OK, AJ_EXPIRED, AJ_REVOKED, AJ_BAD_AUD,
                                             AJ_NO_USER };
    static const aj_verdict_e not_verified[] = {
        AJ_MALFORMED, AJ_BAD_ALG,        AJ_BAD_SIG,       AJ_BAD_CRIT,      AJ_UNKNOWN_KID,
        AJ_BAD_TYP,   AJ_UNKNOWN_ISSUER, AJ_VERDICT_COUNT, (aj_verdict_e)-1,
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(verified) / sizeof(*verified); ++i) {
        assert_true(aj_verdict_signature_verified(verified[i]));
    }
    for (i = 0; i < sizeof(not_verified) / sizeof(*not_verified); ++i) {
        assert_false(aj_verdict_signature_verified(not_verified[i]));
    }
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

/*
 * test_basic.c — strict decoding of Basic credentials (aj_basic_decode).
 */
#include "aj_test.h"
#include "aj_basic.h"

static apr_status_t decode(apr_pool_t *p, const char *value, const char **user,
                           const char **password, const char **problem)
{
    return aj_basic_decode(user, password, problem, p, value, strlen(value));
}

static void test_ok(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *u = NULL, *pw = NULL, *problem = NULL;

    /* RFC 7617 §2's example: Aladdin:open sesame */
    assert_int_equal(decode(p, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &u, &pw, &problem), APR_SUCCESS);
    assert_string_equal(u, "Aladdin");
    assert_string_equal(pw, "open sesame");
    assert_null(problem);
    /* padding is optional */
    assert_int_equal(decode(p, "QWxhZGRpbjpvcGVuIHNlc2FtZQ", &u, &pw, &problem), APR_SUCCESS);
    assert_string_equal(pw, "open sesame");
    /* the first ':' splits; empty user and password are the caller's business */
    assert_int_equal(decode(p, "dTpwOnc6", &u, &pw, &problem), APR_SUCCESS); /* u:p:w: */
    assert_string_equal(u, "u");
    assert_string_equal(pw, "p:w:");
    assert_int_equal(decode(p, "Og==", &u, &pw, &problem), APR_SUCCESS); /* ":" */
    assert_string_equal(u, "");
    assert_string_equal(pw, "");
}

static void test_refused(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const bad[] = {
        "",             /* empty */
        "dXNlcg==",     /* "user": no colon */
        "dXNlcgA6cHc=", /* "user\0:pw": NUL */
        "dTpwAA==",     /* "u:p\0": NUL in the password */
        "QWxh ZGRp",    /* whitespace */
        "QWxh\tZGRp",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=", /* wrong padding for the length */
        "QQ===",                       /* three pads */
        "QQ=A",                        /* data after padding */
        "=",                           /* padding alone */
        "QWxhZ",                       /* length 1 mod 4 */
        "dXNlcjpwdw-_",                /* base64url characters */
        "dXNlcjpwdw*",                 /* garbage */
        "\xc3\xa9\xc3\xa9",            /* non-ASCII */
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        const char *u = "untouched", *pw = "untouched", *problem = NULL;
        assert_int_equal(decode(p, bad[i], &u, &pw, &problem), APR_EINVAL);
        assert_non_null(problem);
        assert_string_equal(u, "untouched");
        assert_string_equal(pw, "untouched");
    }
}

static void test_not_nul_terminated(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    /* the value is a slice of a longer header: only len bytes count */
    const char hdr[] = "dTpwdw== trailing";
    const char *u = NULL, *pw = NULL, *problem = NULL;

    assert_int_equal(aj_basic_decode(&u, &pw, &problem, p, hdr, 8), APR_SUCCESS);
    assert_string_equal(u, "u");
    assert_string_equal(pw, "pw");
    assert_int_equal(aj_basic_decode(&u, &pw, &problem, p, hdr, 5), APR_EINVAL); /* 5 % 4 == 1 */
}

static void test_problems_are_fixed_texts(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *u = NULL, *pw = NULL, *problem = NULL;

    assert_int_equal(decode(p, "c2VjcmV0LXZhbHVl", &u, &pw, &problem), APR_EINVAL);
    assert_string_equal(problem, "Basic credentials have no ':'");
    assert_null(strstr(problem, "secret"));
    assert_int_equal(decode(p, "!!!!", &u, &pw, &problem), APR_EINVAL);
    assert_string_equal(problem, "Basic credentials are not base64");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_ok),
    AJ_TEST(test_refused),
    AJ_TEST(test_not_nul_terminated),
    AJ_TEST(test_problems_are_fixed_texts),
};

AJ_TEST_MAIN("aj_basic", tests)

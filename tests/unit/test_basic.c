/*
 * test_basic.c — strict decoding of Basic credentials (aj_basic_decode).
 */
#include <apr_base64.h>

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
        "QQ======",                    /* six pads, a multiple of four */
        "====",                        /* padding alone, a multiple of four */
        "QUJD=",                       /* a pad after a whole group */
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

/* The decoder's table against APR's encoder: every byte 1..255 (all 64
 * characters appear in the encoding) round-trips, padded and not. */
static void test_table_matches_apr(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[1 + 1 + 255 + 1], *enc;
    const char *u = NULL, *pw = NULL, *problem = NULL;
    apr_size_t i, shift, n;

    for (shift = 0; shift < 3; ++shift) { /* every tail length: 0, 1 and 2 bytes */
        n = 0;
        plain[n++] = 'u';
        plain[n++] = ':';
        for (i = 1; i <= 255 - shift; ++i) {
            plain[n++] = (char)i;
        }
        enc = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
        apr_base64_encode(enc, plain, (int)n);
        for (i = 0; i < sizeof(alphabet) - 1; ++i) {
            assert_non_null(strchr(enc, alphabet[i]));
        }
        assert_int_equal(decode(p, enc, &u, &pw, &problem), APR_SUCCESS);
        assert_string_equal(u, "u");
        assert_int_equal(strlen(pw), n - 2);
        assert_memory_equal(pw, plain + 2, n - 2);
        /* without its padding */
        while (enc[strlen(enc) - 1] == '=') {
            enc[strlen(enc) - 1] = '\0';
        }
        assert_int_equal(decode(p, enc, &u, &pw, &problem), APR_SUCCESS);
        assert_memory_equal(pw, plain + 2, n - 2);
    }
}

/* Every byte outside the alphabet is refused, wherever it stands in a group. */
static void test_every_other_byte_refused(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    char v[] = "dTpwdzE6"; /* "u:pw1:" */
    const char *u = NULL, *pw = NULL, *problem = NULL;
    int b;
    apr_size_t at;

    for (b = 1; b < 256; ++b) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", b)) {
            continue;
        }
        for (at = 0; at < sizeof(v) - 1; ++at) {
            char w[sizeof(v)];
            if (b == '=' && at == sizeof(v) - 2) {
                continue; /* "dTpwdzE=": padding, valid */
            }
            memcpy(w, v, sizeof(v));
            w[at] = (char)b;
            problem = NULL;
            assert_int_equal(aj_basic_decode(&u, &pw, &problem, p, w, sizeof(v) - 1), APR_EINVAL);
            assert_non_null(problem);
        }
    }
    /* and in a 2- or 3-character tail */
    assert_int_equal(decode(p, "dTpwd*", &u, &pw, &problem), APR_EINVAL);
    assert_int_equal(decode(p, "dTpw*w", &u, &pw, &problem), APR_EINVAL);
    assert_int_equal(decode(p, "dTpwdzE", &u, &pw, &problem), APR_SUCCESS); /* "u:pw1" */
    assert_string_equal(pw, "pw1");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_table_matches_apr),
    AJ_TEST(test_every_other_byte_refused),
    AJ_TEST(test_ok),
    AJ_TEST(test_refused),
    AJ_TEST(test_not_nul_terminated),
    AJ_TEST(test_problems_are_fixed_texts),
};

AJ_TEST_MAIN("aj_basic", tests)

/*
 * test_duration.c — the one duration rule of directives and htjwt
 * (aj_duration_parse, docs/reference.md §13).
 */
#include <string.h>

#include "aj_test.h"
#include "aj_duration.h"

/* Every text is refused with status want, and the out-parameter is left
 * untouched. */
static void assert_refused(const char *const *texts, apr_size_t n, apr_status_t want)
{
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        apr_int64_t v = 42;
        apr_status_t rv = aj_duration_parse(&v, texts[i]);
        if (rv != want) {
            fail_msg("[%s]: status %d, want %d", texts[i], rv, want);
        }
        assert_int_equal(v, 42); /* untouched on failure */
    }
}

static void test_forms_accepted(void **state)
{
    static const struct {
        const char *text;
        apr_int64_t seconds;
    } good[] = {
        { "0", 0 },
        { "600", 600 },
        { "600s", 600 },
        { "10m", 600 },
        { "1h", 3600 },
        { "14d", 14 * 86400 },
        { "0d", 0 },
        { "007", 7 },
        { "9223372036854775807", APR_INT64_MAX },
        { "9223372036854775807s", APR_INT64_MAX },
        { "106751991167300d", (apr_int64_t)106751991167300 * 86400 },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        apr_int64_t v = -1;
        if (aj_duration_parse(&v, good[i].text) != APR_SUCCESS) {
            fail_msg("refused: [%s]", good[i].text);
        }
        assert_int_equal(v, good[i].seconds);
    }
}

static void test_bad_shapes_refused(void **state)
{
    static const char *const bad[] = {
        "",   " ",  "-1",   "-10m", "+5",   " 5",   "5 ",  "5 m", "m",   "10min",    "10M",
        "1H", "1w", "1.5h", "1e3",  "0x10", "10ms", "1hs", "h1",  "5\t", "\xc2\xb9",
    };

    (void)state;
    assert_refused(bad, sizeof(bad) / sizeof(bad[0]), APR_EINVAL);
    assert_int_equal(aj_duration_parse(&(apr_int64_t){ 0 }, NULL), APR_EINVAL);
}

static void test_overflow_refused(void **state)
{
    static const char *const big[] = {
        "9223372036854775808",                             /* INT64_MAX + 1 */
        "99999999999999999999999", "9223372036854775807m", /* digits fit, the unit does not */
        "106751991167301d",        "153722867280912931m",  "2562047788015216h",
    };

    (void)state;
    assert_refused(big, sizeof(big) / sizeof(big[0]), APR_ERANGE);
}

/* The range check and the one message every directive gives. */
static void test_in_range(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_int64_t v = 42;
    const char *err;

    assert_null(aj_duration_in_range(&v, p, "AuthJWTX", "10m", 60, 3600));
    assert_int_equal(v, 600);
    assert_null(aj_duration_in_range(&v, p, "AuthJWTX", "60", 60, 3600)); /* both ends */
    assert_null(aj_duration_in_range(&v, p, "AuthJWTX", "1h", 60, 3600));
    assert_int_equal(v, 3600);

    v = 42;
    err = aj_duration_in_range(&v, p, "AuthJWTX", "59", 60, 3600);
    assert_string_equal(err, "AuthJWTX: '59' is not a duration from 60 to 3600 seconds (write "
                             "seconds, or a number with s, m, h or d (600, 10m, 1h, 14d))");
    assert_int_equal(v, 42); /* untouched on failure */
    assert_non_null(aj_duration_in_range(&v, p, "AuthJWTX", "3601", 60, 3600));
    assert_non_null(aj_duration_in_range(&v, p, "AuthJWTX", "10min", 60, 3600));
    assert_non_null(aj_duration_in_range(&v, p, "AuthJWTX", "99999999999999999999", 0, 3600));
    err = aj_duration_in_range(&v, p, "AuthJWTX", NULL, 60, 3600);
    assert_non_null(strstr(err, "AuthJWTX: '' is not a duration"));
    assert_int_equal(v, 42);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_forms_accepted),
    AJ_TEST(test_bad_shapes_refused),
    AJ_TEST(test_overflow_refused),
    AJ_TEST(test_in_range),
};

AJ_TEST_MAIN("aj_duration", tests)

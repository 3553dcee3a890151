/*
 * test_metrics.c — the shared counters and their Prometheus text (aj_metrics).
 */
#include <pthread.h>

#include "aj_test.h"
#include "aj_metrics.h"

#define T_THREADS 4
#define T_ADDS    100000

static aj_metrics_t *new_metrics(apr_pool_t *p)
{
    void *mem = apr_palloc(p, aj_metrics_size());

    memset(mem, 0x5a, aj_metrics_size()); /* format must zero it */
    return aj_metrics_format(mem, aj_metrics_size());
}

static void test_format(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    char *mem = apr_palloc(p, aj_metrics_size() + 8);
    aj_metrics_t *m;
    int i;

    assert_null(aj_metrics_format(NULL, aj_metrics_size()));
    assert_null(aj_metrics_format(mem, aj_metrics_size() - 1));
    assert_null(aj_metrics_format(mem + 1, aj_metrics_size()));
    m = new_metrics(p);
    assert_non_null(m);
    for (i = 0; i < AJ_M_COUNT; i++) {
        assert_int_equal(aj_metrics_get(m, (aj_metric_e)i), 0);
    }
    /* NULL and unknown counters are harmless */
    aj_metrics_add(NULL, AJ_M_RESULT_OK, 1);
    aj_metrics_add(m, AJ_M_COUNT, 1);
    assert_int_equal(aj_metrics_get(NULL, AJ_M_RESULT_OK), 0);
    assert_int_equal(aj_metrics_get(m, AJ_M_COUNT), 0);
}

static void test_names(void **state)
{
    static const struct {
        aj_metric_e m;
        const char *name;
    } names[] = {
        { AJ_M_RESULT_OK, "ok" },
        { AJ_M_RESULT_NO_CREDENTIALS, "no_credentials" },
        { AJ_M_RESULT_INVALID_TOKEN, "invalid_token" },
        { AJ_M_RESULT_EXPIRED, "expired" },
        { AJ_M_RESULT_REVOKED, "revoked" },
        { AJ_M_RESULT_WRONG_PASSWORD, "wrong_password" },
        { AJ_M_RESULT_THROTTLED, "throttled" },
        { AJ_M_RESULT_STORE_UNAVAILABLE, "store_unavailable" },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(*names); ++i) {
        assert_string_equal(aj_metrics_result_name(names[i].m), names[i].name);
    }
    /* not a result */
    assert_null(aj_metrics_result_name(AJ_M_RESULTS));
    assert_null(aj_metrics_result_name(AJ_M_VERIFY_HIT));
}

static void test_prometheus_text(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_metrics_t *m = new_metrics(p);
    aj_metrics_gauges_t g = { 7, 98304 };
    const char *text;

    aj_metrics_add(m, AJ_M_RESULT_OK, 3);
    aj_metrics_add(m, AJ_M_RESULT_THROTTLED, 1);
    aj_metrics_add(m, AJ_M_VERIFY_HIT, 5);
    aj_metrics_add(m, AJ_M_BASIC_MISS, 2);
    aj_metrics_add(m, AJ_M_PASSWORD_CHECKS, 2);
    aj_metrics_add(m, AJ_M_PASSWORD_USEC, 1500042);
    text = aj_metrics_prometheus(p, m, &g);
    assert_non_null(strstr(text, "# TYPE mod_auth_jwt_requests_total counter\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_requests_total{result=\"ok\"} 3\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_requests_total{result=\"throttled\"} 1\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_requests_total{result=\"store_unavailable\"} 0\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_cache_total{cache=\"verify\",result=\"hit\"} 5\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_cache_total{cache=\"basic\",result=\"miss\"} 2\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_revocation_entries 7\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_revocation_capacity 98304\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_password_checks_total 2\n"));
    assert_non_null(strstr(text, "mod_auth_jwt_password_check_seconds_total 1.500042\n"));
    /* every sample line belongs to a declared metric; the text ends a line */
    assert_int_equal(text[strlen(text) - 1], '\n');
    /* no gauges: zeros */
    text = aj_metrics_prometheus(p, m, NULL);
    assert_non_null(strstr(text, "mod_auth_jwt_revocation_capacity 0\n"));
}

static void *adder(void *arg)
{
    aj_metrics_t *m = arg;
    int i;

    for (i = 0; i < T_ADDS; i++) {
        aj_metrics_add(m, AJ_M_RESULT_OK, 1);
        aj_metrics_add(m, AJ_M_VERIFY_HIT, 2);
    }
    return NULL;
}

/* Concurrent counting loses nothing. */
static void test_threads(void **state)
{
    aj_metrics_t *m = new_metrics(AJ_POOL(state));
    pthread_t t[T_THREADS];
    int i;

    for (i = 0; i < T_THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, adder, m), 0);
    }
    for (i = 0; i < T_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    assert_int_equal(aj_metrics_get(m, AJ_M_RESULT_OK), (apr_uint64_t)T_THREADS * T_ADDS);
    assert_int_equal(aj_metrics_get(m, AJ_M_VERIFY_HIT), (apr_uint64_t)T_THREADS * T_ADDS * 2);
}

/* Key fetches by issuer: the issuer is a label value, escaped. */
static void test_key_fetches(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_string_equal(aj_metrics_key_fetches(p, "https://idp/r", 3, 1, 1),
                        "# HELP mod_auth_jwt_key_fetches_total Key set fetches of trusted "
                        "issuers by issuer and result.\n"
                        "# TYPE mod_auth_jwt_key_fetches_total counter\n"
                        "mod_auth_jwt_key_fetches_total{issuer=\"https://idp/r\",result=\"ok\"} 3\n"
                        "mod_auth_jwt_key_fetches_total{issuer=\"https://idp/r\",result=\"error\"} "
                        "1\n");
    assert_string_equal(
        aj_metrics_key_fetches(p, "a\"b\\c\nd", 0, 0, 0),
        "mod_auth_jwt_key_fetches_total{issuer=\"a\\\"b\\\\c\\nd\",result=\"ok\"} "
        "0\n"
        "mod_auth_jwt_key_fetches_total{issuer=\"a\\\"b\\\\c\\nd\",result=\"error\"} "
        "0\n");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_format),  AJ_TEST(test_names),       AJ_TEST(test_prometheus_text),
    AJ_TEST(test_threads), AJ_TEST(test_key_fetches),
};

AJ_TEST_MAIN("aj_metrics", tests)

/*
 * test_vcache.c — the verified-token cache: hits only for the same scope and
 * the exact same token bytes, never past exp, bounded payloads, replacement.
 */
#include "aj_test.h"
#include "aj_vcache.h"

#define NOW 1700000000

static const char *TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
static const char *PAYLOAD = "{\"sub\":\"1\",\"exp\":1700000600}";

static aj_vcache_t *make(apr_pool_t *p, apr_uint32_t n)
{
    aj_vcache_t *c = NULL;

    assert_int_equal(aj_vcache_make(&c, p, n), APR_SUCCESS);
    assert_non_null(c);
    return c;
}

static void key_of(unsigned char *k, const void *scope, const char *token)
{
    assert_int_equal(aj_vcache_key(k, scope, token, strlen(token)), APR_SUCCESS);
}

static void test_zero_capacity_is_off(void **state)
{
    aj_vcache_t *c = (aj_vcache_t *)1;

    assert_int_equal(aj_vcache_make(&c, AJ_POOL(state), 0), APR_SUCCESS);
    assert_null(c);
}

static void test_hit_and_miss(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    unsigned char k[AJ_VCACHE_KEY_LEN];
    const char *out = NULL;
    apr_size_t n = 0;
    apr_uint64_t hits, misses;
    int scope;

    key_of(k, &scope, TOKEN);
    assert_false(aj_vcache_get(&out, &n, c, p, k, NOW));
    aj_vcache_put(c, k, PAYLOAD, strlen(PAYLOAD), NOW + 600, NOW);
    assert_true(aj_vcache_get(&out, &n, c, p, k, NOW));
    assert_int_equal(n, strlen(PAYLOAD));
    assert_string_equal(out, PAYLOAD);
    aj_vcache_stats(c, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
}

static void test_other_bytes_other_key(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    unsigned char k[AJ_VCACHE_KEY_LEN], k2[AJ_VCACHE_KEY_LEN], k3[AJ_VCACHE_KEY_LEN];
    char *tampered = apr_pstrdup(p, TOKEN);
    const char *out = NULL;
    apr_size_t n = 0;
    int scope, other_scope;

    key_of(k, &scope, TOKEN);
    aj_vcache_put(c, k, PAYLOAD, strlen(PAYLOAD), NOW + 600, NOW);
    /* one flipped bit in the signature: another key, a miss */
    tampered[strlen(tampered) - 1] ^= 1;
    key_of(k2, &scope, tampered);
    assert_memory_not_equal(k, k2, AJ_VCACHE_KEY_LEN);
    assert_false(aj_vcache_get(&out, &n, c, p, k2, NOW));
    /* the same token verified by another key set: a miss */
    key_of(k3, &other_scope, TOKEN);
    assert_memory_not_equal(k, k3, AJ_VCACHE_KEY_LEN);
    assert_false(aj_vcache_get(&out, &n, c, p, k3, NOW));
}

static void test_never_past_exp(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    unsigned char k[AJ_VCACHE_KEY_LEN];
    const char *out = NULL;
    apr_size_t n = 0;
    int scope;

    key_of(k, &scope, TOKEN);
    aj_vcache_put(c, k, PAYLOAD, strlen(PAYLOAD), NOW + 10, NOW);
    assert_true(aj_vcache_get(&out, &n, c, p, k, NOW + 9));
    assert_false(aj_vcache_get(&out, &n, c, p, k, NOW + 10));
    /* an already expired token is not stored */
    key_of(k, &scope, "eyJhbGciOiJIUzI1NiJ9.e30.b3RoZXI");
    aj_vcache_put(c, k, PAYLOAD, strlen(PAYLOAD), NOW, NOW);
    assert_false(aj_vcache_get(&out, &n, c, p, k, NOW - 5));
}

static void test_long_payloads_not_cached(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    unsigned char k[AJ_VCACHE_KEY_LEN];
    char *big = apr_palloc(p, AJ_VCACHE_MAX_PAYLOAD + 2);
    const char *out = NULL;
    apr_size_t n = 0;
    int scope;

    memset(big, 'x', AJ_VCACHE_MAX_PAYLOAD + 1);
    big[AJ_VCACHE_MAX_PAYLOAD + 1] = '\0';
    key_of(k, &scope, TOKEN);
    aj_vcache_put(c, k, big, AJ_VCACHE_MAX_PAYLOAD + 1, NOW + 600, NOW);
    assert_false(aj_vcache_get(&out, &n, c, p, k, NOW));
    aj_vcache_put(c, k, big, AJ_VCACHE_MAX_PAYLOAD, NOW + 600, NOW);
    assert_true(aj_vcache_get(&out, &n, c, p, k, NOW));
    assert_int_equal(n, AJ_VCACHE_MAX_PAYLOAD);
}

static void test_bounded_by_replacement(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 16);
    unsigned char k[AJ_VCACHE_KEY_LEN];
    const char *out = NULL;
    apr_size_t n = 0;
    int scope, i, found = 0;

    /* 1000 tokens through 16 slots: at most 16 remain, the last one does */
    for (i = 0; i < 1000; ++i) {
        key_of(k, &scope, apr_psprintf(p, "%s%d", TOKEN, i));
        aj_vcache_put(c, k, PAYLOAD, strlen(PAYLOAD), NOW + 600, NOW);
    }
    assert_true(aj_vcache_get(&out, &n, c, p, k, NOW));
    for (i = 0; i < 1000; ++i) {
        key_of(k, &scope, apr_psprintf(p, "%s%d", TOKEN, i));
        found += aj_vcache_get(&out, &n, c, p, k, NOW);
    }
    assert_true(found >= 1 && found <= 16);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_zero_capacity_is_off),
    AJ_TEST(test_hit_and_miss),
    AJ_TEST(test_other_bytes_other_key),
    AJ_TEST(test_never_past_exp),
    AJ_TEST(test_long_payloads_not_cached),
    AJ_TEST(test_bounded_by_replacement),
};

AJ_TEST_MAIN("aj_vcache", tests)

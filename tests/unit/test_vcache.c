/*
 * test_vcache.c — the verified-token cache: hits only for the same scope and
 * the exact same token bytes, never past exp, bounded sizes, replacement.
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

static int get(aj_vcache_t *c, apr_pool_t *p, const void *scope, const char *tok, apr_int64_t now,
               const char **out)
{
    apr_size_t n = 0;
    const void *o = NULL;
    int hit = aj_vcache_get(&o, &n, c, p, scope, tok, strlen(tok), now);

    if (hit) {
        /* the test data carries its NUL; the copy is 8-byte aligned */
        assert_int_equal(n, strlen(o) + 1);
        assert_int_equal((apr_uintptr_t)o % 8, 0);
    }
    if (out) {
        *out = o;
    }
    return hit;
}

static void put(aj_vcache_t *c, const void *scope, const char *tok, const char *payload,
                apr_size_t plen, apr_int64_t exp, apr_int64_t now)
{
    aj_vcache_put(c, scope, tok, strlen(tok), payload, plen, exp, now);
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
    const char *out = NULL;
    apr_uint64_t hits, misses;
    int scope;

    assert_false(get(c, p, &scope, TOKEN, NOW, NULL));
    put(c, &scope, TOKEN, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    assert_true(get(c, p, &scope, TOKEN, NOW, &out));
    assert_string_equal(out, PAYLOAD);
    aj_vcache_stats(c, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
}

static void test_only_the_exact_token_and_scope_hit(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 16);
    char *tampered = apr_pstrdup(p, TOKEN);
    char *head = apr_pstrdup(p, TOKEN);
    int scope, other_scope;
    apr_size_t i;

    put(c, &scope, TOKEN, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    /* one flipped bit anywhere: a miss (the tail decides the slot, the
     * whole token decides the hit) */
    for (i = 0; i < strlen(TOKEN); ++i) {
        strcpy(tampered, TOKEN);
        tampered[i] ^= 1;
        assert_false(get(c, p, &scope, tampered, NOW, NULL));
    }
    head[strlen(head) - 1] = '\0'; /* a prefix */
    assert_false(get(c, p, &scope, head, NOW, NULL));
    /* the same token verified by another key set: a miss */
    assert_false(get(c, p, &other_scope, TOKEN, NOW, NULL));
    assert_true(get(c, p, &scope, TOKEN, NOW, NULL));
}

static void test_never_past_exp(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    int scope;

    put(c, &scope, TOKEN, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 10, NOW);
    assert_true(get(c, p, &scope, TOKEN, NOW + 9, NULL));
    assert_false(get(c, p, &scope, TOKEN, NOW + 10, NULL));
    /* an already expired token is not stored */
    put(c, &scope, "eyJhbGciOiJIUzI1NiJ9.e30.b3RoZXI", PAYLOAD, strlen(PAYLOAD) + 1, NOW, NOW);
    assert_false(get(c, p, &scope, "eyJhbGciOiJIUzI1NiJ9.e30.b3RoZXI", NOW - 5, NULL));
}

_Static_assert(AJ_VCACHE_MAX_DATA >= AJ_VCACHE_MAX_TOKEN, "big holds both");

static void test_size_limits(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 64);
    char *big = apr_palloc(p, AJ_VCACHE_MAX_DATA + 2);
    int scope;

    memset(big, 'x', AJ_VCACHE_MAX_DATA + 1);
    put(c, &scope, TOKEN, big, AJ_VCACHE_MAX_DATA + 1, NOW + 600, NOW);
    assert_false(get(c, p, &scope, TOKEN, NOW, NULL));
    put(c, &scope, TOKEN, big, AJ_VCACHE_MAX_DATA, NOW + 600, NOW);
    apr_size_t n = 0;
    const void *out = NULL;
    assert_true(aj_vcache_get(&out, &n, c, p, &scope, TOKEN, strlen(TOKEN), NOW));
    assert_int_equal(n, AJ_VCACHE_MAX_DATA);
    /* a token longer than AJ_VCACHE_MAX_TOKEN is not stored */
    memset(big, 'y', AJ_VCACHE_MAX_TOKEN + 1);
    big[AJ_VCACHE_MAX_TOKEN + 1] = '\0';
    put(c, &scope, big, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    assert_false(get(c, p, &scope, big, NOW, NULL));
    big[AJ_VCACHE_MAX_TOKEN] = '\0';
    put(c, &scope, big, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    assert_true(get(c, p, &scope, big, NOW, NULL));
}

static void test_bounded_by_replacement(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 16);
    const char *last = NULL;
    int scope, i, found = 0;

    /* 1000 tokens through 16 slots: at most 16 remain, the last one does */
    for (i = 0; i < 1000; ++i) {
        last = apr_psprintf(p, "%s%d", TOKEN, i);
        put(c, &scope, last, PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    }
    assert_true(get(c, p, &scope, last, NOW, NULL));
    for (i = 0; i < 1000; ++i) {
        found += get(c, p, &scope, apr_psprintf(p, "%s%d", TOKEN, i), NOW, NULL);
    }
    assert_true(found >= 1 && found <= 16);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_zero_capacity_is_off),
    AJ_TEST(test_hit_and_miss),
    AJ_TEST(test_only_the_exact_token_and_scope_hit),
    AJ_TEST(test_never_past_exp),
    AJ_TEST(test_size_limits),
    AJ_TEST(test_bounded_by_replacement),
};

AJ_TEST_MAIN("aj_vcache", tests)

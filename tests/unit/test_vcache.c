/*
 * test_vcache.c — the verified-token cache: hits only for the same scope and
 * the exact same token bytes, never past exp, bounded sizes, replacement
 * within a bucket, threads.
 *
 * White-box: the cache's source is compiled into this test (its functions
 * then come from here, not from libajcore), so the tests can build tokens
 * that share a bucket with its own hash and know how many ways it has.
 */
#include <apr_thread_proc.h>

#include "aj_test.h"
#include "../../src/core/aj_vcache.c"

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
    int scope = 0;

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
    int scope = 0, other_scope = 0;
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
    int scope = 0;

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
    int scope = 0;

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
    int scope = 0, i, found = 0;

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

/* n tokens that the cache puts in one bucket (the first token's). */
static const char **colliding(apr_pool_t *p, const aj_vcache_t *c, const void *scope, int n)
{
    const char **out = apr_pcalloc(p, sizeof(*out) * n);
    apr_uint32_t bucket = 0;
    int found = 0, i;

    /* with 2^k buckets, one try in 2^k lands there: bounded */
    for (i = 0; found < n && i < 100000; ++i) {
        const char *t = apr_psprintf(p, "%s.%d", TOKEN, i);
        apr_uint32_t b = (apr_uint32_t)aj_vcache_hash(scope, t, strlen(t)) & c->mask;

        if (found == 0) {
            bucket = b;
        }
        if (b == bucket) {
            out[found++] = t;
        }
    }
    assert_int_equal(found, n);
    return out;
}

static int count_hits(aj_vcache_t *c, apr_pool_t *p, const void *scope, const char **toks, int n,
                      apr_int64_t now)
{
    int i, hits = 0;

    for (i = 0; i < n; ++i) {
        hits += get(c, p, scope, toks[i], now, NULL);
    }
    return hits;
}

static void test_a_bucket_holds_its_ways(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 4096);
    int scope = 0;
    const char **t = colliding(p, c, &scope, AJ_VCACHE_WAYS + 2);
    int i;

    for (i = 0; i < AJ_VCACHE_WAYS; ++i) {
        put(c, &scope, t[i], t[i], strlen(t[i]) + 1, NOW + 600, NOW);
    }
    /* every colliding token stays (direct mapping kept only the last);
     * each gets the data stored with it */
    for (i = 0; i < AJ_VCACHE_WAYS; ++i) {
        const char *out = NULL;

        assert_true(get(c, p, &scope, t[i], NOW, &out));
        assert_string_equal(out, t[i]);
    }
    /* one more: the least recently used goes (t[0], hit first) */
    put(c, &scope, t[AJ_VCACHE_WAYS], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    assert_false(get(c, p, &scope, t[0], NOW, NULL));
    assert_int_equal(count_hits(c, p, &scope, t + 1, AJ_VCACHE_WAYS - 1, NOW), AJ_VCACHE_WAYS - 1);
    /* a newcomer not used since it came is the next to go: the others
     * were used again after it (t[1..] just now), so it is the oldest use */
    put(c, &scope, t[AJ_VCACHE_WAYS + 1], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    assert_false(get(c, p, &scope, t[AJ_VCACHE_WAYS], NOW, NULL));
    assert_true(get(c, p, &scope, t[AJ_VCACHE_WAYS + 1], NOW, NULL));
    assert_int_equal(count_hits(c, p, &scope, t + 1, AJ_VCACHE_WAYS - 1, NOW), AJ_VCACHE_WAYS - 1);
}

static void test_new_tokens_enter_last(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 4096);
    int scope = 0;
    const char **t = colliding(p, c, &scope, AJ_VCACHE_WAYS + 20);
    int i;

    for (i = 0; i < AJ_VCACHE_WAYS; ++i) {
        put(c, &scope, t[i], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    }
    assert_int_equal(count_hits(c, p, &scope, t, AJ_VCACHE_WAYS, NOW), AJ_VCACHE_WAYS);
    /* 20 tokens sent once each, through a full bucket of tokens in use:
     * the first takes the least recently used slot (t[0]'s), the others
     * replace one another there, never the tokens in use */
    for (i = AJ_VCACHE_WAYS; i < AJ_VCACHE_WAYS + 20; ++i) {
        put(c, &scope, t[i], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    }
    assert_false(get(c, p, &scope, t[0], NOW, NULL));
    assert_int_equal(count_hits(c, p, &scope, t + 1, AJ_VCACHE_WAYS - 1, NOW), AJ_VCACHE_WAYS - 1);
    assert_true(get(c, p, &scope, t[AJ_VCACHE_WAYS + 19], NOW, NULL));
    assert_int_equal(count_hits(c, p, &scope, t + AJ_VCACHE_WAYS, 19, NOW), 0);
}

static void test_expired_slot_goes_first(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 4096);
    int scope = 0;
    const char **t = colliding(p, c, &scope, AJ_VCACHE_WAYS + 1);
    const int last = AJ_VCACHE_WAYS - 1;
    int i;

    /* the last one expires first; it is also the most recently used */
    for (i = 0; i < AJ_VCACHE_WAYS; ++i) {
        put(c, &scope, t[i], PAYLOAD, strlen(PAYLOAD) + 1, i == last ? NOW + 10 : NOW + 600, NOW);
    }
    assert_int_equal(count_hits(c, p, &scope, t, AJ_VCACHE_WAYS, NOW), AJ_VCACHE_WAYS);
    put(c, &scope, t[AJ_VCACHE_WAYS], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW + 10);
    assert_int_equal(count_hits(c, p, &scope, t, last, NOW + 10), last);
    assert_true(get(c, p, &scope, t[AJ_VCACHE_WAYS], NOW + 10, NULL));
    /* and it is gone, not just refused: back at NOW it would still hit */
    assert_false(get(c, p, &scope, t[last], NOW, NULL));
}

static void test_same_token_replaces_itself(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 4096);
    int scope = 0, other_scope = 0;
    const char **t = colliding(p, c, &scope, AJ_VCACHE_WAYS);
    const char *out = NULL;
    int i;

    /* stored twice (two requests that missed together): one slot, the
     * second data */
    put(c, &scope, t[0], "first", 6, NOW + 600, NOW);
    put(c, &scope, t[0], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    for (i = 1; i < AJ_VCACHE_WAYS; ++i) {
        put(c, &scope, t[i], PAYLOAD, strlen(PAYLOAD) + 1, NOW + 600, NOW);
    }
    assert_true(get(c, p, &scope, t[0], NOW, &out));
    assert_string_equal(out, PAYLOAD);
    assert_int_equal(count_hits(c, p, &scope, t, AJ_VCACHE_WAYS, NOW), AJ_VCACHE_WAYS);
    /* the same bytes in another scope are another entry */
    assert_false(get(c, p, &other_scope, t[0], NOW, NULL));
    put(c, &other_scope, t[0], "other", 6, NOW + 600, NOW);
    assert_true(get(c, p, &other_scope, t[0], NOW, &out));
    assert_string_equal(out, "other");
    assert_true(get(c, p, &scope, t[0], NOW, &out));
    assert_string_equal(out, PAYLOAD);
}

/* Threads sharing one small cache: each token's data is the token itself,
 * so a hit that returned another entry's bytes (or freed ones: ASan) shows. */
#define VC_THREADS    4
#define VC_TOKENS     64
#define VC_ITERATIONS 20000

typedef struct {
    aj_vcache_t *c;
    apr_pool_t *p;
    const char **tokens;
    int seed;
    int wrong, hits;
} vc_job;

/* The work of one thread, in its own frame: it returns before the thread
 * exits (apr_thread_exit leaves the frame it is called from as it was,
 * which ASan then reports when the thread's stack is reused). */
__attribute__((noinline)) static void vc_work(vc_job *j)
{
    static int scope;
    int i;

    for (i = 0; i < VC_ITERATIONS; ++i) {
        const char *t = j->tokens[(i * 7 + j->seed) % VC_TOKENS];
        apr_size_t n = 0;
        const void *o = NULL;

        if (aj_vcache_get(&o, &n, j->c, j->p, &scope, t, strlen(t), NOW)) {
            j->hits++;
            j->wrong += n != strlen(t) + 1 || memcmp(o, t, n) != 0;
        }
        else {
            aj_vcache_put(j->c, &scope, t, strlen(t), t, strlen(t) + 1, NOW + 600, NOW);
        }
        if (i % 256 == 0) {
            apr_pool_clear(j->p);
        }
    }
}

static void *APR_THREAD_FUNC vc_thread(apr_thread_t *th, void *arg)
{
    vc_work(arg);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_vcache_t *c = make(p, 16); /* fewer slots than tokens: evictions race with hits */
    apr_thread_t *th[VC_THREADS];
    vc_job jobs[VC_THREADS];
    apr_pool_t *roots[VC_THREADS];
    const char **tokens = apr_pcalloc(p, sizeof(*tokens) * VC_TOKENS);
    apr_status_t rv;
    int i, hits = 0;

    for (i = 0; i < VC_TOKENS; ++i) {
        tokens[i] = apr_psprintf(p, "%s.%d", TOKEN, i);
    }
    for (i = 0; i < VC_THREADS; ++i) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].c = c;
        jobs[i].tokens = tokens;
        jobs[i].seed = i * 13;
        /* pools are not thread-safe: each thread gets a root pool with its
         * own allocator (the thread's own pool, destroyed when it exits,
         * is made from it) */
        assert_int_equal(apr_pool_create_unmanaged_ex(&roots[i], NULL, NULL), APR_SUCCESS);
        assert_int_equal(apr_pool_create(&jobs[i].p, roots[i]), APR_SUCCESS);
    }
    for (i = 0; i < VC_THREADS; ++i) {
        assert_int_equal(apr_thread_create(&th[i], NULL, vc_thread, &jobs[i], roots[i]),
                         APR_SUCCESS);
    }
    for (i = 0; i < VC_THREADS; ++i) {
        assert_int_equal(apr_thread_join(&rv, th[i]), APR_SUCCESS);
        apr_pool_destroy(roots[i]);
        assert_int_equal(jobs[i].wrong, 0);
        hits += jobs[i].hits;
    }
    assert_true(hits > 0);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_zero_capacity_is_off),
    AJ_TEST(test_hit_and_miss),
    AJ_TEST(test_only_the_exact_token_and_scope_hit),
    AJ_TEST(test_never_past_exp),
    AJ_TEST(test_size_limits),
    AJ_TEST(test_bounded_by_replacement),
    AJ_TEST(test_a_bucket_holds_its_ways),
    AJ_TEST(test_new_tokens_enter_last),
    AJ_TEST(test_expired_slot_goes_first),
    AJ_TEST(test_same_token_replaces_itself),
    AJ_TEST(test_threads),
};

AJ_TEST_MAIN("aj_vcache", tests)

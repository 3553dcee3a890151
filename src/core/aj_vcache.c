/*
 * aj_vcache.c — the verified-token cache (see aj_vcache.h).
 *
 * Set-associative: a token's 64-bit hash picks a bucket of AJ_VCACHE_WAYS
 * slots, and each slot keeps the hash of its token as a tag, so a look-up
 * compares whole tokens (CRYPTO_memcmp) only where a tag matches.
 *
 * Replacement (docs/reference.md, AuthJWTVerifyCache): a new token takes an
 * empty slot of its bucket, else one whose entry has expired, else the
 * least recently used one; and it enters at the least recently used end,
 * so it is the bucket's next victim until it is used once (a hit moves it
 * to the other end).  Measured with distinct tokens in rotation
 * (bench/scale tokens), plain LRU and oldest-first are worse than direct
 * mapping once the tokens outnumber the slots: every bucket cycles through
 * more tokens than it holds and each one is evicted just before it comes
 * back.  Entering last keeps the tokens that were used again and lets the
 * one-off ones churn through one slot, so a stream of tokens sent once
 * (fresh tokens on every request) cannot flush the ones being reused.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>

#include "aj_vcache.h"

/* Slots per bucket: 8 measured better than 4 with more tokens than slots
 * (bench/README.md), for 8 tag compares per look-up. */
#define AJ_VCACHE_WAYS       8
#define AJ_VCACHE_MIN_SLOTS  16
#define AJ_VCACHE_MAX_SLOTS  (1U << 20)
/* Mutexes guarding the buckets (bucket i uses stripe i % AJ_VCACHE_STRIPES). */
#define AJ_VCACHE_STRIPES    64
/* The hash reads this many trailing bytes: a signed token ends in its
 * signature, as good as random for distinct tokens.  Only tokens that
 * verified are stored, so no client chooses what the buckets hold. */
#define AJ_VCACHE_HASH_BYTES 32
/* 64-bit mixing (the finalizer of MurmurHash3, a multiplier of SplitMix64). */
#define AJ_VCACHE_MIX1       APR_UINT64_C(0xff51afd7ed558ccd)
#define AJ_VCACHE_MIX2       APR_UINT64_C(0xc4ceb9fe1a85ec53)
#define AJ_VCACHE_GOLDEN     APR_UINT64_C(0x9e3779b97f4a7c15)

_Static_assert(AJ_VCACHE_MIN_SLOTS % AJ_VCACHE_WAYS == 0, "whole buckets");
_Static_assert((AJ_VCACHE_WAYS & (AJ_VCACHE_WAYS - 1)) == 0, "a power of two");

typedef struct {
    const void *scope;
    apr_int64_t exp;
    char *token; /* malloc'd: token then data; NULL when empty */
    apr_size_t token_len;
    apr_size_t len;    /* the data, right after the token */
    apr_uint64_t used; /* the bucket's clock at its last hit; 0: never hit */
} aj_vcache_slot;

typedef struct {
    apr_uint64_t tag[AJ_VCACHE_WAYS]; /* the hash of each slot's token */
    apr_uint64_t clock;               /* counts this bucket's hits */
    aj_vcache_slot slot[AJ_VCACHE_WAYS];
} aj_vcache_bucket;

struct aj_vcache_t {
    apr_uint32_t mask; /* buckets - 1 */
    aj_vcache_bucket *buckets;
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[AJ_VCACHE_STRIPES];
#endif
    apr_uint64_t hits, misses; /* updated with atomics */
};

static apr_status_t aj_vcache_cleanup(void *data)
{
    aj_vcache_t *c = data;
    apr_uint32_t i;
    int w;

    for (i = 0; i <= c->mask; ++i) {
        for (w = 0; w < AJ_VCACHE_WAYS; ++w) {
            free(c->buckets[i].slot[w].token);
            c->buckets[i].slot[w].token = NULL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t aj_vcache_make(aj_vcache_t **cache, apr_pool_t *p, apr_uint32_t capacity)
{
    aj_vcache_t *c;
    apr_uint32_t n = AJ_VCACHE_MIN_SLOTS;
#if APR_HAS_THREADS
    int i;
    apr_status_t rv;
#endif

    if (capacity == 0) {
        *cache = NULL;
        return APR_SUCCESS;
    }
    if (capacity > AJ_VCACHE_MAX_SLOTS) {
        capacity = AJ_VCACHE_MAX_SLOTS;
    }
    while (n < capacity) {
        n <<= 1;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->mask = n / AJ_VCACHE_WAYS - 1;
    c->buckets = apr_pcalloc(p, sizeof(*c->buckets) * (n / AJ_VCACHE_WAYS));
#if APR_HAS_THREADS
    for (i = 0; i < AJ_VCACHE_STRIPES; ++i) {
        rv = apr_thread_mutex_create(&c->locks[i], APR_THREAD_MUTEX_DEFAULT, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
#endif
    apr_pool_cleanup_register(p, c, aj_vcache_cleanup, apr_pool_cleanup_null);
    *cache = c;
    return APR_SUCCESS;
}

static apr_uint64_t aj_vcache_mix(apr_uint64_t h)
{
    h ^= h >> 33;
    h *= AJ_VCACHE_MIX1;
    h ^= h >> 33;
    h *= AJ_VCACHE_MIX2;
    return h ^ (h >> 33);
}

/* The hash of the token's tail, its length and the scope, a word at a
 * time: the low bits pick the bucket, all 64 are the slot's tag. */
static apr_uint64_t aj_vcache_hash(const void *scope, const char *token, apr_size_t len)
{
    apr_uint64_t h = aj_vcache_mix((apr_uint64_t)(apr_uintptr_t)scope ^ len * AJ_VCACHE_GOLDEN);
    apr_size_t i = len > AJ_VCACHE_HASH_BYTES ? len - AJ_VCACHE_HASH_BYTES : 0;
    apr_uint64_t w;

    for (; i + sizeof(w) <= len; i += sizeof(w)) {
        memcpy(&w, token + i, sizeof(w));
        h = aj_vcache_mix(h ^ w);
    }
    if (i < len) {
        w = 0;
        memcpy(&w, token + i, len - i);
        h = aj_vcache_mix(h ^ w);
    }
    return h;
}

static void aj_vcache_lock(aj_vcache_t *c, apr_uint32_t b)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(c->locks[b % AJ_VCACHE_STRIPES]);
#endif
}

static void aj_vcache_unlock(aj_vcache_t *c, apr_uint32_t b)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->locks[b % AJ_VCACHE_STRIPES]);
#endif
}

/* The way holding this token in this scope (whatever its exp), or -1.
 * Called under the bucket's lock. */
static int aj_vcache_find(const aj_vcache_bucket *bk, apr_uint64_t tag, const void *scope,
                          const char *token, apr_size_t len)
{
    int w;

    for (w = 0; w < AJ_VCACHE_WAYS; ++w) {
        const aj_vcache_slot *s = &bk->slot[w];

        if (bk->tag[w] == tag && s->token && s->scope == scope && s->token_len == len
            && CRYPTO_memcmp(s->token, token, len) == 0) {
            return w;
        }
    }
    return -1;
}

/* Where a new token goes: an empty slot, else an expired one, else the
 * least recently used (the first of equals).  Under the bucket's lock. */
static int aj_vcache_victim(const aj_vcache_bucket *bk, apr_int64_t now)
{
    int w, lru = 0;

    for (w = 0; w < AJ_VCACHE_WAYS; ++w) {
        if (!bk->slot[w].token) {
            return w;
        }
    }
    for (w = 0; w < AJ_VCACHE_WAYS; ++w) {
        if (bk->slot[w].exp <= now) {
            return w;
        }
        if (bk->slot[w].used < bk->slot[lru].used) {
            lru = w;
        }
    }
    return lru;
}

int aj_vcache_get(const void **data, apr_size_t *dlen, aj_vcache_t *c, apr_pool_t *p,
                  const void *scope, const char *token, apr_size_t len, apr_int64_t now)
{
    apr_uint64_t tag = aj_vcache_hash(scope, token, len);
    apr_uint32_t b = (apr_uint32_t)tag & c->mask;
    aj_vcache_bucket *bk = &c->buckets[b];
    void *copy = NULL;
    apr_size_t n = 0;
    int w;

    aj_vcache_lock(c, b);
    w = aj_vcache_find(bk, tag, scope, token, len);
    if (w >= 0 && bk->slot[w].exp > now) {
        n = bk->slot[w].len;
        copy = apr_pmemdup(p, bk->slot[w].token + len, n); /* apr_palloc: 8-byte aligned */
        bk->slot[w].used = ++bk->clock;
    }
    aj_vcache_unlock(c, b);
    if (!copy) {
        __atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
        return 0;
    }
    __atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
    *data = copy;
    *dlen = n;
    return 1;
}

void aj_vcache_put(aj_vcache_t *c, const void *scope, const char *token, apr_size_t len,
                   const void *data, apr_size_t dlen, apr_int64_t exp, apr_int64_t now)
{
    apr_uint64_t tag;
    apr_uint32_t b;
    aj_vcache_bucket *bk;
    aj_vcache_slot *s;
    char *copy, *old;
    apr_uint64_t used = 0; /* a new token enters as the least recently used */
    int w;

    if (len > AJ_VCACHE_MAX_TOKEN || dlen > AJ_VCACHE_MAX_DATA || exp <= now) {
        return;
    }
    tag = aj_vcache_hash(scope, token, len);
    b = (apr_uint32_t)tag & c->mask;
    bk = &c->buckets[b];
    copy = malloc(len + dlen); /* outside the lock */
    if (!copy) {
        return;
    }
    memcpy(copy, token, len);
    memcpy(copy + len, data, dlen);
    aj_vcache_lock(c, b);
    /* the same token again (two requests that missed together, or a
     * caller updating its entry) replaces itself: never two copies */
    w = aj_vcache_find(bk, tag, scope, token, len);
    if (w >= 0) {
        used = bk->slot[w].used;
    }
    else {
        w = aj_vcache_victim(bk, now);
    }
    s = &bk->slot[w];
    old = s->token;
    bk->tag[w] = tag;
    s->scope = scope;
    s->exp = exp;
    s->token = copy;
    s->token_len = len;
    s->len = dlen;
    s->used = used;
    aj_vcache_unlock(c, b);
    free(old);
}

void aj_vcache_stats(const aj_vcache_t *c, apr_uint64_t *hits, apr_uint64_t *misses)
{
    *hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
}

/*
 * aj_vcache.c — the verified-token cache (see aj_vcache.h).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>

#include "aj_vcache.h"

#define AJ_VCACHE_MIN_SLOTS   16
#define AJ_VCACHE_MAX_SLOTS   (1U << 20)
/* Mutexes guarding the slots (slot i uses stripe i % AJ_VCACHE_STRIPES). */
#define AJ_VCACHE_STRIPES     64
/* The slot index hashes this many trailing bytes (the signature's end). */
#define AJ_VCACHE_INDEX_BYTES 32
#define AJ_FNV64_OFFSET       APR_UINT64_C(0xcbf29ce484222325)
#define AJ_FNV64_PRIME        APR_UINT64_C(0x100000001b3)

typedef struct {
    const void *scope;
    apr_int64_t exp;
    char *token; /* malloc'd: token then data; NULL when empty */
    apr_size_t token_len;
    const char *data; /* inside token's allocation */
    apr_size_t len;
} aj_vcache_slot;

struct aj_vcache_t {
    apr_uint32_t mask;
    aj_vcache_slot *slots;
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[AJ_VCACHE_STRIPES];
#endif
    apr_uint64_t hits, misses; /* updated with atomics */
};

static apr_status_t aj_vcache_cleanup(void *data)
{
    aj_vcache_t *c = data;
    apr_uint32_t i;

    for (i = 0; i <= c->mask; ++i) {
        free(c->slots[i].token);
        c->slots[i].token = NULL;
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
    c->mask = n - 1;
    c->slots = apr_pcalloc(p, sizeof(*c->slots) * n);
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

/* FNV-1a over the token's tail, its length and the scope: only an index. */
static apr_uint32_t aj_vcache_index(const aj_vcache_t *c, const void *scope, const char *token,
                                    apr_size_t len)
{
    apr_uint64_t h = AJ_FNV64_OFFSET ^ (apr_uint64_t)(apr_uintptr_t)scope ^ len;
    apr_size_t i = len > AJ_VCACHE_INDEX_BYTES ? len - AJ_VCACHE_INDEX_BYTES : 0;

    for (; i < len; ++i) {
        h = (h ^ (unsigned char)token[i]) * AJ_FNV64_PRIME;
    }
    return (apr_uint32_t)(h ^ (h >> 32)) & c->mask;
}

static void aj_vcache_lock(aj_vcache_t *c, apr_uint32_t i)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(c->locks[i % AJ_VCACHE_STRIPES]);
#endif
}

static void aj_vcache_unlock(aj_vcache_t *c, apr_uint32_t i)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->locks[i % AJ_VCACHE_STRIPES]);
#endif
}

int aj_vcache_get(const void **data, apr_size_t *dlen, aj_vcache_t *c, apr_pool_t *p,
                  const void *scope, const char *token, apr_size_t len, apr_int64_t now)
{
    apr_uint32_t i = aj_vcache_index(c, scope, token, len);
    aj_vcache_slot *s = &c->slots[i];
    void *copy = NULL;
    apr_size_t n = 0;

    aj_vcache_lock(c, i);
    if (s->token && s->exp > now && s->scope == scope && s->token_len == len
        && CRYPTO_memcmp(s->token, token, len) == 0) {
        n = s->len;
        copy = apr_pmemdup(p, s->data, n); /* apr_palloc: 8-byte aligned */
    }
    aj_vcache_unlock(c, i);
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
    apr_uint32_t i = aj_vcache_index(c, scope, token, len);
    aj_vcache_slot *s = &c->slots[i];
    char *copy, *old;

    if (len > AJ_VCACHE_MAX_TOKEN || dlen > AJ_VCACHE_MAX_DATA || exp <= now) {
        return;
    }
    copy = malloc(len + dlen); /* outside the lock */
    if (!copy) {
        return;
    }
    memcpy(copy, token, len);
    memcpy(copy + len, data, dlen);
    aj_vcache_lock(c, i);
    old = s->token;
    s->scope = scope;
    s->exp = exp;
    s->token = copy;
    s->token_len = len;
    s->data = copy + len;
    s->len = dlen;
    aj_vcache_unlock(c, i);
    free(old);
}

void aj_vcache_stats(const aj_vcache_t *c, apr_uint64_t *hits, apr_uint64_t *misses)
{
    *hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
}

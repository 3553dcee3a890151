/*
 * aj_vcache.c — the verified-token cache (see aj_vcache.h).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>

#include "aj_vcache.h"

#define AJ_VCACHE_MIN_SLOTS    16
#define AJ_VCACHE_MAX_SLOTS    (1U << 20)
/* Mutexes guarding the slots (slot i uses stripe i % AJ_VCACHE_STRIPES). */
#define AJ_VCACHE_STRIPES      64

typedef struct {
    unsigned char key[AJ_VCACHE_KEY_LEN];
    apr_int64_t exp;
    char *payload;              /* malloc'd, NULL when empty */
    apr_size_t len;
} aj_vcache_slot;

struct aj_vcache_t {
    apr_uint32_t mask;
    aj_vcache_slot *slots;
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[AJ_VCACHE_STRIPES];
#endif
    apr_uint64_t hits, misses;  /* updated with atomics */
};

static apr_status_t aj_vcache_cleanup(void *data)
{
    aj_vcache_t *c = data;
    apr_uint32_t i;

    for (i = 0; i <= c->mask; ++i) {
        free(c->slots[i].payload);
        c->slots[i].payload = NULL;
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

apr_status_t aj_vcache_key(unsigned char key[AJ_VCACHE_KEY_LEN], const void *scope,
                           const char *token, apr_size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    apr_status_t rv = APR_EGENERAL;

    if (!ctx) {
        return APR_ENOMEM;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
        && EVP_DigestUpdate(ctx, &scope, sizeof(scope)) == 1
        && EVP_DigestUpdate(ctx, token, len) == 1
        && EVP_DigestFinal_ex(ctx, key, &n) == 1 && n == AJ_VCACHE_KEY_LEN) {
        rv = APR_SUCCESS;
    }
    EVP_MD_CTX_free(ctx);
    return rv;
}

static apr_uint32_t aj_vcache_index(const aj_vcache_t *c, const unsigned char *key)
{
    apr_uint32_t h;

    memcpy(&h, key, sizeof(h));
    return h & c->mask;
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

int aj_vcache_get(const char **payload, apr_size_t *len, aj_vcache_t *c, apr_pool_t *p,
                  const unsigned char key[AJ_VCACHE_KEY_LEN], apr_int64_t now)
{
    apr_uint32_t i = aj_vcache_index(c, key);
    aj_vcache_slot *s = &c->slots[i];
    char *copy = NULL;
    apr_size_t n = 0;

    aj_vcache_lock(c, i);
    if (s->payload && s->exp > now && !memcmp(s->key, key, AJ_VCACHE_KEY_LEN)) {
        n = s->len;
        copy = apr_pstrmemdup(p, s->payload, n);
    }
    aj_vcache_unlock(c, i);
    if (!copy) {
        __atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
        return 0;
    }
    __atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
    *payload = copy;
    *len = n;
    return 1;
}

void aj_vcache_put(aj_vcache_t *c, const unsigned char key[AJ_VCACHE_KEY_LEN],
                   const char *payload, apr_size_t len, apr_int64_t exp, apr_int64_t now)
{
    apr_uint32_t i = aj_vcache_index(c, key);
    aj_vcache_slot *s = &c->slots[i];
    char *copy, *old;

    if (len > AJ_VCACHE_MAX_PAYLOAD || exp <= now) {
        return;
    }
    copy = malloc(len + 1);     /* outside the lock */
    if (!copy) {
        return;
    }
    memcpy(copy, payload, len);
    copy[len] = '\0';
    aj_vcache_lock(c, i);
    old = s->payload;
    memcpy(s->key, key, AJ_VCACHE_KEY_LEN);
    s->exp = exp;
    s->payload = copy;
    s->len = len;
    aj_vcache_unlock(c, i);
    free(old);
}

void aj_vcache_stats(const aj_vcache_t *c, apr_uint64_t *hits, apr_uint64_t *misses)
{
    *hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
}

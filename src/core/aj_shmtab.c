/*
 * aj_shmtab.c — what the shared-memory hash tables have in common
 * (contract: include/aj_shmtab.h).
 */
#include <string.h>

#include "aj_digest.h"
#include "aj_shmtab.h"

/* Set in the second key word of the (2^-128) digest that would read as empty. */
#define AJ_SHMTAB_ZERO_KEY_FLIP ((apr_uint64_t)1)

_Static_assert(AJ_SHMTAB_KEY_LEN <= AJ_SHA256_LEN, "a key is a prefix of the digest");

apr_uint32_t aj_shmtab_capacity(apr_uint32_t wanted, apr_uint32_t min, apr_uint32_t max)
{
    apr_uint32_t cap = min;

    while (cap < wanted && cap < max) {
        cap <<= 1;
    }
    return cap;
}

int aj_shmtab_block_ok(const void *mem, apr_size_t size, apr_size_t needed)
{
    return mem && size >= needed && ((apr_uintptr_t)mem % AJ_SHMTAB_ALIGN) == 0
           && __atomic_always_lock_free(sizeof(apr_uint64_t), 0);
}

apr_status_t aj_shmtab_key(apr_uint64_t key[AJ_SHMTAB_KEY_WORDS], const void *head, apr_size_t hlen,
                           const void *tail, apr_size_t tlen)
{
    unsigned char md[AJ_SHA256_LEN];
    apr_uint64_t k[AJ_SHMTAB_KEY_WORDS];
    apr_status_t rv;

    rv = aj_sha256(md, head, hlen, tail, tlen);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    memcpy(k, md, AJ_SHMTAB_KEY_LEN);
    if (aj_shmtab_key_empty(k)) {
        k[1] = AJ_SHMTAB_ZERO_KEY_FLIP; /* all-zero means "no entry" */
    }
    memcpy(key, k, AJ_SHMTAB_KEY_LEN);
    return APR_SUCCESS;
}

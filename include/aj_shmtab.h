/*
 * aj_shmtab.h — what the fixed-size hash tables laid out in one
 * caller-provided (shared) memory block have in common: the revocation
 * table (aj_revtab) and the login throttle (aj_throttle).
 *
 * Both key an entry by the first 16 bytes of a SHA-256 digest, held as two
 * 64-bit words, and keep the all-zero key for "no entry"; both size their
 * slots as a power of two, and after formatting read and write every field
 * with GCC __atomic builtins only, so that any process or thread may read
 * them without a lock.  How they probe and how a reader knows a slot is
 * consistent differ (linear probing under one seqlock; a bounded window of
 * slots with a version each), so that stays in each table.
 */
#ifndef AJ_SHMTAB_H
#define AJ_SHMTAB_H

#include "aj.h"

/* A key: the first 16 bytes of the SHA-256 digest, as two 64-bit words. */
#define AJ_SHMTAB_KEY_WORDS 2
#define AJ_SHMTAB_KEY_LEN   (AJ_SHMTAB_KEY_WORDS * sizeof(apr_uint64_t))
/* Every field is a naturally aligned 32- or 64-bit atomic. */
#define AJ_SHMTAB_ALIGN     8u

/* The smallest power of two >= wanted, kept within [min, max] (both powers
 * of two). */
apr_uint32_t aj_shmtab_capacity(apr_uint32_t wanted, apr_uint32_t min, apr_uint32_t max);

/* Non-zero when mem (size bytes) can hold a table of `needed` bytes: not
 * NULL, AJ_SHMTAB_ALIGN-aligned, large enough, and 64-bit atomics are
 * lock-free here (they must be, across processes). */
int aj_shmtab_block_ok(const void *mem, apr_size_t size, apr_size_t needed);

/* The key of SHA-256(head || tail) (streamed: no copy, no length limit).
 * A digest whose first 16 bytes are all zero (probability 2^-128) has the
 * low bit of its second word set, so that it can still be stored.  The key
 * is set only on success. */
apr_status_t aj_shmtab_key(apr_uint64_t key[AJ_SHMTAB_KEY_WORDS], const void *head, apr_size_t hlen,
                           const void *tail, apr_size_t tlen);

/* ---- a slot's key (hot paths: inline) ------------------------------------ */

static inline void aj_shmtab_key_load(apr_uint64_t out[AJ_SHMTAB_KEY_WORDS],
                                      const apr_uint64_t *slot_key)
{
    out[0] = __atomic_load_n(&slot_key[0], __ATOMIC_RELAXED);
    out[1] = __atomic_load_n(&slot_key[1], __ATOMIC_RELAXED);
}

/* Only inside the table's write section. */
static inline void aj_shmtab_key_store(apr_uint64_t *slot_key,
                                       const apr_uint64_t in[AJ_SHMTAB_KEY_WORDS])
{
    __atomic_store_n(&slot_key[0], in[0], __ATOMIC_RELAXED);
    __atomic_store_n(&slot_key[1], in[1], __ATOMIC_RELAXED);
}

static inline int aj_shmtab_key_eq(const apr_uint64_t *a, const apr_uint64_t *b)
{
    return a[0] == b[0] && a[1] == b[1];
}

/* The all-zero key: a slot never used (or emptied). */
static inline int aj_shmtab_key_empty(const apr_uint64_t *k)
{
    return k[0] == 0 && k[1] == 0;
}

#endif /* AJ_SHMTAB_H */

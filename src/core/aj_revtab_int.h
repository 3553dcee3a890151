/*
 * aj_revtab_int.h — the layout of the revocation table's block, shared by
 * the files that implement include/aj_revtab.h and by nothing else:
 *
 *   aj_revtab.c         formatting, keys, the lock-free readers
 *   aj_revtab_write.c   the writers: put, compaction, clear, recovery
 *   aj_revtab_stores.c  each store's bookkeeping (loaded, overflowed,
 *                       refresh schedule, watermark)
 *
 * aj_revtab_write.c calls aj_revtab.c (for keys); no other file calls
 * another.  The accessors are inline: readers call them on every probe.
 *
 * Layout of the caller's block (8-byte aligned, from aj_revtab_size()):
 *
 *     [ header, AJ_REVTAB_HEADER_SIZE bytes ]
 *     [ store 0 ] ... [ store nstores-1 ]      AJ_REVTAB_STORE_SIZE bytes each
 *     [ slot 0 ] ... [ slot capacity-1 ]
 *
 * A store's record holds its id and its bookkeeping (loaded, overflowed,
 * refresh schedule, watermark).  A slot is 32 bytes: a 16-byte key (two
 * 64-bit words), value and expires.  The key is the first 16 bytes of
 * SHA-256(kind byte || store id || string), kind 'j' for a jti, 'u' for a
 * user's revoke-all, 'c' for a user's last change; the same jti or sub
 * under two stores are two keys.  An all-zero key marks an empty slot; a
 * digest whose first 16 bytes are all zero (probability 2^-128) has the low
 * bit of its second word set so that it can still be stored.
 *
 *     jti:     value = exp,                expires = exp
 *     user:    value = tokens_valid_after, expires = AJ_REVTAB_NEVER
 *     changed: value = changed_at,         expires = AJ_REVTAB_NEVER
 *
 * Open addressing with linear probing from (first key word) & (capacity-1).
 * After aj_revtab_format() (which zeroes the block before anyone uses it),
 * every field of the header and of the slots is read and written with GCC
 * __atomic builtins only (no plain access), so that the table can live in
 * shared memory and be read by any process or thread without a lock.
 *
 * Concurrency (seqlock).  Writers are serialized by the caller.  A write
 * section makes `seq` odd (relaxed store, then a release fence), writes the
 * slots with relaxed atomic stores, and makes `seq` even again with a
 * release store.  A reader loads `seq` with acquire, waits while it is odd,
 * probes with relaxed loads, issues an acquire fence and retries when `seq`
 * changed meanwhile.  Probes are bounded by the capacity, so a reader that
 * overlaps a write (and sees a torn table) always terminates and retries.
 * Waiting is bounded too: after AJ_REVTAB_STALL_MS of a write section that
 * does not end (its writer was killed) the reader answers APR_TIMEUP, and
 * the next writer's aj_revtab_recover() finds `seq` odd and resets the
 * table (every store unloaded before `seq` turns even again, so a reader
 * that sees the emptied table also sees that nothing is loaded).
 * A put that changes nothing opens no write section, so re-loading the same
 * revocations from the database does not make readers retry.
 *
 * Entries are never dropped while they matter.  A put that does not find its
 * key reuses the first expired slot on its probe path (the slot stays
 * occupied, so no probe chain breaks), else takes the empty slot that ends
 * the chain.  Only when that would exceed max_entries is the table compacted
 * (see revtab_compact()); if it is still full, the put fails with
 * APR_ENOSPC and the put's store is marked overflowed.
 *
 * Details of the contract:
 *  - capacity is rounded up to a power of two in [64, AJ_REVTAB_MAX_CAPACITY];
 *  - aj_revtab_count() is the number of occupied slots: expired jti entries
 *    not yet reused or compacted away are included;
 *  - a jti put with exp <= now is a no-op (the token is refused as expired);
 *    a user put with valid_after <= 0 is a no-op;
 *  - if the digest cannot be computed (OpenSSL out of memory), a put returns
 *    the error and a lookup fails closed: the jti counts as revoked, the
 *    user's valid_after as AJ_REVTAB_NEVER.
 */
#ifndef AJ_REVTAB_INT_H
#define AJ_REVTAB_INT_H

#include "aj_revtab.h"
#include "aj_shmtab.h"

/* Slots: a power of two between these bounds (the maximum keeps the block
 * at 512 MiB and the probe arithmetic in 32 bits). */
#define AJ_REVTAB_MIN_CAPACITY 64u
#define AJ_REVTAB_MAX_CAPACITY (1u << 24)
/* Entries are refused beyond 3/4 of the slots: linear probing stays short
 * and a quarter of the slots is always empty, so every probe chain ends. */
#define AJ_REVTAB_LOAD_NUM     3u
#define AJ_REVTAB_LOAD_DEN     4u
/* The header occupies one cache line, each store's record one more; the
 * slots follow. */
#define AJ_REVTAB_HEADER_SIZE  64u
#define AJ_REVTAB_STORE_SIZE   64u
/* expires of an entry that never expires (user entries). */
#define AJ_REVTAB_NEVER        APR_INT64_MAX

struct aj_revtab_t {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t capacity;    /* slots, a power of two; constant after format */
    apr_uint32_t max_entries; /* capacity * 3/4; constant after format */
    apr_uint32_t count;       /* occupied slots (expired jti entries included) */
    apr_uint32_t nstores;     /* constant after format */
    apr_uint64_t seq;         /* seqlock: odd while a writer is active */
    apr_int64_t min_expires;  /* writer only: <= expires of every occupied slot */
};

/* The times each store's record keeps (aj_revtab_stores.c). */
typedef enum {
    AJ_REVTAB_NEXT_REFRESH,  /* when its next refresh from its database is due */
    AJ_REVTAB_WATERMARK,     /* the revoked_at watermark of its last refresh */
    AJ_REVTAB_LAST_RECOVERY, /* when an overflow was last cleared by a reload */
    AJ_REVTAB_TIMES
} aj_revtab_time_e;

/* One store's record. */
typedef struct {
    apr_uint64_t id[AJ_STORE_ID_LEN / sizeof(apr_uint64_t)]; /* constant after format */
    apr_uint32_t loaded;                /* the table holds this store's state */
    apr_uint32_t overflowed;            /* a put of this store failed for lack of room */
    apr_int64_t times[AJ_REVTAB_TIMES]; /* seconds, by aj_revtab_time_e */
} aj_revtab_store_t;

typedef struct {
    apr_uint64_t key[AJ_SHMTAB_KEY_WORDS];
    apr_int64_t value;
    apr_int64_t expires;
} aj_revtab_slot_t;

_Static_assert(sizeof(aj_revtab_key_t) == AJ_SHMTAB_KEY_LEN, "a revtab key is 16 bytes");
_Static_assert(sizeof(struct aj_revtab_t) <= AJ_REVTAB_HEADER_SIZE,
               "the revtab header outgrew AJ_REVTAB_HEADER_SIZE");
_Static_assert(sizeof(aj_revtab_store_t) <= AJ_REVTAB_STORE_SIZE,
               "a revtab store record outgrew AJ_REVTAB_STORE_SIZE");
_Static_assert(AJ_STORE_ID_LEN % sizeof(apr_uint64_t) == 0, "a store id is whole words");
_Static_assert(AJ_REVTAB_HEADER_SIZE % AJ_SHMTAB_ALIGN == 0, "slots must stay 8-byte aligned");
_Static_assert(sizeof(aj_revtab_slot_t) == 32, "a revtab slot is 32 bytes");

/* ---- layout --------------------------------------------------------------- */

static inline apr_size_t revtab_slots_offset(apr_uint32_t nstores)
{
    return AJ_REVTAB_HEADER_SIZE + (apr_size_t)nstores * AJ_REVTAB_STORE_SIZE;
}

static inline apr_uint32_t revtab_nstores(const aj_revtab_t *t)
{
    return __atomic_load_n(&t->nstores, __ATOMIC_RELAXED);
}

static inline aj_revtab_slot_t *revtab_slots(aj_revtab_t *t)
{
    return (aj_revtab_slot_t *)((char *)t + revtab_slots_offset(revtab_nstores(t)));
}

static inline const aj_revtab_slot_t *revtab_cslots(const aj_revtab_t *t)
{
    return (const aj_revtab_slot_t *)((const char *)t + revtab_slots_offset(revtab_nstores(t)));
}

/* The record of store i (the caller checked i < nstores). */
static inline aj_revtab_store_t *revtab_store(aj_revtab_t *t, apr_uint32_t i)
{
    return (aj_revtab_store_t *)((char *)t + AJ_REVTAB_HEADER_SIZE
                                 + (apr_size_t)i * AJ_REVTAB_STORE_SIZE);
}

static inline const aj_revtab_store_t *revtab_cstore(const aj_revtab_t *t, apr_uint32_t i)
{
    return (const aj_revtab_store_t *)((const char *)t + AJ_REVTAB_HEADER_SIZE
                                       + (apr_size_t)i * AJ_REVTAB_STORE_SIZE);
}

static inline int revtab_store_ok(const aj_revtab_t *t, apr_uint32_t store)
{
    return t && store < revtab_nstores(t);
}

static inline apr_uint32_t revtab_mask(const aj_revtab_t *t)
{
    return __atomic_load_n(&t->capacity, __ATOMIC_RELAXED) - 1;
}

/* ---- slots ---------------------------------------------------------------- */

static inline apr_uint32_t revtab_home(const apr_uint64_t *key, apr_uint32_t mask)
{
    return (apr_uint32_t)(key[0] & mask);
}

static inline void revtab_slot_load(aj_revtab_slot_t *out, const aj_revtab_slot_t *s)
{
    aj_shmtab_key_load(out->key, s->key);
    out->value = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
    out->expires = __atomic_load_n(&s->expires, __ATOMIC_RELAXED);
}

#endif /* AJ_REVTAB_INT_H */

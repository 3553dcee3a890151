/*
 * aj_revtab.c — the revocation table (contract: include/aj_revtab.h).
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
#include <sched.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "aj_digest.h"
#include "aj_revtab.h"

/* "AJRT" and the layout version, written by aj_revtab_format(). */
#define AJ_REVTAB_MAGIC            0x414a5254u
#define AJ_REVTAB_VERSION          2u
/* Slots: a power of two between these bounds (the maximum keeps the block
 * at 512 MiB and the probe arithmetic in 32 bits). */
#define AJ_REVTAB_MIN_CAPACITY     64u
#define AJ_REVTAB_MAX_CAPACITY     (1u << 24)
/* Entries are refused beyond 3/4 of the slots: linear probing stays short
 * and a quarter of the slots is always empty, so every probe chain ends. */
#define AJ_REVTAB_LOAD_NUM         3u
#define AJ_REVTAB_LOAD_DEN         4u
/* The header occupies one cache line, each store's record one more; the
 * slots follow. */
#define AJ_REVTAB_HEADER_SIZE      64u
#define AJ_REVTAB_STORE_SIZE       64u
/* Every field is a naturally aligned 32- or 64-bit atomic. */
#define AJ_REVTAB_ALIGN            8u
/* Key: the first 16 bytes of the SHA-256 digest, as two 64-bit words. */
#define AJ_REVTAB_KEY_WORDS        2
#define AJ_REVTAB_KEY_LEN          (AJ_REVTAB_KEY_WORDS * sizeof(apr_uint64_t))
/* Set in the second key word of the (2^-128) digest that would read as empty. */
#define AJ_REVTAB_ZERO_KEY_FLIP    ((apr_uint64_t)1)
#define AJ_REVTAB_KIND_JTI         'j'
#define AJ_REVTAB_KIND_USER        'u'
#define AJ_REVTAB_KIND_CHANGED     'c'
/* expires of an entry that never expires (user entries). */
#define AJ_REVTAB_NEVER            APR_INT64_MAX
/* A reader that finds a write in progress yields the CPU this often, and
 * then looks at the clock (AJ_REVTAB_STALL_MS). */
#define AJ_REVTAB_SPINS_PER_YIELD  64u
#define AJ_REVTAB_NS_PER_MS        1000000LL
/* "No slot" for probe results. */
#define AJ_REVTAB_NO_SLOT          APR_UINT32_MAX

struct aj_revtab_t {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t capacity;      /* slots, a power of two; constant after format */
    apr_uint32_t max_entries;   /* capacity * 3/4; constant after format */
    apr_uint32_t count;         /* occupied slots (expired jti entries included) */
    apr_uint32_t nstores;       /* constant after format */
    apr_uint64_t seq;           /* seqlock: odd while a writer is active */
    apr_int64_t min_expires;    /* writer only: <= expires of every occupied slot */
};

/* One store's record. */
typedef struct {
    apr_uint64_t id[AJ_STORE_ID_LEN / sizeof(apr_uint64_t)];   /* constant after format */
    apr_uint32_t loaded;        /* the table holds this store's state */
    apr_uint32_t overflowed;    /* a put of this store failed for lack of room */
    apr_int64_t next_refresh;
    apr_int64_t watermark;
    apr_int64_t last_recovery;
} aj_revtab_store_t;

typedef struct {
    apr_uint64_t key[AJ_REVTAB_KEY_WORDS];
    apr_int64_t value;
    apr_int64_t expires;
} aj_revtab_slot_t;

_Static_assert(sizeof(aj_revtab_key_t) == AJ_REVTAB_KEY_LEN, "a revtab key is 16 bytes");

/* A constant, not state: what an empty slot holds. */
static const aj_revtab_slot_t aj_revtab_empty_slot = { { 0, 0 }, 0, 0 };

_Static_assert(sizeof(struct aj_revtab_t) <= AJ_REVTAB_HEADER_SIZE,
               "the revtab header outgrew AJ_REVTAB_HEADER_SIZE");
_Static_assert(sizeof(aj_revtab_store_t) <= AJ_REVTAB_STORE_SIZE,
               "a revtab store record outgrew AJ_REVTAB_STORE_SIZE");
_Static_assert(AJ_STORE_ID_LEN % sizeof(apr_uint64_t) == 0, "a store id is whole words");
_Static_assert(AJ_REVTAB_HEADER_SIZE % AJ_REVTAB_ALIGN == 0,
               "slots must stay 8-byte aligned");
_Static_assert(sizeof(aj_revtab_slot_t) == 32, "a revtab slot is 32 bytes");

/* ---- layout --------------------------------------------------------------- */

static apr_uint32_t revtab_round_capacity(apr_uint32_t wanted)
{
    apr_uint32_t cap = AJ_REVTAB_MIN_CAPACITY;

    while (cap < wanted && cap < AJ_REVTAB_MAX_CAPACITY) {
        cap <<= 1;
    }
    return cap;
}

static apr_size_t revtab_slots_offset(apr_uint32_t nstores)
{
    return AJ_REVTAB_HEADER_SIZE + (apr_size_t)nstores * AJ_REVTAB_STORE_SIZE;
}

static apr_uint32_t revtab_nstores(const aj_revtab_t *t)
{
    return __atomic_load_n(&t->nstores, __ATOMIC_RELAXED);
}

static aj_revtab_slot_t *revtab_slots(aj_revtab_t *t)
{
    return (aj_revtab_slot_t *)((char *)t + revtab_slots_offset(revtab_nstores(t)));
}

static const aj_revtab_slot_t *revtab_cslots(const aj_revtab_t *t)
{
    return (const aj_revtab_slot_t *)((const char *)t
                                      + revtab_slots_offset(revtab_nstores(t)));
}

/* The record of store i (the caller checked i < nstores). */
static aj_revtab_store_t *revtab_store(aj_revtab_t *t, apr_uint32_t i)
{
    return (aj_revtab_store_t *)((char *)t + AJ_REVTAB_HEADER_SIZE
                                 + (apr_size_t)i * AJ_REVTAB_STORE_SIZE);
}

static const aj_revtab_store_t *revtab_cstore(const aj_revtab_t *t, apr_uint32_t i)
{
    return (const aj_revtab_store_t *)((const char *)t + AJ_REVTAB_HEADER_SIZE
                                       + (apr_size_t)i * AJ_REVTAB_STORE_SIZE);
}

static int revtab_store_ok(const aj_revtab_t *t, apr_uint32_t store)
{
    return t && store < revtab_nstores(t);
}

static apr_uint32_t revtab_mask(const aj_revtab_t *t)
{
    return __atomic_load_n(&t->capacity, __ATOMIC_RELAXED) - 1;
}

apr_size_t aj_revtab_size(apr_uint32_t capacity, apr_uint32_t nstores)
{
    return revtab_slots_offset(nstores ? nstores : 1)
           + (apr_size_t)revtab_round_capacity(capacity) * sizeof(aj_revtab_slot_t);
}

aj_revtab_t *aj_revtab_format(void *mem, apr_size_t size, apr_uint32_t capacity,
                              const aj_store_id_t *ids, apr_uint32_t nstores)
{
    apr_uint32_t cap = revtab_round_capacity(capacity), i;
    aj_revtab_t *t = mem;
    aj_revtab_store_t *st;

    if (!mem || !ids || nstores == 0 || nstores > AJ_REVTAB_MAX_STORES
        || size < aj_revtab_size(capacity, nstores)
        || ((apr_uintptr_t)mem % AJ_REVTAB_ALIGN) != 0
        || !__atomic_always_lock_free(sizeof(apr_uint64_t), 0)) {
        return NULL;
    }
    /* No reader or writer may use the block yet: plain writes are fine. */
    memset(mem, 0, aj_revtab_size(capacity, nstores));
    t->version = AJ_REVTAB_VERSION;
    t->capacity = cap;
    t->max_entries = cap / AJ_REVTAB_LOAD_DEN * AJ_REVTAB_LOAD_NUM;
    t->nstores = nstores;
    t->min_expires = AJ_REVTAB_NEVER;
    for (i = 0; i < nstores; i++) {
        st = revtab_store(t, i);
        memcpy(st->id, ids[i].b, AJ_STORE_ID_LEN);
    }
    __atomic_store_n(&t->magic, AJ_REVTAB_MAGIC, __ATOMIC_RELEASE);
    return t;
}

apr_uint32_t aj_revtab_stores(const aj_revtab_t *t)
{
    return t ? revtab_nstores(t) : 0;
}

/* ---- keys and slots --------------------------------------------------------- */

/* SHA-256 over the kind byte, the store's id, then the string (streamed:
 * no copy of the string, no length limit).  The key is set only on
 * success. */
static apr_status_t revtab_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                               unsigned char kind, const char *s)
{
    unsigned char md[AJ_SHA256_LEN], prefix[1 + AJ_STORE_ID_LEN];
    aj_revtab_key_t k;
    apr_status_t rv;

    if (!s || !revtab_store_ok(t, store)) {
        return APR_EINVAL;
    }
    prefix[0] = kind;
    memcpy(prefix + 1, revtab_cstore(t, store)->id, AJ_STORE_ID_LEN);
    rv = aj_sha256(md, prefix, sizeof(prefix), s, strlen(s));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    memcpy(k.w, md, AJ_REVTAB_KEY_LEN);
    if (k.w[0] == 0 && k.w[1] == 0) {
        k.w[1] = AJ_REVTAB_ZERO_KEY_FLIP;   /* all-zero means "empty slot" */
    }
    *key = k;
    return APR_SUCCESS;
}

static apr_uint32_t revtab_home(const aj_revtab_key_t *key, apr_uint32_t mask)
{
    return (apr_uint32_t)(key->w[0] & mask);
}

static void revtab_slot_load(aj_revtab_slot_t *out, const aj_revtab_slot_t *s)
{
    out->key[0] = __atomic_load_n(&s->key[0], __ATOMIC_RELAXED);
    out->key[1] = __atomic_load_n(&s->key[1], __ATOMIC_RELAXED);
    out->value = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
    out->expires = __atomic_load_n(&s->expires, __ATOMIC_RELAXED);
}

/* Only inside a write section. */
static void revtab_slot_store(aj_revtab_slot_t *s, const aj_revtab_slot_t *in)
{
    __atomic_store_n(&s->key[0], in->key[0], __ATOMIC_RELAXED);
    __atomic_store_n(&s->key[1], in->key[1], __ATOMIC_RELAXED);
    __atomic_store_n(&s->value, in->value, __ATOMIC_RELAXED);
    __atomic_store_n(&s->expires, in->expires, __ATOMIC_RELAXED);
}

static int revtab_slot_empty(const aj_revtab_slot_t *s)
{
    return s->key[0] == 0 && s->key[1] == 0;
}

static int revtab_slot_is(const aj_revtab_slot_t *s, const aj_revtab_key_t *key)
{
    return s->key[0] == key->w[0] && s->key[1] == key->w[1];
}

/* ---- writers ------------------------------------------------------------------ */

static void revtab_write_begin(aj_revtab_t *t)
{
    apr_uint64_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

    __atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void revtab_write_end(aj_revtab_t *t)
{
    apr_uint64_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

    __atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELEASE);
}

static void revtab_note_expires(aj_revtab_t *t, apr_int64_t expires)
{
    if (expires < __atomic_load_n(&t->min_expires, __ATOMIC_RELAXED)) {
        __atomic_store_n(&t->min_expires, expires, __ATOMIC_RELAXED);
    }
}

typedef struct {
    apr_uint32_t found;     /* the key's slot */
    apr_uint32_t reuse;     /* first expired slot on the path */
    apr_uint32_t empty;     /* the empty slot that ends the chain */
} aj_revtab_probe_t;

/* Writer-side probe (no seqlock needed: writers are serialized). */
static void revtab_probe(aj_revtab_probe_t *pr, aj_revtab_t *t, const aj_revtab_key_t *key,
                         apr_int64_t now)
{
    aj_revtab_slot_t *slots = revtab_slots(t);
    apr_uint32_t mask = revtab_mask(t);
    apr_uint32_t idx = revtab_home(key, mask);
    apr_uint32_t n;
    aj_revtab_slot_t cur;

    pr->found = pr->reuse = pr->empty = AJ_REVTAB_NO_SLOT;
    for (n = 0; n <= mask; n++, idx = (idx + 1) & mask) {
        revtab_slot_load(&cur, &slots[idx]);
        if (revtab_slot_empty(&cur)) {
            pr->empty = idx;
            return;
        }
        if (revtab_slot_is(&cur, key)) {
            pr->found = idx;
            return;
        }
        if (pr->reuse == AJ_REVTAB_NO_SLOT && cur.expires <= now) {
            pr->reuse = idx;
        }
    }
}

/*
 * Removes the entry in slot `hole` without breaking any probe chain: Knuth's
 * Algorithm R (TAOCP 6.4) for linear probing.  Walk the cluster after the
 * hole; an entry at j whose home h lies cyclically outside (hole, j] has the
 * hole on its probe path, so it moves into the hole and its old slot becomes
 * the hole.  The final hole is emptied.  Only slots from `hole` up to the
 * empty slot that ends the cluster are touched, and entries only move
 * backwards (towards `hole`).  Inside a write section.
 */
static void revtab_remove(aj_revtab_slot_t *slots, apr_uint32_t mask, apr_uint32_t hole)
{
    apr_uint32_t j = hole, n, home;
    aj_revtab_slot_t cur;

    for (n = 0; n < mask; n++) {
        j = (j + 1) & mask;
        revtab_slot_load(&cur, &slots[j]);
        if (revtab_slot_empty(&cur)) {
            break;
        }
        home = (apr_uint32_t)(cur.key[0] & mask);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            revtab_slot_store(&slots[hole], &cur);
            hole = j;
        }
    }
    revtab_slot_store(&slots[hole], &aj_revtab_empty_slot);
}

/*
 * Compaction: drops every expired entry, in place, in O(capacity + dead *
 * cluster length), without allocating.  Inside a write section.
 *
 * The scan starts just after an empty slot E (one exists: count <=
 * max_entries < capacity) and visits every other slot once, in probe order,
 * ending just before E.  An expired entry is removed with revtab_remove(),
 * which may pull a later entry of the same cluster into the current slot,
 * so the current slot is examined again until it is empty or live.  Because
 * a cluster never extends past an empty slot, removals touch only slots from
 * the current one up to (at most) E, i.e. slots not yet visited: every
 * entry, whether moved or not, is examined exactly once, and the table is a
 * valid linear-probing table after every single removal.  The exact minimum
 * expiry of the survivors is recomputed on the way.
 */
static void revtab_compact(aj_revtab_t *t, apr_int64_t now)
{
    aj_revtab_slot_t *slots = revtab_slots(t);
    apr_uint32_t mask = revtab_mask(t);
    apr_uint32_t count = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
    apr_int64_t live_min = AJ_REVTAB_NEVER;
    apr_uint32_t start, idx, n;
    aj_revtab_slot_t cur;

    for (start = 0; start <= mask; start++) {
        revtab_slot_load(&cur, &slots[start]);
        if (revtab_slot_empty(&cur)) {
            break;
        }
    }
    if (start > mask) {
        return;     /* no empty slot: cannot happen while count <= max_entries */
    }
    for (n = 1; n <= mask; n++) {
        idx = (start + n) & mask;
        for (;;) {
            revtab_slot_load(&cur, &slots[idx]);
            if (revtab_slot_empty(&cur)) {
                break;
            }
            if (cur.expires > now) {
                if (cur.expires < live_min) {
                    live_min = cur.expires;
                }
                break;
            }
            revtab_remove(slots, mask, idx);
            count--;
        }
    }
    __atomic_store_n(&t->count, count, __ATOMIC_RELAXED);
    __atomic_store_n(&t->min_expires, live_min, __ATOMIC_RELAXED);
}

static apr_status_t revtab_put(aj_revtab_t *t, apr_uint32_t store, const aj_revtab_key_t *key,
                               apr_int64_t value, apr_int64_t expires, apr_int64_t now)
{
    aj_revtab_slot_t *slots = revtab_slots(t);
    apr_uint32_t max = __atomic_load_n(&t->max_entries, __ATOMIC_RELAXED);
    aj_revtab_slot_t cur, entry;
    aj_revtab_probe_t pr;
    apr_status_t rv = APR_SUCCESS;

    entry.key[0] = key->w[0];
    entry.key[1] = key->w[1];
    entry.value = value;
    entry.expires = expires;

    revtab_probe(&pr, t, key, now);
    if (pr.found != AJ_REVTAB_NO_SLOT) {
        /* Idempotent: the larger value and expiry win; nothing new, no write. */
        revtab_slot_load(&cur, &slots[pr.found]);
        if (cur.value < value || cur.expires < expires) {
            entry.value = cur.value > value ? cur.value : value;
            entry.expires = cur.expires > expires ? cur.expires : expires;
            revtab_write_begin(t);
            revtab_slot_store(&slots[pr.found], &entry);
            revtab_write_end(t);
        }
    }
    else if (pr.reuse != AJ_REVTAB_NO_SLOT) {
        /* An expired entry's slot: stays occupied, count unchanged. */
        revtab_write_begin(t);
        revtab_slot_store(&slots[pr.reuse], &entry);
        revtab_note_expires(t, expires);
        revtab_write_end(t);
    }
    else if (pr.empty != AJ_REVTAB_NO_SLOT
             && __atomic_load_n(&t->count, __ATOMIC_RELAXED) < max) {
        revtab_write_begin(t);
        revtab_slot_store(&slots[pr.empty], &entry);
        __atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED);
        revtab_note_expires(t, expires);
        revtab_write_end(t);
    }
    else if (__atomic_load_n(&t->min_expires, __ATOMIC_RELAXED) > now) {
        rv = APR_ENOSPC;    /* full, and nothing has expired: no use compacting */
    }
    else {
        revtab_write_begin(t);
        revtab_compact(t, now);
        revtab_probe(&pr, t, key, now);     /* the key is still absent */
        if (pr.empty != AJ_REVTAB_NO_SLOT
            && __atomic_load_n(&t->count, __ATOMIC_RELAXED) < max) {
            revtab_slot_store(&slots[pr.empty], &entry);
            __atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED);
            revtab_note_expires(t, expires);
        }
        else {
            rv = APR_ENOSPC;
        }
        revtab_write_end(t);
    }

    if (rv == APR_ENOSPC) {
        __atomic_store_n(&revtab_store(t, store)->overflowed, 1, __ATOMIC_RELEASE);
    }
    return rv;
}

/* An entry of the store could not be recorded (its digest failed): from
 * now on a miss of that store proves nothing, as after APR_ENOSPC. */
static void revtab_mark_missing(aj_revtab_t *t, apr_uint32_t store)
{
    __atomic_store_n(&revtab_store(t, store)->overflowed, 1, __ATOMIC_RELEASE);
}

apr_status_t aj_revtab_put_jti(aj_revtab_t *t, apr_uint32_t store, const char *jti,
                               apr_int64_t exp, apr_int64_t now)
{
    aj_revtab_key_t key;
    apr_status_t rv;

    if (!revtab_store_ok(t, store) || !jti) {
        return APR_EINVAL;
    }
    if (exp <= now) {
        return APR_SUCCESS;     /* the token is refused as expired anyway */
    }
    rv = revtab_key(&key, t, store, AJ_REVTAB_KIND_JTI, jti);
    if (rv != APR_SUCCESS) {
        revtab_mark_missing(t, store);
        return rv;
    }
    return revtab_put(t, store, &key, exp, exp, now);
}

/* A user entry (revoke-all, or last change): never expires by itself. */
static apr_status_t revtab_put_forever(aj_revtab_t *t, apr_uint32_t store, unsigned char kind,
                                       const char *sub, apr_int64_t value, apr_int64_t now)
{
    aj_revtab_key_t key;
    apr_status_t rv;

    if (!revtab_store_ok(t, store) || !sub) {
        return APR_EINVAL;
    }
    if (value <= 0) {
        return APR_SUCCESS;     /* nothing recorded for this user */
    }
    rv = revtab_key(&key, t, store, kind, sub);
    if (rv != APR_SUCCESS) {
        revtab_mark_missing(t, store);
        return rv;
    }
    return revtab_put(t, store, &key, value, AJ_REVTAB_NEVER, now);
}

apr_status_t aj_revtab_put_user(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                apr_int64_t valid_after, apr_int64_t now)
{
    return revtab_put_forever(t, store, AJ_REVTAB_KIND_USER, sub, valid_after, now);
}

apr_status_t aj_revtab_put_changed(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                   apr_int64_t changed_at, apr_int64_t now)
{
    return revtab_put_forever(t, store, AJ_REVTAB_KIND_CHANGED, sub, changed_at, now);
}

/* Marks every store unloaded (first: no reader may trust what follows) and
 * empties the slots.  Inside a write section. */
static void revtab_empty(aj_revtab_t *t)
{
    aj_revtab_slot_t *slots = revtab_slots(t);
    apr_uint32_t mask = revtab_mask(t), n = revtab_nstores(t), i;

    for (i = 0; i <= mask; i++) {
        revtab_slot_store(&slots[i], &aj_revtab_empty_slot);
    }
    __atomic_store_n(&t->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&t->min_expires, AJ_REVTAB_NEVER, __ATOMIC_RELAXED);
    for (i = 0; i < n; i++) {
        __atomic_store_n(&revtab_store(t, i)->overflowed, 0, __ATOMIC_RELEASE);
    }
}

static void revtab_unload_all(aj_revtab_t *t)
{
    apr_uint32_t n = revtab_nstores(t), i;

    for (i = 0; i < n; i++) {
        __atomic_store_n(&revtab_store(t, i)->loaded, 0, __ATOMIC_RELEASE);
    }
}

void aj_revtab_clear(aj_revtab_t *t)
{
    revtab_unload_all(t);
    revtab_write_begin(t);
    revtab_empty(t);
    revtab_write_end(t);
}

int aj_revtab_recover(aj_revtab_t *t)
{
    apr_uint64_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

    if (!(seq & 1)) {
        return 0;
    }
    /* A writer died inside its section: the slots may be torn.  The
     * section is still open (readers wait or give up); empty the table
     * and close it, every store unloaded, so that it is loaded anew. */
    revtab_unload_all(t);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    revtab_empty(t);
    revtab_write_end(t);
    return 1;
}

/* ---- readers ------------------------------------------------------------------ */

static apr_int64_t revtab_clock_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (apr_int64_t)ts.tv_sec * 1000 * AJ_REVTAB_NS_PER_MS + ts.tv_nsec;
}

/* Waits a little for a writer; 0 once the wait has lasted past
 * AJ_REVTAB_STALL_MS (the clock is read only every few spins). */
static int revtab_backoff(apr_uint32_t *spins, apr_int64_t *since)
{
    apr_int64_t now;

    if (++*spins % AJ_REVTAB_SPINS_PER_YIELD != 0) {
        return 1;
    }
    sched_yield();
    now = revtab_clock_ns();
    if (*since == 0) {
        *since = now;
        return 1;
    }
    return now - *since < AJ_REVTAB_STALL_MS * AJ_REVTAB_NS_PER_MS;
}

/* APR_SUCCESS with *found (and *value when found), or APR_TIMEUP when a
 * write section stayed open too long. */
static apr_status_t revtab_lookup(int *found, apr_int64_t *value, const aj_revtab_t *t,
                                  const aj_revtab_key_t *key)
{
    const aj_revtab_slot_t *slots = revtab_cslots(t);
    apr_uint32_t mask = revtab_mask(t);
    apr_uint32_t spins = 0, idx, n;
    apr_uint64_t s1, s2, k0, k1;
    apr_int64_t v = 0, since = 0;
    int hit;

    for (;;) {
        s1 = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1) {
            if (!revtab_backoff(&spins, &since)) {
                return APR_TIMEUP;
            }
            continue;
        }
        hit = 0;
        idx = revtab_home(key, mask);
        for (n = 0; n <= mask; n++, idx = (idx + 1) & mask) {
            k0 = __atomic_load_n(&slots[idx].key[0], __ATOMIC_RELAXED);
            k1 = __atomic_load_n(&slots[idx].key[1], __ATOMIC_RELAXED);
            if (k0 == 0 && k1 == 0) {
                break;
            }
            if (k0 == key->w[0] && k1 == key->w[1]) {
                v = __atomic_load_n(&slots[idx].value, __ATOMIC_RELAXED);
                hit = 1;
                break;
            }
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
        if (s1 == s2) {
            break;
        }
        if (!revtab_backoff(&spins, &since)) {
            return APR_TIMEUP;
        }
    }
    *found = hit;
    if (hit) {
        *value = v;
    }
    return APR_SUCCESS;
}

apr_status_t aj_revtab_jti_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                               const char *jti)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_JTI, jti);
}

apr_status_t aj_revtab_user_key(aj_revtab_key_t *key, const aj_revtab_t *t,
                                apr_uint32_t store, const char *sub)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_USER, sub);
}

apr_status_t aj_revtab_changed_key(aj_revtab_key_t *key, const aj_revtab_t *t,
                                   apr_uint32_t store, const char *sub)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_CHANGED, sub);
}

apr_status_t aj_revtab_key_revoked(int *revoked, const aj_revtab_t *t,
                                   const aj_revtab_key_t *jti_key, apr_int64_t now)
{
    apr_int64_t exp = 0;
    apr_status_t rv;
    int found = 0;

    *revoked = 1;
    if (!t || !jti_key) {
        return APR_EINVAL;
    }
    rv = revtab_lookup(&found, &exp, t, jti_key);
    if (rv == APR_SUCCESS) {
        *revoked = found && exp > now;
    }
    return rv;
}

apr_status_t aj_revtab_key_value(apr_int64_t *value, const aj_revtab_t *t,
                                 const aj_revtab_key_t *key)
{
    apr_int64_t v = 0;
    apr_status_t rv;
    int found = 0;

    *value = AJ_REVTAB_NEVER;
    if (!t || !key) {
        return APR_EINVAL;
    }
    rv = revtab_lookup(&found, &v, t, key);
    if (rv == APR_SUCCESS) {
        *value = found ? v : 0;
    }
    return rv;
}

int aj_revtab_jti_revoked(const aj_revtab_t *t, apr_uint32_t store, const char *jti,
                          apr_int64_t now)
{
    aj_revtab_key_t key;
    int revoked = 1;

    if (!t || !jti) {
        return 0;
    }
    if (aj_revtab_jti_key(&key, t, store, jti) != APR_SUCCESS) {
        return 1;       /* cannot look it up: fail closed */
    }
    (void)aj_revtab_key_revoked(&revoked, t, &key, now);
    return revoked;
}

apr_int64_t aj_revtab_user_valid_after(const aj_revtab_t *t, apr_uint32_t store,
                                       const char *sub)
{
    aj_revtab_key_t key;
    apr_int64_t value = AJ_REVTAB_NEVER;

    if (!t || !sub) {
        return 0;
    }
    if (aj_revtab_user_key(&key, t, store, sub) != APR_SUCCESS) {
        return AJ_REVTAB_NEVER;     /* cannot look it up: every token is older */
    }
    (void)aj_revtab_key_value(&value, t, &key);
    return value;
}

apr_uint32_t aj_revtab_count(const aj_revtab_t *t)
{
    return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

apr_uint32_t aj_revtab_capacity(const aj_revtab_t *t)
{
    return t ? __atomic_load_n(&t->max_entries, __ATOMIC_RELAXED) : 0;
}

/* ---- per-store bookkeeping ------------------------------------------------- */

/* A bad store index reads as "not loaded, overflowed" (nothing is trusted)
 * and writes nothing. */
int aj_revtab_overflowed(const aj_revtab_t *t, apr_uint32_t store)
{
    return !revtab_store_ok(t, store)
           || __atomic_load_n(&revtab_cstore(t, store)->overflowed, __ATOMIC_ACQUIRE) != 0;
}

void aj_revtab_clear_overflowed(aj_revtab_t *t, apr_uint32_t store)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->overflowed, 0, __ATOMIC_RELEASE);
    }
}

int aj_revtab_loaded(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_store_ok(t, store)
           && __atomic_load_n(&revtab_cstore(t, store)->loaded, __ATOMIC_ACQUIRE) != 0;
}

void aj_revtab_set_loaded(aj_revtab_t *t, apr_uint32_t store, int loaded)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->loaded, loaded ? 1u : 0u, __ATOMIC_RELEASE);
    }
}

apr_int64_t aj_revtab_next_refresh(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_store_ok(t, store)
               ? __atomic_load_n(&revtab_cstore(t, store)->next_refresh, __ATOMIC_ACQUIRE)
               : 0;
}

void aj_revtab_set_next_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->next_refresh, when, __ATOMIC_RELEASE);
    }
}

int aj_revtab_claim_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t due,
                            apr_int64_t until)
{
    apr_int64_t expected = due;

    return revtab_store_ok(t, store)
           && __atomic_compare_exchange_n(&revtab_store(t, store)->next_refresh, &expected,
                                          until, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

apr_int64_t aj_revtab_watermark(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_store_ok(t, store)
               ? __atomic_load_n(&revtab_cstore(t, store)->watermark, __ATOMIC_ACQUIRE)
               : 0;
}

void aj_revtab_set_watermark(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->watermark, when, __ATOMIC_RELEASE);
    }
}

apr_int64_t aj_revtab_last_recovery(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_store_ok(t, store)
               ? __atomic_load_n(&revtab_cstore(t, store)->last_recovery, __ATOMIC_RELAXED)
               : 0;
}

void aj_revtab_set_last_recovery(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->last_recovery, when, __ATOMIC_RELAXED);
    }
}

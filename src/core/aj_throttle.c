/*
 * aj_throttle.c — the login throttle's counters (contract: include/aj_throttle.h).
 *
 * Layout of the caller's block (8-byte aligned, from aj_throttle_size()):
 *
 *     [ header, AJ_THROTTLE_HEADER_SIZE bytes ][ slot 0 ] ... [ slot capacity-1 ]
 *
 * A slot is 32 bytes: a 16-byte key (two 64-bit words), the window start
 * (seconds), the failure count and the slot's version.  An all-zero key
 * marks a slot never used; a digest whose first 16 bytes are zero
 * (probability 2^-128) has the low bit of its second word set.  A counter
 * with count 0 (cleared after a success) keeps its key but is free for any
 * other key, like an empty or an expired one.
 *
 * Bounded probing: a key lives in one of the AJ_THROTTLE_PROBE slots from
 * (first key word) & (capacity-1), wrapping.  Readers look at all of them
 * (an emptied slot does not end the search), so no entry ever needs to move
 * and no probe chain can break.
 *
 * Concurrency.  After aj_throttle_format() (which zeroes the block before
 * anyone uses it) every field is read and written with GCC __atomic builtins
 * only.  Writers are serialized by the caller.  A writer makes the slot's
 * version odd (relaxed store, then a release fence), writes the fields with
 * relaxed stores and makes the version even again with a release store.  A
 * reader loads the version with acquire, reads the fields, issues an
 * acquire fence and compares the version: equal and even means a
 * consistent slot.  It tries AJ_THROTTLE_READ_TRIES times, then reads the
 * slot as "not this key".
 *
 * Why that way round (fail open for one slot): a version that stays odd
 * means its writer died inside the write section (a killed child).  Reading
 * such a slot as "throttled" would lock out every key of that probe window,
 * real users included, until a restart; reading it as absent lets that one
 * key go uncounted only until the next failure recorded in the same window
 * -- the writer of that failure, holding the mutex, knows no other writer
 * is active, so an odd version there is a dead writer's, and it empties the
 * slot (aj_throttle_repair) before anything else.  An attacker cannot
 * choose to kill a child in the middle of a write.
 */
#include <sched.h>
#include <string.h>

#include "aj_shmtab.h"
#include "aj_throttle.h"

/* "AJTH" and the layout version, written by aj_throttle_format(). */
#define AJ_THROTTLE_MAGIC           0x414a5448u
#define AJ_THROTTLE_VERSION         1u
/* Slots: a power of two between these bounds. */
#define AJ_THROTTLE_MIN_CAPACITY    64u
#define AJ_THROTTLE_MAX_CAPACITY    (1u << 24)
/* Slots a key may occupy, from its home slot on: 8 slots are 4 cache lines,
 * and a probe window is what an attacker must fill to push a counter out. */
#define AJ_THROTTLE_PROBE           8u
/* A reader's attempts at a consistent copy of one slot; it yields the CPU
 * between them.  A writer holds a slot for a handful of stores. */
#define AJ_THROTTLE_READ_TRIES      16u
#define AJ_THROTTLE_SPINS_PER_YIELD 4u
/* The header occupies one cache line; the slots follow. */
#define AJ_THROTTLE_HEADER_SIZE     64u
#define AJ_THROTTLE_KIND_USER       'u'
#define AJ_THROTTLE_KIND_ADDR       'a'
/* A count stops here (never wraps to 0, which means "cleared"). */
#define AJ_THROTTLE_COUNT_MAX       APR_UINT32_MAX
#define AJ_THROTTLE_NO_SLOT         APR_UINT32_MAX

struct aj_throttle_t {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t capacity; /* slots, a power of two; constant after format */
    apr_uint32_t count;    /* slots with a key (writer-maintained) */
};

typedef struct {
    apr_uint64_t key[AJ_SHMTAB_KEY_WORDS];
    apr_int64_t start;  /* the window's first failure, seconds */
    apr_uint32_t count; /* failures in the window; 0: free */
    apr_uint32_t ver;   /* odd while a writer changes the slot */
} aj_throttle_slot_t;

_Static_assert(sizeof(aj_throttle_key_t) == AJ_SHMTAB_KEY_LEN, "a throttle key is 16 bytes");
_Static_assert(sizeof(struct aj_throttle_t) <= AJ_THROTTLE_HEADER_SIZE,
               "the throttle header outgrew AJ_THROTTLE_HEADER_SIZE");
_Static_assert(AJ_THROTTLE_HEADER_SIZE % AJ_SHMTAB_ALIGN == 0, "slots must stay 8-byte aligned");
_Static_assert(sizeof(aj_throttle_slot_t) == 32, "a throttle slot is 32 bytes");
_Static_assert(AJ_THROTTLE_PROBE <= AJ_THROTTLE_MIN_CAPACITY,
               "a probe window must fit in the smallest table");

/* ---- layout --------------------------------------------------------------- */

static apr_uint32_t throttle_round_capacity(apr_uint32_t wanted)
{
    return aj_shmtab_capacity(wanted, AJ_THROTTLE_MIN_CAPACITY, AJ_THROTTLE_MAX_CAPACITY);
}

static aj_throttle_slot_t *throttle_slots(aj_throttle_t *t)
{
    return (aj_throttle_slot_t *)((char *)t + AJ_THROTTLE_HEADER_SIZE);
}

static const aj_throttle_slot_t *throttle_cslots(const aj_throttle_t *t)
{
    return (const aj_throttle_slot_t *)((const char *)t + AJ_THROTTLE_HEADER_SIZE);
}

static apr_uint32_t throttle_mask(const aj_throttle_t *t)
{
    return __atomic_load_n(&t->capacity, __ATOMIC_RELAXED) - 1;
}

apr_size_t aj_throttle_size(apr_uint32_t capacity)
{
    return AJ_THROTTLE_HEADER_SIZE
           + (apr_size_t)throttle_round_capacity(capacity) * sizeof(aj_throttle_slot_t);
}

aj_throttle_t *aj_throttle_format(void *mem, apr_size_t size, apr_uint32_t capacity)
{
    aj_throttle_t *t = mem;

    if (!aj_shmtab_block_ok(mem, size, aj_throttle_size(capacity))) {
        return NULL;
    }
    /* No reader or writer may use the block yet: plain zeroing is fine. */
    memset(mem, 0, aj_throttle_size(capacity));
    __atomic_store_n(&t->version, AJ_THROTTLE_VERSION, __ATOMIC_RELAXED);
    __atomic_store_n(&t->capacity, throttle_round_capacity(capacity), __ATOMIC_RELAXED);
    __atomic_store_n(&t->magic, AJ_THROTTLE_MAGIC, __ATOMIC_RELEASE);
    return t;
}

/* ---- keys ------------------------------------------------------------------- */

/* SHA-256 over kind || store id || address || NUL, then the username (the
 * NUL keeps "1.2.3.4"+"5x" apart from "1.2.3.45"+"x"). */
static apr_status_t throttle_key(aj_throttle_key_t *key, unsigned char kind,
                                 const aj_store_id_t *store, const char *addr, const char *username)
{
    unsigned char head[1 + AJ_STORE_ID_LEN + AJ_THROTTLE_ADDR_MAX + 1];
    apr_size_t alen = strlen(addr), hlen = 0;

    head[hlen++] = kind;
    memcpy(head + hlen, store->b, AJ_STORE_ID_LEN);
    hlen += AJ_STORE_ID_LEN;
    memcpy(head + hlen, addr, alen);
    hlen += alen;
    head[hlen++] = '\0';
    return aj_shmtab_key(key->w, head, hlen, username, username ? strlen(username) : 0);
}

apr_status_t aj_throttle_keys(aj_throttle_keys_t *keys, const aj_store_id_t *store,
                              const char *addr, const char *username)
{
    aj_throttle_keys_t k;
    apr_status_t rv;

    if (!keys || !store || !addr || !username || strlen(addr) > AJ_THROTTLE_ADDR_MAX) {
        return APR_EINVAL;
    }
    rv = throttle_key(&k.user, AJ_THROTTLE_KIND_USER, store, addr, username);
    if (rv == APR_SUCCESS) {
        rv = throttle_key(&k.addr, AJ_THROTTLE_KIND_ADDR, store, addr, NULL);
    }
    if (rv == APR_SUCCESS) {
        *keys = k;
    }
    return rv;
}

/* ---- slots -------------------------------------------------------------------- */

typedef struct {
    apr_uint64_t key[AJ_SHMTAB_KEY_WORDS];
    apr_int64_t start;
    apr_uint32_t count;
} aj_throttle_entry_t;

static const aj_throttle_entry_t aj_throttle_empty_entry = { { 0, 0 }, 0, 0 };

static apr_uint32_t throttle_index(const aj_throttle_key_t *key, apr_uint32_t mask, apr_uint32_t i)
{
    return (apr_uint32_t)((key->w[0] + i) & mask);
}

static void throttle_load_fields(aj_throttle_entry_t *e, const aj_throttle_slot_t *s)
{
    aj_shmtab_key_load(e->key, s->key);
    e->start = __atomic_load_n(&s->start, __ATOMIC_RELAXED);
    e->count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
}

/* Reader: 1 with a consistent copy of the slot, 0 when every attempt
 * overlapped a write (or the slot stays mid-write: a dead writer). */
static int throttle_read_slot(aj_throttle_entry_t *e, const aj_throttle_slot_t *s)
{
    apr_uint32_t v1, v2, tries;

    for (tries = 0; tries < AJ_THROTTLE_READ_TRIES; tries++) {
        if (tries && tries % AJ_THROTTLE_SPINS_PER_YIELD == 0) {
            sched_yield();
        }
        v1 = __atomic_load_n(&s->ver, __ATOMIC_ACQUIRE);
        if (v1 & 1) {
            continue;
        }
        throttle_load_fields(e, s);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        v2 = __atomic_load_n(&s->ver, __ATOMIC_RELAXED);
        if (v1 == v2) {
            return 1;
        }
    }
    return 0;
}

/* Writer only (serialized): replaces the slot's fields in a write section. */
static void throttle_write_slot(aj_throttle_slot_t *s, const aj_throttle_entry_t *e)
{
    apr_uint32_t v = __atomic_load_n(&s->ver, __ATOMIC_RELAXED);

    __atomic_store_n(&s->ver, v + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    aj_shmtab_key_store(s->key, e->key);
    __atomic_store_n(&s->start, e->start, __ATOMIC_RELAXED);
    __atomic_store_n(&s->count, e->count, __ATOMIC_RELAXED);
    __atomic_store_n(&s->ver, v + 2, __ATOMIC_RELEASE);
}

static int throttle_is(const aj_throttle_entry_t *e, const aj_throttle_key_t *key)
{
    return aj_shmtab_key_eq(e->key, key->w);
}

static int throttle_used(const aj_throttle_entry_t *e)
{
    return !aj_shmtab_key_empty(e->key);
}

/* A counter that counts at now: failures within its window. */
static int throttle_live(const aj_throttle_entry_t *e, apr_int64_t seconds, apr_int64_t now)
{
    return e->count > 0 && now >= e->start && now - e->start < seconds;
}

/* ---- reader ------------------------------------------------------------------- */

/* 1 and *e when key has a consistent slot in its probe window. */
static int throttle_find(aj_throttle_entry_t *e, const aj_throttle_t *t,
                         const aj_throttle_key_t *key)
{
    const aj_throttle_slot_t *slots = throttle_cslots(t);
    apr_uint32_t mask = throttle_mask(t), i;
    aj_throttle_entry_t cur;

    for (i = 0; i < AJ_THROTTLE_PROBE; i++) {
        if (throttle_read_slot(&cur, &slots[throttle_index(key, mask, i)])
            && throttle_is(&cur, key)) {
            *e = cur;
            return 1;
        }
    }
    return 0;
}

/* The live count of one counter, and the seconds it still refuses (0 when
 * under its limit). */
static apr_uint32_t throttle_counter(apr_int64_t *left, const aj_throttle_t *t,
                                     const aj_throttle_key_t *key, apr_uint32_t limit,
                                     apr_int64_t seconds, apr_int64_t now)
{
    aj_throttle_entry_t e;

    *left = 0;
    if (!throttle_find(&e, t, key) || !throttle_live(&e, seconds, now)) {
        return 0;
    }
    if (e.count >= limit) {
        *left = e.start + seconds - now;
    }
    return e.count;
}

static apr_uint32_t throttle_addr_limit(const aj_throttle_policy_t *policy)
{
    apr_uint64_t limit = (apr_uint64_t)policy->attempts * AJ_THROTTLE_ADDR_FACTOR;

    return limit > AJ_THROTTLE_COUNT_MAX ? AJ_THROTTLE_COUNT_MAX : (apr_uint32_t)limit;
}

void aj_throttle_check(aj_throttle_state_t *state, const aj_throttle_t *t,
                       const aj_throttle_keys_t *keys, const aj_throttle_policy_t *policy,
                       apr_int64_t now)
{
    apr_int64_t user_left = 0, addr_left = 0;

    memset(state, 0, sizeof(*state));
    if (!t || !keys || !policy || policy->attempts == 0 || policy->seconds <= 0) {
        return;
    }
    state->user_count =
        throttle_counter(&user_left, t, &keys->user, policy->attempts, policy->seconds, now);
    state->addr_count = throttle_counter(&addr_left, t, &keys->addr, throttle_addr_limit(policy),
                                         policy->seconds, now);
    state->retry_after = user_left > addr_left ? user_left : addr_left;
}

/* ---- writers ------------------------------------------------------------------ */

/* A slot left mid-write by a writer that died: writers are serialized, so
 * no live writer can be inside it.  Emptied (its counter is lost). */
static void throttle_repair(aj_throttle_t *t, aj_throttle_slot_t *s)
{
    apr_uint32_t v = __atomic_load_n(&s->ver, __ATOMIC_RELAXED);
    apr_uint64_t key[AJ_SHMTAB_KEY_WORDS];

    if (!(v & 1)) {
        return;
    }
    aj_shmtab_key_load(key, s->key);
    if (!aj_shmtab_key_empty(key)) {
        __atomic_sub_fetch(&t->count, 1, __ATOMIC_RELAXED);
    }
    /* Make the version even first: the write section below starts from it. */
    __atomic_store_n(&s->ver, v + 1, __ATOMIC_RELAXED);
    throttle_write_slot(s, &aj_throttle_empty_entry);
}

/* Counts one failure of key (writer side).  1 when its count reached limit
 * with this failure. */
static int throttle_fail_one(aj_throttle_t *t, const aj_throttle_key_t *key, apr_uint32_t limit,
                             apr_int64_t seconds, apr_int64_t now)
{
    aj_throttle_slot_t *slots = throttle_slots(t);
    apr_uint32_t mask = throttle_mask(t), i, idx;
    apr_uint32_t found = AJ_THROTTLE_NO_SLOT, free_slot = AJ_THROTTLE_NO_SLOT;
    apr_uint32_t oldest = AJ_THROTTLE_NO_SLOT;
    apr_int64_t oldest_start = 0;
    aj_throttle_entry_t cur, e;

    for (i = 0; i < AJ_THROTTLE_PROBE; i++) {
        idx = throttle_index(key, mask, i);
        throttle_repair(t, &slots[idx]);
        throttle_load_fields(&cur, &slots[idx]);
        if (throttle_is(&cur, key)) {
            found = idx;
            break;
        }
        if (!throttle_live(&cur, seconds, now)) {
            if (free_slot == AJ_THROTTLE_NO_SLOT) {
                free_slot = idx;
            }
        }
        else if (oldest == AJ_THROTTLE_NO_SLOT || cur.start < oldest_start) {
            oldest = idx;
            oldest_start = cur.start;
        }
    }

    e.key[0] = key->w[0];
    e.key[1] = key->w[1];
    if (found != AJ_THROTTLE_NO_SLOT) {
        if (throttle_live(&cur, seconds, now)) {
            e.start = cur.start;
            e.count = cur.count < AJ_THROTTLE_COUNT_MAX ? cur.count + 1 : cur.count;
        }
        else {
            e.start = now; /* its window ended: a new one starts */
            e.count = 1;
        }
        throttle_write_slot(&slots[found], &e);
        return e.count == limit;
    }
    /* Absent: a free slot, else the counter with the oldest window (see
     * the trade-off in aj_throttle.h).  The table never refuses. */
    idx = free_slot != AJ_THROTTLE_NO_SLOT ? free_slot : oldest;
    throttle_load_fields(&cur, &slots[idx]);
    if (!throttle_used(&cur)) {
        __atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED);
    }
    e.start = now;
    e.count = 1;
    throttle_write_slot(&slots[idx], &e);
    return limit == 1;
}

unsigned aj_throttle_fail(aj_throttle_t *t, const aj_throttle_keys_t *keys,
                          const aj_throttle_policy_t *policy, apr_int64_t now)
{
    unsigned reached = 0;

    if (!t || !keys || !policy || policy->attempts == 0 || policy->seconds <= 0) {
        return 0;
    }
    if (throttle_fail_one(t, &keys->user, policy->attempts, policy->seconds, now)) {
        reached |= AJ_THROTTLE_REACHED_USER;
    }
    if (throttle_fail_one(t, &keys->addr, throttle_addr_limit(policy), policy->seconds, now)) {
        reached |= AJ_THROTTLE_REACHED_ADDR;
    }
    return reached;
}

void aj_throttle_clear(aj_throttle_t *t, const aj_throttle_keys_t *keys)
{
    aj_throttle_slot_t *slots;
    apr_uint32_t mask, i, idx;
    aj_throttle_entry_t cur;

    if (!t || !keys) {
        return;
    }
    slots = throttle_slots(t);
    mask = throttle_mask(t);
    for (i = 0; i < AJ_THROTTLE_PROBE; i++) {
        idx = throttle_index(&keys->user, mask, i);
        throttle_repair(t, &slots[idx]);
        throttle_load_fields(&cur, &slots[idx]);
        if (throttle_is(&cur, &keys->user)) {
            if (cur.count != 0) {
                cur.count = 0; /* keeps its key; free for any other */
                cur.start = 0;
                throttle_write_slot(&slots[idx], &cur);
            }
            return;
        }
    }
}

apr_uint32_t aj_throttle_count(const aj_throttle_t *t)
{
    return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

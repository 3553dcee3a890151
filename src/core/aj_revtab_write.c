/*
 * aj_revtab_write.c — the revocation table's writers: put (with reuse of
 * expired slots and compaction), clear and recovery after a writer died
 * (contract: include/aj_revtab.h; the layout and the concurrency rules:
 * aj_revtab_int.h).  Writers are serialized by the caller.
 */
#include "aj_revtab_int.h"

/* "No slot" for probe results. */
#define AJ_REVTAB_NO_SLOT APR_UINT32_MAX

/* A constant, not state: what an empty slot holds. */
static const aj_revtab_slot_t aj_revtab_empty_slot = { { 0, 0 }, 0, 0 };

/* Only inside a write section. */
static void revtab_slot_store(aj_revtab_slot_t *s, const aj_revtab_slot_t *in)
{
    aj_shmtab_key_store(s->key, in->key);
    __atomic_store_n(&s->value, in->value, __ATOMIC_RELAXED);
    __atomic_store_n(&s->expires, in->expires, __ATOMIC_RELAXED);
}

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
    apr_uint32_t found; /* the key's slot */
    apr_uint32_t reuse; /* first expired slot on the path */
    apr_uint32_t empty; /* the empty slot that ends the chain */
} aj_revtab_probe_t;

/* Writer-side probe (no seqlock needed: writers are serialized). */
static void revtab_probe(aj_revtab_probe_t *pr, aj_revtab_t *t, const aj_revtab_key_t *key,
                         apr_int64_t now)
{
    aj_revtab_slot_t *slots = revtab_slots(t);
    apr_uint32_t mask = revtab_mask(t);
    apr_uint32_t idx = revtab_home(key->w, mask);
    apr_uint32_t n;
    aj_revtab_slot_t cur;

    pr->found = pr->reuse = pr->empty = AJ_REVTAB_NO_SLOT;
    for (n = 0; n <= mask; n++, idx = (idx + 1) & mask) {
        revtab_slot_load(&cur, &slots[idx]);
        if (aj_shmtab_key_empty(cur.key)) {
            pr->empty = idx;
            return;
        }
        if (aj_shmtab_key_eq(cur.key, key->w)) {
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
        if (aj_shmtab_key_empty(cur.key)) {
            break;
        }
        home = revtab_home(cur.key, mask);
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
        if (aj_shmtab_key_empty(cur.key)) {
            break;
        }
    }
    if (start > mask) {
        return; /* no empty slot: cannot happen while count <= max_entries */
    }
    for (n = 1; n <= mask; n++) {
        idx = (start + n) & mask;
        for (;;) {
            revtab_slot_load(&cur, &slots[idx]);
            if (aj_shmtab_key_empty(cur.key)) {
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

/* An entry of the store could not be recorded (no room, or its digest
 * failed): from now on a miss of that store proves nothing. */
static void revtab_mark_missing(aj_revtab_t *t, apr_uint32_t store)
{
    __atomic_store_n(&revtab_store(t, store)->overflowed, 1, __ATOMIC_RELEASE);
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
    else if (pr.empty != AJ_REVTAB_NO_SLOT && __atomic_load_n(&t->count, __ATOMIC_RELAXED) < max) {
        revtab_write_begin(t);
        revtab_slot_store(&slots[pr.empty], &entry);
        __atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED);
        revtab_note_expires(t, expires);
        revtab_write_end(t);
    }
    else if (__atomic_load_n(&t->min_expires, __ATOMIC_RELAXED) > now) {
        rv = APR_ENOSPC; /* full, and nothing has expired: no use compacting */
    }
    else {
        revtab_write_begin(t);
        revtab_compact(t, now);
        revtab_probe(&pr, t, key, now); /* the key is still absent */
        if (pr.empty != AJ_REVTAB_NO_SLOT && __atomic_load_n(&t->count, __ATOMIC_RELAXED) < max) {
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
        revtab_mark_missing(t, store);
    }
    return rv;
}

/* The key of sub under the store: aj_revtab_user_key or aj_revtab_changed_key. */
typedef apr_status_t aj_revtab_key_fn(aj_revtab_key_t *key, const aj_revtab_t *t,
                                      apr_uint32_t store, const char *sub);

apr_status_t aj_revtab_put_jti(aj_revtab_t *t, apr_uint32_t store, const char *jti, apr_int64_t exp,
                               apr_int64_t now)
{
    aj_revtab_key_t key;
    apr_status_t rv;

    if (!revtab_store_ok(t, store) || !jti) {
        return APR_EINVAL;
    }
    if (exp <= now) {
        return APR_SUCCESS; /* the token is refused as expired anyway */
    }
    rv = aj_revtab_jti_key(&key, t, store, jti);
    if (rv != APR_SUCCESS) {
        revtab_mark_missing(t, store);
        return rv;
    }
    return revtab_put(t, store, &key, exp, exp, now);
}

/* A user entry (revoke-all, or last change): never expires by itself. */
static apr_status_t revtab_put_forever(aj_revtab_t *t, apr_uint32_t store,
                                       aj_revtab_key_fn *make_key, const char *sub,
                                       apr_int64_t value, apr_int64_t now)
{
    aj_revtab_key_t key;
    apr_status_t rv;

    if (!revtab_store_ok(t, store) || !sub) {
        return APR_EINVAL;
    }
    if (value <= 0) {
        return APR_SUCCESS; /* nothing recorded for this user */
    }
    rv = make_key(&key, t, store, sub);
    if (rv != APR_SUCCESS) {
        revtab_mark_missing(t, store);
        return rv;
    }
    return revtab_put(t, store, &key, value, AJ_REVTAB_NEVER, now);
}

apr_status_t aj_revtab_put_user(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                apr_int64_t valid_after, apr_int64_t now)
{
    return revtab_put_forever(t, store, aj_revtab_user_key, sub, valid_after, now);
}

apr_status_t aj_revtab_put_changed(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                   apr_int64_t changed_at, apr_int64_t now)
{
    return revtab_put_forever(t, store, aj_revtab_changed_key, sub, changed_at, now);
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

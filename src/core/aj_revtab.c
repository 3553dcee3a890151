/*
 * aj_revtab.c — the revocation table: formatting, keys and the lock-free
 * readers (contract: include/aj_revtab.h; the layout and the concurrency
 * rules: aj_revtab_int.h).  The writers are in aj_revtab_write.c, each
 * store's bookkeeping in aj_revtab_stores.c.
 */
#include <sched.h>
#include <string.h>
#include <time.h>

#include "aj_revtab_int.h"

/* "AJRT" and the layout version, written by aj_revtab_format(). */
#define AJ_REVTAB_MAGIC           0x414a5254u
#define AJ_REVTAB_VERSION         2u
#define AJ_REVTAB_KIND_JTI        'j'
#define AJ_REVTAB_KIND_USER       'u'
#define AJ_REVTAB_KIND_CHANGED    'c'
/* A reader that finds a write in progress yields the CPU this often, and
 * then looks at the clock (AJ_REVTAB_STALL_MS). */
#define AJ_REVTAB_SPINS_PER_YIELD 64u
#define AJ_REVTAB_NS_PER_MS       1000000LL

/* ---- layout --------------------------------------------------------------- */

static apr_uint32_t revtab_round_capacity(apr_uint32_t wanted)
{
    return aj_shmtab_capacity(wanted, AJ_REVTAB_MIN_CAPACITY, AJ_REVTAB_MAX_CAPACITY);
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

    if (!ids || nstores == 0 || nstores > AJ_REVTAB_MAX_STORES
        || !aj_shmtab_block_ok(mem, size, aj_revtab_size(capacity, nstores))) {
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

/* ---- keys ------------------------------------------------------------------- */

/* The last user key this thread derived: every token of one user needs
 * the same one, and a token seen for the first time would otherwise pay a
 * SHA-256 for it (about 3.6K instructions of its path).  The memo holds
 * every input of the derivation (kind, store id, the whole string), so it
 * can never answer for other inputs; strings longer than
 * AJ_REVTAB_MEMO_MAX are not memoized. */
#define AJ_REVTAB_MEMO_MAX 64
typedef struct {
    unsigned char prefix[1 + AJ_STORE_ID_LEN];
    apr_size_t len; /* of s; 0: empty memo */
    char s[AJ_REVTAB_MEMO_MAX];
    aj_revtab_key_t key;
} aj_revtab_memo_t;
static _Thread_local aj_revtab_memo_t revtab_memo;

/* SHA-256 over the kind byte, the store's id, then the string (streamed:
 * no copy of the string, no length limit).  The key is set only on
 * success. */
static apr_status_t revtab_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                               unsigned char kind, const char *s)
{
    unsigned char prefix[1 + AJ_STORE_ID_LEN];
    aj_revtab_memo_t *m = &revtab_memo;
    apr_size_t len;
    apr_status_t rv;

    if (!s || !revtab_store_ok(t, store)) {
        return APR_EINVAL;
    }
    prefix[0] = kind;
    memcpy(prefix + 1, revtab_cstore(t, store)->id, AJ_STORE_ID_LEN);
    len = strlen(s);
    if (kind == AJ_REVTAB_KIND_USER && m->len == len && !memcmp(m->s, s, len)
        && !memcmp(m->prefix, prefix, sizeof(prefix))) {
        *key = m->key;
        return APR_SUCCESS;
    }
    rv = aj_shmtab_key(key->w, prefix, sizeof(prefix), s, len);
    if (rv == APR_SUCCESS && kind == AJ_REVTAB_KIND_USER && len > 0 && len <= sizeof(m->s)) {
        memcpy(m->prefix, prefix, sizeof(prefix));
        memcpy(m->s, s, len);
        m->len = len;
        m->key = *key;
    }
    return rv;
}

apr_status_t aj_revtab_jti_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                               const char *jti)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_JTI, jti);
}

apr_status_t aj_revtab_user_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                                const char *sub)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_USER, sub);
}

apr_status_t aj_revtab_changed_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                                   const char *sub)
{
    return revtab_key(key, t, store, AJ_REVTAB_KIND_CHANGED, sub);
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

/* APR_SUCCESS with *found (and *value when found), APR_TIMEUP when a write
 * section stayed open too long, APR_EINVAL for NULL. */
static apr_status_t revtab_lookup(int *found, apr_int64_t *value, const aj_revtab_t *t,
                                  const aj_revtab_key_t *key)
{
    const aj_revtab_slot_t *slots;
    apr_uint32_t mask, spins = 0, idx, n;
    apr_uint64_t s1, s2, k[AJ_SHMTAB_KEY_WORDS];
    apr_int64_t v = 0, since = 0;
    int hit;

    if (!t || !key) {
        return APR_EINVAL;
    }
    slots = revtab_cslots(t);
    mask = revtab_mask(t);
    for (;;) {
        s1 = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1) {
            if (!revtab_backoff(&spins, &since)) {
                return APR_TIMEUP;
            }
            continue;
        }
        hit = 0;
        idx = revtab_home(key->w, mask);
        for (n = 0; n <= mask; n++, idx = (idx + 1) & mask) {
            aj_shmtab_key_load(k, slots[idx].key);
            if (aj_shmtab_key_empty(k)) {
                break;
            }
            if (aj_shmtab_key_eq(k, key->w)) {
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

apr_status_t aj_revtab_key_revoked(int *revoked, const aj_revtab_t *t,
                                   const aj_revtab_key_t *jti_key, apr_int64_t now)
{
    apr_int64_t exp = 0;
    int found = 0;
    apr_status_t rv = revtab_lookup(&found, &exp, t, jti_key);

    *revoked = rv == APR_SUCCESS ? found && exp > now : 1;
    return rv;
}

apr_status_t aj_revtab_key_value(apr_int64_t *value, const aj_revtab_t *t,
                                 const aj_revtab_key_t *key)
{
    apr_int64_t v = 0;
    int found = 0;
    apr_status_t rv = revtab_lookup(&found, &v, t, key);

    *value = rv == APR_SUCCESS ? (found ? v : 0) : AJ_REVTAB_NEVER;
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
        return 1; /* cannot look it up: fail closed */
    }
    (void)aj_revtab_key_revoked(&revoked, t, &key, now);
    return revoked;
}

apr_int64_t aj_revtab_user_valid_after(const aj_revtab_t *t, apr_uint32_t store, const char *sub)
{
    aj_revtab_key_t key;
    apr_int64_t value = AJ_REVTAB_NEVER;

    if (!t || !sub) {
        return 0;
    }
    if (aj_revtab_user_key(&key, t, store, sub) != APR_SUCCESS) {
        return AJ_REVTAB_NEVER; /* cannot look it up: every token is older */
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

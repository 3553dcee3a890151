/*
 * aj_throttle.h — the login throttle (docs/reference.md §10): failed password checks
 * counted in a fixed-size table laid out in ONE caller-provided memory
 * block (httpd puts it in shared memory, so every child counts together).
 *
 * Two kinds of counter, each keyed by 16 bytes of SHA-256 over a kind byte,
 * the store id (docs/reference.md §9: counters of one store never throttle another), the
 * client address and, for the first kind, the username:
 *   (store, username, address)  limit ATTEMPTS
 *   (store, address)            limit 10 * ATTEMPTS (password spraying)
 * A counter counts within a fixed window of SECONDS from its first failure;
 * once it reaches its limit, checks it covers are refused until the window
 * ends.  A successful check clears its (username, address) counter.
 *
 * Readers never lock and never wait for long: every slot carries its own
 * version (odd while a writer changes it), so no global sequence is needed
 * and a write to one slot never delays readers of another.  Writers must be
 * serialized by the caller (httpd: a global mutex).
 *
 * The table never grows and never refuses a failure: a counter goes to its
 * key's slot, else to an empty, expired or cleared slot within a short probe
 * window, else it replaces the counter with the oldest window there.  The
 * trade-off: an attacker with very many addresses can push older counters
 * out (resetting them) by filling a probe window with newer ones, which
 * costs them at least one failed check per slot; they can never make the
 * table full, refuse a check, or lock anyone out for longer than SECONDS.
 */
#ifndef AJ_THROTTLE_H
#define AJ_THROTTLE_H

#include "aj.h"

/* docs/reference.md §10: the per-address limit is this many times ATTEMPTS. */
#define AJ_THROTTLE_ADDR_FACTOR 10
/* Longest client address text keyed (an IPv6 address with a zone id fits). */
#define AJ_THROTTLE_ADDR_MAX    128

typedef struct aj_throttle_t aj_throttle_t;

/* A counter's key: the first 16 bytes of its digest, as two words. */
typedef struct {
    apr_uint64_t w[2];
} aj_throttle_key_t;

/* The two counters one password check touches, computed once per check. */
typedef struct {
    aj_throttle_key_t user; /* (store, username, address) */
    aj_throttle_key_t addr; /* (store, address) */
} aj_throttle_keys_t;

/* The limits in force (they may differ between directories; the counters
 * are the same). */
typedef struct {
    apr_uint32_t attempts; /* ATTEMPTS, >= 1 */
    apr_int64_t seconds;   /* SECONDS, >= 1 */
} aj_throttle_policy_t;

/* What a check found. */
typedef struct {
    apr_int64_t retry_after; /* > 0: refused for this many more seconds */
    apr_uint32_t user_count; /* failures of (username, address) in its window */
    apr_uint32_t addr_count; /* failures of the address in its window */
} aj_throttle_state_t;

/* aj_throttle_fail: which counter just reached its limit (bits). */
#define AJ_THROTTLE_REACHED_USER 1u
#define AJ_THROTTLE_REACHED_ADDR 2u

/* Bytes needed for a table of `capacity` slots (rounded up to a power of
 * two, at least 64). */
apr_size_t aj_throttle_size(apr_uint32_t capacity);

/* Formats mem (size bytes, from aj_throttle_size) as an empty table; NULL
 * when mem is NULL, misaligned or too small. */
aj_throttle_t *aj_throttle_format(void *mem, apr_size_t size, apr_uint32_t capacity);

/* The keys of a check: store id, client address (at most
 * AJ_THROTTLE_ADDR_MAX bytes, else APR_EINVAL) and username (any length). */
apr_status_t aj_throttle_keys(aj_throttle_keys_t *keys, const aj_store_id_t *store,
                              const char *addr, const char *username);

/* ---- reader (lock-free) -------------------------------------------------- */

/* The counters of keys at now under policy.  A slot that stays mid-write
 * (its writer died) is read as "no counter" for this call: the throttle
 * fails open for that key until the next failure in its probe window
 * repairs the slot (see aj_throttle.c). */
void aj_throttle_check(aj_throttle_state_t *state, const aj_throttle_t *t,
                       const aj_throttle_keys_t *keys, const aj_throttle_policy_t *policy,
                       apr_int64_t now);

/* ---- writers (serialized by the caller) ---------------------------------- */

/* Counts one failed check against both counters (a counter whose window
 * ended starts a new one at now).  Returns the AJ_THROTTLE_REACHED_* bits
 * of the counters that reached their limit with this very failure, so the
 * caller logs the event once. */
unsigned aj_throttle_fail(aj_throttle_t *t, const aj_throttle_keys_t *keys,
                          const aj_throttle_policy_t *policy, apr_int64_t now);

/* A successful check: forgets the (username, address) counter (the
 * per-address counter stays: a sprayer who knows one password must not
 * reset the count of the others). */
void aj_throttle_clear(aj_throttle_t *t, const aj_throttle_keys_t *keys);

/* Occupied slots (counters, expired ones included; diagnostics, tests). */
apr_uint32_t aj_throttle_count(const aj_throttle_t *t);

#endif /* AJ_THROTTLE_H */

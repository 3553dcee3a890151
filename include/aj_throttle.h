/*
 * aj_throttle.h — the login throttle (docs/reference.md §10): failed password checks
 * counted in a fixed-size table laid out in ONE caller-provided memory
 * block (httpd puts it in shared memory, so every child counts together).
 *
 * Two kinds of counter, each keyed by 16 bytes of SHA-256 over a secret,
 * a kind byte, the store id (docs/reference.md §9: counters of one store
 * never throttle another), the client address and, for the first kind, the
 * username:
 *   (store, username, address)  limit ATTEMPTS
 *   (store, address)            limit 10 * ATTEMPTS (password spraying)
 * A counter counts within a fixed window of SECONDS from its first failure;
 * once it reaches its limit, checks it covers are refused until the window
 * ends.  A successful check clears its (username, address) counter.
 *
 * The secret (aj_throttle_secret_make, drawn at each start) makes a key's
 * slot unpredictable: without it, a client could compute offline which
 * usernames land next to its own per-address counter and push that counter
 * out with them.
 *
 * Reserve, then check.  A password check takes its attempt before bcrypt
 * runs (aj_throttle_reserve: both counts re-checked and raised at once,
 * under the caller's lock), so N checks in flight together count N: a
 * burst of parallel requests gets no more than the limit through to bcrypt.
 * A check that then succeeds gives its reservation back
 * (aj_throttle_release); one that fails has been counted already.
 *
 * Readers never lock and never wait for long: every slot carries its own
 * version (odd while a writer changes it), so no global sequence is needed
 * and a write to one slot never delays readers of another.  Writers must be
 * serialized by the caller (httpd: a global mutex).
 *
 * The table never grows.  A new counter goes to an empty, expired or
 * cleared slot within a short probe window, else it replaces the counter
 * with the oldest window there that is still below its limit -- never one
 * that refuses checks now, and never the per-address counter of the same
 * address.  When every slot of the window holds a counter at its limit, the
 * new counter is not recorded: that one key goes uncounted (fails open)
 * until a slot of its window frees, rather than refusing a key that never
 * failed (which would let anyone who fills a window lock out others).
 * Filling a window takes at least ATTEMPTS failed checks per slot, from
 * many addresses (each address gets only 10 * ATTEMPTS), and with the
 * secret nobody can aim at a given window.
 */
#ifndef AJ_THROTTLE_H
#define AJ_THROTTLE_H

#include "aj.h"

/* docs/reference.md §10: the per-address limit is this many times ATTEMPTS. */
#define AJ_THROTTLE_ADDR_FACTOR   10
/* Longest client address text keyed (an IPv6 address with a zone id fits). */
#define AJ_THROTTLE_ADDR_MAX      128

typedef struct aj_throttle_t aj_throttle_t;

/* Bytes of the secret mixed into every key (drawn at each start). */
#define AJ_THROTTLE_SECRET_LEN    32

typedef struct {
    unsigned char b[AJ_THROTTLE_SECRET_LEN];
} aj_throttle_secret_t;

/* A counter's key: the first 16 bytes of its digest, as two words (the top
 * bit of the second word tells the kind). */
typedef struct {
    apr_uint64_t w[2];
} aj_throttle_key_t;

/* The two counters one password check touches, computed once per check. */
typedef struct {
    aj_throttle_key_t user;     /* (store, username, address) */
    aj_throttle_key_t addr;     /* (store, address) */
} aj_throttle_keys_t;

/* The limits in force (they may differ between directories; the counters
 * are the same). */
typedef struct {
    apr_uint32_t attempts;      /* ATTEMPTS, >= 1 */
    apr_int64_t seconds;        /* SECONDS, >= 1 */
} aj_throttle_policy_t;

/* What a check found. */
typedef struct {
    apr_int64_t retry_after;    /* > 0: refused for this many more seconds */
    apr_uint32_t user_count;    /* failures of (username, address) in its window */
    apr_uint32_t addr_count;    /* failures of the address in its window */
} aj_throttle_state_t;

/* The counters of a check, as bits. */
#define AJ_THROTTLE_USER          1u    /* (username, address) */
#define AJ_THROTTLE_ADDR          2u    /* address */

/* What a reservation did. */
typedef struct {
    apr_int64_t retry_after;    /* > 0: refused (a count is at its limit);
                                 * nothing was counted */
    apr_int64_t addr_start;     /* the window the address count was raised in */
    unsigned counted;           /* AJ_THROTTLE_* counters raised by one */
    unsigned reached;           /* AJ_THROTTLE_* counters it brought to their limit */
} aj_throttle_reservation_t;

/* Bytes needed for a table of `capacity` slots (rounded up to a power of
 * two, at least 64). */
apr_size_t aj_throttle_size(apr_uint32_t capacity);

/* Formats mem (size bytes, from aj_throttle_size) as an empty table; NULL
 * when mem is NULL, misaligned or too small. */
aj_throttle_t *aj_throttle_format(void *mem, apr_size_t size, apr_uint32_t capacity);

/* A fresh random secret for the keys (APR_EGENERAL without randomness).
 * Every process that uses one table must use the same secret. */
apr_status_t aj_throttle_secret_make(aj_throttle_secret_t *secret);
/* Overwrites the secret (OPENSSL_cleanse). */
void aj_throttle_secret_wipe(aj_throttle_secret_t *secret);

/* The keys of a check: the table's secret, store id, client address (at
 * most AJ_THROTTLE_ADDR_MAX bytes, else APR_EINVAL) and username (any
 * length). */
apr_status_t aj_throttle_keys(aj_throttle_keys_t *keys, const aj_throttle_secret_t *secret,
                              const aj_store_id_t *store, const char *addr,
                              const char *username);

/* ---- reader (lock-free) -------------------------------------------------- */

/* The counters of keys at now under policy.  A slot that stays mid-write
 * (its writer died) is read as "no counter" for this call: the throttle
 * fails open for that key until the next failure in its probe window
 * repairs the slot (see aj_throttle.c). */
void aj_throttle_check(aj_throttle_state_t *state, const aj_throttle_t *t,
                       const aj_throttle_keys_t *keys, const aj_throttle_policy_t *policy,
                       apr_int64_t now);

/* ---- writers (serialized by the caller) ---------------------------------- */

/* Before a password check runs: re-reads both counts and, when both are
 * below their limits, raises both by one at once (a failure counted in
 * advance; a counter whose window ended starts a new one at now).  Else
 * res->retry_after > 0 and nothing changes.  res->reached tells which
 * counters this reservation brought to their limit, so the caller logs
 * that once, when the check turns out to have failed.  A counter that finds
 * no slot it may take (see the top of this file) is left out of
 * res->counted. */
void aj_throttle_reserve(aj_throttle_reservation_t *res, aj_throttle_t *t,
                         const aj_throttle_keys_t *keys, const aj_throttle_policy_t *policy,
                         apr_int64_t now);

/* The reserved check succeeded: clears the (username, address) counter and
 * gives the address counter its one back (never below zero, and only while
 * it still counts the window it was raised in). */
void aj_throttle_release(aj_throttle_t *t, const aj_throttle_keys_t *keys,
                         const aj_throttle_reservation_t *res);

/* A successful check that reserved nothing (a cached password): forgets
 * the (username, address) counter (the per-address counter stays: a
 * sprayer who knows one password must not reset the count of the
 * others). */
void aj_throttle_clear(aj_throttle_t *t, const aj_throttle_keys_t *keys);

/* Occupied slots (counters, expired ones included; diagnostics, tests). */
apr_uint32_t aj_throttle_count(const aj_throttle_t *t);

#endif /* AJ_THROTTLE_H */

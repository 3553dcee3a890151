/*
 * aj_revtab.h — the revocation table: a fixed-size open-addressing hash table
 * laid out in ONE caller-provided memory block (httpd puts it in shared
 * memory, so every child and thread sees a revocation at once).
 *
 * Several stores share one table (docs/reference.md §9: each virtual host may have its
 * own database, and user ids of different stores collide).  The stores are
 * fixed when the table is formatted; each has an index (0..nstores-1), its
 * id (aj_store_id_t) is mixed into every key made for it, and it has its
 * own bookkeeping (loaded, overflowed, refresh schedule, watermark).
 *
 * Three kinds of entry, keyed by the first 16 bytes of SHA-256 over a kind
 * byte, the store's id and the string:
 *   jti     -> the token's exp: that token is refused while exp > now;
 *   user    -> tokens_valid_after: the user's tokens with iat < it are
 *              refused (per-user revoke-all);
 *   changed -> when the user's password or stored claims last changed
 *              (cached password checks made before it are void).
 *
 * Readers never lock: a sequence counter (seqlock) tells them to retry when
 * a write overlapped.  Writers must be serialized by the caller (httpd: a
 * global mutex); the table never allocates after aj_revtab_format().  A
 * writer that dies inside a write section (a killed child) cannot make
 * readers spin: a reader that waits longer than AJ_REVTAB_STALL_MS gives up
 * with APR_TIMEUP (its caller asks the database, or refuses), and the next
 * writer finds the section open, empties the table and marks every store
 * unloaded (aj_revtab_recover), so the caller reloads it.
 *
 * Revocations are negative information: an entry that vanished would let a
 * revoked token back in.  So entries are never evicted while they matter:
 * expired jti entries are reused or compacted away, and when the table is
 * truly full a put fails with APR_ENOSPC and the put's store is marked
 * overflowed; from then on a miss is not proof of "not revoked" for that
 * store, and the caller must ask the database (aj_revtab_overflowed()),
 * until a complete reload of the store fits again and the caller clears the
 * mark (aj_revtab_clear_overflowed).
 */
#ifndef AJ_REVTAB_H
#define AJ_REVTAB_H

#include "aj.h"

typedef struct aj_revtab_t aj_revtab_t;

/* An entry's key (see above).  Computing it is the costly part of a look-up
 * (a SHA-256), so a caller that checks the same token again and again can
 * compute its keys once and keep them (the verified-token cache does). */
typedef struct {
    apr_uint64_t w[2];
} aj_revtab_key_t;

/* Most stores one table serves (one per distinct DBDriver + DBDParams). */
#define AJ_REVTAB_MAX_STORES 1024
/* A reader gives up waiting for a write section after this long. */
#define AJ_REVTAB_STALL_MS   200

/* Bytes needed for a table of `capacity` slots (rounded up to a power of
 * two, at least 64) serving nstores stores (at least 1).  Entries are
 * refused beyond 3/4 of the slots. */
apr_size_t aj_revtab_size(apr_uint32_t capacity, apr_uint32_t nstores);

/* Formats mem (size bytes, from aj_revtab_size) as an empty table for the
 * stores ids[0..nstores-1]; NULL when mem is NULL, misaligned or too small,
 * or nstores is 0 or over AJ_REVTAB_MAX_STORES. */
aj_revtab_t *aj_revtab_format(void *mem, apr_size_t size, apr_uint32_t capacity,
                              const aj_store_id_t *ids, apr_uint32_t nstores);

/* The number of stores the table serves. */
apr_uint32_t aj_revtab_stores(const aj_revtab_t *t);

/* ---- keys (store: an index below aj_revtab_stores) --------------------- */

/* The keys of a jti, of a user's revoke-all (sub) and of a user's last
 * change (sub), under the store; APR_EINVAL for NULL or a bad store. */
apr_status_t aj_revtab_jti_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                               const char *jti);
apr_status_t aj_revtab_user_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                                const char *sub);
apr_status_t aj_revtab_changed_key(aj_revtab_key_t *key, const aj_revtab_t *t, apr_uint32_t store,
                                   const char *sub);

/* ---- writers (serialized by the caller) -------------------------------- */

/* A writer calls this first, under its lock: when a previous writer died
 * inside a write section, the table may be torn, so it is emptied and
 * every store marked unloaded (and not overflowed).  Returns 1 then, else 0. */
int aj_revtab_recover(aj_revtab_t *t);

/* Records that token jti of the store is revoked until exp.  Idempotent (a
 * later exp wins).  APR_ENOSPC when full even after dropping expired
 * entries; the store is then marked overflowed, as it is when the entry's
 * digest cannot be computed (any failure leaves the entry out). */
apr_status_t aj_revtab_put_jti(aj_revtab_t *t, apr_uint32_t store, const char *jti, apr_int64_t exp,
                               apr_int64_t now);

/* Records the user's tokens_valid_after (a later value wins; 0 ignored). */
apr_status_t aj_revtab_put_user(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                apr_int64_t valid_after, apr_int64_t now);

/* Records when the user's password or claims last changed (a later value
 * wins; 0 ignored). */
apr_status_t aj_revtab_put_changed(aj_revtab_t *t, apr_uint32_t store, const char *sub,
                                   apr_int64_t changed_at, apr_int64_t now);

/* Empties the table; every store unloaded and not overflowed. */
void aj_revtab_clear(aj_revtab_t *t);

/* ---- readers (lock-free) ----------------------------------------------- */

/* *revoked: 1 when the jti key is recorded with exp > now.  APR_SUCCESS, or
 * APR_TIMEUP when a write section stayed open past AJ_REVTAB_STALL_MS (the
 * table cannot answer; *revoked is then 1), APR_EINVAL for NULL. */
apr_status_t aj_revtab_key_revoked(int *revoked, const aj_revtab_t *t,
                                   const aj_revtab_key_t *jti_key, apr_int64_t now);

/* *value: the recorded value of a user or changed key, 0 when none.
 * APR_SUCCESS, or APR_TIMEUP as above (*value is then APR_INT64_MAX). */
apr_status_t aj_revtab_key_value(apr_int64_t *value, const aj_revtab_t *t,
                                 const aj_revtab_key_t *key);

/* Conveniences by string (tests, rare paths): they fail closed (revoked;
 * APR_INT64_MAX) when the key cannot be made or the table cannot answer. */
int aj_revtab_jti_revoked(const aj_revtab_t *t, apr_uint32_t store, const char *jti,
                          apr_int64_t now);
apr_int64_t aj_revtab_user_valid_after(const aj_revtab_t *t, apr_uint32_t store, const char *sub);

/* Number of occupied slots over all stores, expired jti entries not yet
 * reused included (diagnostics, tests). */
apr_uint32_t aj_revtab_count(const aj_revtab_t *t);

/* Entries the table takes in all (3/4 of its slots). */
apr_uint32_t aj_revtab_capacity(const aj_revtab_t *t);

/* ---- per-store bookkeeping, shared by all processes (atomic) ----------- */

/* Non-zero after a put of the store failed for lack of room, until cleared
 * (after a complete reload of the store that fit) or aj_revtab_clear. */
int aj_revtab_overflowed(const aj_revtab_t *t, apr_uint32_t store);
void aj_revtab_clear_overflowed(aj_revtab_t *t, apr_uint32_t store);

/* Set once the table holds the store's state from its database; readers
 * refuse to trust a store that is not loaded. */
int aj_revtab_loaded(const aj_revtab_t *t, apr_uint32_t store);
void aj_revtab_set_loaded(aj_revtab_t *t, apr_uint32_t store, int loaded);

/* Seconds: when the store's next refresh from its database is due, and the
 * revoked_at watermark of its last one. */
apr_int64_t aj_revtab_next_refresh(const aj_revtab_t *t, apr_uint32_t store);
void aj_revtab_set_next_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when);
/* Claims the store's refresh due at `due` for the caller: 1 for exactly one
 * caller (compare-and-swap of next_refresh from due to until). */
int aj_revtab_claim_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t due, apr_int64_t until);
apr_int64_t aj_revtab_watermark(const aj_revtab_t *t, apr_uint32_t store);
void aj_revtab_set_watermark(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when);
/* When the caller last tried to clear the store's overflow by a complete
 * reload (writer side; bounds how often it tries). */
apr_int64_t aj_revtab_last_recovery(const aj_revtab_t *t, apr_uint32_t store);
void aj_revtab_set_last_recovery(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when);

#endif /* AJ_REVTAB_H */

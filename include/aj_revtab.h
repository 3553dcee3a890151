/*
 * aj_revtab.h — the revocation table: a fixed-size open-addressing hash table
 * laid out in ONE caller-provided memory block (httpd puts it in shared
 * memory, so every child and thread sees a revocation at once).
 *
 * Two kinds of entry, keyed by the first 16 bytes of SHA-256 over a kind
 * byte and the string:
 *   jti  -> the token's exp: that token is refused while exp > now;
 *   user -> tokens_valid_after: the user's tokens with iat < it are refused
 *           (per-user revoke-all).
 *
 * Readers never lock: a sequence counter (seqlock) tells them to retry when
 * a write overlapped.  Writers must be serialized by the caller (httpd: a
 * global mutex); the table never allocates after aj_revtab_format().
 *
 * Revocations are negative information: an entry that vanished would let a
 * revoked token back in.  So entries are never evicted while they matter:
 * expired jti entries are reused or compacted away, and when the table is
 * truly full a put fails with APR_ENOSPC and the table is marked
 * overflowed; from then on a miss is not proof of "not revoked", and the
 * caller must ask the database (aj_revtab_overflowed()).
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

/* Bytes needed for a table of `capacity` slots (rounded up to a power of
 * two, at least 64).  Entries are refused beyond 3/4 of the slots. */
apr_size_t aj_revtab_size(apr_uint32_t capacity);

/* Formats mem (size bytes, from aj_revtab_size) as an empty table; NULL
 * when mem is NULL, misaligned or too small. */
aj_revtab_t *aj_revtab_format(void *mem, apr_size_t size, apr_uint32_t capacity);

/* ---- writers (serialized by the caller) -------------------------------- */

/* Records that token jti is revoked until exp.  Idempotent (a later exp
 * wins).  APR_ENOSPC when full even after dropping expired entries. */
apr_status_t aj_revtab_put_jti(aj_revtab_t *t, const char *jti, apr_int64_t exp,
                               apr_int64_t now);

/* Records the user's tokens_valid_after (a later value wins; 0 ignored). */
apr_status_t aj_revtab_put_user(aj_revtab_t *t, const char *sub, apr_int64_t valid_after,
                                apr_int64_t now);

/* Empties the table and clears the overflow mark and the loaded flag. */
void aj_revtab_clear(aj_revtab_t *t);

/* ---- readers (lock-free) ----------------------------------------------- */

/* 1 when jti is recorded with exp > now. */
int aj_revtab_jti_revoked(const aj_revtab_t *t, const char *jti, apr_int64_t now);

/* The user's recorded tokens_valid_after, 0 when none. */
apr_int64_t aj_revtab_user_valid_after(const aj_revtab_t *t, const char *sub);

/* The keys of a jti and of a user (sub); APR_EINVAL for NULL. */
apr_status_t aj_revtab_jti_key(aj_revtab_key_t *key, const char *jti);
apr_status_t aj_revtab_user_key(aj_revtab_key_t *key, const char *sub);

/* aj_revtab_jti_revoked and aj_revtab_user_valid_after by key. */
int aj_revtab_key_revoked(const aj_revtab_t *t, const aj_revtab_key_t *jti_key,
                          apr_int64_t now);
apr_int64_t aj_revtab_key_valid_after(const aj_revtab_t *t, const aj_revtab_key_t *user_key);

/* Non-zero after a put failed for lack of room (until aj_revtab_clear). */
int aj_revtab_overflowed(const aj_revtab_t *t);

/* Number of occupied slots, expired jti entries not yet reused included
 * (diagnostics, tests). */
apr_uint32_t aj_revtab_count(const aj_revtab_t *t);

/* ---- refresh bookkeeping, shared by all processes (atomic) ------------- */

/* Set once the table holds the database's state; readers refuse to trust
 * an unloaded table. */
int aj_revtab_loaded(const aj_revtab_t *t);
void aj_revtab_set_loaded(aj_revtab_t *t, int loaded);

/* Seconds: when the next refresh from the database is due, and the
 * revoked_at watermark of the last one. */
apr_int64_t aj_revtab_next_refresh(const aj_revtab_t *t);
void aj_revtab_set_next_refresh(aj_revtab_t *t, apr_int64_t when);
/* Claims the refresh due at `due` for the caller: 1 for exactly one caller
 * (compare-and-swap of next_refresh from due to until). */
int aj_revtab_claim_refresh(aj_revtab_t *t, apr_int64_t due, apr_int64_t until);
apr_int64_t aj_revtab_watermark(const aj_revtab_t *t);
void aj_revtab_set_watermark(aj_revtab_t *t, apr_int64_t when);

#endif /* AJ_REVTAB_H */

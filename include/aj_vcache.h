/*
 * aj_vcache.h — the verified-token cache (AuthJWTVerifyCache): one per
 * process, shared by its threads.
 *
 * It maps (the key set that verified a token, the token's exact bytes) to
 * what the caller made of that token once verified (opaque bytes; httpd
 * keeps the packed claims and the revocation keys), until the token's exp.
 * A hit lets the caller skip base64url decoding, the header, the signature
 * and the JSON; it still applies the time rules, revocation and Require on
 * every request.  A hit needs the same key set and every byte
 * of the token equal (CRYPTO_memcmp): a tampered token can never hit, and
 * the hash of the token's tail only picks a bucket and filters its slots
 * (a collision costs a compare or a miss, never a false hit).
 *
 * Bounded: a fixed number of slots in set-associative buckets (a new entry
 * takes an empty or expired slot of its bucket, else the least recently
 * used one; see aj_vcache.c), tokens of at most AJ_VCACHE_MAX_TOKEN bytes
 * and data of at most AJ_VCACHE_MAX_DATA bytes, one allocation per entry.
 * Data is copied in and out under one of a set of striped mutexes, so no
 * entry is ever shared with a request.
 */
#ifndef AJ_VCACHE_H
#define AJ_VCACHE_H

#include "aj.h"

/* Longer tokens and data are simply not cached. */
#define AJ_VCACHE_MAX_TOKEN 4096
#define AJ_VCACHE_MAX_DATA  8192

typedef struct aj_vcache_t aj_vcache_t;

/* A cache of `capacity` slots (rounded up to a power of two, at least 16),
 * living as long as p.  NULL when capacity is 0. */
apr_status_t aj_vcache_make(aj_vcache_t **cache, apr_pool_t *p, apr_uint32_t capacity);

/* On a hit (same scope, same token bytes, exp > now) copies the data into
 * p (8-byte aligned) and returns 1.  scope identifies the key set. */
int aj_vcache_get(const void **data, apr_size_t *dlen, aj_vcache_t *cache, apr_pool_t *p,
                  const void *scope, const char *token, apr_size_t len, apr_int64_t now);

/* Stores what a verified token stands for until exp (ignored when too
 * long or expired); the same scope and token again replace their entry. */
void aj_vcache_put(aj_vcache_t *cache, const void *scope, const char *token, apr_size_t len,
                   const void *data, apr_size_t dlen, apr_int64_t exp, apr_int64_t now);

/* Hits and misses so far (diagnostics, tests, the benchmark). */
void aj_vcache_stats(const aj_vcache_t *cache, apr_uint64_t *hits, apr_uint64_t *misses);

#endif /* AJ_VCACHE_H */

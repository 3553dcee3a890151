/*
 * aj_digest.h — SHA-256 without OpenSSL 3's per-call algorithm fetch.
 *
 * EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) looks the algorithm up by name
 * under a lock on every call; on the request path that lookup cost more
 * than the hashing.  The algorithm is fetched once per process (the one
 * process-wide value of the core: set once, then only read), and each
 * thread reuses one digest context.
 */
#ifndef AJ_DIGEST_H
#define AJ_DIGEST_H

#include "aj.h"

#define AJ_SHA256_LEN 32

/* out = SHA-256(a || b); b may be NULL. */
apr_status_t aj_sha256(unsigned char out[AJ_SHA256_LEN], const void *a, apr_size_t alen,
                       const void *b, apr_size_t blen);

/* The id of the store reached with driver and params (either may be "" or
 * NULL: "no store configured" is an id too). */
apr_status_t aj_store_id_make(aj_store_id_t *id, const char *driver, const char *params);

#endif /* AJ_DIGEST_H */

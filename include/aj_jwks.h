/*
 * aj_jwks.h — a JWK Set document (RFC 7517 §5) into a key set, under
 * docs/reference.md §11's rules.  (The other way, the set a key set
 * publishes: aj_keyset_jwks().)
 */
#ifndef AJ_JWKS_H
#define AJ_JWKS_H

#include "aj.h"
#include "aj_keyset.h"

#include <apr_tables.h>
#include <json-c/json.h>

/* A key set from a JWK Set {"keys":[...]}: each JWK as aj_jwk_to_keys; a
 * JWK that fails a rule, and every JWK whose kid another JWK of the set
 * shares, is left out, with a note in *skipped (const char *; may be NULL
 * when the caller does not want them).  APR_EINVAL with *err when set is
 * not a JWK Set, or when its usable keys mix HMAC secrets with public keys
 * (the whole set is refused).  A set with no usable key is returned empty:
 * the caller decides (docs/reference.md §11 counts it as a failed fetch). */
apr_status_t aj_jwk_set_to_keyset(aj_keyset_t **ks, apr_array_header_t **skipped, const char **err,
                                  apr_pool_t *p, json_object *set, int allow_oct);

#endif /* AJ_JWKS_H */

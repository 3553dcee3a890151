/*
 * aj_jwk.h — public keys as JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2), for
 * the auth-jwt-jwks handler and htjwt.
 *
 * Only public members are ever written: RSA {kty,n,e}, EC {kty,crv,x,y},
 * OKP {kty,crv:"Ed25519",x}, plus "kid" (when the key has one), "alg" and
 * "use":"sig".  HMAC keys have no public form and are never exported; no
 * private member (d, p, q, dp, dq, qi, k) is ever produced.
 */
#ifndef AJ_JWK_H
#define AJ_JWK_H

#include "aj.h"
#include "aj_key.h"

#include <apr_tables.h>
#include <json-c/json.h>

/* The JWK Set of a key set without asymmetric keys. */
#define AJ_JWK_SET_EMPTY "{\"keys\":[]}"

/* The JWK of key's public part, a json-c object owned by p.  APR_ENOENT
 * for an HMAC key (nothing public to show); APR_ENOMEM when out of
 * memory; APR_EINVAL when OpenSSL cannot give the public parameters. */
apr_status_t aj_jwk_from_key(json_object **jwk, apr_pool_t *p, const aj_key_t *key);

/* {"keys":[...]} of every asymmetric key of ks, in configuration order,
 * serialized (pool memory). */
apr_status_t aj_jwk_set_json(const char **json, apr_pool_t *p, const aj_keyset_t *ks);

/* Verify-only keys from one JWK, under docs/reference.md §11's JWK rules: kty RSA (at
 * least 2048 bits, public exponent odd and >= 3), EC (P-256/P-384/P-521,
 * x and y of the curve's size, the point on the curve), OKP (Ed25519) and,
 * only when allow_oct, oct (an HMAC secret at least as long as the hash);
 * "use" absent or "sig"; "key_ops", when present, including "verify";
 * "alg", when present, pins the key to exactly that algorithm, else the key
 * type allows its family (RSA: RS* and PS*; EC: its curve's ES*; OKP:
 * EdDSA; oct: the HS* its length allows).  Only public members are read.
 * *keys holds one aj_key_t * per allowed algorithm, all with the JWK's kid.
 * APR_EINVAL with *err (naming the JWK by its kid) when a rule fails. */
apr_status_t aj_jwk_to_keys(apr_array_header_t **keys, const char **err, apr_pool_t *p,
                            json_object *jwk, int allow_oct);

/* A key set from a JWK Set {"keys":[...]}: each JWK as aj_jwk_to_keys; a
 * JWK that fails a rule, and every JWK whose kid another JWK of the set
 * shares, is left out, with a note in *skipped (const char *; may be NULL
 * when the caller does not want them).  APR_EINVAL with *err when set is
 * not a JWK Set, or when its usable keys mix HMAC secrets with public keys
 * (the whole set is refused).  A set with no usable key is returned empty:
 * the caller decides (docs/reference.md §11 counts it as a failed fetch). */
apr_status_t aj_jwk_set_to_keyset(aj_keyset_t **ks, apr_array_header_t **skipped,
                                  const char **err, apr_pool_t *p, json_object *set,
                                  int allow_oct);

#endif /* AJ_JWK_H */

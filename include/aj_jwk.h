/*
 * aj_jwk.h — one key as a JWK and back (RFC 7517, RFC 7518 §6, RFC 8037 §2),
 * for the key set's published JWK Set (aj_keyset.c), the JWK Set import
 * (aj_jwks.c) and tests.
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

/* The JWK of key's public part, a json-c object owned by p.  APR_ENOENT
 * for an HMAC key (nothing public to show); APR_ENOMEM when out of
 * memory; APR_EINVAL when OpenSSL cannot give the public parameters. */
apr_status_t aj_jwk_from_key(json_object **jwk, apr_pool_t *p, const aj_key_t *key);
/* The same JWK serialized (pool memory), as aj_json_dump() writes it. */
apr_status_t aj_jwk_text(const char **json, apr_pool_t *p, const aj_key_t *key);

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

/* The longest part of a JWK's kid (or of another member) that a message
 * quotes. */
#define AJ_JWK_NAME_MAX 64

/* The JWK's "kid" when it is a string, else NULL (valid while jwk is). */
const char *aj_jwk_kid(json_object *jwk);

#endif /* AJ_JWK_H */

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

#endif /* AJ_JWK_H */

/*
 * aj_key.h — keys and key sets.
 *
 * A key carries its algorithm; a token is only ever verified with a key whose
 * algorithm equals the token's alg exactly (RFC 8725 §3.1).  Keys are parsed
 * once (at startup) and then shared read-only by every thread.
 *
 * Algorithms (RFC 7518 §3, RFC 8037): HS256/384/512 (a raw secret),
 * RS256/384/512 and PS256/384/512 (RSA of at least 2048 bits; PSS with
 * MGF1 over the same hash and a salt as long as the hash), ES256/384/512
 * (P-256/P-384/P-521, signatures in JOSE raw R||S form) and EdDSA (Ed25519
 * only), all through OpenSSL 3 EVP.
 */
#ifndef AJ_KEY_H
#define AJ_KEY_H

#include "aj.h"

typedef enum {
    AJ_ALG_UNKNOWN = 0,
    AJ_ALG_HS256, AJ_ALG_HS384, AJ_ALG_HS512,
    AJ_ALG_RS256, AJ_ALG_RS384, AJ_ALG_RS512,
    AJ_ALG_PS256, AJ_ALG_PS384, AJ_ALG_PS512,
    AJ_ALG_ES256, AJ_ALG_ES384, AJ_ALG_ES512,
    AJ_ALG_EDDSA,
    AJ_ALG_COUNT
} aj_alg_e;

/* Exact, case-sensitive JOSE name ("HS256" ...); AJ_ALG_UNKNOWN otherwise
 * ("none", "None", "hs256" are all unknown). */
aj_alg_e aj_alg_from_name(const char *name, apr_size_t len);
const char *aj_alg_name(aj_alg_e alg);
int aj_alg_is_hmac(aj_alg_e alg);
/* HMAC output size in bytes, also the minimum secret length (RFC 7518 §3.2). */
apr_size_t aj_alg_hmac_len(aj_alg_e alg);
/* Non-zero when this build can sign/verify alg (every known one). */
int aj_alg_supported(aj_alg_e alg);

typedef struct aj_key_t aj_key_t;

/* An HMAC key from raw secret bytes (copied).  APR_EINVAL with *err set
 * when the alg is not HMAC or the secret is shorter than the hash output. */
apr_status_t aj_key_hmac_make(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              const unsigned char *secret, apr_size_t len, const char *kid);

/* A key from a configuration SOURCE: "file:PATH" (raw HMAC secret, one
 * trailing newline stripped; or a PEM file for asymmetric algs) or "env:VAR"
 * (HMAC secret).  For an asymmetric alg, for_signing asks for a PEM private
 * key (whose public half also verifies); otherwise a PEM public key, an
 * X.509 certificate (PEM) or a private key is taken, and the key only
 * verifies.  The key type must fit alg (RSA >= 2048 bits for RS and PS, the
 * curve of ES256/384/512, Ed25519 for EdDSA).  *err says what is wrong,
 * naming the source and what was expected, never secret material. */
apr_status_t aj_key_load(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                         const char *source, int for_signing, const char *kid);

/* docs/reference.md §10/§11 rules every asymmetric key passes, whatever its source
 * (PEM private key, public key, certificate, JWK): RSA of at least 2048
 * bits with an odd public exponent >= 3; EC on exactly the alg's curve with
 * a public point that is a valid point of it; Ed25519 for EdDSA.  An HMAC
 * secret from file: or env: that contains a PEM block ("-----BEGIN") is
 * refused (the RS256/HS256 confusion). */

/* A verify-only key for the asymmetric alg from an OpenSSL key (the JWK
 * import, aj_jwk.c), checked by the rules above.  The key takes a
 * reference of its own: the caller still frees pkey.  what names the
 * source in *err. */
struct evp_pkey_st;
apr_status_t aj_key_from_pkey(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              struct evp_pkey_st *pkey, const char *what, const char *kid);

aj_alg_e aj_key_alg(const aj_key_t *key);
const char *aj_key_kid(const aj_key_t *key);      /* NULL when none */
/* docs/reference.md §10: a warning about how the key was loaded, naming its file, or
 * NULL: an HMAC secret or a private key read from a file that its group or
 * others may read.  Not an error; the caller shows it (the module logs it
 * at startup, htjwt prints it). */
const char *aj_key_warning(const aj_key_t *key);
int aj_key_can_sign(const aj_key_t *key);

/* The OpenSSL key of an asymmetric key (NULL for HMAC), read-only, for the
 * JWK export (aj_jwk.c).  Declared without OpenSSL's headers. */
const struct evp_pkey_st *aj_key_pkey(const aj_key_t *key);

/* The algorithm operations, for aj_jws.c.  The signing input is data[0..len);
 * the signature is in JOSE form (RFC 7518 §3).  aj_key_sign: *sig is pool
 * memory; APR_EINVAL when the key cannot sign, APR_ENOTIMPL when this build
 * cannot use its algorithm.  aj_key_verify: *match is non-zero when sig is
 * a valid signature by key (compared in constant time); an error status
 * only when the check could not run. */
apr_status_t aj_key_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                         const aj_key_t *key, const unsigned char *data, apr_size_t len);
apr_status_t aj_key_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                           const unsigned char *data, apr_size_t len,
                           const unsigned char *sig, apr_size_t siglen);

/* ECDSA signature forms (RFC 7518 §3.4).  JOSE carries R||S, each exactly
 * the curve's size (32/48/66 bytes: 64/96/132 in all); OpenSSL speaks DER.
 * aj_ecdsa_raw_to_der refuses (APR_EINVAL) a raw signature of the wrong
 * length, or with r or s equal to 0 or not below the group order (the
 * CVE-2022-21449 class), before converting anything.  alg is ES256/384/512.
 * aj_key_verify() does the same with the order it cached at load time. */
apr_status_t aj_ecdsa_raw_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *raw, apr_size_t rawlen);
apr_status_t aj_ecdsa_der_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *der, apr_size_t derlen);

/* An ordered set: the first signing key signs; verification picks by kid
 * when the token has one, else every key of the token's exact alg. */
typedef struct aj_keyset_t aj_keyset_t;

aj_keyset_t *aj_keyset_make(apr_pool_t *p);
void aj_keyset_add(aj_keyset_t *ks, const aj_key_t *key);
/* The kid rule of one section's set (docs/reference.md §10), checked before adding key
 * to ks: APR_EINVAL with *err when key's kid is already used in ks (every
 * kid names exactly one key; a kid naming keys of different kinds, such as
 * an HMAC secret and an EC key, gets its own message).  Keys without kid
 * are always admitted. */
apr_status_t aj_keyset_check_kid(const char **err, apr_pool_t *p, const aj_keyset_t *ks,
                                 const aj_key_t *key);
int aj_keyset_count(const aj_keyset_t *ks);
const aj_key_t *aj_keyset_get(const aj_keyset_t *ks, int i);
const aj_key_t *aj_keyset_signing_key(const aj_keyset_t *ks);   /* NULL when none */
/* The RFC 7517 JWK Set of the set's public keys (aj_jwk.h), built when keys
 * are added (configuration time), so serving it costs no crypto: never
 * NULL for a set, "{"keys":[]}" when it holds no asymmetric key; NULL only
 * when building it ran out of memory. */
const char *aj_keyset_jwks(const aj_keyset_t *ks);

/* Room for what verification learns about a set at run time (aj_jws keeps
 * the JOSE headers of tokens that verified there): AJ_KEYSET_MEMO_SLOTS
 * pointers, each NULL until published once with an atomic compare-and-swap
 * of a malloc'd block, which is freed with the set's pool.  Per process. */
#define AJ_KEYSET_MEMO_SLOTS 8
void **aj_keyset_memo(const aj_keyset_t *ks);

#endif /* AJ_KEY_H */

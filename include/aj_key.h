/*
 * aj_key.h — one key: loaded, checked, then only read.
 *
 * A key carries its algorithm; a token is only ever verified with a key whose
 * algorithm equals the token's alg exactly (RFC 8725 §3.1).  Keys are parsed
 * once (at startup) and then shared read-only by every thread.  Signing and
 * verifying: aj_sign.h; sets of keys: aj_keyset.h.
 */
#ifndef AJ_KEY_H
#define AJ_KEY_H

#include "aj.h"
#include "aj_alg.h"

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
const char *aj_key_kid(const aj_key_t *key); /* NULL when none */
/* docs/reference.md §10: a warning about how the key was loaded, naming its file, or
 * NULL: an HMAC secret or a private key read from a file that its group or
 * others may read.  Not an error; the caller shows it (the module logs it
 * at startup, htjwt prints it). */
const char *aj_key_warning(const aj_key_t *key);
int aj_key_can_sign(const aj_key_t *key);

/* ---- what signing (aj_sign.c) and the JWK export (aj_jwk.c) read ----------
 * Declared without OpenSSL's headers. */

/* The OpenSSL key of an asymmetric key (NULL for HMAC).  Not const because
 * OpenSSL's EVP calls take it so; nobody changes it after loading. */
struct evp_pkey_st *aj_key_pkey(const aj_key_t *key);
/* ES keys: their curve's group order, big-endian, as many bytes as the
 * curve's coordinates (aj_alg_info()->ec_coord); cached at load time so a
 * verification never builds the group.  NULL for other keys. */
const unsigned char *aj_key_ec_order(const aj_key_t *key);
/* HMAC keys: a context keyed once with the secret and the digest, to be
 * duplicated per use (never updated itself); NULL for other keys. */
struct evp_mac_ctx_st;
const struct evp_mac_ctx_st *aj_key_hmac_ctx(const aj_key_t *key);
/* A number unique among the keys of this process (never 0), so a
 * per-thread cache of contexts (aj_sign.c) never mistakes a key made at the
 * address of a freed one for it. */
apr_uint64_t aj_key_serial(const aj_key_t *key);

#endif /* AJ_KEY_H */

/*
 * aj_key_check.h — the rules a key must pass before it is used, whatever
 * its source (docs/reference.md §10, §11).
 *
 * An asymmetric key must fit its algorithm: RSA of at least 2048 bits
 * with an odd public exponent >= 3 and no ROCA fingerprint for RS and PS;
 * EC on exactly the alg's curve, its public point a valid point of it, for
 * ES; Ed25519 for EdDSA.  An HMAC secret must not hold a PEM block (the
 * RS256/HS256 confusion).  aj_key.c applies them to every key it makes;
 * the checks only read and build nothing, so they are tested alone.
 *
 * Each returns NULL when the key passes, else the reason, naming the key
 * by `what` ("key file /etc/...") and saying what was expected; never
 * secret material.  Declared without OpenSSL's headers.
 */
#ifndef AJ_KEY_CHECK_H
#define AJ_KEY_CHECK_H

#include "aj.h"
#include "aj_alg.h"

/* pkey for info's asymmetric algorithm: its type, size, curve, RSA public
 * exponent and modulus, EC point.  Any other kty (HMAC) is refused. */
struct evp_pkey_st;
const char *aj_key_check_pkey(apr_pool_t *p, const aj_alg_info_t *info,
                              const struct evp_pkey_st *pkey, const char *what);

/* data[0..len), the secret for info's HMAC algorithm: refused when it
 * contains the opening of a PEM block, i.e. a key's PEM text. */
const char *aj_key_check_secret(apr_pool_t *p, const aj_alg_info_t *info, const unsigned char *data,
                                apr_size_t len, const char *what);

#endif /* AJ_KEY_CHECK_H */

/*
 * keys.h — key and token fixtures shared by the unit tests of the key layer
 * (test_key, test_key_asym, test_key_check, test_sign_asym, test_jwk,
 * test_jws, test_jws_parse, test_wycheproof): shared vectors and values,
 * temporary key files, fresh OpenSSL keys and their PEM, hostile RSA keys,
 * key sets, forged tokens and a verify that checks the out-parameter
 * contract.  Every helper fails the running test (cmocka) when its own step
 * fails; everything it makes belongs to the pool (files are removed, keys
 * freed, when it is destroyed).
 */
#ifndef AJ_TEST_KEYS_H
#define AJ_TEST_KEYS_H

#include <openssl/evp.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_jws.h"
#include "aj_key.h"
#include "aj_keyset.h"

/* RFC 7515 A.2's RSA key, public half (n from the RFC, e = 65537), SPKI PEM. */
#define RFC_A2_PUB_PEM \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofgWCuLjybRlzo0tZWJj\n" \
    "NiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEz\n" \
    "P1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo\n" \
    "9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTB\n" \
    "EMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxX\n" \
    "FvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp\n" \
    "oQIDAQAB\n" \
    "-----END PUBLIC KEY-----\n"
/* RFC 7515 A.3's P-256 key, public half (x, y from the RFC), SPKI PEM. */
#define RFC_A3_PUB_PEM \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n" \
    "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n" \
    "-----END PUBLIC KEY-----\n"
/* RFC 8037 A.1's Ed25519 key (d and x) as PKCS#8 PEM. */
#define RFC8037_PRIV_PEM \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n" \
    "-----END PRIVATE KEY-----\n"

/* The time the tests' own tokens are verified at. */
#define AJ_TEST_NOW 1700000000
/* RFC 7515 Appendix A.1's HS256 token (the same token is RFC 7519 §3.1's
 * example); exp 1300819380. */
#define RFC_A1_TOKEN \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" \
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv" \
    "bS9pc19yb290Ijp0cnVlfQ" \
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
/* The tests' own HMAC secret (64 bytes: long enough for HS512), and the
 * header and claims of their tokens (exp an hour after AJ_TEST_NOW). */
#define AJ_TEST_SECRET         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define AJ_TEST_HDR_HS256      "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define AJ_TEST_CLAIMS         "{\"sub\":\"1\",\"name\":\"alice\",\"exp\":1700003600}"
/* RSA key sizes: RFC 7518 §3.3's minimum, and one below it that is refused. */
#define AJ_TEST_RSA_BITS       2048
#define AJ_TEST_RSA_SMALL_BITS 1024

/* ---- files ------------------------------------------------------------- */

/* A fresh temporary file holding data[0..len); its path. */
const char *aj_test_temp_file(apr_pool_t *p, const char *data, apr_size_t len);
/* The key source "file:PATH" of a temporary file holding pem. */
const char *aj_test_pem_file(apr_pool_t *p, const char *pem);

/* ---- keys -------------------------------------------------------------- */

/* A fresh OpenSSL key: "RSA" (bits), "EC" (curve), "ED25519", "ED448", ... */
EVP_PKEY *aj_test_gen_key(apr_pool_t *p, const char *type, const char *curve, int bits);
const char *aj_test_private_pem(apr_pool_t *p, EVP_PKEY *k);
const char *aj_test_public_pem(apr_pool_t *p, EVP_PKEY *k);
/* A self-signed certificate for k. */
const char *aj_test_cert_pem(apr_pool_t *p, EVP_PKEY *k);
/* A certificate for k (which may be a public key only) signed by signer. */
const char *aj_test_cert_pem_by(apr_pool_t *p, EVP_PKEY *k, EVP_PKEY *signer);
/* k freed when p is destroyed; k. */
EVP_PKEY *aj_test_own_pkey(apr_pool_t *p, EVP_PKEY *k);
/* Hostile RSA keys for the load-time checks (docs/reference.md §11), public
 * halves only, owned by p.  The public half of a fresh RSA key of bits with
 * its exponent replaced by e (an RSA "key" OpenSSL will carry but no
 * generator makes). */
EVP_PKEY *aj_test_rsa_with_exponent(apr_pool_t *p, int bits, unsigned long e);
/* A modulus of at least bits bits with the ROCA fingerprint (CVE-2017-15361),
 * built as the weakness builds them: n = k * M + 65537^a mod M, M the
 * product of the primes up to 167 (so n mod p is a power of 65537 for
 * each); e = 65537.  (The published ROCA test moduli are not at hand.) */
EVP_PKEY *aj_test_roca_key(apr_pool_t *p, int bits);
/* What was written to a memory BIO, which is freed. */
const char *aj_test_bio_text(apr_pool_t *p, BIO *bio);

/* The key aj_key_load() makes of pem for alg. */
aj_key_t *aj_test_load(apr_pool_t *p, aj_alg_e alg, const char *pem, int sign, const char *kid);
/* An HMAC key of the first aj_alg_hmac_len(alg) bytes of secret. */
aj_key_t *aj_test_hmac_key(apr_pool_t *p, aj_alg_e alg, const char *secret, const char *kid);
/* A set of k1 and k2 (either may be NULL). */
aj_keyset_t *aj_test_keyset_of(apr_pool_t *p, const aj_key_t *k1, const aj_key_t *k2);

/* ---- tokens ------------------------------------------------------------ */

const char *aj_test_b64(apr_pool_t *p, const char *s);
/* A token with any header, signed with key whatever the header says. */
const char *aj_test_forge(apr_pool_t *p, const aj_key_t *key, const char *hdr, const char *claims);
/* The verdict of aj_jws_verify(), which must reach one, and must set the
 * claims exactly when it is AJ_OK. */
aj_verdict_e aj_test_verify_at(apr_pool_t *p, const char *token, const aj_keyset_t *keys,
                               const aj_policy_t *policy, apr_int64_t now);
/* The same without a policy, at AJ_TEST_NOW. */
aj_verdict_e aj_test_verify(apr_pool_t *p, const char *token, const aj_keyset_t *keys);

#endif /* AJ_TEST_KEYS_H */

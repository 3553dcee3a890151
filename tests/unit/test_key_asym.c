/*
 * test_key_asym.c — loading RS/PS/ES/EdDSA keys: PEM (private key, public
 * key, certificate), every refusal at load time, the rules every source
 * goes through (RSA size, public exponent and ROCA, the alg's EC curve)
 * and the warning on a private key file others may read.  Signing and
 * verifying with them: test_sign_asym.c; the rules called directly:
 * test_key_check.c.
 */
#include <apr_file_io.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "aj_test.h"
#include "aj_key.h"
#include "keys.h"

/* Short names for the shared values of keys.h, as the bodies use them. */
#define T_RSA_BITS       AJ_TEST_RSA_BITS
#define T_RSA_SMALL_BITS AJ_TEST_RSA_SMALL_BITS

/* ---- helpers (the shared ones: tests/unit/support/keys.h) -------------- */

/* The error of loading pem for alg; the load must fail. */
static const char *load_error(apr_pool_t *p, aj_alg_e alg, const char *pem, int sign)
{
    aj_key_t *key = NULL;
    const char *err = NULL;
    const char *src = aj_test_pem_file(p, pem);

    assert_int_not_equal(aj_key_load(&key, &err, p, alg, src, sign, NULL), APR_SUCCESS);
    assert_null(key);
    assert_non_null(err);
    /* The message names the file. */
    assert_non_null(strstr(err, src + strlen("file:")));
    return err;
}

/* ---- load-time refusals ------------------------------------------------- */

static void test_load_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *rsa1024 = aj_test_gen_key(p, "RSA", NULL, T_RSA_SMALL_BITS);
    EVP_PKEY *p256 = aj_test_gen_key(p, "EC", "P-256", 0);
    EVP_PKEY *p384 = aj_test_gen_key(p, "EC", "P-384", 0);
    EVP_PKEY *k1 = aj_test_gen_key(p, "EC", "secp256k1", 0);
    EVP_PKEY *ed = aj_test_gen_key(p, "ED25519", NULL, 0);
    EVP_PKEY *ed448 = aj_test_gen_key(p, "ED448", NULL, 0);
    EVP_PKEY *x25519 = aj_test_gen_key(p, "X25519", NULL, 0);
    const char *err;

    err = load_error(p, AJ_ALG_RS256, aj_test_private_pem(p, rsa1024), 1);
    assert_non_null(strstr(err, "RSA key of 1024 bits"));
    assert_non_null(strstr(err, "RS256 needs an RSA key of at least 2048 bits"));
    err = load_error(p, AJ_ALG_PS512, aj_test_public_pem(p, rsa1024), 0);
    assert_non_null(strstr(err, "1024 bits"));
    err = load_error(p, AJ_ALG_RS256, aj_test_private_pem(p, p256), 1);
    assert_non_null(strstr(err, "EC key on curve P-256"));
    assert_non_null(strstr(err, "RS256 needs an RSA key"));
    err = load_error(p, AJ_ALG_ES256, aj_test_private_pem(p, p384), 1);
    assert_non_null(strstr(err, "EC key on curve P-384, but ES256 needs an EC key on curve "
                                "P-256"));
    err = load_error(p, AJ_ALG_ES384, aj_test_public_pem(p, p256), 0);
    assert_non_null(strstr(err, "ES384 needs an EC key on curve P-384"));
    err = load_error(p, AJ_ALG_ES512, aj_test_public_pem(p, p384), 0);
    assert_non_null(strstr(err, "P-521"));
    err = load_error(p, AJ_ALG_ES256, aj_test_public_pem(p, k1), 0);
    assert_non_null(strstr(err, "secp256k1"));
    err = load_error(p, AJ_ALG_ES256, aj_test_private_pem(p, ed), 1);
    assert_non_null(strstr(err, "an Ed25519 key, but ES256 needs"));
    err = load_error(p, AJ_ALG_EDDSA, aj_test_private_pem(p, p256), 1);
    assert_non_null(strstr(err, "EdDSA needs an Ed25519 key"));
    err = load_error(p, AJ_ALG_EDDSA, aj_test_public_pem(p, ed448), 0);
    assert_non_null(strstr(err, "ED448"));
    err = load_error(p, AJ_ALG_EDDSA, aj_test_public_pem(p, x25519), 0);
    assert_non_null(strstr(err, "X25519"));
    err = load_error(p, AJ_ALG_PS256, aj_test_cert_pem(p, ed), 0);
    assert_non_null(strstr(err, "Ed25519"));

    /* Signing needs the private key. */
    err = load_error(p, AJ_ALG_ES256, aj_test_public_pem(p, p256), 1);
    assert_non_null(strstr(err, "a public key, not a private key"));
    err = load_error(p, AJ_ALG_EDDSA, aj_test_cert_pem(p, ed), 1);
    assert_non_null(strstr(err, "a certificate, not a private key"));

    /* Not a key at all. */
    err = load_error(p, AJ_ALG_RS256,
                     "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
                     "-----END PRIVATE KEY-----\n",
                     1);
    assert_non_null(strstr(err, "no PEM private key"));
    err = load_error(p, AJ_ALG_ES256, "garbage\n", 0);
    assert_non_null(strstr(err, "no PEM public key, certificate or private key"));
    err = load_error(p, AJ_ALG_EDDSA,
                     "-----BEGIN PUBLIC KEY-----\n!!!!\n"
                     "-----END PUBLIC KEY-----\n",
                     0);
    assert_non_null(strstr(err, "EdDSA needs an Ed25519 key"));
    /* An HMAC secret is not a PEM key. */
    err = load_error(p, AJ_ALG_RS512, "0123456789abcdef0123456789abcdef0123456789abcdef", 0);
    assert_non_null(strstr(err, "no PEM"));
    /* An encrypted key is refused without prompting for a passphrase. */
    {
        BIO *bio = BIO_new(BIO_s_mem());
        assert_int_equal(
            PEM_write_bio_PKCS8PrivateKey(bio, p256, EVP_aes_128_cbc(), "pw", 2, NULL, NULL), 1);
        err = load_error(p, AJ_ALG_ES256, aj_test_bio_text(p, bio), 1);
        assert_non_null(strstr(err, "encrypted keys are not supported"));
    }
    /* Empty file. */
    load_error(p, AJ_ALG_ES256, "", 0);
}

/* ---- RSA public exponent, EC point, certificates (docs/reference.md §10, §11) -------- */

static void test_rsa_exponent(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *e1 = aj_test_rsa_with_exponent(p, T_RSA_BITS, 1);
    EVP_PKEY *e2 = aj_test_rsa_with_exponent(p, T_RSA_BITS, 2);
    EVP_PKEY *e3 = aj_test_rsa_with_exponent(p, T_RSA_BITS, 3);
    EVP_PKEY *e65537 = aj_test_rsa_with_exponent(p, T_RSA_BITS, 65537);
    EVP_PKEY *signer = aj_test_gen_key(p, "RSA", NULL, T_RSA_BITS);
    aj_key_t *key = NULL;
    const char *err;

    /* e = 1 (the forgery: a "signature" is the padded hash itself) and an
     * even e are refused as public keys and inside certificates, for RS
     * and PS alike; the message says what and why. */
    err = load_error(p, AJ_ALG_RS256, aj_test_public_pem(p, e1), 0);
    assert_non_null(strstr(err, "public exponent 1"));
    assert_non_null(strstr(err, "odd and at least 3"));
    err = load_error(p, AJ_ALG_PS256, aj_test_public_pem(p, e1), 0);
    assert_non_null(strstr(err, "public exponent 1"));
    err = load_error(p, AJ_ALG_RS512, aj_test_public_pem(p, e2), 0);
    assert_non_null(strstr(err, "public exponent 2"));
    err = load_error(p, AJ_ALG_RS256, aj_test_cert_pem_by(p, e1, signer), 0);
    assert_non_null(strstr(err, "public exponent 1"));
    /* Odd exponents from 3 up are taken. */
    assert_non_null(aj_test_load(p, AJ_ALG_RS256, aj_test_public_pem(p, e3), 0, NULL));
    key = aj_test_load(p, AJ_ALG_PS384, aj_test_public_pem(p, e65537), 0, NULL);
    assert_int_equal(aj_key_alg(key), AJ_ALG_PS384);
    assert_non_null(aj_test_load(p, AJ_ALG_RS256, aj_test_cert_pem_by(p, e65537, signer), 0, NULL));
    /* The same rule through aj_key_from_pkey (the JWK import). */
    key = NULL;
    err = NULL;
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_RS256, e1, "test key", "k"),
                     APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, "public exponent 1"));
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_RS256, e65537, "test key", "k"),
                     APR_SUCCESS);
    assert_string_equal(aj_key_kid(key), "k");
    assert_false(aj_key_can_sign(key));
}

static void test_rsa_size_every_source(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *small = aj_test_gen_key(p, "RSA", NULL, T_RSA_SMALL_BITS);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_non_null(
        strstr(load_error(p, AJ_ALG_RS256, aj_test_private_pem(p, small), 1), "1024 bits"));
    assert_non_null(
        strstr(load_error(p, AJ_ALG_RS256, aj_test_public_pem(p, small), 0), "1024 bits"));
    assert_non_null(
        strstr(load_error(p, AJ_ALG_PS256, aj_test_cert_pem(p, small), 0), "1024 bits"));
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_RS256, small, "test key", NULL),
                     APR_EINVAL);
    assert_null(key);
}

/* A modulus with the ROCA fingerprint (support/keys.c builds one as the
 * weakness builds them) is refused from every source. */
static void test_rsa_roca_fingerprint(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *pkey = aj_test_roca_key(p, T_RSA_BITS);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_true(EVP_PKEY_get_bits(pkey) >= T_RSA_BITS);
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_RS256, pkey, "test key", NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "ROCA"));
    assert_non_null(strstr(load_error(p, AJ_ALG_RS256, aj_test_public_pem(p, pkey), 0), "ROCA"));
    /* An ordinary key passes (the fingerprint is not a false alarm). */
    assert_non_null(aj_test_load(p, AJ_ALG_RS256,
                                 aj_test_public_pem(p, aj_test_gen_key(p, "RSA", NULL, T_RSA_BITS)),
                                 0, NULL));
}

/* EC keys: the alg's curve only, from every source. */
static void test_ec_curve_every_source(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *p256 = aj_test_gen_key(p, "EC", "P-256", 0),
             *p384 = aj_test_gen_key(p, "EC", "P-384", 0);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_non_null(strstr(load_error(p, AJ_ALG_ES384, aj_test_private_pem(p, p256), 1), "P-256"));
    assert_non_null(strstr(load_error(p, AJ_ALG_ES256, aj_test_public_pem(p, p384), 0), "P-384"));
    assert_non_null(strstr(load_error(p, AJ_ALG_ES512, aj_test_cert_pem(p, p256), 0), "P-521"));
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_ES384, p256, "test key", NULL),
                     APR_EINVAL);
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_ES256, p256, "test key", NULL),
                     APR_SUCCESS);
    assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_HS256, p256, "test key", NULL),
                     APR_EINVAL);
}

/* A private key file that its group or others may read is loaded with a
 * warning naming it; a public key file is not secret. */
static void test_private_key_file_mode_warning(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *k = aj_test_gen_key(p, "EC", "P-256", 0);
    const char *priv = aj_test_pem_file(p, aj_test_private_pem(p, k)),
               *pub = aj_test_pem_file(p, aj_test_public_pem(p, k));
    aj_key_t *key = NULL;
    const char *err = NULL;

    /* mkstemp made them 0600: no warning */
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_ES256, priv, 1, NULL), APR_SUCCESS);
    assert_null(aj_key_warning(key));
    assert_int_equal(apr_file_perms_set(priv + strlen("file:"), APR_UREAD | APR_UWRITE | APR_GREAD),
                     APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_ES256, priv, 1, NULL), APR_SUCCESS);
    assert_non_null(aj_key_warning(key));
    assert_non_null(strstr(aj_key_warning(key), priv + strlen("file:")));
    assert_non_null(strstr(aj_key_warning(key), "private key"));
    /* a verify key read from a private key file is still a private key file */
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_ES256, priv, 0, NULL), APR_SUCCESS);
    assert_non_null(aj_key_warning(key));
    assert_int_equal(
        apr_file_perms_set(pub + strlen("file:"), APR_UREAD | APR_UWRITE | APR_GREAD | APR_WREAD),
        APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_ES256, pub, 0, NULL), APR_SUCCESS);
    assert_null(aj_key_warning(key));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_load_refusals),         AJ_TEST(test_rsa_exponent),
    AJ_TEST(test_rsa_size_every_source), AJ_TEST(test_rsa_roca_fingerprint),
    AJ_TEST(test_ec_curve_every_source), AJ_TEST(test_private_key_file_mode_warning),
};

AJ_TEST_MAIN("aj_key_asym", tests)

/*
 * test_key_check.c — aj_key_check.c called directly with hostile keys: RSA
 * exponents 1 and even, a 1024-bit modulus, the ROCA fingerprint, EC public
 * points that are not points of the curve, key types that do not fit the
 * algorithm, and an HMAC secret that is a PEM key.  The same rules through
 * loading (PEM files, certificates, aj_key_from_pkey): test_key_asym.c.
 */
/* The off-curve key below needs OpenSSL's legacy EC_KEY calls: every
 * OpenSSL 3 decoder refuses such a point before a check could see it. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include "aj_test.h"
#include "aj_key.h"
#include "aj_key_check.h"
#include "keys.h"

/* How the checks name the key in their messages. */
#define T_WHAT        "test key"
/* SEC 1 §2.3.3: the one-byte encoding of the point at infinity. */
#define T_EC_INFINITY 0x00

/* ---- helpers (the shared ones: tests/unit/support/keys.h) -------------- */

/* The reason aj_key_check_pkey() gives pkey for alg; there must be one,
 * naming the key. */
static const char *refused(apr_pool_t *p, aj_alg_e alg, EVP_PKEY *pkey)
{
    const char *why = aj_key_check_pkey(p, aj_alg_info(alg), pkey, T_WHAT);

    assert_non_null(why);
    assert_non_null(strstr(why, T_WHAT));
    return why;
}

static void passes(apr_pool_t *p, aj_alg_e alg, EVP_PKEY *pkey)
{
    assert_null(aj_key_check_pkey(p, aj_alg_info(alg), pkey, T_WHAT));
}

/* A P-256 public key whose point is the point at infinity: OpenSSL's
 * import takes the encoding, only a public-key check refuses it. */
static EVP_PKEY *ec_point_at_infinity(apr_pool_t *p)
{
    unsigned char pub[1] = { T_EC_INFINITY };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    OSSL_PARAM params[3];

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
    params[2] = OSSL_PARAM_construct_end();
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    return aj_test_own_pkey(p, k);
}

/* A P-256 public key whose point (1, 1) is off the curve: the legacy
 * projective setter is the one call that does not check the point. */
static EVP_PKEY *ec_point_off_curve(apr_pool_t *p)
{
    EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    const EC_GROUP *group = ec ? EC_KEY_get0_group(ec) : NULL;
    EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
    BIGNUM *one = BN_new();
    EVP_PKEY *k = EVP_PKEY_new();

    assert_non_null(pt);
    assert_non_null(k);
    assert_int_equal(BN_one(one), 1);
    assert_int_equal(EC_POINT_set_Jprojective_coordinates_GFp(group, pt, one, one, one, NULL), 1);
    assert_int_equal(EC_POINT_is_on_curve(group, pt, NULL), 0);
    assert_int_equal(EC_KEY_set_public_key(ec, pt), 1);
    assert_int_equal(EVP_PKEY_set1_EC_KEY(k, ec), 1);
    BN_free(one);
    EC_POINT_free(pt);
    EC_KEY_free(ec);
    return aj_test_own_pkey(p, k);
}

/* ---- RSA -------------------------------------------------------------- */

/* docs/reference.md §11: e = 1 makes the padded hash its own signature;
 * an even e is no RSA key.  Odd exponents from 3 up pass, for RS and PS. */
static void test_rsa_exponent(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *e1 = aj_test_rsa_with_exponent(p, AJ_TEST_RSA_BITS, 1);
    EVP_PKEY *e2 = aj_test_rsa_with_exponent(p, AJ_TEST_RSA_BITS, 2);
    EVP_PKEY *e65536 = aj_test_rsa_with_exponent(p, AJ_TEST_RSA_BITS, 65536);
    const char *why;

    why = refused(p, AJ_ALG_RS256, e1);
    assert_non_null(strstr(why, "public exponent 1"));
    assert_non_null(strstr(why, "odd and at least 3"));
    assert_non_null(strstr(refused(p, AJ_ALG_PS512, e1), "public exponent 1"));
    assert_non_null(strstr(refused(p, AJ_ALG_RS384, e2), "public exponent 2"));
    assert_non_null(strstr(refused(p, AJ_ALG_PS256, e65536), "public exponent 65536"));
    passes(p, AJ_ALG_RS256, aj_test_rsa_with_exponent(p, AJ_TEST_RSA_BITS, 3));
    passes(p, AJ_ALG_PS256, aj_test_rsa_with_exponent(p, AJ_TEST_RSA_BITS, 65537));
}

/* RFC 7518 §3.3/§3.5: 2048 bits at least, whatever the exponent. */
static void test_rsa_size(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *small = aj_test_gen_key(p, "RSA", NULL, AJ_TEST_RSA_SMALL_BITS);
    const char *why = refused(p, AJ_ALG_RS256, small);

    assert_non_null(strstr(why, "an RSA key of 1024 bits, but RS256 needs an RSA key of at "
                                "least 2048 bits"));
    assert_non_null(strstr(refused(p, AJ_ALG_PS384, small), "1024 bits"));
    /* Too small is said first, even with a forgeable exponent too. */
    why = refused(p, AJ_ALG_RS256, aj_test_rsa_with_exponent(p, AJ_TEST_RSA_SMALL_BITS, 1));
    assert_non_null(strstr(why, "1024 bits"));
    assert_null(strstr(why, "exponent"));
    passes(p, AJ_ALG_RS512, aj_test_gen_key(p, "RSA", NULL, AJ_TEST_RSA_BITS));
}

/* CVE-2017-15361: refused however large the modulus. */
static void test_rsa_roca(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *roca = aj_test_roca_key(p, AJ_TEST_RSA_BITS);

    assert_non_null(strstr(refused(p, AJ_ALG_RS256, roca), "ROCA"));
    assert_non_null(strstr(refused(p, AJ_ALG_PS256, roca), "CVE-2017-15361"));
    assert_non_null(
        strstr(refused(p, AJ_ALG_RS256, aj_test_roca_key(p, 2 * AJ_TEST_RSA_BITS)), "ROCA"));
}

/* ---- EC --------------------------------------------------------------- */

/* The public point must be a point of the curve, and the check sees it
 * whatever source made the key (aj_key_from_pkey, the JWK import's way). */
static void test_ec_point(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *hostile[2];
    aj_key_t *key = NULL;
    const char *err = NULL;
    apr_size_t i;

    hostile[0] = ec_point_at_infinity(p);
    hostile[1] = ec_point_off_curve(p);
    for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); ++i) {
        assert_non_null(
            strstr(refused(p, AJ_ALG_ES256, hostile[i]), "not a valid point of its curve"));
        assert_int_equal(aj_key_from_pkey(&key, &err, p, AJ_ALG_ES256, hostile[i], T_WHAT, NULL),
                         APR_EINVAL);
        assert_null(key);
        assert_non_null(strstr(err, "not a valid point of its curve"));
    }
    passes(p, AJ_ALG_ES256, aj_test_gen_key(p, "EC", "P-256", 0));
}

/* Exactly the alg's curve: never another NIST curve, never secp256k1. */
static void test_ec_curve(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *p256 = aj_test_gen_key(p, "EC", "P-256", 0);
    EVP_PKEY *p384 = aj_test_gen_key(p, "EC", "P-384", 0);
    EVP_PKEY *p521 = aj_test_gen_key(p, "EC", "P-521", 0);

    assert_non_null(strstr(refused(p, AJ_ALG_ES256, p384), "an EC key on curve P-384, but "
                                                           "ES256 needs an EC key on curve "
                                                           "P-256"));
    assert_non_null(strstr(refused(p, AJ_ALG_ES512, p256), "P-521"));
    assert_non_null(strstr(refused(p, AJ_ALG_ES384, p521), "P-521"));
    assert_non_null(
        strstr(refused(p, AJ_ALG_ES256, aj_test_gen_key(p, "EC", "secp256k1", 0)), "secp256k1"));
    passes(p, AJ_ALG_ES256, p256);
    passes(p, AJ_ALG_ES384, p384);
    passes(p, AJ_ALG_ES512, p521);
}

/* ---- key type for the algorithm ---------------------------------------- */

static void test_type_for_alg(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *rsa = aj_test_gen_key(p, "RSA", NULL, AJ_TEST_RSA_BITS);
    EVP_PKEY *p256 = aj_test_gen_key(p, "EC", "P-256", 0);
    EVP_PKEY *ed = aj_test_gen_key(p, "ED25519", NULL, 0);

    assert_non_null(strstr(refused(p, AJ_ALG_RS256, p256), "EC key on curve P-256"));
    assert_non_null(strstr(refused(p, AJ_ALG_ES256, rsa), "an RSA key of 2048 bits"));
    assert_non_null(strstr(refused(p, AJ_ALG_ES256, ed), "an Ed25519 key, but ES256 needs"));
    assert_non_null(strstr(refused(p, AJ_ALG_PS256, ed), "Ed25519"));
    assert_non_null(strstr(refused(p, AJ_ALG_EDDSA, rsa), "EdDSA needs an Ed25519 key"));
    assert_non_null(
        strstr(refused(p, AJ_ALG_EDDSA, aj_test_gen_key(p, "ED448", NULL, 0)), "ED448"));
    assert_non_null(
        strstr(refused(p, AJ_ALG_EDDSA, aj_test_gen_key(p, "X25519", NULL, 0)), "X25519"));
    /* No asymmetric key is an HMAC key. */
    refused(p, AJ_ALG_HS256, rsa);
    refused(p, AJ_ALG_HS512, ed);
    passes(p, AJ_ALG_EDDSA, ed);
    passes(p, AJ_ALG_PS512, rsa);
}

/* ---- HMAC secrets ------------------------------------------------------ */

/* docs/reference.md §10: a secret holding a PEM block anywhere is a key's
 * text (the RS256/HS256 confusion); anything else passes. */
static void test_secret_pem(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const aj_alg_info_t *hs256 = aj_alg_info(AJ_ALG_HS256);
    static const char *const pems[] = {
        RFC_A2_PUB_PEM, "xx-----BEGIN", /* at the very end */
        "-----BEGIN",                   /* all of it */
    };
    static const char *const secrets[] = {
        AJ_TEST_SECRET,
        "-----BEGI", /* one byte short */
        "----- BEGIN PUBLIC KEY-----",
        "",
    };
    const char *why;
    apr_size_t i;

    for (i = 0; i < sizeof(pems) / sizeof(pems[0]); ++i) {
        why =
            aj_key_check_secret(p, hs256, (const unsigned char *)pems[i], strlen(pems[i]), T_WHAT);
        assert_non_null(why);
        assert_non_null(strstr(why, T_WHAT " holds a PEM block"));
        assert_non_null(strstr(why, "RS256/HS256 confusion"));
        assert_non_null(strstr(why, "htjwt keygen HS256"));
    }
    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); ++i) {
        assert_null(aj_key_check_secret(p, hs256, (const unsigned char *)secrets[i],
                                        strlen(secrets[i]), T_WHAT));
    }
    /* Only len bytes count. */
    assert_null(aj_key_check_secret(p, hs256, (const unsigned char *)"-----BEGIN", 9, T_WHAT));
    assert_non_null(strstr(aj_key_check_secret(p, aj_alg_info(AJ_ALG_HS512),
                                               (const unsigned char *)RFC_A2_PUB_PEM,
                                               strlen(RFC_A2_PUB_PEM), T_WHAT),
                           "HS512 needs"));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_rsa_exponent), AJ_TEST(test_rsa_size), AJ_TEST(test_rsa_roca),
    AJ_TEST(test_ec_point),     AJ_TEST(test_ec_curve), AJ_TEST(test_type_for_alg),
    AJ_TEST(test_secret_pem),
};

AJ_TEST_MAIN("aj_key_check", tests)

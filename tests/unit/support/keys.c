/*
 * keys.c — the key and token fixtures of keys.h.
 */
#include <apr_file_io.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "aj_test.h"
#include "aj_b64.h"
#include "aj_sign.h"
#include "keys.h"

/* A test certificate is valid for an hour from now. */
#define AJ_TEST_CERT_SECONDS 3600

/* Sentinel: verify must not touch *claims unless the verdict is AJ_OK. */
static aj_claims_t *const untouched = (aj_claims_t *)&untouched;

static apr_status_t remove_file(void *data)
{
    apr_pool_t *tmp = NULL;

    if (apr_pool_create(&tmp, NULL) == APR_SUCCESS) {
        apr_file_remove((const char *)data, tmp);
        apr_pool_destroy(tmp);
    }
    return APR_SUCCESS;
}

const char *aj_test_temp_file(apr_pool_t *p, const char *data, apr_size_t len)
{
    const char *dir = NULL;
    char *path;
    apr_file_t *f = NULL;
    apr_size_t n = len;

    assert_int_equal(apr_temp_dir_get(&dir, p), APR_SUCCESS);
    path = apr_pstrcat(p, dir, "/aj_test_key_XXXXXX", NULL);
    assert_int_equal(
        apr_file_mktemp(&f, path,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    if (len) {
        assert_int_equal(apr_file_write_full(f, data, len, &n), APR_SUCCESS);
    }
    apr_file_close(f);
    apr_pool_cleanup_register(p, path, remove_file, apr_pool_cleanup_null);
    return path;
}

const char *aj_test_pem_file(apr_pool_t *p, const char *pem)
{
    return apr_pstrcat(p, "file:", aj_test_temp_file(p, pem, strlen(pem)), NULL);
}

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

EVP_PKEY *aj_test_own_pkey(apr_pool_t *p, EVP_PKEY *k)
{
    apr_pool_cleanup_register(p, k, pkey_cleanup, apr_pool_cleanup_null);
    return k;
}

EVP_PKEY *aj_test_gen_key(apr_pool_t *p, const char *type, const char *curve, int bits)
{
    EVP_PKEY *k;

    if (!strcmp(type, "RSA")) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    }
    else if (!strcmp(type, "EC")) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    }
    else {
        k = EVP_PKEY_Q_keygen(NULL, NULL, type);
    }
    assert_non_null(k);
    return aj_test_own_pkey(p, k);
}

/* An RSA public key of modulus n and exponent e as they are: OpenSSL's
 * import checks neither, which is what the hostile keys need. */
static EVP_PKEY *rsa_public_key(apr_pool_t *p, const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;

    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_non_null(params);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return aj_test_own_pkey(p, k);
}

EVP_PKEY *aj_test_rsa_with_exponent(apr_pool_t *p, int bits, unsigned long e)
{
    EVP_PKEY *base = aj_test_gen_key(p, "RSA", NULL, bits), *k;
    BIGNUM *n = NULL, *bn_e = BN_new();

    assert_int_equal(EVP_PKEY_get_bn_param(base, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(BN_set_word(bn_e, e), 1);
    k = rsa_public_key(p, n, bn_e);
    BN_free(n);
    BN_free(bn_e);
    return k;
}

/* The primes up to 167 whose product M the ROCA moduli are built over. */
static const unsigned int roca_primes[] = { 3,   5,   7,   11,  13,  17,  19,  23,  29,  31,
                                            37,  41,  43,  47,  53,  59,  61,  67,  71,  73,
                                            79,  83,  89,  97,  101, 103, 107, 109, 113, 127,
                                            131, 137, 139, 149, 151, 157, 163, 167 };
/* The generator of the ROCA residues and the exponent of the keys. */
#define AJ_TEST_ROCA_GENERATOR 65537
/* Any exponent a of the generator: the residue 65537^a mod M. */
#define AJ_TEST_ROCA_POWER     12345

EVP_PKEY *aj_test_roca_key(apr_pool_t *p, int bits)
{
    BN_CTX *bctx = BN_CTX_new();
    BIGNUM *m = BN_new(), *g = BN_new(), *a = BN_new(), *r = BN_new(), *k = BN_new();
    BIGNUM *n = BN_new();
    EVP_PKEY *pkey;
    apr_size_t i;

    assert_int_equal(BN_one(m), 1);
    for (i = 0; i < sizeof(roca_primes) / sizeof(roca_primes[0]); ++i) {
        assert_int_equal(BN_mul_word(m, roca_primes[i]), 1);
    }
    assert_int_equal(BN_set_word(g, AJ_TEST_ROCA_GENERATOR), 1);
    assert_int_equal(BN_set_word(a, AJ_TEST_ROCA_POWER), 1);
    assert_int_equal(BN_mod_exp(r, g, a, m, bctx), 1);
    /* n = k * M + r with k >= 2^(bits - bits(M)) and M >= 2^(bits(M) - 1):
     * n has at least bits bits whatever k is drawn */
    assert_int_equal(BN_rand(k, bits - BN_num_bits(m) + 1, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), 1);
    assert_int_equal(BN_mul(n, k, m, bctx), 1);
    assert_int_equal(BN_add(n, n, r), 1);
    if (!BN_is_odd(n)) {
        /* M is odd, so adding M flips the parity and keeps every residue */
        assert_int_equal(BN_add(n, n, m), 1);
    }
    /* the exponent is the generator, 65537, as in the real keys */
    pkey = rsa_public_key(p, n, g);
    BN_free(m), BN_free(g), BN_free(a), BN_free(r), BN_free(k), BN_free(n);
    BN_CTX_free(bctx);
    return pkey;
}

const char *aj_test_bio_text(apr_pool_t *p, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    const char *s;

    assert_true(n > 0);
    s = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return s;
}

const char *aj_test_private_pem(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());

    assert_non_null(k);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
    return aj_test_bio_text(p, bio);
}

const char *aj_test_public_pem(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());

    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    return aj_test_bio_text(p, bio);
}

const char *aj_test_cert_pem_by(apr_pool_t *p, EVP_PKEY *k, EVP_PKEY *signer)
{
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    X509_NAME *name;
    int ed = EVP_PKEY_is_a(signer, "ED25519"); /* Ed25519 signs without a digest */

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), AJ_TEST_CERT_SECONDS));
    assert_int_equal(X509_set_pubkey(x, k), 1);
    name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"aj-test", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_true(X509_sign(x, signer, ed ? NULL : EVP_sha256()) > 0);
    assert_int_equal(PEM_write_bio_X509(bio, x), 1);
    X509_free(x);
    return aj_test_bio_text(p, bio);
}

const char *aj_test_cert_pem(apr_pool_t *p, EVP_PKEY *k)
{
    return aj_test_cert_pem_by(p, k, k);
}

aj_key_t *aj_test_load(apr_pool_t *p, aj_alg_e alg, const char *pem, int sign, const char *kid)
{
    aj_key_t *key = NULL;
    const char *err = NULL;

    if (aj_key_load(&key, &err, p, alg, aj_test_pem_file(p, pem), sign, kid) != APR_SUCCESS) {
        fail_msg("cannot load a %s key: %s", aj_alg_name(alg), err ? err : "?");
    }
    return key;
}

aj_key_t *aj_test_hmac_key(apr_pool_t *p, aj_alg_e alg, const char *secret, const char *kid)
{
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_int_equal(aj_key_hmac_make(&key, &err, p, alg, (const unsigned char *)secret,
                                      aj_alg_hmac_len(alg), kid),
                     APR_SUCCESS);
    return key;
}

aj_keyset_t *aj_test_keyset_of(apr_pool_t *p, const aj_key_t *k1, const aj_key_t *k2)
{
    aj_keyset_t *ks = aj_keyset_make(p);

    aj_keyset_add(ks, k1);
    aj_keyset_add(ks, k2);
    return ks;
}

const char *aj_test_b64(apr_pool_t *p, const char *s)
{
    return aj_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

const char *aj_test_forge(apr_pool_t *p, const aj_key_t *key, const char *hdr, const char *claims)
{
    const char *input = apr_pstrcat(p, aj_test_b64(p, hdr), ".", aj_test_b64(p, claims), NULL);
    unsigned char *sig = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_key_sign(&sig, &len, p, key, (const unsigned char *)input, strlen(input)),
                     APR_SUCCESS);
    return apr_pstrcat(p, input, ".", aj_b64url_encode(p, sig, len), NULL);
}

aj_verdict_e aj_test_verify_at(apr_pool_t *p, const char *token, const aj_keyset_t *keys,
                               const aj_policy_t *policy, apr_int64_t now)
{
    aj_verdict_e v = AJ_VERDICT_COUNT;
    aj_claims_t *claims = untouched;

    assert_int_equal(aj_jws_verify(&v, &claims, p, token, strlen(token), keys, policy, now),
                     APR_SUCCESS);
    assert_int_not_equal(v, AJ_VERDICT_COUNT);
    if (v == AJ_OK) {
        assert_ptr_not_equal(claims, untouched);
        assert_non_null(claims);
    }
    else {
        assert_ptr_equal(claims, untouched);
    }
    return v;
}

aj_verdict_e aj_test_verify(apr_pool_t *p, const char *token, const aj_keyset_t *keys)
{
    return aj_test_verify_at(p, token, keys, NULL, AJ_TEST_NOW);
}

/*
 * keys.c — the key and token fixtures of keys.h.
 */
#include <apr_file_io.h>

#include <openssl/bio.h>
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
    assert_int_equal(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_READ
                                     | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p), APR_SUCCESS);
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
    int ed = EVP_PKEY_is_a(signer, "ED25519");     /* Ed25519 signs without a digest */

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), AJ_TEST_CERT_SECONDS));
    assert_int_equal(X509_set_pubkey(x, k), 1);
    name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"aj-test", -1, -1, 0), 1);
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

aj_key_t *aj_test_load(apr_pool_t *p, aj_alg_e alg, const char *pem, int sign,
                       const char *kid)
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
                                      aj_alg_hmac_len(alg), kid), APR_SUCCESS);
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

const char *aj_test_forge(apr_pool_t *p, const aj_key_t *key, const char *hdr,
                          const char *claims)
{
    const char *input = apr_pstrcat(p, aj_test_b64(p, hdr), ".", aj_test_b64(p, claims), NULL);
    unsigned char *sig = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_key_sign(&sig, &len, p, key, (const unsigned char *)input,
                                 strlen(input)), APR_SUCCESS);
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

/*
 * test_key.c — the algorithm table, HMAC keys (minimum lengths, file: and
 * env: sources), source errors, key sets.  Asymmetric keys: test_key_asym.c
 * (loading), test_sign_asym.c (signing and verifying).
 */
#include <apr_file_io.h>
#include <apr_env.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aj_test.h"
#include "aj_key.h"
#include "aj_keyset.h"
#include "aj_sign.h"
#include "keys.h"

#define T_SECRET64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T_ENV_VAR  "AJ_TEST_KEY_SECRET"

static void test_alg_names(void **state)
{
    static const char *const names[] = { "HS256", "HS384", "HS512", "RS256", "RS384",
                                         "RS512", "PS256", "PS384", "PS512", "ES256",
                                         "ES384", "ES512", "EdDSA" };
    static const char *const unknown[] = { "none", "None",   "NONE", "hs256", "Hs256",  "HS256 ",
                                           "HS25", "HS2566", "",     "EDDSA", "RSA1_5", "HS1" };
    apr_size_t i;
    int n = 0;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        aj_alg_e a = aj_alg_from_name(names[i], strlen(names[i]));
        assert_int_not_equal(a, AJ_ALG_UNKNOWN);
        assert_string_equal(aj_alg_name(a), names[i]);
        n += aj_alg_supported(a);
    }
    assert_int_equal(n, 13);
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); ++i) {
        assert_int_equal(aj_alg_from_name(unknown[i], strlen(unknown[i])), AJ_ALG_UNKNOWN);
    }
    /* The length counts: "HS256" inside a longer buffer. */
    assert_int_equal(aj_alg_from_name("HS256x", 5), AJ_ALG_HS256);
    assert_int_equal(aj_alg_from_name("HS256", 4), AJ_ALG_UNKNOWN);
    assert_int_equal(aj_alg_from_name(NULL, 0), AJ_ALG_UNKNOWN);
    assert_true(aj_alg_supported(AJ_ALG_HS256));
    assert_true(aj_alg_supported(AJ_ALG_HS512));
    assert_true(aj_alg_supported(AJ_ALG_RS256));
    assert_true(aj_alg_supported(AJ_ALG_PS512));
    assert_true(aj_alg_supported(AJ_ALG_ES256));
    assert_true(aj_alg_supported(AJ_ALG_EDDSA));
    assert_false(aj_alg_supported(AJ_ALG_UNKNOWN));
    assert_true(aj_alg_is_hmac(AJ_ALG_HS384));
    assert_false(aj_alg_is_hmac(AJ_ALG_PS256));
    assert_int_equal(aj_alg_hmac_len(AJ_ALG_HS256), 32);
    assert_int_equal(aj_alg_hmac_len(AJ_ALG_HS384), 48);
    assert_int_equal(aj_alg_hmac_len(AJ_ALG_HS512), 64);
    assert_int_equal(aj_alg_hmac_len(AJ_ALG_RS256), 0);
}

static void test_hmac_min_length(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const aj_alg_e algs[] = { AJ_ALG_HS256, AJ_ALG_HS384, AJ_ALG_HS512 };
    aj_key_t *key;
    const char *err;
    apr_size_t i, min;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i) {
        min = aj_alg_hmac_len(algs[i]);
        key = NULL;
        err = NULL;
        assert_int_equal(aj_key_hmac_make(&key, &err, p, algs[i], (const unsigned char *)T_SECRET64,
                                          min - 1, NULL),
                         APR_EINVAL);
        assert_null(key);
        assert_non_null(err);
        assert_non_null(strstr(err, aj_alg_name(algs[i])));
        assert_non_null(strstr(err, "at least"));
        assert_int_equal(
            aj_key_hmac_make(&key, &err, p, algs[i], (const unsigned char *)T_SECRET64, min, "k1"),
            APR_SUCCESS);
        assert_non_null(key);
        assert_int_equal(aj_key_alg(key), algs[i]);
        assert_string_equal(aj_key_kid(key), "k1");
        assert_true(aj_key_can_sign(key));
    }
    key = NULL;
    assert_int_equal(
        aj_key_hmac_make(&key, &err, p, AJ_ALG_RS256, (const unsigned char *)T_SECRET64, 64, NULL),
        APR_EINVAL);
    assert_null(key);
    assert_int_equal(aj_key_hmac_make(&key, &err, p, AJ_ALG_HS256, NULL, 32, NULL), APR_EINVAL);
    assert_int_equal(
        aj_key_hmac_make(&key, &err, p, AJ_ALG_HS256, (const unsigned char *)T_SECRET64, 32, NULL),
        APR_SUCCESS);
    assert_null(aj_key_kid(key));
}

/* Signs "x" with key; equal outputs mean equal secrets. */
static const char *mac_of(apr_pool_t *p, const aj_key_t *key)
{
    unsigned char *sig = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_key_sign(&sig, &len, p, key, (const unsigned char *)"x", 1), APR_SUCCESS);
    return apr_pstrmemdup(p, (const char *)sig, len);
}

static void assert_same_secret(apr_pool_t *p, const aj_key_t *key, const char *secret)
{
    aj_key_t *ref = NULL;
    const char *err = NULL;

    assert_int_equal(aj_key_hmac_make(&ref, &err, p, aj_key_alg(key), (const unsigned char *)secret,
                                      strlen(secret), NULL),
                     APR_SUCCESS);
    assert_memory_equal(mac_of(p, key), mac_of(p, ref), aj_alg_hmac_len(aj_key_alg(key)));
}

static void test_load_file(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = NULL;
    const char *err = NULL, *path;
    const char *s32 = "0123456789abcdef0123456789abcdef";
    const char *s31 = "0123456789abcdef0123456789abcde";

    /* One trailing "\n" or "\r\n" is stripped, and only one. */
    path = aj_test_temp_file(p, apr_pstrcat(p, s32, "\n", NULL), 33);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, apr_pstrcat(p, "file:", path, NULL), 1, "a"),
        APR_SUCCESS);
    assert_same_secret(p, key, s32);
    assert_string_equal(aj_key_kid(key), "a");
    apr_file_remove(path, p);

    path = aj_test_temp_file(p, apr_pstrcat(p, s32, "\r\n", NULL), 34);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_SUCCESS);
    assert_same_secret(p, key, s32);
    apr_file_remove(path, p);

    path = aj_test_temp_file(p, apr_pstrcat(p, s31, "\n\n", NULL), 33);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_SUCCESS);
    assert_same_secret(p, key, apr_pstrcat(p, s31, "\n", NULL));
    apr_file_remove(path, p);

    /* 31 bytes and a newline: too short, and the message says why and
     * where without showing the secret. */
    key = NULL;
    path = aj_test_temp_file(p, apr_pstrcat(p, s31, "\n", NULL), 32);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "at least 32 bytes"));
    assert_null(strstr(err, "0123456789"));
    apr_file_remove(path, p);

    /* An empty file. */
    path = aj_test_temp_file(p, "", 0);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_EINVAL);
    assert_null(key);
    apr_file_remove(path, p);

    /* A missing file. */
    assert_int_not_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS256, "file:/nonexistent/aj/secret", 0, NULL),
        APR_SUCCESS);
    assert_null(key);
    assert_non_null(strstr(err, "/nonexistent/aj/secret"));
}

static void test_load_file_too_large(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const apr_size_t limit = 64 * 1024;
    char *big = apr_palloc(p, limit + 1);
    aj_key_t *key = NULL;
    const char *err = NULL, *path;

    memset(big, 'k', limit + 1);
    path = aj_test_temp_file(p, big, limit + 1);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS512, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, "larger"));
    apr_file_remove(path, p);

    path = aj_test_temp_file(p, big, limit);
    assert_int_equal(
        aj_key_load(&key, &err, p, AJ_ALG_HS512, apr_pstrcat(p, "file:", path, NULL), 0, NULL),
        APR_SUCCESS);
    apr_file_remove(path, p);
}

static void test_load_env(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = NULL;
    const char *err = NULL;

    apr_env_delete(T_ENV_VAR, p);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "env:" T_ENV_VAR, 0, NULL),
                     APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, T_ENV_VAR));
    assert_non_null(strstr(err, "not set"));

    assert_int_equal(apr_env_set(T_ENV_VAR, "short-secret", p), APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "env:" T_ENV_VAR, 0, NULL),
                     APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, "environment variable " T_ENV_VAR));
    assert_null(strstr(err, "short-secret"));

    assert_int_equal(apr_env_set(T_ENV_VAR, T_SECRET64, p), APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS512, "env:" T_ENV_VAR, 0, "e"),
                     APR_SUCCESS);
    assert_same_secret(p, key, T_SECRET64);
    /* HS512 needs 64 bytes: 63 are refused. */
    key = NULL;
    assert_int_equal(apr_env_set(T_ENV_VAR, &T_SECRET64[1], p), APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS512, "env:" T_ENV_VAR, 0, NULL),
                     APR_EINVAL);
    assert_null(key);
    apr_env_delete(T_ENV_VAR, p);
}

static void test_load_sources_and_algs(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "/etc/secret", 0, NULL), APR_EINVAL);
    assert_non_null(strstr(err, "file:PATH or env:VAR"));
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "file:", 0, NULL), APR_EINVAL);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "env:", 0, NULL), APR_EINVAL);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_UNKNOWN, "env:X", 0, NULL), APR_EINVAL);
    /* Asymmetric keys come from PEM files only, and a missing one is named. */
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_RS256, "file:/nonexistent/k.pem", 1, NULL),
                     APR_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/k.pem"));
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_ES384, "env:AJ_TEST_KEY_PEM", 0, NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "file:PATH"));
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_EDDSA, "env:AJ_TEST_KEY_PEM", 0, NULL),
                     APR_EINVAL);
    assert_null(key);
}

static void test_sign_verify_primitives(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = NULL, *other = NULL;
    const char *err = NULL;
    unsigned char *sig = NULL;
    apr_size_t len = 0;
    int match = -1;

    assert_int_equal(
        aj_key_hmac_make(&key, &err, p, AJ_ALG_HS384, (const unsigned char *)T_SECRET64, 48, NULL),
        APR_SUCCESS);
    assert_int_equal(aj_key_hmac_make(&other, &err, p, AJ_ALG_HS384,
                                      (const unsigned char *)&T_SECRET64[1], 48, NULL),
                     APR_SUCCESS);
    assert_int_equal(aj_key_sign(&sig, &len, p, key, (const unsigned char *)"abc", 3), APR_SUCCESS);
    assert_int_equal(len, 48);
    assert_int_equal(aj_key_verify(&match, p, key, (const unsigned char *)"abc", 3, sig, len),
                     APR_SUCCESS);
    assert_int_equal(match, 1);
    assert_int_equal(aj_key_verify(&match, p, key, (const unsigned char *)"abd", 3, sig, len),
                     APR_SUCCESS);
    assert_int_equal(match, 0);
    assert_int_equal(aj_key_verify(&match, p, other, (const unsigned char *)"abc", 3, sig, len),
                     APR_SUCCESS);
    assert_int_equal(match, 0);
    /* A truncated MAC is not a match, even where its prefix is right. */
    assert_int_equal(aj_key_verify(&match, p, key, (const unsigned char *)"abc", 3, sig, 32),
                     APR_SUCCESS);
    assert_int_equal(match, 0);
    assert_int_equal(aj_key_verify(&match, p, key, (const unsigned char *)"abc", 3, sig, 0),
                     APR_SUCCESS);
    assert_int_equal(match, 0);
}

/* An HMAC through aj_key_sign equals OpenSSL's one-shot HMAC() of the
 * same secret, however the per-thread contexts are reused: more keys than
 * a thread keeps contexts for, used round-robin, and a key made where a
 * freed one lived (a configuration reload) never inherits its context. */
static void hmac_matches(apr_pool_t *p, const aj_key_t *key, const unsigned char *secret,
                         const char *msg)
{
    unsigned char want[EVP_MAX_MD_SIZE], *sig = NULL;
    unsigned int wlen = 0;
    apr_size_t len = 0;

    assert_non_null(
        HMAC(EVP_sha256(), secret, 32, (const unsigned char *)msg, strlen(msg), want, &wlen));
    assert_int_equal(aj_key_sign(&sig, &len, p, key, (const unsigned char *)msg, strlen(msg)),
                     APR_SUCCESS);
    assert_int_equal(len, wlen);
    assert_memory_equal(sig, want, wlen);
}

static void test_hmac_thread_contexts(void **state)
{
    apr_pool_t *p = AJ_POOL(state), *sub = NULL;
    aj_key_t *keys[6], *k = NULL;
    const char *err = NULL;
    int round, i;

    for (i = 0; i < 6; ++i) {
        assert_int_equal(aj_key_hmac_make(&keys[i], &err, p, AJ_ALG_HS256,
                                          (const unsigned char *)&T_SECRET64[i], 32, NULL),
                         APR_SUCCESS);
    }
    for (round = 0; round < 3; ++round) {
        for (i = 0; i < 6; ++i) {
            hmac_matches(p, keys[i], (const unsigned char *)&T_SECRET64[i],
                         round ? "a message" : "another message");
        }
    }
    for (i = 0; i < 8; ++i) {
        assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
        assert_int_equal(aj_key_hmac_make(&k, &err, sub, AJ_ALG_HS256,
                                          (const unsigned char *)&T_SECRET64[i], 32, NULL),
                         APR_SUCCESS);
        hmac_matches(sub, k, (const unsigned char *)&T_SECRET64[i], "reloaded");
        apr_pool_destroy(sub);
    }
}

static void test_keyset(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks = aj_keyset_make(p);
    aj_key_t *a = NULL, *b = NULL;
    const char *err = NULL;

    assert_int_equal(aj_keyset_count(ks), 0);
    assert_null(aj_keyset_signing_key(ks));
    assert_null(aj_keyset_get(ks, 0));
    assert_int_equal(
        aj_key_hmac_make(&a, &err, p, AJ_ALG_HS256, (const unsigned char *)T_SECRET64, 32, "a"),
        APR_SUCCESS);
    assert_int_equal(
        aj_key_hmac_make(&b, &err, p, AJ_ALG_HS512, (const unsigned char *)T_SECRET64, 64, "b"),
        APR_SUCCESS);
    aj_keyset_add(ks, b);
    aj_keyset_add(ks, a);
    aj_keyset_add(ks, NULL);
    assert_int_equal(aj_keyset_count(ks), 2);
    assert_ptr_equal(aj_keyset_get(ks, 0), b);
    assert_ptr_equal(aj_keyset_get(ks, 1), a);
    assert_null(aj_keyset_get(ks, 2));
    assert_null(aj_keyset_get(ks, -1));
    assert_ptr_equal(aj_keyset_signing_key(ks), b); /* the first one */
}

/* docs/reference.md §10: a PEM block given as an HMAC secret (file or environment) is
 * refused with a message that explains the RS256/HS256 confusion. */
static void test_pem_as_hmac_secret(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
                              "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
                              "-----END PUBLIC KEY-----\n";
    const char *path = aj_test_temp_file(p, pem, sizeof(pem) - 1);
    const char *src = apr_pstrcat(p, "file:", path, NULL);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, src, 0, NULL), APR_EINVAL);
    assert_null(key);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "PEM"));
    assert_non_null(strstr(err, "RS256/HS256 confusion"));
    assert_null(strstr(err, "MFkwEwYH")); /* never the file's content */
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS512, src, 1, NULL), APR_EINVAL);
    apr_file_remove(path, p);
    /* Anywhere in the secret, and from the environment too. */
    assert_int_equal(apr_env_set(T_ENV_VAR, apr_pstrcat(p, T_SECRET64, "-----BEGIN X", NULL), p),
                     APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "env:" T_ENV_VAR, 0, NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "environment variable " T_ENV_VAR));
    /* Dashes alone are fine. */
    assert_int_equal(apr_env_set(T_ENV_VAR, apr_pstrcat(p, T_SECRET64, "-----BEGI", NULL), p),
                     APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, "env:" T_ENV_VAR, 0, NULL),
                     APR_SUCCESS);
    apr_env_delete(T_ENV_VAR, p);
}

/* docs/reference.md §10: an HMAC secret file readable by group or others loads with a
 * warning naming it. */
static void test_secret_file_mode_warning(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *path = aj_test_temp_file(p, T_SECRET64, strlen(T_SECRET64));
    const char *src = apr_pstrcat(p, "file:", path, NULL);
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, src, 1, NULL), APR_SUCCESS);
    assert_null(aj_key_warning(key)); /* mkstemp: 0600 */
    assert_int_equal(apr_file_perms_set(path, APR_UREAD | APR_UWRITE | APR_WREAD), APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, src, 1, NULL), APR_SUCCESS);
    assert_non_null(aj_key_warning(key));
    assert_non_null(strstr(aj_key_warning(key), path));
    assert_non_null(strstr(aj_key_warning(key), "readable by others"));
    assert_null(strstr(aj_key_warning(key), "0123456789"));
    assert_int_equal(apr_file_perms_set(path, APR_UREAD | APR_GREAD), APR_SUCCESS);
    assert_int_equal(aj_key_load(&key, &err, p, AJ_ALG_HS256, src, 0, NULL), APR_SUCCESS);
    assert_non_null(strstr(aj_key_warning(key), "readable by its group"));
    apr_file_remove(path, p);
    /* not from a file: nothing to say */
    assert_int_equal(
        aj_key_hmac_make(&key, &err, p, AJ_ALG_HS256, (const unsigned char *)T_SECRET64, 32, NULL),
        APR_SUCCESS);
    assert_null(aj_key_warning(key));
}

/* docs/reference.md §10: one section's keys never share a kid; keys without kid are
 * always admitted. */
static void test_keyset_kid_rules(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks = aj_keyset_make(p);
    aj_key_t *a = NULL, *a2 = NULL, *b = NULL, *none1 = NULL, *none2 = NULL, *ec = NULL;
    const char *err = NULL;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    const unsigned char *s = (const unsigned char *)T_SECRET64;

    assert_int_equal(aj_key_hmac_make(&a, &err, p, AJ_ALG_HS256, s, 32, "k1"), APR_SUCCESS);
    assert_int_equal(aj_key_hmac_make(&a2, &err, p, AJ_ALG_HS512, s, 64, "k1"), APR_SUCCESS);
    assert_int_equal(aj_key_hmac_make(&b, &err, p, AJ_ALG_HS256, s + 1, 32, "k2"), APR_SUCCESS);
    assert_int_equal(aj_key_hmac_make(&none1, &err, p, AJ_ALG_HS256, s + 2, 32, NULL), APR_SUCCESS);
    assert_int_equal(aj_key_hmac_make(&none2, &err, p, AJ_ALG_HS384, s + 3, 48, NULL), APR_SUCCESS);
    assert_non_null(pk);
    assert_int_equal(aj_key_from_pkey(&ec, &err, p, AJ_ALG_ES256, pk, "test key", "k1"),
                     APR_SUCCESS);
    EVP_PKEY_free(pk);

    assert_int_equal(aj_keyset_check_kid(&err, p, ks, a), APR_SUCCESS);
    aj_keyset_add(ks, a);
    assert_int_equal(aj_keyset_check_kid(&err, p, ks, b), APR_SUCCESS);
    aj_keyset_add(ks, b);
    assert_int_equal(aj_keyset_check_kid(&err, p, ks, none1), APR_SUCCESS);
    aj_keyset_add(ks, none1);
    assert_int_equal(aj_keyset_check_kid(&err, p, ks, none2), APR_SUCCESS);
    aj_keyset_add(ks, none2);
    /* the same kid again, even for another HMAC algorithm */
    err = NULL;
    assert_int_equal(aj_keyset_check_kid(&err, p, ks, a2), APR_EINVAL);
    assert_non_null(strstr(err, "'k1'"));
    assert_non_null(strstr(err, "already used"));
    /* one kid for a secret and a public key: its own message */
    err = NULL;
    assert_int_equal(aj_keyset_check_kid(&err, p, ks, ec), APR_EINVAL);
    assert_non_null(strstr(err, "'k1'"));
    assert_non_null(strstr(err, "an HMAC secret"));
    assert_non_null(strstr(err, "an EC key"));
    /* an empty or missing set admits anything */
    assert_int_equal(aj_keyset_check_kid(&err, p, NULL, a2), APR_SUCCESS);
    assert_int_equal(aj_keyset_check_kid(&err, p, aj_keyset_make(p), ec), APR_SUCCESS);
}

/* Which keys may verify a token (aj_keyset_find): exactly its alg, and its
 * kid when it has one, in configuration order; aj_keyset_has_kid tells an
 * unknown kid from a wrong alg. */
static void test_keyset_find(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *a = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET64, "a");
    aj_key_t *b = aj_test_hmac_key(p, AJ_ALG_HS384, T_SECRET64, "b");
    aj_key_t *none = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET64, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, a, b);
    int next = 0;

    aj_keyset_add(ks, none);
    /* No kid: every HS256 key, in order, then NULL (and NULL again). */
    assert_ptr_equal(aj_keyset_find(ks, &next, AJ_ALG_HS256, NULL), a);
    assert_ptr_equal(aj_keyset_find(ks, &next, AJ_ALG_HS256, NULL), none);
    assert_null(aj_keyset_find(ks, &next, AJ_ALG_HS256, NULL));
    assert_null(aj_keyset_find(ks, &next, AJ_ALG_HS256, NULL));
    /* A kid: only the key that carries it, and only with its alg. */
    next = 0;
    assert_ptr_equal(aj_keyset_find(ks, &next, AJ_ALG_HS384, "b"), b);
    assert_null(aj_keyset_find(ks, &next, AJ_ALG_HS384, "b"));
    next = 0;
    assert_null(aj_keyset_find(ks, &next, AJ_ALG_HS256, "b"));
    next = 0;
    assert_null(aj_keyset_find(ks, &next, AJ_ALG_HS512, NULL));
    next = 0;
    assert_null(aj_keyset_find(NULL, &next, AJ_ALG_HS256, NULL));
    assert_true(aj_keyset_has_kid(ks, "a"));
    assert_true(aj_keyset_has_kid(ks, "b"));
    assert_false(aj_keyset_has_kid(ks, "c"));
    assert_false(aj_keyset_has_kid(ks, NULL));
    assert_false(aj_keyset_has_kid(NULL, "a"));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_alg_names),
    AJ_TEST(test_hmac_min_length),
    AJ_TEST(test_load_file),
    AJ_TEST(test_load_file_too_large),
    AJ_TEST(test_load_env),
    AJ_TEST(test_load_sources_and_algs),
    AJ_TEST(test_sign_verify_primitives),
    AJ_TEST(test_hmac_thread_contexts),
    AJ_TEST(test_keyset),
    AJ_TEST(test_pem_as_hmac_secret),
    AJ_TEST(test_secret_file_mode_warning),
    AJ_TEST(test_keyset_kid_rules),
    AJ_TEST(test_keyset_find),
};

AJ_TEST_MAIN("aj_key", tests)

/*
 * aj_key.c — the algorithm table, keys and key sets.
 *
 * A key is parsed once (at configuration time) and then only read, by any
 * number of threads.  It carries its algorithm: RFC 8725 §3.1, a key is
 * used for exactly one algorithm.  This build implements the HMAC
 * algorithms; the struct has room for an EVP_PKEY so that RS/PS/ES/EdDSA
 * can be added here without changing any caller.
 */
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aj_key.h"

/* A key file is read whole; anything larger is not a key. */
#define AJ_KEY_FILE_MAX     (64 * 1024)
/* Longest HMAC secret taken from any source (HMAC() takes an int). */
#define AJ_KEY_SECRET_MAX   AJ_KEY_FILE_MAX
#define AJ_KEY_SRC_FILE     "file:"
#define AJ_KEY_SRC_ENV      "env:"
#define AJ_ERRBUF_LEN       128
#define AJ_KEYSET_INITIAL   2       /* a signing key and its successor */

typedef struct {
    aj_alg_e alg;
    const char *name;               /* JOSE "alg" (RFC 7518 §3.1) */
    int hmac;
    apr_size_t hmac_len;            /* output and minimum secret size */
    const EVP_MD *(*md)(void);      /* NULL for EdDSA */
} aj_alg_info_t;

static const aj_alg_info_t aj_algs[] = {
    { AJ_ALG_HS256, "HS256", 1, SHA256_DIGEST_LENGTH, EVP_sha256 },
    { AJ_ALG_HS384, "HS384", 1, SHA384_DIGEST_LENGTH, EVP_sha384 },
    { AJ_ALG_HS512, "HS512", 1, SHA512_DIGEST_LENGTH, EVP_sha512 },
    { AJ_ALG_RS256, "RS256", 0, 0, EVP_sha256 },
    { AJ_ALG_RS384, "RS384", 0, 0, EVP_sha384 },
    { AJ_ALG_RS512, "RS512", 0, 0, EVP_sha512 },
    { AJ_ALG_PS256, "PS256", 0, 0, EVP_sha256 },
    { AJ_ALG_PS384, "PS384", 0, 0, EVP_sha384 },
    { AJ_ALG_PS512, "PS512", 0, 0, EVP_sha512 },
    { AJ_ALG_ES256, "ES256", 0, 0, EVP_sha256 },
    { AJ_ALG_ES384, "ES384", 0, 0, EVP_sha384 },
    { AJ_ALG_ES512, "ES512", 0, 0, EVP_sha512 },
    { AJ_ALG_EDDSA, "EdDSA", 0, 0, NULL },
};

#define AJ_ALG_TABLE_LEN (sizeof(aj_algs) / sizeof(aj_algs[0]))

struct aj_key_t {
    aj_alg_e alg;
    const char *kid;                /* NULL when none */
    int can_sign;
    unsigned char *secret;          /* HMAC: pool memory, cleansed on cleanup */
    apr_size_t secret_len;
    EVP_PKEY *pkey;                 /* asymmetric algorithms; freed on cleanup */
};

struct aj_keyset_t {
    apr_array_header_t *keys;       /* const aj_key_t *, in configuration order */
};

static const aj_alg_info_t *aj_alg_info(aj_alg_e alg)
{
    apr_size_t i;

    for (i = 0; i < AJ_ALG_TABLE_LEN; ++i) {
        if (aj_algs[i].alg == alg) {
            return &aj_algs[i];
        }
    }
    return NULL;
}

aj_alg_e aj_alg_from_name(const char *name, apr_size_t len)
{
    apr_size_t i;

    if (!name) {
        return AJ_ALG_UNKNOWN;
    }
    for (i = 0; i < AJ_ALG_TABLE_LEN; ++i) {
        if (strlen(aj_algs[i].name) == len && !memcmp(aj_algs[i].name, name, len)) {
            return aj_algs[i].alg;
        }
    }
    return AJ_ALG_UNKNOWN;
}

const char *aj_alg_name(aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    return info ? info->name : "unknown";
}

int aj_alg_is_hmac(aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    return info && info->hmac;
}

apr_size_t aj_alg_hmac_len(aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    return (info && info->hmac) ? info->hmac_len : 0;
}

int aj_alg_supported(aj_alg_e alg)
{
    return aj_alg_is_hmac(alg);
}

static apr_status_t aj_key_cleanup(void *data)
{
    aj_key_t *key = data;

    if (key->secret) {
        OPENSSL_cleanse(key->secret, key->secret_len);
    }
    if (key->pkey) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t aj_key_hmac_make(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              const unsigned char *secret, apr_size_t len, const char *kid)
{
    aj_key_t *k;
    apr_status_t rv = APR_EINVAL;

    if (!aj_alg_is_hmac(alg)) {
        *err = apr_psprintf(p, "%s is not an HMAC algorithm", aj_alg_name(alg));
        goto cleanup;
    }
    if (!secret || len < aj_alg_hmac_len(alg)) {
        *err = apr_psprintf(p, "%s needs a secret of at least %" APR_SIZE_T_FMT " bytes "
                            "(RFC 7518 section 3.2), this one has %" APR_SIZE_T_FMT,
                            aj_alg_name(alg), aj_alg_hmac_len(alg), secret ? len : 0);
        goto cleanup;
    }
    if (len > AJ_KEY_SECRET_MAX) {
        *err = apr_psprintf(p, "an HMAC secret may have at most %d bytes", AJ_KEY_SECRET_MAX);
        goto cleanup;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->can_sign = 1;
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    apr_pool_cleanup_register(p, k, aj_key_cleanup, apr_pool_cleanup_null);
    *key = k;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

/* Reads a whole key file (at most AJ_KEY_FILE_MAX bytes) into tmp. */
static apr_status_t aj_key_read_file(unsigned char **data, apr_size_t *len, const char **err,
                                     apr_pool_t *p, apr_pool_t *tmp, const char *path)
{
    apr_file_t *f = NULL;
    unsigned char *buf;
    apr_size_t n = 0;
    char ebuf[AJ_ERRBUF_LEN];
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, tmp);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    /* One byte more than allowed tells "too large" from "exactly the limit". */
    buf = apr_palloc(tmp, AJ_KEY_FILE_MAX + 1);
    rv = apr_file_read_full(f, buf, AJ_KEY_FILE_MAX + 1, &n);
    if (rv == APR_EOF) {
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    if (n > AJ_KEY_FILE_MAX) {
        *err = apr_psprintf(p, "key file %s is larger than %d bytes", path, AJ_KEY_FILE_MAX);
        rv = APR_EINVAL;
        goto cleanup;
    }
    *data = buf;
    *len = n;

cleanup:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

apr_status_t aj_key_load(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                         const char *source, int for_signing, const char *kid)
{
    apr_pool_t *tmp = NULL;
    unsigned char *data = NULL;
    apr_size_t len = 0;
    const char *what = NULL, *why = NULL;
    aj_key_t *k = NULL;
    char *val = NULL;
    apr_status_t rv;

    if (!aj_alg_info(alg)) {
        *err = "unknown algorithm";
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (!aj_alg_supported(alg)) {
        *err = apr_psprintf(p, "algorithm %s is not supported yet", aj_alg_name(alg));
        rv = APR_ENOTIMPL;
        goto cleanup;
    }
    rv = apr_pool_create(&tmp, p);
    if (rv != APR_SUCCESS) {
        *err = "out of memory";
        goto cleanup;
    }
    if (source && !strncmp(source, AJ_KEY_SRC_FILE, strlen(AJ_KEY_SRC_FILE))
        && source[strlen(AJ_KEY_SRC_FILE)]) {
        const char *path = source + strlen(AJ_KEY_SRC_FILE);

        what = apr_psprintf(p, "key file %s", path);
        rv = aj_key_read_file(&data, &len, err, p, tmp, path);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        /* Editors end files with a newline: strip exactly one. */
        if (len && data[len - 1] == '\n') {
            --len;
            if (len && data[len - 1] == '\r') {
                --len;
            }
        }
    }
    else if (source && !strncmp(source, AJ_KEY_SRC_ENV, strlen(AJ_KEY_SRC_ENV))
             && source[strlen(AJ_KEY_SRC_ENV)]) {
        const char *var = source + strlen(AJ_KEY_SRC_ENV);

        what = apr_psprintf(p, "environment variable %s", var);
        if (apr_env_get(&val, var, tmp) != APR_SUCCESS || !val) {
            *err = apr_psprintf(p, "%s is not set", what);
            rv = APR_EINVAL;
            goto cleanup;
        }
        data = (unsigned char *)val;
        len = strlen(val);
    }
    else {
        *err = apr_psprintf(p, "key source must be file:PATH or env:VAR, not '%s'",
                            source ? source : "");
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = aj_key_hmac_make(&k, &why, p, alg, data, len, kid);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", what, why);
        goto cleanup;
    }
    *key = k;

cleanup:
    /* The file buffer held the secret; the environment is not ours. */
    if (data && data != (unsigned char *)val) {
        OPENSSL_cleanse(data, len);
    }
    if (tmp) {
        apr_pool_destroy(tmp);
    }
    return rv;
}

aj_alg_e aj_key_alg(const aj_key_t *key)
{
    return key ? key->alg : AJ_ALG_UNKNOWN;
}

const char *aj_key_kid(const aj_key_t *key)
{
    return key ? key->kid : NULL;
}

int aj_key_can_sign(const aj_key_t *key)
{
    return key && key->can_sign;
}

/* HMAC of data into mac[EVP_MAX_MD_SIZE]. */
static apr_status_t aj_key_hmac(unsigned char *mac, unsigned int *maclen, const aj_key_t *key,
                                const unsigned char *data, apr_size_t len)
{
    const aj_alg_info_t *info = aj_alg_info(key->alg);

    if (!info || !info->hmac || !key->secret) {
        return APR_EINVAL;
    }
    if (!HMAC(info->md(), key->secret, (int)key->secret_len, data, len, mac, maclen)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t aj_key_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                         const aj_key_t *key, const unsigned char *data, apr_size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    apr_status_t rv;

    if (!key || !aj_alg_supported(key->alg)) {
        rv = APR_ENOTIMPL;
        goto cleanup;
    }
    if (!key->can_sign) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = aj_key_hmac(mac, &maclen, key, data, len);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *sig = apr_pmemdup(p, mac, maclen);
    *siglen = maclen;

cleanup:
    return rv;
}

apr_status_t aj_key_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                           const unsigned char *data, apr_size_t len,
                           const unsigned char *sig, apr_size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    apr_status_t rv;

    if (!key || !aj_alg_supported(key->alg)) {
        rv = APR_ENOTIMPL;
        goto cleanup;
    }
    rv = aj_key_hmac(mac, &maclen, key, data, len);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* The length is public (it follows from alg); the bytes are compared
     * in constant time. */
    *match = siglen == maclen && !CRYPTO_memcmp(mac, sig, maclen);

cleanup:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

aj_keyset_t *aj_keyset_make(apr_pool_t *p)
{
    aj_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->keys = apr_array_make(p, AJ_KEYSET_INITIAL, sizeof(const aj_key_t *));
    return ks;
}

void aj_keyset_add(aj_keyset_t *ks, const aj_key_t *key)
{
    if (ks && key) {
        APR_ARRAY_PUSH(ks->keys, const aj_key_t *) = key;
    }
}

int aj_keyset_count(const aj_keyset_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

const aj_key_t *aj_keyset_get(const aj_keyset_t *ks, int i)
{
    if (!ks || i < 0 || i >= ks->keys->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(ks->keys, i, const aj_key_t *);
}

const aj_key_t *aj_keyset_signing_key(const aj_keyset_t *ks)
{
    int i;

    for (i = 0; i < aj_keyset_count(ks); ++i) {
        const aj_key_t *key = aj_keyset_get(ks, i);
        if (key->can_sign) {
            return key;
        }
    }
    return NULL;
}

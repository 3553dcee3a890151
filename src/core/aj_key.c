/*
 * aj_key.c — keys: loading from a configuration source.
 *
 * A key is parsed once (at configuration time) and then only read, by any
 * number of threads.  It carries its algorithm: RFC 8725 §3.1, a key is
 * used for exactly one algorithm.  HMAC keys are raw secrets, keyed into
 * an OpenSSL MAC context once; RSA (RS, PS), EC (ES) and Ed25519 (EdDSA)
 * keys are EVP_PKEYs read from PEM (or handed over by the JWK import),
 * checked against their algorithm and owned by the pool.  The rules a key
 * passes: aj_key_check.c (called from here, never the reverse); signing
 * and verifying: aj_sign.c.
 */
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "aj_ecdsa.h"
#include "aj_key.h"
#include "aj_key_check.h"

/* A key file is read whole; anything larger is not a key. */
#define AJ_KEY_FILE_MAX   (64 * 1024)
/* Longest HMAC secret taken from any source (HMAC() takes an int). */
#define AJ_KEY_SECRET_MAX AJ_KEY_FILE_MAX
#define AJ_KEY_SRC_FILE   "file:"
#define AJ_KEY_SRC_ENV    "env:"
#define AJ_ERRBUF_LEN     128

struct aj_key_t {
    aj_alg_e alg;
    const char *kid;     /* NULL when none */
    const char *warning; /* see aj_key_warning(); NULL when none */
    int can_sign;
    unsigned char *secret; /* HMAC: pool memory, cleansed on cleanup */
    apr_size_t secret_len;
    EVP_MAC_CTX *hmac;                       /* HMAC keyed with secret, duplicated per use:
                                     * HMAC() would fetch the digest per call */
    apr_uint64_t serial;                     /* unique in this process (per-thread
                                     * contexts are matched by it, not by address) */
    EVP_PKEY *pkey;                          /* asymmetric algorithms; freed on cleanup */
    unsigned char ec_order[AJ_EC_MAX_COORD]; /* ES: the group order, big-endian,
                                                * info->ec_coord bytes */
};

/* Serial numbers of keys (0 is never one). */
static apr_uint64_t aj_key_serials;

static apr_uint64_t aj_key_serial_next(void)
{
    return __atomic_add_fetch(&aj_key_serials, 1, __ATOMIC_RELAXED);
}

/* ---- asymmetric keys from PEM ------------------------------------------- */

/* Encrypted PEM keys are not supported: never prompt on a terminal. */
static int aj_key_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

typedef enum {
    AJ_PEM_NONE = 0,
    AJ_PEM_PRIVATE, /* PRIVATE KEY, RSA/EC PRIVATE KEY */
    AJ_PEM_PUBLIC,  /* PUBLIC KEY (SubjectPublicKeyInfo) */
    AJ_PEM_CERT     /* CERTIFICATE: its public key */
} aj_pem_kind_e;

/* The first key PEM data holds: a private key, else a public key, else a
 * certificate's key.  NULL (and AJ_PEM_NONE) when there is none. */
static EVP_PKEY *aj_key_read_pem(aj_pem_kind_e *kind, const unsigned char *data, apr_size_t len)
{
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    BIO *bio = NULL;

    *kind = AJ_PEM_NONE;
    if (len == 0 || len > AJ_KEY_FILE_MAX) {
        goto cleanup;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (pkey = PEM_read_bio_PrivateKey(bio, NULL, aj_key_no_passphrase, NULL))) {
        *kind = AJ_PEM_PRIVATE;
        goto cleanup;
    }
    BIO_free(bio);
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (pkey = PEM_read_bio_PUBKEY(bio, NULL, aj_key_no_passphrase, NULL))) {
        *kind = AJ_PEM_PUBLIC;
        goto cleanup;
    }
    BIO_free(bio);
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (cert = PEM_read_bio_X509(bio, NULL, aj_key_no_passphrase, NULL))) {
        pkey = X509_get_pubkey(cert);
        if (pkey) {
            *kind = AJ_PEM_CERT;
        }
    }

cleanup:
    X509_free(cert);
    BIO_free(bio);
    ERR_clear_error(); /* the failed attempts left their reasons */
    return pkey;
}
static apr_status_t aj_key_cleanup(void *data)
{
    aj_key_t *key = data;

    if (key->secret) {
        OPENSSL_cleanse(key->secret, key->secret_len);
    }
    EVP_MAC_CTX_free(key->hmac); /* cleanses its copy of the key */
    key->hmac = NULL;
    if (key->pkey) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
    }
    return APR_SUCCESS;
}

/* An asymmetric key for info's algorithm from pkey, which the key takes
 * over on success (on failure the caller still owns it).  what names the
 * source in messages. */
static apr_status_t aj_key_pkey_make(aj_key_t **key, const char **err, apr_pool_t *p,
                                     const aj_alg_info_t *info, EVP_PKEY *pkey, const char *what,
                                     int can_sign, const char *kid)
{
    aj_key_t *k = apr_pcalloc(p, sizeof(*k));
    const char *why = aj_key_check_pkey(p, info, pkey, what);

    /* ES: the group order, read once here so a verification never builds
     * the group. */
    if (!why && info->kty == AJ_KTY_EC && aj_ecdsa_order(k->ec_order, info->alg) != APR_SUCCESS) {
        why = "cannot read the curve's order";
    }
    ERR_clear_error();
    if (why) {
        *err = why;
        return APR_EINVAL;
    }
    k->alg = info->alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->can_sign = can_sign;
    k->pkey = pkey;
    k->serial = aj_key_serial_next();
    apr_pool_cleanup_register(p, k, aj_key_cleanup, apr_pool_cleanup_null);
    *key = k;
    return APR_SUCCESS;
}

/* An asymmetric key from the PEM data of a file (what names it); *kind
 * says what the PEM held. */
static apr_status_t aj_key_pem_make(aj_key_t **key, aj_pem_kind_e *kind, const char **err,
                                    apr_pool_t *p, const aj_alg_info_t *info,
                                    const unsigned char *data, apr_size_t len, const char *what,
                                    int for_signing, const char *kid)
{
    EVP_PKEY *pkey = aj_key_read_pem(kind, data, len);
    apr_status_t rv = APR_EINVAL;

    if (!pkey) {
        *err = apr_psprintf(p,
                            "%s holds no PEM %s (%s needs %s%s; encrypted keys "
                            "are not supported)",
                            what,
                            for_signing ? "private key"
                                        : "public key, certificate or "
                                          "private key",
                            info->name, info->want, for_signing ? ", private" : "");
        goto cleanup;
    }
    if (for_signing && *kind != AJ_PEM_PRIVATE) {
        *err =
            apr_psprintf(p,
                         "%s holds %s, not a private key: signing with %s needs "
                         "the private key (a public key only verifies)",
                         what, *kind == AJ_PEM_CERT ? "a certificate" : "a public key", info->name);
        goto cleanup;
    }
    rv = aj_key_pkey_make(key, err, p, info, pkey, what, for_signing, kid);
    if (rv == APR_SUCCESS) {
        pkey = NULL; /* the key owns it now */
    }

cleanup:
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rv;
}

apr_status_t aj_key_from_pkey(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              struct evp_pkey_st *pkey, const char *what, const char *kid)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    apr_status_t rv;

    if (!info || info->kty == AJ_KTY_HMAC || !pkey) {
        *err = apr_psprintf(p, "%s: %s is not an algorithm of public keys", what, aj_alg_name(alg));
        return APR_EINVAL;
    }
    /* The key holds a reference of its own; the caller keeps theirs. */
    if (!EVP_PKEY_up_ref(pkey)) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    rv = aj_key_pkey_make(key, err, p, info, pkey, what, 0, kid);
    if (rv != APR_SUCCESS) {
        EVP_PKEY_free(pkey);
    }
    return rv;
}

/* ---- HMAC keys and key sources ------------------------------------------ */

/* key->hmac: an HMAC context keyed once with the secret and the digest. */
static apr_status_t aj_key_hmac_keyed(aj_key_t *key)
{
    const aj_alg_info_t *info = aj_alg_info(key->alg);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2];
    apr_status_t rv = APR_EGENERAL;

    if (!info || !mac) {
        goto cleanup;
    }
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)EVP_MD_get0_name(info->md()), 0);
    params[1] = OSSL_PARAM_construct_end();
    key->hmac = EVP_MAC_CTX_new(mac);
    if (key->hmac && EVP_MAC_init(key->hmac, key->secret, key->secret_len, params) == 1) {
        rv = APR_SUCCESS;
    }

cleanup:
    EVP_MAC_free(mac); /* the context keeps its own reference */
    ERR_clear_error();
    return rv;
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
        *err = apr_psprintf(p,
                            "%s needs a secret of at least %" APR_SIZE_T_FMT " bytes "
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
    k->serial = aj_key_serial_next();
    if (aj_key_hmac_keyed(k) != APR_SUCCESS) {
        *err = apr_psprintf(p, "OpenSSL cannot set up %s", aj_alg_name(alg));
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *key = k;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

/* Reads a whole key file (at most AJ_KEY_FILE_MAX bytes) into tmp; *prot
 * is its permission bits, read from the open file (so they are those of the
 * file read, whatever a path or symlink says meanwhile). */
static apr_status_t aj_key_read_file(unsigned char **data, apr_size_t *len, apr_fileperms_t *prot,
                                     const char **err, apr_pool_t *p, apr_pool_t *tmp,
                                     const char *path)
{
    apr_finfo_t finfo;
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
    rv = apr_file_info_get(&finfo, APR_FINFO_PROT, f);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        *err = apr_psprintf(p, "cannot stat key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    /* APR_INCOMPLETE without the bits: nothing to warn about, not an error. */
    *prot = (finfo.valid & APR_FINFO_PROT) ? finfo.protection : 0;
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

/* docs/reference.md §10: the warning for a secret or private key file that its group
 * or others may read (only its owner, the user that starts the server,
 * should); NULL when they may not.  Never an error: the administrator may
 * have reasons (a group of operators), and the server still starts. */
static const char *aj_key_exposure_warning(apr_pool_t *p, const char *path, apr_fileperms_t prot,
                                           const char *holds)
{
    if (!(prot & (APR_GREAD | APR_WREAD))) {
        return NULL;
    }
    return apr_psprintf(p,
                        "key file %s holds %s but is readable by %s: make it readable by "
                        "its owner only (chmod 600)",
                        path, holds,
                        (prot & APR_GREAD) && (prot & APR_WREAD) ? "group and others"
                        : (prot & APR_GREAD)                     ? "its group"
                                                                 : "others");
}

apr_status_t aj_key_load(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                         const char *source, int for_signing, const char *kid)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    apr_pool_t *tmp = NULL;
    unsigned char *data = NULL;
    apr_size_t len = 0;
    const char *what = NULL, *why = NULL, *path = NULL;
    aj_pem_kind_e kind = AJ_PEM_NONE;
    apr_fileperms_t prot = 0;
    aj_key_t *k = NULL;
    char *val = NULL;
    apr_status_t rv;

    if (!info) {
        *err = "unknown algorithm";
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = apr_pool_create(&tmp, p);
    if (rv != APR_SUCCESS) {
        *err = "out of memory";
        goto cleanup;
    }
    if (source && !strncmp(source, AJ_KEY_SRC_FILE, strlen(AJ_KEY_SRC_FILE))
        && source[strlen(AJ_KEY_SRC_FILE)]) {
        path = source + strlen(AJ_KEY_SRC_FILE);
        what = apr_psprintf(p, "key file %s", path);
        rv = aj_key_read_file(&data, &len, &prot, err, p, tmp, path);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        if (info->kty != AJ_KTY_HMAC) {
            rv = aj_key_pem_make(&k, &kind, err, p, info, data, len, what, for_signing, kid);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
            if (kind == AJ_PEM_PRIVATE) {
                k->warning = aj_key_exposure_warning(p, path, prot, "a private key");
            }
            *key = k;
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
        if (info->kty != AJ_KTY_HMAC) {
            *err = apr_psprintf(p,
                                "%s keys are read from file:PATH (a PEM file), not from "
                                "%s",
                                info->name, what);
            rv = APR_EINVAL;
            goto cleanup;
        }
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
    why = aj_key_check_secret(p, info, data, len, what);
    if (why) {
        *err = why;
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = aj_key_hmac_make(&k, &why, p, alg, data, len, kid);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", what, why);
        goto cleanup;
    }
    if (path) {
        k->warning = aj_key_exposure_warning(p, path, prot, "an HMAC secret");
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

const char *aj_key_warning(const aj_key_t *key)
{
    return key ? key->warning : NULL;
}

int aj_key_can_sign(const aj_key_t *key)
{
    return key && key->can_sign;
}

struct evp_pkey_st *aj_key_pkey(const aj_key_t *key)
{
    return key ? key->pkey : NULL;
}

const unsigned char *aj_key_ec_order(const aj_key_t *key)
{
    const aj_alg_info_t *info = key ? aj_alg_info(key->alg) : NULL;

    return info && info->kty == AJ_KTY_EC ? key->ec_order : NULL;
}

const struct evp_mac_ctx_st *aj_key_hmac_ctx(const aj_key_t *key)
{
    return key ? key->hmac : NULL;
}

apr_uint64_t aj_key_serial(const aj_key_t *key)
{
    return key ? key->serial : 0;
}

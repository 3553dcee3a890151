/*
 * htjwt: keygen and the key files (writing new ones, loading -k).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "aj_b64.h"
#include "aj_key.h"
#include "htjwt.h"
#include "aj_alg.h"

/* RS and PS keys: RSA 3072 (NIST SP 800-57: 128-bit security). */
#define HTJWT_RSA_BITS          3072
/* HMAC secrets: random bytes, base64url-encoded into url-safe characters
 * (6 bits each).  HS256: 48 bytes -> 64 characters; HS384: 48 bytes -> 64
 * characters (384 bits, at least the hash length); HS512: 66 bytes -> 88
 * characters (528 bits). */
#define HTJWT_HS256_RANDOM      48
#define HTJWT_HS384_RANDOM      48
#define HTJWT_HS512_RANDOM      66
#define HTJWT_SECRET_MAX_RANDOM 66
#define HTJWT_MODE_PRIVATE      0600
#define HTJWT_MODE_PUBLIC       0644

/* ---- files -------------------------------------------------------------- */

/* Writes data to a new file with mode; an existing file is replaced only
 * with force (it is removed first, so the new one never inherits a looser
 * mode). */
static int htjwt_write_new_file(const char *path, const void *data, apr_size_t len, mode_t mode,
                                int force)
{
    const char *p = data;
    int fd;

    if (force && unlink(path) != 0 && errno != ENOENT) {
        return htjwt_err(HTJWT_EFILE, "cannot replace %s: %s", path, strerror(errno));
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        return htjwt_err(HTJWT_EFILE, "%s exists (-f overwrites it)", path);
    }
    if (fd < 0) {
        return htjwt_err(HTJWT_EFILE, "cannot create %s: %s", path, strerror(errno));
    }
    if (fchmod(fd, mode) != 0) {
        close(fd);
        unlink(path);
        return htjwt_err(HTJWT_EFILE, "cannot set the mode of %s: %s", path, strerror(errno));
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return htjwt_err(HTJWT_EFILE, "cannot write %s: %s", path, strerror(e));
        }
        p += n;
        len -= (apr_size_t)n;
    }
    if (close(fd) != 0) {
        unlink(path);
        return htjwt_err(HTJWT_EFILE, "cannot write %s: %s", path, strerror(errno));
    }
    return HTJWT_OK;
}

/* A key source for aj_key_load: file:PATH and env:VAR as given, a bare
 * path as file:PATH. */
static const char *htjwt_key_source(apr_pool_t *p, const char *arg)
{
    if (!strncmp(arg, "file:", 5) || !strncmp(arg, "env:", 4)) {
        return arg;
    }
    return apr_pstrcat(p, "file:", arg, NULL);
}

/* Loads the key of -k/-a (kid: -i, or the token's when verifying). */
int htjwt_load_key(aj_key_t **key, htjwt_ctx_t *cx, int for_signing, const char *kid)
{
    const char *alg_name = cx->val[HTJWT_O_ALG], *err = NULL;
    aj_alg_e alg = aj_alg_from_name(alg_name, strlen(alg_name));
    apr_status_t rv;

    if (alg == AJ_ALG_UNKNOWN) {
        return htjwt_syntax("unknown algorithm '%s'", alg_name);
    }
    rv = aj_key_load(key, &err, cx->pool, alg, htjwt_key_source(cx->pool, cx->val[HTJWT_O_KEY]),
                     for_signing, kid);
    if (rv == APR_ENOTIMPL) {
        return htjwt_err(HTJWT_EALG, "%s", err ? err : "algorithm not supported");
    }
    if (rv == APR_EINVAL) {
        return htjwt_err(HTJWT_EINVALID, "%s", err ? err : "not a usable key");
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "%s", err ? err : "cannot read the key");
    }
    if (aj_key_warning(*key)) {
        /* docs/reference.md §10: a readable secret is worth a word, not a failure. */
        fprintf(stderr, "htjwt: warning: %s\n", aj_key_warning(*key));
    }
    return HTJWT_OK;
}

/* ---- keygen ------------------------------------------------------------- */

static apr_size_t htjwt_hs_random_bytes(aj_alg_e alg)
{
    switch (alg) {
    case AJ_ALG_HS256: return HTJWT_HS256_RANDOM;
    case AJ_ALG_HS384: return HTJWT_HS384_RANDOM;
    default: return HTJWT_HS512_RANDOM;
    }
}

/* A new key of the kind the algorithm table names for alg; for ES* on the
 * algorithm's own curve (RFC 7518 §3.4), by OpenSSL's name of it. */
static EVP_PKEY *htjwt_generate_pkey(aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    if (!info) {
        return NULL;
    }
    switch (info->kty) {
    case AJ_KTY_RSA:
    case AJ_KTY_RSA_PSS: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)HTJWT_RSA_BITS);
    case AJ_KTY_EC: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(info->ec_nid));
    case AJ_KTY_ED25519: return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default: return NULL;
    }
}

/* Writes text to FILE (mode) or, without a file, to stdout. */
static int htjwt_emit(const char *file, const char *text, apr_size_t len, mode_t mode, int force)
{
    if (file) {
        return htjwt_write_new_file(file, text, len, mode, force);
    }
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        return htjwt_err(HTJWT_EFILE, "cannot write to standard output");
    }
    return HTJWT_OK;
}

/* PEM of the private (or public) half into pool memory. */
static const char *htjwt_pem(apr_pool_t *p, EVP_PKEY *pkey, int private_part, apr_size_t *len)
{
    BIO *bio = BIO_new(private_part ? BIO_s_secmem() : BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;
    int ok;

    if (!bio) {
        return NULL;
    }
    ok = private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                      : PEM_write_bio_PUBKEY(bio, pkey);
    n = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0 && data) {
        out = apr_pstrmemdup(p, data, (apr_size_t)n);
        *len = (apr_size_t)n;
    }
    BIO_free(bio);
    return out;
}

/* The absolute form of a file just written, for the configuration hint. */
static const char *htjwt_abs(apr_pool_t *p, const char *path)
{
    char *abs = realpath(path, NULL);
    const char *out = abs ? apr_pstrdup(p, abs) : path;

    free(abs);
    return out;
}

static apr_status_t htjwt_cleanse_str(void *data)
{
    char *s = data;

    OPENSSL_cleanse(s, strlen(s));
    return APR_SUCCESS;
}

int htjwt_cmd_keygen(htjwt_ctx_t *cx)
{
    const char *alg_name = htjwt_arg(cx, 0), *out = cx->val[HTJWT_O_OUT];
    const char *pub = cx->val[HTJWT_O_PUB], *priv_pem = NULL, *pub_pem = NULL;
    int force = (cx->seen & HTJWT_BIT(HTJWT_O_FORCE)) != 0, rc;
    aj_alg_e alg = aj_alg_from_name(alg_name, strlen(alg_name));
    apr_size_t priv_len = 0, pub_len = 0;
    EVP_PKEY *pkey;

    if (alg == AJ_ALG_UNKNOWN) {
        return htjwt_syntax("unknown algorithm '%s'", alg_name);
    }
    if (out && pub && !strcmp(out, pub)) {
        return htjwt_syntax("-o and -p name the same file");
    }
    if (aj_alg_is_hmac(alg)) {
        unsigned char raw[HTJWT_SECRET_MAX_RANDOM];
        apr_size_t n = htjwt_hs_random_bytes(alg);
        char *secret;

        if (pub) {
            return htjwt_syntax("-p: an HMAC secret has no public part");
        }
        if (RAND_bytes(raw, (int)n) != 1) {
            return htjwt_err(HTJWT_EGENERAL, "no randomness from OpenSSL");
        }
        secret = (char *)aj_b64url_encode(cx->pool, raw, n);
        OPENSSL_cleanse(raw, sizeof(raw));
        apr_pool_cleanup_register(cx->pool, secret, htjwt_cleanse_str, apr_pool_cleanup_null);
        if (out) {
            /* The file holds exactly the secret (no newline): every JWT
             * library reads the same bytes as the module. */
            rc = htjwt_write_new_file(out, secret, strlen(secret), HTJWT_MODE_PRIVATE, force);
        }
        else {
            rc = htjwt_emit(NULL, apr_pstrcat(cx->pool, secret, "\n", NULL), strlen(secret) + 1, 0,
                            0);
        }
        if (rc == HTJWT_OK && out) {
            fprintf(stderr,
                    "Wrote the %s secret (%" APR_SIZE_T_FMT " characters) to %s, "
                    "mode 0600\n  AuthJWTSigningKey %s file:%s\n",
                    aj_alg_name(alg), strlen(secret), out, aj_alg_name(alg),
                    htjwt_abs(cx->pool, out));
        }
        return rc;
    }

    pkey = htjwt_generate_pkey(alg);
    if (!pkey) {
        return htjwt_err(HTJWT_EGENERAL, "generating a %s key failed", aj_alg_name(alg));
    }
    priv_pem = htjwt_pem(cx->pool, pkey, 1, &priv_len);
    pub_pem = htjwt_pem(cx->pool, pkey, 0, &pub_len);
    EVP_PKEY_free(pkey);
    if (!priv_pem || !pub_pem) {
        return htjwt_err(HTJWT_EGENERAL, "encoding the %s key failed", aj_alg_name(alg));
    }
    apr_pool_cleanup_register(cx->pool, priv_pem, htjwt_cleanse_str, apr_pool_cleanup_null);
    /* The public file first: a refusal to overwrite it leaves no orphan
     * private key behind. */
    rc = pub ? htjwt_emit(pub, pub_pem, pub_len, HTJWT_MODE_PUBLIC, force) : HTJWT_OK;
    if (rc == HTJWT_OK) {
        rc = htjwt_emit(out, priv_pem, priv_len, HTJWT_MODE_PRIVATE, force);
    }
    if (rc == HTJWT_OK && !pub) {
        rc = htjwt_emit(NULL, pub_pem, pub_len, 0, 0);
    }
    if (rc == HTJWT_OK && out) {
        fprintf(stderr,
                "Wrote the %s private key to %s, mode 0600\n  AuthJWTSigningKey %s "
                "file:%s\n",
                aj_alg_name(alg), out, aj_alg_name(alg), htjwt_abs(cx->pool, out));
    }
    if (rc == HTJWT_OK && pub) {
        fprintf(stderr, "Wrote its public key to %s\n  AuthJWTVerifyKey %s file:%s\n", pub,
                aj_alg_name(alg), htjwt_abs(cx->pool, pub));
    }
    if (rc == HTJWT_OK && !aj_alg_supported(alg)) {
        fprintf(stderr, "Note: this build of mod_auth_jwt cannot use %s keys yet\n",
                aj_alg_name(alg));
    }
    return rc;
}

/*
 * aj_sign.c — signing and verifying with one key (RFC 7518 §3), through
 * OpenSSL 3: HMAC with EVP_MAC, RSA/ECDSA/Ed25519 with EVP_DigestSign and
 * EVP_DigestVerify.  ECDSA signatures are converted between JOSE's R||S and
 * OpenSSL's DER by aj_ecdsa.c, with its range checks.
 *
 * HMAC is the hot path of HS tokens: each thread keeps keyed contexts of
 * the keys it used last, so a verification allocates nothing.  For the
 * public-key algorithms each thread keeps, per key it used last, a context
 * that EVP_DigestVerifyInit set up once (padding included), and copies it
 * for each verification: a fresh init fetches the digest and the signature
 * algorithm from OpenSSL's provider store again (about 30K instructions, a
 * tenth of an RSA-2048 verification).
 */
#include <pthread.h>
#include <stdlib.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "aj_ecdsa.h"
#include "aj_sign.h"

/* RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes. */
#define AJ_ED25519_SIG_LEN 64

/* Each thread keeps a context for the last few HMAC keys it used (and for
 * the last few public keys it verified with, below), and
 * starts it over with EVP_MAC_init(ctx, NULL, 0, NULL): the same key, no
 * allocation and no copy of the key's pre-hashed pads beyond one digest
 * state.  Slots are matched by the key's serial, so a key freed and another
 * made at the same address (a configuration reload) never meet. */
#define AJ_HMAC_THREAD_SLOTS 4

typedef struct {
    apr_uint64_t serial; /* of the key ctx holds; 0: empty */
    EVP_MAC_CTX *ctx;
} aj_hmac_slot_t;

/* A public key's verification context, set up once by this thread and
 * never used itself: each verification runs on a copy, in work. */
typedef struct {
    apr_uint64_t serial; /* of the key ctx was set up for; 0: empty */
    EVP_MD_CTX *ctx;
} aj_verify_slot_t;

typedef struct {
    aj_hmac_slot_t slot[AJ_HMAC_THREAD_SLOTS];
    unsigned int next; /* the slot replaced next */
    aj_verify_slot_t vslot[AJ_HMAC_THREAD_SLOTS];
    unsigned int vnext;
    EVP_MD_CTX *work; /* the copy a verification runs on */
} aj_hmac_thread_t;

static pthread_once_t aj_hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t aj_hmac_tls;
static int aj_hmac_have_tls;

static void aj_hmac_thread_free(void *data)
{
    aj_hmac_thread_t *t = data;
    int i;

    for (i = 0; i < AJ_HMAC_THREAD_SLOTS; ++i) {
        EVP_MAC_CTX_free(t->slot[i].ctx);
        EVP_MD_CTX_free(t->vslot[i].ctx);
    }
    EVP_MD_CTX_free(t->work);
    free(t);
}

static void aj_hmac_tls_make(void)
{
    aj_hmac_have_tls = pthread_key_create(&aj_hmac_tls, aj_hmac_thread_free) == 0;
}

/* The thread key is given back when the module is unloaded (each restart
 * loads a fresh copy that makes its own), as in aj_digest.c. */
__attribute__((destructor)) static void aj_hmac_tls_unload(void)
{
    if (aj_hmac_have_tls) {
        (void)pthread_key_delete(aj_hmac_tls);
        aj_hmac_have_tls = 0;
    }
}

/* This thread's contexts; NULL when there are none. */
static aj_hmac_thread_t *aj_sign_thread(void)
{
    aj_hmac_thread_t *t;

    if (pthread_once(&aj_hmac_once, aj_hmac_tls_make) != 0 || !aj_hmac_have_tls) {
        return NULL;
    }
    t = pthread_getspecific(aj_hmac_tls);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t || pthread_setspecific(aj_hmac_tls, t) != 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* This thread's context for key, ready for EVP_MAC_update; NULL when there
 * is none (the caller duplicates the key's context for this one call). */
static EVP_MAC_CTX *aj_hmac_thread_ctx(const aj_key_t *key)
{
    const apr_uint64_t serial = aj_key_serial(key);
    aj_hmac_thread_t *t = aj_sign_thread();
    aj_hmac_slot_t *s;
    int i;

    if (!t || !serial) {
        return NULL;
    }
    for (i = 0; i < AJ_HMAC_THREAD_SLOTS; ++i) {
        s = &t->slot[i];
        if (s->serial == serial && s->ctx) {
            return EVP_MAC_init(s->ctx, NULL, 0, NULL) == 1 ? s->ctx : NULL;
        }
    }
    s = &t->slot[t->next++ % AJ_HMAC_THREAD_SLOTS];
    EVP_MAC_CTX_free(s->ctx);
    s->ctx = EVP_MAC_CTX_dup(aj_key_hmac_ctx(key)); /* keyed, not yet updated */
    s->serial = s->ctx ? serial : 0;
    return s->ctx;
}

/* HMAC of data into mac[EVP_MAX_MD_SIZE]. */
static apr_status_t aj_sign_hmac(unsigned char *mac, apr_size_t *maclen, const aj_key_t *key,
                                 const aj_alg_info_t *info, const unsigned char *data,
                                 apr_size_t len)
{
    const EVP_MAC_CTX *keyed = aj_key_hmac_ctx(key);
    EVP_MAC_CTX *ctx, *own = NULL;
    size_t n = 0;
    apr_status_t rv = APR_EGENERAL;

    if (info->kty != AJ_KTY_HMAC || !keyed) {
        return APR_EINVAL;
    }
    ctx = aj_hmac_thread_ctx(key);
    if (!ctx) {
        ctx = own = EVP_MAC_CTX_dup(keyed); /* the shared context is only read */
    }
    if (ctx && EVP_MAC_update(ctx, data, len) == 1
        && EVP_MAC_final(ctx, mac, &n, EVP_MAX_MD_SIZE) == 1 && n == info->hmac_len) {
        *maclen = n;
        rv = APR_SUCCESS;
    }
    EVP_MAC_CTX_free(own);
    return rv;
}

/* The HMAC operations.  Signing (match NULL): *sig is a pool copy of the
 * MAC.  Verifying: *match says whether expect is the MAC, compared in
 * constant time (its length is public: it follows from alg).  The MAC on
 * the stack is a valid signature of what was given, so it is cleansed
 * either way. */
static apr_status_t aj_sign_hmac_op(unsigned char **sig, apr_size_t *siglen, int *match,
                                    apr_pool_t *p, const aj_key_t *key, const aj_alg_info_t *info,
                                    const unsigned char *data, apr_size_t len,
                                    const unsigned char *expect, apr_size_t expect_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    apr_size_t maclen = 0;
    apr_status_t rv = aj_sign_hmac(mac, &maclen, key, info, data, len);

    if (rv == APR_SUCCESS && match) {
        *match = expect_len == maclen && !CRYPTO_memcmp(mac, expect, maclen);
    }
    else if (rv == APR_SUCCESS) {
        *sig = apr_pmemdup(p, mac, maclen);
        *siglen = maclen;
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

/* A digest-sign or digest-verify context for key, with RSA padding set:
 * PKCS#1 v1.5 for RS; for PS, PSS with MGF1 over the same hash and a salt
 * as long as the hash (RFC 7518 §3.5). */
static EVP_MD_CTX *aj_sign_md_ctx(const aj_key_t *key, const aj_alg_info_t *info, int sign)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = aj_alg_md(info);
    int ok;

    if (info->md && !md) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }

    if (!ctx) {
        return NULL;
    }
    ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, aj_key_pkey(key))
              : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, aj_key_pkey(key));
    if (ok == 1 && info->kty == AJ_KTY_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
    }
    else if (ok == 1 && info->kty == AJ_KTY_RSA_PSS) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
             && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
    }
    if (ok != 1) {
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

static apr_status_t aj_sign_pkey_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                                      const aj_key_t *key, const aj_alg_info_t *info,
                                      const unsigned char *data, apr_size_t len)
{
    EVP_MD_CTX *ctx = aj_sign_md_ctx(key, info, 1);
    unsigned char *out = NULL;
    size_t outlen = 0;
    apr_status_t rv = APR_EGENERAL;

    if (!ctx || EVP_DigestSign(ctx, NULL, &outlen, data, len) != 1) {
        goto cleanup;
    }
    out = apr_palloc(p, outlen);
    if (EVP_DigestSign(ctx, out, &outlen, data, len) != 1) {
        goto cleanup;
    }
    if (info->kty == AJ_KTY_EC) {
        /* OpenSSL gives DER; JOSE wants R||S (RFC 7518 §3.4). */
        rv = aj_ecdsa_to_raw(sig, siglen, p, info->ec_coord, out, outlen);
        goto cleanup;
    }
    *sig = out;
    *siglen = outlen;
    rv = APR_SUCCESS;

cleanup:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rv;
}

/* A verification context for key, set up and ready for EVP_DigestVerify:
 * a copy, in this thread's work context, of the one this thread set up for
 * key before.  NULL when there is none (the caller sets one up for this
 * one call). */
static EVP_MD_CTX *aj_verify_thread_ctx(const aj_key_t *key, const aj_alg_info_t *info)
{
    const apr_uint64_t serial = aj_key_serial(key);
    aj_hmac_thread_t *t = aj_sign_thread();
    aj_verify_slot_t *s = NULL;
    int i;

    if (!t || !serial) {
        return NULL;
    }
    if (!t->work && !(t->work = EVP_MD_CTX_new())) {
        return NULL;
    }
    for (i = 0; i < AJ_HMAC_THREAD_SLOTS && !s; ++i) {
        if (t->vslot[i].serial == serial && t->vslot[i].ctx) {
            s = &t->vslot[i];
        }
    }
    if (!s) {
        s = &t->vslot[t->vnext++ % AJ_HMAC_THREAD_SLOTS];
        EVP_MD_CTX_free(s->ctx);
        s->ctx = aj_sign_md_ctx(key, info, 0);
        s->serial = s->ctx ? serial : 0;
        if (!s->ctx) {
            return NULL;
        }
    }
    if (EVP_MD_CTX_copy_ex(t->work, s->ctx) != 1) {
        ERR_clear_error();
        return NULL;
    }
    return t->work;
}

static apr_status_t aj_sign_pkey_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                                        const aj_alg_info_t *info, const unsigned char *data,
                                        apr_size_t len, const unsigned char *sig, apr_size_t siglen)
{
    EVP_MD_CTX *ctx = NULL, *own = NULL;
    const unsigned char *s = sig;
    unsigned char *der = NULL;
    apr_size_t slen = siglen;
    apr_status_t rv = APR_SUCCESS;

    *match = 0;
    /* The signature's size follows from the key: anything else is refused
     * before OpenSSL sees it. */
    switch (info->kty) {
    case AJ_KTY_RSA:
    case AJ_KTY_RSA_PSS:
        if (siglen != (apr_size_t)EVP_PKEY_get_size(aj_key_pkey(key))) {
            goto cleanup;
        }
        break;
    case AJ_KTY_EC:
        rv = aj_ecdsa_to_der(&der, &slen, p, aj_key_ec_order(key), info->ec_coord, sig, siglen);
        if (rv == APR_EINVAL) {
            rv = APR_SUCCESS; /* a refused signature, not a failed check */
            goto cleanup;
        }
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        s = der;
        break;
    case AJ_KTY_ED25519:
        if (siglen != AJ_ED25519_SIG_LEN) {
            goto cleanup;
        }
        break;
    default: rv = APR_EINVAL; goto cleanup;
    }
    ctx = aj_verify_thread_ctx(key, info);
    if (!ctx) {
        ctx = own = aj_sign_md_ctx(key, info, 0);
    }
    if (!ctx) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *match = EVP_DigestVerify(ctx, s, slen, data, len) == 1;

cleanup:
    EVP_MD_CTX_free(own);
    ERR_clear_error();
    return rv;
}

apr_status_t aj_key_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                         const aj_key_t *key, const unsigned char *data, apr_size_t len)
{
    const aj_alg_info_t *info = key ? aj_alg_info(aj_key_alg(key)) : NULL;

    if (!info) {
        return APR_ENOTIMPL;
    }
    if (!aj_key_can_sign(key)) {
        return APR_EINVAL;
    }
    if (info->kty == AJ_KTY_HMAC) {
        return aj_sign_hmac_op(sig, siglen, NULL, p, key, info, data, len, NULL, 0);
    }
    return aj_sign_pkey_sign(sig, siglen, p, key, info, data, len);
}

apr_status_t aj_key_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                           const unsigned char *data, apr_size_t len, const unsigned char *sig,
                           apr_size_t siglen)
{
    const aj_alg_info_t *info = key ? aj_alg_info(aj_key_alg(key)) : NULL;
    int m = 0;
    apr_status_t rv;

    if (!info) {
        return APR_ENOTIMPL;
    }
    rv = info->kty == AJ_KTY_HMAC
             ? aj_sign_hmac_op(NULL, NULL, &m, p, key, info, data, len, sig, siglen)
             : aj_sign_pkey_verify(&m, p, key, info, data, len, sig, siglen);
    if (rv == APR_SUCCESS) {
        *match = m;
    }
    return rv;
}

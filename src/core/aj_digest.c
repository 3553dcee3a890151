/*
 * aj_digest.c — SHA-256 with the algorithm fetched once (see aj_digest.h).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "aj_digest.h"

static pthread_once_t aj_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *aj_sha256_md; /* fetched once, never freed, then read-only */
/* Each thread's digest context, reused (EVP_DigestInit_ex2 resets it) and
 * freed when the thread exits. */
static pthread_key_t aj_sha256_ctx_key;
static int aj_sha256_have_key;

static void aj_sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void aj_sha256_fetch(void)
{
    aj_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    aj_sha256_have_key = pthread_key_create(&aj_sha256_ctx_key, aj_sha256_ctx_free) == 0;
}

/* This thread's context, NULL when none can be had. */
static EVP_MD_CTX *aj_sha256_ctx(void)
{
    EVP_MD_CTX *ctx;

    if (!aj_sha256_have_key) {
        return NULL;
    }
    ctx = pthread_getspecific(aj_sha256_ctx_key);
    if (!ctx && (ctx = EVP_MD_CTX_new()) != NULL
        && pthread_setspecific(aj_sha256_ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

apr_status_t aj_sha256(unsigned char out[AJ_SHA256_LEN], const void *a, apr_size_t alen,
                       const void *b, apr_size_t blen)
{
    EVP_MD_CTX *ctx, *own = NULL;
    unsigned int n = 0;
    apr_status_t rv = APR_EGENERAL;

    if (pthread_once(&aj_sha256_once, aj_sha256_fetch) != 0 || !aj_sha256_md) {
        return APR_EGENERAL;
    }
    ctx = aj_sha256_ctx();
    if (!ctx) {
        /* no thread context (no thread key left): one for this call */
        ctx = own = EVP_MD_CTX_new();
        if (!ctx) {
            return APR_ENOMEM;
        }
    }
    if (EVP_DigestInit_ex2(ctx, aj_sha256_md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1
        && (!b || EVP_DigestUpdate(ctx, b, blen) == 1) && EVP_DigestFinal_ex(ctx, out, &n) == 1
        && n == AJ_SHA256_LEN) {
        rv = APR_SUCCESS;
    }
    EVP_MD_CTX_free(own);
    return rv;
}

/* httpd unloads the module at each restart and loads a fresh copy, whose
 * first digest makes a new thread key: the old one is given back here, or
 * some hundreds of restarts would use up the process's keys.  The values
 * are not freed here: at exit OpenSSL may already be cleaned up, and a
 * thread's context is freed when the thread ends anyway. */
__attribute__((destructor)) static void aj_sha256_unload(void)
{
    if (aj_sha256_have_key) {
        (void)pthread_key_delete(aj_sha256_ctx_key);
        aj_sha256_have_key = 0;
    }
}

apr_status_t aj_store_id_make(aj_store_id_t *id, const char *driver, const char *params)
{
    unsigned char md[AJ_SHA256_LEN];
    const char *d = driver ? driver : "";
    const char *q = params ? params : "";
    apr_status_t rv;

    /* driver NUL params: "a" + "bc" and "ab" + "c" differ */
    rv = aj_sha256(md, d, strlen(d) + 1, q, strlen(q));
    if (rv == APR_SUCCESS) {
        memcpy(id->b, md, AJ_STORE_ID_LEN);
    }
    return rv;
}

/*
 * aj_digest.c — SHA-256 with the algorithm fetched once (see aj_digest.h).
 */
#include <pthread.h>

#include <openssl/evp.h>

#include "aj_digest.h"

static pthread_once_t aj_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *aj_sha256_md;    /* fetched once, never freed, then read-only */

static void aj_sha256_fetch(void)
{
    aj_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

apr_status_t aj_sha256(unsigned char out[AJ_SHA256_LEN], const void *a, apr_size_t alen,
                       const void *b, apr_size_t blen)
{
    EVP_MD_CTX *ctx;
    unsigned int n = 0;
    apr_status_t rv = APR_EGENERAL;

    if (pthread_once(&aj_sha256_once, aj_sha256_fetch) != 0 || !aj_sha256_md) {
        return APR_EGENERAL;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        return APR_ENOMEM;
    }
    if (EVP_DigestInit_ex2(ctx, aj_sha256_md, NULL) == 1
        && EVP_DigestUpdate(ctx, a, alen) == 1
        && (!b || EVP_DigestUpdate(ctx, b, blen) == 1)
        && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == AJ_SHA256_LEN) {
        rv = APR_SUCCESS;
    }
    EVP_MD_CTX_free(ctx);
    return rv;
}

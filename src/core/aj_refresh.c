/*
 * aj_refresh.c — refresh tokens as the core sees them (see aj_refresh.h):
 * random text for the client, its SHA-256 for the store.
 *
 * Why a plain SHA-256 and not a slow, salted hash: the token has 256 bits
 * of entropy, so there is no dictionary to guess from and a salt or a work
 * factor would add nothing; an unsalted digest is also what lets the store
 * find the row by its primary key (RFC 9700 §4.14 leaves the storage to the
 * server; this is the usual choice for high-entropy secrets).
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>

#include "aj_b64.h"
#include "aj_digest.h"
#include "aj_issue.h"
#include "aj_refresh.h"

static const char aj_refresh_hex_digits[] = "0123456789abcdef";

apr_status_t aj_refresh_token_hash(const char **hash, apr_pool_t *p, const char *raw)
{
    unsigned char md[AJ_SHA256_LEN];
    char *out;
    apr_size_t i;
    apr_status_t rv = APR_EINVAL;

    if (!raw || strnlen(raw, AJ_REFRESH_TOKEN_LEN + 1) != AJ_REFRESH_TOKEN_LEN
        || !aj_b64url_valid(raw, AJ_REFRESH_TOKEN_LEN)) {
        goto cleanup;
    }
    rv = aj_sha256(md, raw, AJ_REFRESH_TOKEN_LEN, NULL, 0);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    out = apr_palloc(p, AJ_REFRESH_HASH_LEN + 1);
    for (i = 0; i < AJ_SHA256_LEN; ++i) {
        out[2 * i] = aj_refresh_hex_digits[md[i] >> 4];
        out[2 * i + 1] = aj_refresh_hex_digits[md[i] & 0x0f];
    }
    out[AJ_REFRESH_HASH_LEN] = '\0';
    *hash = out;

cleanup:
    OPENSSL_cleanse(md, sizeof(md));
    return rv;
}

apr_status_t aj_refresh_token_new(const char **raw, const char **hash, apr_pool_t *p)
{
    const char *r = NULL, *h = NULL;
    apr_status_t rv;

    rv = aj_random_id(&r, p, AJ_REFRESH_RANDOM_BYTES);
    if (rv == APR_SUCCESS) {
        rv = aj_refresh_token_hash(&h, p, r);
    }
    if (rv == APR_SUCCESS) {
        *raw = r;
        *hash = h;
    }
    return rv;
}

apr_status_t aj_refresh_family_new(const char **family, apr_pool_t *p)
{
    return aj_random_id(family, p, AJ_REFRESH_FAMILY_BYTES);
}

const char *aj_refresh_sid_key(apr_pool_t *p, const char *family)
{
    return apr_pstrcat(p, AJ_REFRESH_SID_PREFIX, family, NULL);
}

/*
 * aj_password.c — bcrypt ($2y$) hashing through apr_bcrypt_encode, and
 * verification of every hash apr_password_validate understands (bcrypt,
 * htpasswd's $apr1$ and {SHA}, crypt(3)).
 */
#include <string.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include <openssl/crypto.h>

#include "aj_password.h"

/* bcrypt takes a 16-byte salt and writes a 60-character hash. */
#define AJ_BCRYPT_SALT_LEN  16
#define AJ_BCRYPT_HASH_BUF  64
#define AJ_BCRYPT_PREFIX    "$2y$"

apr_status_t aj_password_hash(const char **hash, apr_pool_t *p, const char *password, int cost)
{
    unsigned char salt[AJ_BCRYPT_SALT_LEN];
    char buf[AJ_BCRYPT_HASH_BUF];
    apr_status_t rv = APR_EINVAL;

    memset(buf, 0, sizeof(buf));
    if (!password || strlen(password) > AJ_PASSWORD_MAX_LEN
        || cost < AJ_BCRYPT_COST_MIN || cost > AJ_BCRYPT_COST_MAX) {
        goto cleanup;
    }
    rv = apr_generate_random_bytes(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_bcrypt_encode(password, (unsigned int)cost, salt, sizeof(salt), buf, sizeof(buf));
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (strncmp(buf, AJ_BCRYPT_PREFIX, strlen(AJ_BCRYPT_PREFIX))) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *hash = apr_pstrdup(p, buf);

cleanup:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

int aj_password_verify(const char *password, const char *hash)
{
    if (!password || !hash || !*hash || strlen(password) > AJ_PASSWORD_MAX_LEN) {
        return 0;
    }
    return apr_password_validate(password, hash) == APR_SUCCESS;
}

/*
 * aj_alg.c — the algorithm table: one row per JOSE signature algorithm,
 * with the key type, digest and sizes it needs.  Every other key file reads
 * its facts from here, so an algorithm is described in exactly one place.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include "aj_alg.h"

/* RFC 7518 §3.4: the byte sizes of R and S per curve. */
#define AJ_P256_COORD 32
#define AJ_P384_COORD 48
#define AJ_P521_COORD AJ_EC_MAX_COORD

#define AJ_WANT_SECRET "a secret"
#define AJ_WANT_RSA    "an RSA key of at least 2048 bits"

static const aj_alg_info_t aj_algs[] = {
    { AJ_ALG_HS256, "HS256", AJ_KTY_HMAC, SHA256_DIGEST_LENGTH, EVP_sha256, 0, 0, AJ_WANT_SECRET },
    { AJ_ALG_HS384, "HS384", AJ_KTY_HMAC, SHA384_DIGEST_LENGTH, EVP_sha384, 0, 0, AJ_WANT_SECRET },
    { AJ_ALG_HS512, "HS512", AJ_KTY_HMAC, SHA512_DIGEST_LENGTH, EVP_sha512, 0, 0, AJ_WANT_SECRET },
    { AJ_ALG_RS256, "RS256", AJ_KTY_RSA, 0, EVP_sha256, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_RS384, "RS384", AJ_KTY_RSA, 0, EVP_sha384, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_RS512, "RS512", AJ_KTY_RSA, 0, EVP_sha512, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_PS256, "PS256", AJ_KTY_RSA_PSS, 0, EVP_sha256, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_PS384, "PS384", AJ_KTY_RSA_PSS, 0, EVP_sha384, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_PS512, "PS512", AJ_KTY_RSA_PSS, 0, EVP_sha512, 0, 0, AJ_WANT_RSA },
    { AJ_ALG_ES256, "ES256", AJ_KTY_EC, 0, EVP_sha256, NID_X9_62_prime256v1, AJ_P256_COORD,
      "an EC key on curve P-256" },
    { AJ_ALG_ES384, "ES384", AJ_KTY_EC, 0, EVP_sha384, NID_secp384r1, AJ_P384_COORD,
      "an EC key on curve P-384" },
    { AJ_ALG_ES512, "ES512", AJ_KTY_EC, 0, EVP_sha512, NID_secp521r1, AJ_P521_COORD,
      "an EC key on curve P-521" },
    { AJ_ALG_EDDSA, "EdDSA", AJ_KTY_ED25519, 0, NULL, 0, 0, "an Ed25519 key" },
};

#define AJ_ALG_TABLE_LEN (sizeof(aj_algs) / sizeof(aj_algs[0]))

const aj_alg_info_t *aj_alg_info(aj_alg_e alg)
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

    return info && info->kty == AJ_KTY_HMAC;
}

apr_size_t aj_alg_hmac_len(aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    return (info && info->kty == AJ_KTY_HMAC) ? info->hmac_len : 0;
}

int aj_alg_supported(aj_alg_e alg)
{
    return aj_alg_info(alg) != NULL;
}

/* The digests of the table, fetched once from OpenSSL's default provider.
 * OpenSSL 3 fetches the digest again behind every EVP_sha256() handed to
 * an init call (a lookup in the provider store, with its locks); a fetched
 * one is used as is.  Never freed: read-only, process lifetime. */
static pthread_once_t aj_alg_md_once = PTHREAD_ONCE_INIT;
static EVP_MD *aj_alg_sha256, *aj_alg_sha384, *aj_alg_sha512;

static void aj_alg_md_fetch(void)
{
    aj_alg_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    aj_alg_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    aj_alg_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

const struct evp_md_st *aj_alg_md(const aj_alg_info_t *info)
{
    if (!info || !info->md || pthread_once(&aj_alg_md_once, aj_alg_md_fetch) != 0) {
        return NULL;
    }
    switch (EVP_MD_get_type(info->md())) {
    case NID_sha256: return aj_alg_sha256;
    case NID_sha384: return aj_alg_sha384;
    case NID_sha512: return aj_alg_sha512;
    default: return NULL;
    }
}

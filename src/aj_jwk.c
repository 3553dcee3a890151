/*
 * aj_jwk.c — the public half of asymmetric keys as JWK (RFC 7517 §4,
 * RFC 7518 §6.2.1 and §6.3.1, RFC 8037 §2) and the JWK Set the
 * auth-jwt-jwks handler serves.
 *
 * Only the public parameters are read from OpenSSL (n, e; the EC point;
 * the Ed25519 public key), so no private member can reach the output
 * whatever the key holds.  Integers are unsigned big-endian base64url:
 * n and e without leading zero bytes (RFC 7518 §6.3.1.1), EC coordinates
 * padded to the curve's size (RFC 7518 §6.2.1.2: 32, 48 or 66 bytes).
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "aj_b64.h"
#include "aj_json.h"
#include "aj_jwk.h"

#define AJ_JWK_USE_SIG      "sig"
/* RFC 8037 §2: an Ed25519 public key is 32 bytes. */
#define AJ_ED25519_PUB_LEN  32
/* Bits of an EC field rounded up to bytes. */
#define AJ_BITS_TO_BYTES(b) (((b) + 7) / 8)

/* obj[name] = value (a string); 0 when out of memory. */
static int aj_jwk_add(json_object *obj, const char *name, const char *value)
{
    json_object *v = value ? json_object_new_string(value) : NULL;

    if (!v || json_object_object_add(obj, name, v) != 0) {
        json_object_put(v);
        return 0;
    }
    return 1;
}

/* A BIGNUM parameter of pkey, base64url; pad > 0 pads to pad bytes, 0 is
 * the minimal encoding.  NULL when the key has no such parameter. */
static const char *aj_jwk_bn_param(apr_pool_t *p, const EVP_PKEY *pkey, const char *param,
                                   int pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    const char *out = NULL;
    int len;

    if (!EVP_PKEY_get_bn_param(pkey, param, &bn) || !bn) {
        goto cleanup;
    }
    len = pad > 0 ? pad : BN_num_bytes(bn);
    if (len <= 0) {
        goto cleanup;
    }
    buf = apr_palloc(p, (apr_size_t)len);
    if (BN_bn2binpad(bn, buf, len) != len) {
        goto cleanup;
    }
    out = aj_b64url_encode(p, buf, (apr_size_t)len);

cleanup:
    BN_free(bn);
    return out;
}

/* The JWK members that depend on the key type, and crv for EC. */
static apr_status_t aj_jwk_params(json_object *jwk, apr_pool_t *p, const aj_key_t *key)
{
    const EVP_PKEY *pkey = aj_key_pkey(key);
    aj_alg_e alg = aj_key_alg(key);
    unsigned char raw[AJ_ED25519_PUB_LEN];
    size_t rawlen = sizeof(raw);
    int coord;

    switch (alg) {
    case AJ_ALG_RS256: case AJ_ALG_RS384: case AJ_ALG_RS512:
    case AJ_ALG_PS256: case AJ_ALG_PS384: case AJ_ALG_PS512:
        if (!aj_jwk_add(jwk, "kty", "RSA")
            || !aj_jwk_add(jwk, "n", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_RSA_N, 0))
            || !aj_jwk_add(jwk, "e", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_RSA_E, 0))) {
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case AJ_ALG_ES256: case AJ_ALG_ES384: case AJ_ALG_ES512:
        coord = AJ_BITS_TO_BYTES(EVP_PKEY_get_bits(pkey));
        if (!aj_jwk_add(jwk, "kty", "EC")
            || !aj_jwk_add(jwk, "crv", alg == AJ_ALG_ES256   ? "P-256"
                                       : alg == AJ_ALG_ES384 ? "P-384"
                                                             : "P-521")
            || !aj_jwk_add(jwk, "x", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord))
            || !aj_jwk_add(jwk, "y",
                           aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord))) {
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case AJ_ALG_EDDSA:
        if (!EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) || rawlen != AJ_ED25519_PUB_LEN
            || !aj_jwk_add(jwk, "kty", "OKP") || !aj_jwk_add(jwk, "crv", "Ed25519")
            || !aj_jwk_add(jwk, "x", aj_b64url_encode(p, raw, rawlen))) {
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    default:
        return APR_ENOENT;
    }
}

/* The JWK of key, not owned by any pool (the caller puts it). */
static apr_status_t aj_jwk_build(json_object **out, apr_pool_t *p, const aj_key_t *key)
{
    json_object *jwk = NULL;
    apr_status_t rv = APR_ENOENT;

    if (!key || aj_alg_is_hmac(aj_key_alg(key)) || !aj_key_pkey(key)) {
        goto cleanup;
    }
    rv = APR_ENOMEM;
    jwk = json_object_new_object();
    if (!jwk) {
        goto cleanup;
    }
    rv = aj_jwk_params(jwk, p, key);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = APR_ENOMEM;
    if ((aj_key_kid(key) && !aj_jwk_add(jwk, "kid", aj_key_kid(key)))
        || !aj_jwk_add(jwk, "alg", aj_alg_name(aj_key_alg(key)))
        || !aj_jwk_add(jwk, "use", AJ_JWK_USE_SIG)) {
        goto cleanup;
    }
    *out = jwk;
    jwk = NULL;
    rv = APR_SUCCESS;

cleanup:
    json_object_put(jwk);
    return rv;
}

apr_status_t aj_jwk_from_key(json_object **jwk, apr_pool_t *p, const aj_key_t *key)
{
    json_object *obj = NULL;
    apr_status_t rv = aj_jwk_build(&obj, p, key);

    if (rv == APR_SUCCESS) {
        *jwk = aj_json_own(p, obj);
    }
    return rv;
}

apr_status_t aj_jwk_set_json(const char **json, apr_pool_t *p, const aj_keyset_t *ks)
{
    json_object *set = NULL, *keys = NULL, *jwk = NULL;
    const char *text;
    int i;
    apr_status_t rv = APR_ENOMEM;

    set = json_object_new_object();
    keys = json_object_new_array();
    if (!set || !keys || json_object_object_add(set, "keys", keys) != 0) {
        json_object_put(keys);
        goto cleanup;
    }
    for (i = 0; i < aj_keyset_count(ks); ++i) {
        rv = aj_jwk_build(&jwk, p, aj_keyset_get(ks, i));
        if (rv == APR_ENOENT) {
            continue;           /* HMAC: never published */
        }
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        if (json_object_array_add(keys, jwk) != 0) {
            json_object_put(jwk);
            rv = APR_ENOMEM;
            goto cleanup;
        }
    }
    text = aj_json_dump(p, set);
    if (!text) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    *json = text;
    rv = APR_SUCCESS;

cleanup:
    json_object_put(set);
    return rv;
}

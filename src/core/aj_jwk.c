/*
 * aj_jwk.c — one key as a JWK and back (RFC 7517 §4, RFC 7518 §6.2.1 and
 * §6.3.1, RFC 8037 §2).
 *
 * Out: only the public parameters are read from OpenSSL (n, e; the EC
 * point; the Ed25519 public key), so no private member can reach the output
 * whatever the key holds.  Integers are unsigned big-endian base64url:
 * n and e without leading zero bytes (RFC 7518 §6.3.1.1), EC coordinates
 * padded to the curve's size (RFC 7518 §6.2.1.2: 32, 48 or 66 bytes).
 *
 * In: a JWK becomes verify-only keys under docs/reference.md §11's JWK
 * rules; every key it makes goes through the same checks as a PEM key
 * (aj_key_from_pkey, aj_key_hmac_make).  Whole JWK Sets: aj_jwks.c (in)
 * and aj_keyset.c (out).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

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
static const char *aj_jwk_bn_param(apr_pool_t *p, const EVP_PKEY *pkey, const char *param, int pad)
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
    case AJ_ALG_RS256:
    case AJ_ALG_RS384:
    case AJ_ALG_RS512:
    case AJ_ALG_PS256:
    case AJ_ALG_PS384:
    case AJ_ALG_PS512:
        if (!aj_jwk_add(jwk, "kty", "RSA")
            || !aj_jwk_add(jwk, "n", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_RSA_N, 0))
            || !aj_jwk_add(jwk, "e", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_RSA_E, 0))) {
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case AJ_ALG_ES256:
    case AJ_ALG_ES384:
    case AJ_ALG_ES512:
        coord = AJ_BITS_TO_BYTES(EVP_PKEY_get_bits(pkey));
        if (!aj_jwk_add(jwk, "kty", "EC")
            || !aj_jwk_add(jwk, "crv",
                           alg == AJ_ALG_ES256   ? "P-256"
                           : alg == AJ_ALG_ES384 ? "P-384"
                                                 : "P-521")
            || !aj_jwk_add(jwk, "x", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord))
            || !aj_jwk_add(jwk, "y", aj_jwk_bn_param(p, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord))) {
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
    default: return APR_ENOENT;
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

apr_status_t aj_jwk_text(const char **json, apr_pool_t *p, const aj_key_t *key)
{
    json_object *obj = NULL;
    const char *text;
    apr_status_t rv = aj_jwk_build(&obj, p, key);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    text = aj_json_dump(p, obj);
    json_object_put(obj);
    if (!text) {
        return APR_ENOMEM;
    }
    *json = text;
    return APR_SUCCESS;
}

/* ---- JWK import (docs/reference.md §11 JWK rules) ------------------------------------ */

#define AJ_JWK_OP_VERIFY             "verify"
#define AJ_JWK_EC_POINT_UNCOMPRESSED 0x04 /* SEC 1 §2.3.3 */

/* The curves of kty EC (RFC 7518 §6.2.1.1) and the one alg each allows. */
typedef struct {
    const char *crv;
    const char *group; /* OpenSSL's name */
    aj_alg_e alg;
    apr_size_t coord; /* bytes of x and of y (RFC 7518 §6.2.1.2) */
} aj_jwk_curve_t;

static const aj_jwk_curve_t aj_jwk_curves[] = {
    { "P-256", "prime256v1", AJ_ALG_ES256, 32 },
    { "P-384", "secp384r1", AJ_ALG_ES384, 48 },
    { "P-521", "secp521r1", AJ_ALG_ES512, 66 },
};

static const aj_alg_e aj_jwk_rsa_algs[] = {
    AJ_ALG_RS256, AJ_ALG_RS384, AJ_ALG_RS512, AJ_ALG_PS256, AJ_ALG_PS384, AJ_ALG_PS512,
};
static const aj_alg_e aj_jwk_hmac_algs[] = { AJ_ALG_HS256, AJ_ALG_HS384, AJ_ALG_HS512 };

#define AJ_JWK_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A member that must be a string when present: 1 with *out set, 0 when
 * absent, -1 when present with another type. */
static int aj_jwk_str(json_object *jwk, const char *name, const char **out)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(jwk, name, &v)) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return -1;
    }
    *out = json_object_get_string(v);
    return 1;
}

const char *aj_jwk_kid(json_object *jwk)
{
    const char *kid = NULL;

    return aj_jwk_str(jwk, "kid", &kid) == 1 ? kid : NULL;
}

/* The bytes of a base64url member; APR_EINVAL when absent or not strict
 * base64url. */
static apr_status_t aj_jwk_bytes(unsigned char **out, apr_size_t *len, apr_pool_t *p,
                                 json_object *jwk, const char *name)
{
    const char *s = NULL;

    if (aj_jwk_str(jwk, name, &s) != 1) {
        return APR_EINVAL;
    }
    return aj_b64url_decode(out, len, p, s, strlen(s));
}

/* "use" absent or "sig"; "key_ops" absent or an array of strings holding
 * "verify".  NULL when the key may verify, else the reason. */
static const char *aj_jwk_check_usage(json_object *jwk)
{
    json_object *ops = NULL, *op;
    const char *use = NULL;
    apr_size_t i, n;
    int verify = 0;

    switch (aj_jwk_str(jwk, "use", &use)) {
    case -1: return "\"use\" is not a string";
    case 1:
        if (strcmp(use, AJ_JWK_USE_SIG)) {
            return "\"use\" is not \"sig\" (the key is not for signatures)";
        }
        break;
    default: break;
    }
    if (!json_object_object_get_ex(jwk, "key_ops", &ops)) {
        return NULL;
    }
    if (!json_object_is_type(ops, json_type_array)) {
        return "\"key_ops\" is not an array";
    }
    n = json_object_array_length(ops);
    for (i = 0; i < n; ++i) {
        op = json_object_array_get_idx(ops, i);
        if (!json_object_is_type(op, json_type_string)) {
            return "\"key_ops\" holds a member that is not a string";
        }
        verify |= !strcmp(json_object_get_string(op), AJ_JWK_OP_VERIFY);
    }
    return verify ? NULL : "\"key_ops\" does not include \"verify\"";
}

/* A public key of OpenSSL type type ("RSA", "EC") from params; NULL when
 * OpenSSL refuses them (for EC, a point not on the curve). */
static EVP_PKEY *aj_jwk_public_pkey(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* A public RSA key from n and e (any size: aj_key_from_pkey checks it). */
static EVP_PKEY *aj_jwk_rsa_pkey(apr_pool_t *p, json_object *jwk)
{
    unsigned char *n = NULL, *e = NULL;
    apr_size_t nlen = 0, elen = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;

    if (aj_jwk_bytes(&n, &nlen, p, jwk, "n") != APR_SUCCESS || !nlen
        || aj_jwk_bytes(&e, &elen, p, jwk, "e") != APR_SUCCESS || !elen) {
        goto cleanup;
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)
        || !(params = OSSL_PARAM_BLD_to_param(bld))) {
        goto cleanup;
    }
    pkey = aj_jwk_public_pkey("RSA", params);

cleanup:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ERR_clear_error();
    return pkey;
}

/* A public EC key on curve from x and y, each exactly the curve's size.
 * NULL too when the point is not on the curve (OpenSSL refuses it). */
static EVP_PKEY *aj_jwk_ec_pkey(apr_pool_t *p, json_object *jwk, const aj_jwk_curve_t *curve)
{
    unsigned char *x = NULL, *y = NULL, *pub;
    apr_size_t xlen = 0, ylen = 0;
    OSSL_PARAM params[3];
    EVP_PKEY *pkey = NULL;

    if (aj_jwk_bytes(&x, &xlen, p, jwk, "x") != APR_SUCCESS || xlen != curve->coord
        || aj_jwk_bytes(&y, &ylen, p, jwk, "y") != APR_SUCCESS || ylen != curve->coord) {
        goto cleanup;
    }
    pub = apr_palloc(p, 1 + 2 * curve->coord);
    pub[0] = AJ_JWK_EC_POINT_UNCOMPRESSED;
    memcpy(pub + 1, x, curve->coord);
    memcpy(pub + 1 + curve->coord, y, curve->coord);
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve->group, 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * curve->coord);
    params[2] = OSSL_PARAM_construct_end();
    pkey = aj_jwk_public_pkey("EC", params);

cleanup:
    ERR_clear_error();
    return pkey;
}

static EVP_PKEY *aj_jwk_ed25519_pkey(apr_pool_t *p, json_object *jwk)
{
    unsigned char *x = NULL;
    apr_size_t xlen = 0;
    EVP_PKEY *pkey = NULL;

    if (aj_jwk_bytes(&x, &xlen, p, jwk, "x") == APR_SUCCESS && xlen == AJ_ED25519_PUB_LEN) {
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
    }
    ERR_clear_error();
    return pkey;
}

/* Keeps in algs[0..*n) only pinned (when it is not AJ_ALG_UNKNOWN).
 * 0 when pinned is not among them. */
static int aj_jwk_pin(aj_alg_e *algs, apr_size_t *n, aj_alg_e pinned)
{
    apr_size_t i;

    if (pinned == AJ_ALG_UNKNOWN) {
        return 1;
    }
    for (i = 0; i < *n; ++i) {
        if (algs[i] == pinned) {
            algs[0] = pinned;
            *n = 1;
            return 1;
        }
    }
    return 0;
}

apr_status_t aj_jwk_to_keys(apr_array_header_t **keys, const char **err, apr_pool_t *p,
                            json_object *jwk, int allow_oct)
{
    aj_alg_e algs[AJ_JWK_COUNT(aj_jwk_rsa_algs)];
    apr_size_t i, nalgs = 0, klen = 0;
    const char *kty = NULL, *kid = NULL, *alg_name = NULL, *crv = NULL, *why, *what;
    const aj_jwk_curve_t *curve = NULL;
    aj_alg_e pinned = AJ_ALG_UNKNOWN;
    apr_array_header_t *out;
    unsigned char *k = NULL;
    EVP_PKEY *pkey = NULL;
    aj_key_t *key;
    apr_status_t rv = APR_EINVAL;

    what = "JWK";
    if (!json_object_is_type(jwk, json_type_object)) {
        *err = "a JWK must be a JSON object";
        goto cleanup;
    }
    if (aj_jwk_str(jwk, "kid", &kid) < 0) {
        *err = "JWK: \"kid\" is not a string";
        goto cleanup;
    }
    if (kid) {
        what = apr_psprintf(p, "JWK \"%.*s\"", AJ_JWK_NAME_MAX, kid);
    }
    if (aj_jwk_str(jwk, "kty", &kty) != 1) {
        *err = apr_psprintf(p, "%s: \"kty\" is missing or not a string", what);
        goto cleanup;
    }
    why = aj_jwk_check_usage(jwk);
    if (why) {
        *err = apr_psprintf(p, "%s: %s", what, why);
        goto cleanup;
    }
    switch (aj_jwk_str(jwk, "alg", &alg_name)) {
    case -1: *err = apr_psprintf(p, "%s: \"alg\" is not a string", what); goto cleanup;
    case 1:
        pinned = aj_alg_from_name(alg_name, strlen(alg_name));
        if (pinned == AJ_ALG_UNKNOWN) {
            *err = apr_psprintf(p,
                                "%s: \"alg\" %.*s is not a signature algorithm this "
                                "module verifies",
                                what, AJ_JWK_NAME_MAX, alg_name);
            goto cleanup;
        }
        break;
    default: break;
    }
    /* The algorithms the key type allows (docs/reference.md §11), then the pin. */
    if (!strcmp(kty, "RSA")) {
        nalgs = AJ_JWK_COUNT(aj_jwk_rsa_algs);
        memcpy(algs, aj_jwk_rsa_algs, sizeof(aj_jwk_rsa_algs));
    }
    else if (!strcmp(kty, "EC") || !strcmp(kty, "OKP")) {
        if (aj_jwk_str(jwk, "crv", &crv) != 1) {
            *err = apr_psprintf(p, "%s: \"crv\" is missing or not a string", what);
            goto cleanup;
        }
        for (i = 0; !strcmp(kty, "EC") && i < AJ_JWK_COUNT(aj_jwk_curves); ++i) {
            if (!strcmp(crv, aj_jwk_curves[i].crv)) {
                curve = &aj_jwk_curves[i];
                algs[nalgs++] = curve->alg;
            }
        }
        if (!strcmp(kty, "OKP") && !strcmp(crv, "Ed25519")) {
            algs[nalgs++] = AJ_ALG_EDDSA;
        }
        if (!nalgs) {
            *err = apr_psprintf(p,
                                "%s: curve %.*s is not one of P-256, P-384, P-521 (EC) "
                                "or Ed25519 (OKP)",
                                what, AJ_JWK_NAME_MAX, crv);
            goto cleanup;
        }
    }
    else if (!strcmp(kty, "oct")) {
        if (!allow_oct) {
            *err = apr_psprintf(p, "%s: an HMAC secret (kty oct) is not taken from here", what);
            goto cleanup;
        }
        if (aj_jwk_bytes(&k, &klen, p, jwk, "k") != APR_SUCCESS) {
            *err = apr_psprintf(p, "%s: \"k\" is missing or not base64url", what);
            goto cleanup;
        }
        /* Without a pin, the HMAC algorithms the secret is long enough for. */
        for (i = 0; i < AJ_JWK_COUNT(aj_jwk_hmac_algs); ++i) {
            if (pinned == aj_jwk_hmac_algs[i] || klen >= aj_alg_hmac_len(aj_jwk_hmac_algs[i])) {
                algs[nalgs++] = aj_jwk_hmac_algs[i];
            }
        }
        if (!nalgs) {
            *err = apr_psprintf(p,
                                "%s: a secret of %" APR_SIZE_T_FMT " bytes is shorter than "
                                "any HMAC algorithm allows (HS256 needs %" APR_SIZE_T_FMT ")",
                                what, klen, aj_alg_hmac_len(AJ_ALG_HS256));
            goto cleanup;
        }
    }
    else {
        *err =
            apr_psprintf(p, "%s: kty %.*s is not RSA, EC, OKP or oct", what, AJ_JWK_NAME_MAX, kty);
        goto cleanup;
    }
    if (!nalgs || !aj_jwk_pin(algs, &nalgs, pinned)) {
        *err = apr_psprintf(p, "%s: \"alg\" %s does not fit a key of kty %s%s%s", what,
                            aj_alg_name(pinned), kty, crv ? " on " : "", crv ? crv : "");
        goto cleanup;
    }
    /* The key material; only public members are read (d, p, q... never). */
    if (!strcmp(kty, "RSA")) {
        pkey = aj_jwk_rsa_pkey(p, jwk);
    }
    else if (curve) {
        pkey = aj_jwk_ec_pkey(p, jwk, curve);
    }
    else if (!k) {
        pkey = aj_jwk_ed25519_pkey(p, jwk);
    }
    if (!k && !pkey) {
        *err = apr_psprintf(p,
                            "%s: the public key parameters are missing, not base64url, "
                            "of the wrong size, or not a valid %s key%s",
                            what, kty, curve ? " (a point of the curve)" : "");
        goto cleanup;
    }
    out = apr_array_make(p, (int)nalgs, sizeof(aj_key_t *));
    for (i = 0; i < nalgs; ++i) {
        key = NULL;
        rv = k ? aj_key_hmac_make(&key, &why, p, algs[i], k, klen, kid)
               : aj_key_from_pkey(&key, &why, p, algs[i], pkey, what, kid);
        if (rv != APR_SUCCESS) {
            *err = k ? apr_psprintf(p, "%s: %s", what, why) : why;
            goto cleanup;
        }
        APR_ARRAY_PUSH(out, aj_key_t *) = key;
    }
    *keys = out;
    rv = APR_SUCCESS;

cleanup:
    if (k) {
        OPENSSL_cleanse(k, klen); /* each key holds its own copy */
    }
    EVP_PKEY_free(pkey);
    return rv;
}

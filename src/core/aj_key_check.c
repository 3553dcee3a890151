/*
 * aj_key_check.c — the rules every key passes before it is used
 * (docs/reference.md §10, §11): an asymmetric key fits its algorithm (RSA
 * size, public exponent and the ROCA fingerprint; EC curve and point;
 * Ed25519), an HMAC secret is not a PEM key.  aj_key.c calls these for
 * every key, whatever its source (PEM file, JWK import, file:/env: secret);
 * they only read the key.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "aj_key_check.h"

/* RFC 7518 §3.3/§3.5: RSA keys of 2048 bits or larger MUST be used. */
#define AJ_RSA_MIN_BITS      2048
/* docs/reference.md §11: an RSA public exponent is odd and at least 3.  With e = 1 the
 * "signature" of a message is its own padded hash, which anyone can make;
 * an even e is not an RSA key at all. */
#define AJ_RSA_MIN_EXPONENT  3
/* docs/reference.md §10: the opening of any PEM block.  An HMAC "secret" holding one is
 * a public or private key given to an HS algorithm. */
#define AJ_PEM_BEGIN         "-----BEGIN"
/* Longest curve name OpenSSL reports ("prime256v1", "secp521r1", ...). */
#define AJ_EC_GROUP_NAME_MAX 64

/* The JOSE name of an EC key's curve ("P-256", ...), its OpenSSL name for
 * another named curve, or NULL. */
static const char *aj_key_ec_curve(apr_pool_t *p, const EVP_PKEY *pkey, int *nid)
{
    char name[AJ_EC_GROUP_NAME_MAX];
    size_t n = 0;
    const char *nist;

    *nid = NID_undef;
    if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), &n)) {
        return NULL;
    }
    *nid = OBJ_txt2nid(name);
    if (*nid == NID_undef) {
        *nid = EC_curve_nist2nid(name);
    }
    nist = *nid != NID_undef ? EC_curve_nid2nist(*nid) : NULL;
    return apr_pstrdup(p, nist ? nist : name);
}

/* What pkey is, in words, for error messages. */
static const char *aj_key_describe(apr_pool_t *p, const EVP_PKEY *pkey)
{
    int nid;
    const char *curve, *type;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        return apr_psprintf(p, "an RSA key of %d bits", EVP_PKEY_get_bits(pkey));
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        curve = aj_key_ec_curve(p, pkey, &nid);
        return curve ? apr_psprintf(p, "an EC key on curve %s", curve)
                     : "an EC key with explicit parameters";
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        return "an Ed25519 key";
    }
    type = EVP_PKEY_get0_type_name(pkey);
    return apr_psprintf(p, "a key of type %s", type ? type : "unknown");
}

/* ROCA (CVE-2017-15361): moduli made by one widely deployed smart-card
 * library have the form k * M + (65537^a mod M), M the product of the first
 * primes, so n mod p lies in the subgroup that 65537 generates modulo p for
 * every such prime p; their private keys can be computed.  All key sizes
 * use at least the primes up to 167.  A random modulus passes this for all
 * of them with negligible probability (the fingerprint of Nemec et al.,
 * CCS 2017). */
static const unsigned int aj_roca_primes[] = { 3,   5,   7,   11,  13,  17,  19,  23,  29,  31,
                                               37,  41,  43,  47,  53,  59,  61,  67,  71,  73,
                                               79,  83,  89,  97,  101, 103, 107, 109, 113, 127,
                                               131, 137, 139, 149, 151, 157, 163, 167 };
#define AJ_ROCA_GENERATOR 65537

/* Non-zero when n has the ROCA fingerprint. */
static int aj_key_rsa_is_roca(const BIGNUM *n)
{
    apr_size_t i;
    BN_ULONG r, g, x;
    unsigned int p;

    for (i = 0; i < sizeof(aj_roca_primes) / sizeof(aj_roca_primes[0]); ++i) {
        p = aj_roca_primes[i];
        r = BN_mod_word(n, p);
        if (r == (BN_ULONG)-1 || r == 0) {
            return 0;
        }
        /* Walk the subgroup <65537 mod p> (at most p - 1 elements). */
        g = AJ_ROCA_GENERATOR % p;
        x = 1;
        do {
            if (x == r) {
                break;
            }
            x = (x * g) % p;
        } while (x != 1);
        if (x != r) {
            return 0; /* one prime outside: not a ROCA modulus */
        }
    }
    return 1;
}

/* NULL when pkey's RSA public exponent is odd and at least
 * AJ_RSA_MIN_EXPONENT and its modulus has no ROCA fingerprint, else the
 * reason (what names the key). */
static const char *aj_key_check_rsa_public(apr_pool_t *p, const EVP_PKEY *pkey, const char *what)
{
    BIGNUM *e = NULL, *n = NULL;
    const char *reason = NULL;
    char *dec = NULL;

    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) || !e
        || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) || !n) {
        reason = apr_psprintf(p, "%s: cannot read the RSA public key", what);
        goto cleanup;
    }
    if (aj_key_rsa_is_roca(n)) {
        reason = apr_psprintf(p,
                              "%s holds an RSA key with the ROCA weakness "
                              "(CVE-2017-15361): its private key can be computed from the "
                              "public key; make a new key with other software",
                              what);
        goto cleanup;
    }
    if (!BN_is_odd(e) || BN_cmp(e, BN_value_one()) <= 0) {
        /* 1 (and 0, and any even value) is refused; 3 is the smallest odd
         * value above 1, so "odd and > 1" is "odd and >= 3". */
        dec = BN_bn2dec(e);
        reason = apr_psprintf(p,
                              "%s holds an RSA key with public exponent %s: the exponent "
                              "must be odd and at least %d (65537 is usual; with exponent 1 "
                              "anyone can forge signatures)",
                              what, dec ? dec : "?", AJ_RSA_MIN_EXPONENT);
    }

cleanup:
    OPENSSL_free(dec);
    BN_free(e);
    BN_free(n);
    return reason;
}

/* NULL when pkey's EC public point is a valid point of its curve (on the
 * curve, not the point at infinity, of the group's order), else the
 * reason.  PEM and JWK decoding reject most bad points already; this is
 * the one rule every source goes through. */
static const char *aj_key_check_ec_point(apr_pool_t *p, const EVP_PKEY *pkey, const char *what)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)pkey, NULL);
    const char *reason = NULL;

    if (!ctx || EVP_PKEY_public_check(ctx) != 1) {
        reason = apr_psprintf(p,
                              "%s holds an EC public key that is not a valid point of "
                              "its curve",
                              what);
    }
    EVP_PKEY_CTX_free(ctx);
    return reason;
}

/* Type and size first, so the message says what the key is and what the
 * algorithm needs; then the rules of a key of the right type. */
const char *aj_key_check_pkey(apr_pool_t *p, const aj_alg_info_t *info, const EVP_PKEY *pkey,
                              const char *what)
{
    const char *bad = apr_psprintf(p, "%s holds %s, but %s needs %s", what,
                                   aj_key_describe(p, pkey), info->name, info->want);
    int nid = NID_undef;
    const char *reason = NULL;

    switch (info->kty) {
    case AJ_KTY_RSA:
    case AJ_KTY_RSA_PSS:
        if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < AJ_RSA_MIN_BITS) {
            reason = bad;
            break;
        }
        reason = aj_key_check_rsa_public(p, pkey, what);
        break;
    case AJ_KTY_EC:
        if (!EVP_PKEY_is_a(pkey, "EC") || !aj_key_ec_curve(p, pkey, &nid) || nid != info->ec_nid) {
            reason = bad;
            break;
        }
        reason = aj_key_check_ec_point(p, pkey, what);
        break;
    case AJ_KTY_ED25519:
        if (!EVP_PKEY_is_a(pkey, "ED25519")) {
            reason = bad;
        }
        break;
    default: reason = bad; break;
    }
    return reason;
}

/* Non-zero when data[0..len) contains the opening of a PEM block. */
static int aj_key_holds_pem(const unsigned char *data, apr_size_t len)
{
    const apr_size_t n = sizeof(AJ_PEM_BEGIN) - 1;
    apr_size_t i;

    for (i = 0; len >= n && i <= len - n; ++i) {
        if (!memcmp(data + i, AJ_PEM_BEGIN, n)) {
            return 1;
        }
    }
    return 0;
}

const char *aj_key_check_secret(apr_pool_t *p, const aj_alg_info_t *info, const unsigned char *data,
                                apr_size_t len, const char *what)
{
    if (!aj_key_holds_pem(data, len)) {
        return NULL;
    }
    return apr_psprintf(p,
                        "%s holds a PEM block (%s...), not an HMAC secret: %s needs "
                        "a random shared secret.  A key's PEM text used as an HMAC secret "
                        "is the RS256/HS256 confusion: a public key is known to everyone, "
                        "so anyone could sign tokens with it.  For a key pair use an RS, "
                        "PS, ES or EdDSA algorithm; for HMAC a random secret (htjwt keygen "
                        "%s)",
                        what, AJ_PEM_BEGIN, info->name, info->name);
}

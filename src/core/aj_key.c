/*
 * aj_key.c — the algorithm table, keys and key sets.
 *
 * A key is parsed once (at configuration time) and then only read, by any
 * number of threads.  It carries its algorithm: RFC 8725 §3.1, a key is
 * used for exactly one algorithm.  HMAC keys are raw secrets; RSA (RS, PS),
 * EC (ES) and Ed25519 (EdDSA) keys are EVP_PKEYs read from PEM, checked
 * against their algorithm and owned by the pool.  Signing and verifying go
 * through EVP_DigestSign/EVP_DigestVerify; ECDSA signatures are converted
 * between JOSE's raw R||S and OpenSSL's DER here, with range checks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "aj_jwk.h"
#include "aj_key.h"

/* A key file is read whole; anything larger is not a key. */
#define AJ_KEY_FILE_MAX     (64 * 1024)
/* Longest HMAC secret taken from any source (HMAC() takes an int). */
#define AJ_KEY_SECRET_MAX   AJ_KEY_FILE_MAX
#define AJ_KEY_SRC_FILE     "file:"
#define AJ_KEY_SRC_ENV      "env:"
#define AJ_ERRBUF_LEN       128
#define AJ_KEYSET_INITIAL   2       /* a signing key and its successor */
/* RFC 7518 §3.3/§3.5: RSA keys of 2048 bits or larger MUST be used. */
#define AJ_RSA_MIN_BITS     2048
/* docs/reference.md §11: an RSA public exponent is odd and at least 3.  With e = 1 the
 * "signature" of a message is its own padded hash, which anyone can make;
 * an even e is not an RSA key at all. */
#define AJ_RSA_MIN_EXPONENT 3
/* docs/reference.md §10: the opening of any PEM block.  An HMAC "secret" holding one is
 * a public or private key given to an HS algorithm. */
#define AJ_PEM_BEGIN        "-----BEGIN"
/* RFC 7518 §3.4: R and S are each the size of the group order: 32, 48 and
 * 66 bytes for P-256, P-384 and P-521. */
#define AJ_EC_MAX_COORD     66
/* RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes. */
#define AJ_ED25519_SIG_LEN  64
#define AJ_EC_GROUP_NAME_MAX 64

typedef enum {
    AJ_KTY_HMAC = 0,
    AJ_KTY_RSA,                     /* RSASSA-PKCS1-v1_5 */
    AJ_KTY_RSA_PSS,                 /* RSASSA-PSS */
    AJ_KTY_EC,                      /* ECDSA */
    AJ_KTY_ED25519                  /* EdDSA, Ed25519 only (RFC 8037 §3.1) */
} aj_kty_e;

typedef struct {
    aj_alg_e alg;
    const char *name;               /* JOSE "alg" (RFC 7518 §3.1) */
    aj_kty_e kty;
    apr_size_t hmac_len;            /* HMAC: output and minimum secret size */
    const EVP_MD *(*md)(void);      /* NULL for EdDSA */
    int ec_nid;                     /* ES: the curve (RFC 7518 §3.4) */
    apr_size_t ec_coord;            /* ES: bytes of R and of S */
    const char *want;               /* what a key for this alg is, for errors */
} aj_alg_info_t;

static const aj_alg_info_t aj_algs[] = {
    { AJ_ALG_HS256, "HS256", AJ_KTY_HMAC, SHA256_DIGEST_LENGTH, EVP_sha256, 0, 0, "a secret" },
    { AJ_ALG_HS384, "HS384", AJ_KTY_HMAC, SHA384_DIGEST_LENGTH, EVP_sha384, 0, 0, "a secret" },
    { AJ_ALG_HS512, "HS512", AJ_KTY_HMAC, SHA512_DIGEST_LENGTH, EVP_sha512, 0, 0, "a secret" },
    { AJ_ALG_RS256, "RS256", AJ_KTY_RSA, 0, EVP_sha256, 0, 0, "an RSA key of at least 2048 bits" },
    { AJ_ALG_RS384, "RS384", AJ_KTY_RSA, 0, EVP_sha384, 0, 0, "an RSA key of at least 2048 bits" },
    { AJ_ALG_RS512, "RS512", AJ_KTY_RSA, 0, EVP_sha512, 0, 0, "an RSA key of at least 2048 bits" },
    { AJ_ALG_PS256, "PS256", AJ_KTY_RSA_PSS, 0, EVP_sha256, 0, 0,
      "an RSA key of at least 2048 bits" },
    { AJ_ALG_PS384, "PS384", AJ_KTY_RSA_PSS, 0, EVP_sha384, 0, 0,
      "an RSA key of at least 2048 bits" },
    { AJ_ALG_PS512, "PS512", AJ_KTY_RSA_PSS, 0, EVP_sha512, 0, 0,
      "an RSA key of at least 2048 bits" },
    { AJ_ALG_ES256, "ES256", AJ_KTY_EC, 0, EVP_sha256, NID_X9_62_prime256v1, 32,
      "an EC key on curve P-256" },
    { AJ_ALG_ES384, "ES384", AJ_KTY_EC, 0, EVP_sha384, NID_secp384r1, 48,
      "an EC key on curve P-384" },
    { AJ_ALG_ES512, "ES512", AJ_KTY_EC, 0, EVP_sha512, NID_secp521r1, 66,
      "an EC key on curve P-521" },
    { AJ_ALG_EDDSA, "EdDSA", AJ_KTY_ED25519, 0, NULL, 0, 0, "an Ed25519 key" },
};

#define AJ_ALG_TABLE_LEN (sizeof(aj_algs) / sizeof(aj_algs[0]))

struct aj_key_t {
    aj_alg_e alg;
    const char *kid;                /* NULL when none */
    const char *warning;            /* see aj_key_warning(); NULL when none */
    int can_sign;
    unsigned char *secret;          /* HMAC: pool memory, cleansed on cleanup */
    apr_size_t secret_len;
    EVP_MAC_CTX *hmac;              /* HMAC keyed with secret, duplicated per use:
                                     * HMAC() would fetch the digest per call */
    apr_uint64_t serial;            /* HMAC: unique in this process (per-thread
                                     * contexts are matched by it, not by address) */
    EVP_PKEY *pkey;                 /* asymmetric algorithms; freed on cleanup */
    unsigned char ec_order[AJ_EC_MAX_COORD];   /* ES: the group order, big-endian,
                                                * info->ec_coord bytes */
};

struct aj_keyset_t {
    apr_array_header_t *keys;       /* const aj_key_t *, in configuration order */
    apr_pool_t *pool;
    const char *jwks;               /* aj_jwk_set_json() of keys */
    void *memo[AJ_KEYSET_MEMO_SLOTS];   /* see aj_keyset_memo() */
};

static const aj_alg_info_t *aj_alg_info(aj_alg_e alg)
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

/* ---- asymmetric keys from PEM ------------------------------------------- */

/* Encrypted PEM keys are not supported: never prompt on a terminal. */
static int aj_key_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

typedef enum {
    AJ_PEM_NONE = 0,
    AJ_PEM_PRIVATE,                 /* PRIVATE KEY, RSA/EC PRIVATE KEY */
    AJ_PEM_PUBLIC,                  /* PUBLIC KEY (SubjectPublicKeyInfo) */
    AJ_PEM_CERT                     /* CERTIFICATE: its public key */
} aj_pem_kind_e;

/* The first key PEM data holds: a private key, else a public key, else a
 * certificate's key.  NULL (and AJ_PEM_NONE) when there is none. */
static EVP_PKEY *aj_key_read_pem(aj_pem_kind_e *kind, const unsigned char *data, apr_size_t len)
{
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    BIO *bio = NULL;

    *kind = AJ_PEM_NONE;
    if (len == 0 || len > AJ_KEY_FILE_MAX) {
        goto cleanup;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (pkey = PEM_read_bio_PrivateKey(bio, NULL, aj_key_no_passphrase, NULL))) {
        *kind = AJ_PEM_PRIVATE;
        goto cleanup;
    }
    BIO_free(bio);
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (pkey = PEM_read_bio_PUBKEY(bio, NULL, aj_key_no_passphrase, NULL))) {
        *kind = AJ_PEM_PUBLIC;
        goto cleanup;
    }
    BIO_free(bio);
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio && (cert = PEM_read_bio_X509(bio, NULL, aj_key_no_passphrase, NULL))) {
        pkey = X509_get_pubkey(cert);
        if (pkey) {
            *kind = AJ_PEM_CERT;
        }
    }

cleanup:
    X509_free(cert);
    BIO_free(bio);
    ERR_clear_error();          /* the failed attempts left their reasons */
    return pkey;
}

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
static const unsigned int aj_roca_primes[] = {
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
    157, 163, 167
};
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
            return 0;           /* one prime outside: not a ROCA modulus */
        }
    }
    return 1;
}

/* NULL when pkey's RSA public exponent is odd and at least
 * AJ_RSA_MIN_EXPONENT and its modulus has no ROCA fingerprint, else the
 * reason (what names the key). */
static const char *aj_key_check_rsa_public(apr_pool_t *p, const EVP_PKEY *pkey,
                                             const char *what)
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
        reason = apr_psprintf(p, "%s holds an RSA key with the ROCA weakness "
                              "(CVE-2017-15361): its private key can be computed from the "
                              "public key; make a new key with other software", what);
        goto cleanup;
    }
    if (!BN_is_odd(e) || BN_cmp(e, BN_value_one()) <= 0) {
        /* 1 (and 0, and any even value) is refused; 3 is the smallest odd
         * value above 1, so "odd and > 1" is "odd and >= 3". */
        dec = BN_bn2dec(e);
        reason = apr_psprintf(p, "%s holds an RSA key with public exponent %s: the exponent "
                              "must be odd and at least %d (65537 is usual; with exponent 1 "
                              "anyone can forge signatures)", what, dec ? dec : "?",
                              AJ_RSA_MIN_EXPONENT);
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
        reason = apr_psprintf(p, "%s holds an EC public key that is not a valid point of "
                              "its curve", what);
    }
    EVP_PKEY_CTX_free(ctx);
    return reason;
}

/* Checks that pkey fits info's algorithm; the EC group order is copied
 * into key->ec_order.  NULL when it fits, else the reason. */
static const char *aj_key_check_type(aj_key_t *key, apr_pool_t *p, const aj_alg_info_t *info,
                                     const EVP_PKEY *pkey, const char *what)
{
    const char *bad = apr_psprintf(p, "%s holds %s, but %s needs %s", what,
                                   aj_key_describe(p, pkey), info->name, info->want);
    EC_GROUP *group = NULL;
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
        if (!EVP_PKEY_is_a(pkey, "EC") || !aj_key_ec_curve(p, pkey, &nid)
            || nid != info->ec_nid) {
            reason = bad;
            break;
        }
        reason = aj_key_check_ec_point(p, pkey, what);
        if (reason) {
            break;
        }
        group = EC_GROUP_new_by_curve_name(nid);
        if (!group || BN_bn2binpad(EC_GROUP_get0_order(group), key->ec_order,
                                   (int)info->ec_coord) != (int)info->ec_coord) {
            reason = "cannot read the curve's order";
        }
        break;
    case AJ_KTY_ED25519:
        if (!EVP_PKEY_is_a(pkey, "ED25519")) {
            reason = bad;
        }
        break;
    default:
        reason = bad;
        break;
    }
    EC_GROUP_free(group);
    return reason;
}

static apr_status_t aj_key_cleanup(void *data)
{
    aj_key_t *key = data;

    if (key->secret) {
        OPENSSL_cleanse(key->secret, key->secret_len);
    }
    EVP_MAC_CTX_free(key->hmac);        /* cleanses its copy of the key */
    key->hmac = NULL;
    if (key->pkey) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
    }
    return APR_SUCCESS;
}

/* An asymmetric key for info's algorithm from pkey, which the key takes
 * over on success (on failure the caller still owns it).  what names the
 * source in messages. */
static apr_status_t aj_key_pkey_make(aj_key_t **key, const char **err, apr_pool_t *p,
                                     const aj_alg_info_t *info, EVP_PKEY *pkey,
                                     const char *what, int can_sign, const char *kid)
{
    aj_key_t *k = apr_pcalloc(p, sizeof(*k));
    const char *why = aj_key_check_type(k, p, info, pkey, what);

    ERR_clear_error();
    if (why) {
        *err = why;
        return APR_EINVAL;
    }
    k->alg = info->alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->can_sign = can_sign;
    k->pkey = pkey;
    apr_pool_cleanup_register(p, k, aj_key_cleanup, apr_pool_cleanup_null);
    *key = k;
    return APR_SUCCESS;
}

/* An asymmetric key from the PEM data of a file (what names it); *kind
 * says what the PEM held. */
static apr_status_t aj_key_pem_make(aj_key_t **key, aj_pem_kind_e *kind, const char **err,
                                    apr_pool_t *p, const aj_alg_info_t *info,
                                    const unsigned char *data, apr_size_t len,
                                    const char *what, int for_signing, const char *kid)
{
    EVP_PKEY *pkey = aj_key_read_pem(kind, data, len);
    apr_status_t rv = APR_EINVAL;

    if (!pkey) {
        *err = apr_psprintf(p, "%s holds no PEM %s (%s needs %s%s; encrypted keys "
                            "are not supported)", what,
                            for_signing ? "private key" : "public key, certificate or "
                                                          "private key",
                            info->name, info->want, for_signing ? ", private" : "");
        goto cleanup;
    }
    if (for_signing && *kind != AJ_PEM_PRIVATE) {
        *err = apr_psprintf(p, "%s holds %s, not a private key: signing with %s needs "
                            "the private key (a public key only verifies)", what,
                            *kind == AJ_PEM_CERT ? "a certificate" : "a public key",
                            info->name);
        goto cleanup;
    }
    rv = aj_key_pkey_make(key, err, p, info, pkey, what, for_signing, kid);
    if (rv == APR_SUCCESS) {
        pkey = NULL;            /* the key owns it now */
    }

cleanup:
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rv;
}

apr_status_t aj_key_from_pkey(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              struct evp_pkey_st *pkey, const char *what, const char *kid)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    apr_status_t rv;

    if (!info || info->kty == AJ_KTY_HMAC || !pkey) {
        *err = apr_psprintf(p, "%s: %s is not an algorithm of public keys", what,
                            aj_alg_name(alg));
        return APR_EINVAL;
    }
    /* The key holds a reference of its own; the caller keeps theirs. */
    if (!EVP_PKEY_up_ref(pkey)) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    rv = aj_key_pkey_make(key, err, p, info, pkey, what, 0, kid);
    if (rv != APR_SUCCESS) {
        EVP_PKEY_free(pkey);
    }
    return rv;
}

/* ---- keys --------------------------------------------------------------- */

/* Serial numbers of HMAC keys (0 is never one). */
static apr_uint64_t aj_key_serials;

/* key->hmac: an HMAC context keyed once with the secret and the digest. */
static apr_status_t aj_key_hmac_keyed(aj_key_t *key)
{
    const aj_alg_info_t *info = aj_alg_info(key->alg);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2];
    apr_status_t rv = APR_EGENERAL;

    if (!info || !mac) {
        goto cleanup;
    }
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)EVP_MD_get0_name(info->md()),
                                                 0);
    params[1] = OSSL_PARAM_construct_end();
    key->hmac = EVP_MAC_CTX_new(mac);
    if (key->hmac && EVP_MAC_init(key->hmac, key->secret, key->secret_len, params) == 1) {
        rv = APR_SUCCESS;
    }

cleanup:
    EVP_MAC_free(mac);          /* the context keeps its own reference */
    ERR_clear_error();
    return rv;
}

apr_status_t aj_key_hmac_make(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                              const unsigned char *secret, apr_size_t len, const char *kid)
{
    aj_key_t *k;
    apr_status_t rv = APR_EINVAL;

    if (!aj_alg_is_hmac(alg)) {
        *err = apr_psprintf(p, "%s is not an HMAC algorithm", aj_alg_name(alg));
        goto cleanup;
    }
    if (!secret || len < aj_alg_hmac_len(alg)) {
        *err = apr_psprintf(p, "%s needs a secret of at least %" APR_SIZE_T_FMT " bytes "
                            "(RFC 7518 section 3.2), this one has %" APR_SIZE_T_FMT,
                            aj_alg_name(alg), aj_alg_hmac_len(alg), secret ? len : 0);
        goto cleanup;
    }
    if (len > AJ_KEY_SECRET_MAX) {
        *err = apr_psprintf(p, "an HMAC secret may have at most %d bytes", AJ_KEY_SECRET_MAX);
        goto cleanup;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->can_sign = 1;
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    apr_pool_cleanup_register(p, k, aj_key_cleanup, apr_pool_cleanup_null);
    k->serial = __atomic_add_fetch(&aj_key_serials, 1, __ATOMIC_RELAXED);
    if (aj_key_hmac_keyed(k) != APR_SUCCESS) {
        *err = apr_psprintf(p, "OpenSSL cannot set up %s", aj_alg_name(alg));
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *key = k;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

/* Reads a whole key file (at most AJ_KEY_FILE_MAX bytes) into tmp; *prot
 * is its permission bits, read from the open file (so they are those of the
 * file read, whatever a path or symlink says meanwhile). */
static apr_status_t aj_key_read_file(unsigned char **data, apr_size_t *len,
                                     apr_fileperms_t *prot, const char **err,
                                     apr_pool_t *p, apr_pool_t *tmp, const char *path)
{
    apr_finfo_t finfo;
    apr_file_t *f = NULL;
    unsigned char *buf;
    apr_size_t n = 0;
    char ebuf[AJ_ERRBUF_LEN];
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, tmp);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    rv = apr_file_info_get(&finfo, APR_FINFO_PROT, f);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        *err = apr_psprintf(p, "cannot stat key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    /* APR_INCOMPLETE without the bits: nothing to warn about, not an error. */
    *prot = (finfo.valid & APR_FINFO_PROT) ? finfo.protection : 0;
    /* One byte more than allowed tells "too large" from "exactly the limit". */
    buf = apr_palloc(tmp, AJ_KEY_FILE_MAX + 1);
    rv = apr_file_read_full(f, buf, AJ_KEY_FILE_MAX + 1, &n);
    if (rv == APR_EOF) {
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    if (n > AJ_KEY_FILE_MAX) {
        *err = apr_psprintf(p, "key file %s is larger than %d bytes", path, AJ_KEY_FILE_MAX);
        rv = APR_EINVAL;
        goto cleanup;
    }
    *data = buf;
    *len = n;

cleanup:
    if (f) {
        apr_file_close(f);
    }
    return rv;
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

/* docs/reference.md §10: the warning for a secret or private key file that its group
 * or others may read (only its owner, the user that starts the server,
 * should); NULL when they may not.  Never an error: the administrator may
 * have reasons (a group of operators), and the server still starts. */
static const char *aj_key_exposure_warning(apr_pool_t *p, const char *path,
                                           apr_fileperms_t prot, const char *holds)
{
    if (!(prot & (APR_GREAD | APR_WREAD))) {
        return NULL;
    }
    return apr_psprintf(p, "key file %s holds %s but is readable by %s: make it readable by "
                        "its owner only (chmod 600)", path, holds,
                        (prot & APR_GREAD) && (prot & APR_WREAD) ? "group and others"
                        : (prot & APR_GREAD)                     ? "its group"
                                                                 : "others");
}

apr_status_t aj_key_load(aj_key_t **key, const char **err, apr_pool_t *p, aj_alg_e alg,
                         const char *source, int for_signing, const char *kid)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    apr_pool_t *tmp = NULL;
    unsigned char *data = NULL;
    apr_size_t len = 0;
    const char *what = NULL, *why = NULL, *path = NULL;
    aj_pem_kind_e kind = AJ_PEM_NONE;
    apr_fileperms_t prot = 0;
    aj_key_t *k = NULL;
    char *val = NULL;
    apr_status_t rv;

    if (!info) {
        *err = "unknown algorithm";
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = apr_pool_create(&tmp, p);
    if (rv != APR_SUCCESS) {
        *err = "out of memory";
        goto cleanup;
    }
    if (source && !strncmp(source, AJ_KEY_SRC_FILE, strlen(AJ_KEY_SRC_FILE))
        && source[strlen(AJ_KEY_SRC_FILE)]) {
        path = source + strlen(AJ_KEY_SRC_FILE);
        what = apr_psprintf(p, "key file %s", path);
        rv = aj_key_read_file(&data, &len, &prot, err, p, tmp, path);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        if (info->kty != AJ_KTY_HMAC) {
            rv = aj_key_pem_make(&k, &kind, err, p, info, data, len, what, for_signing, kid);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
            if (kind == AJ_PEM_PRIVATE) {
                k->warning = aj_key_exposure_warning(p, path, prot, "a private key");
            }
            *key = k;
            goto cleanup;
        }
        /* Editors end files with a newline: strip exactly one. */
        if (len && data[len - 1] == '\n') {
            --len;
            if (len && data[len - 1] == '\r') {
                --len;
            }
        }
    }
    else if (source && !strncmp(source, AJ_KEY_SRC_ENV, strlen(AJ_KEY_SRC_ENV))
             && source[strlen(AJ_KEY_SRC_ENV)]) {
        const char *var = source + strlen(AJ_KEY_SRC_ENV);

        what = apr_psprintf(p, "environment variable %s", var);
        if (info->kty != AJ_KTY_HMAC) {
            *err = apr_psprintf(p, "%s keys are read from file:PATH (a PEM file), not from "
                                "%s", info->name, what);
            rv = APR_EINVAL;
            goto cleanup;
        }
        if (apr_env_get(&val, var, tmp) != APR_SUCCESS || !val) {
            *err = apr_psprintf(p, "%s is not set", what);
            rv = APR_EINVAL;
            goto cleanup;
        }
        data = (unsigned char *)val;
        len = strlen(val);
    }
    else {
        *err = apr_psprintf(p, "key source must be file:PATH or env:VAR, not '%s'",
                            source ? source : "");
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (aj_key_holds_pem(data, len)) {
        *err = apr_psprintf(p, "%s holds a PEM block (%s...), not an HMAC secret: %s needs "
                            "a random shared secret.  A key's PEM text used as an HMAC secret "
                            "is the RS256/HS256 confusion: a public key is known to everyone, "
                            "so anyone could sign tokens with it.  For a key pair use an RS, "
                            "PS, ES or EdDSA algorithm; for HMAC a random secret (htjwt keygen "
                            "%s)", what, AJ_PEM_BEGIN, info->name, info->name);
        rv = APR_EINVAL;
        goto cleanup;
    }
    rv = aj_key_hmac_make(&k, &why, p, alg, data, len, kid);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", what, why);
        goto cleanup;
    }
    if (path) {
        k->warning = aj_key_exposure_warning(p, path, prot, "an HMAC secret");
    }
    *key = k;

cleanup:
    /* The file buffer held the secret; the environment is not ours. */
    if (data && data != (unsigned char *)val) {
        OPENSSL_cleanse(data, len);
    }
    if (tmp) {
        apr_pool_destroy(tmp);
    }
    return rv;
}

aj_alg_e aj_key_alg(const aj_key_t *key)
{
    return key ? key->alg : AJ_ALG_UNKNOWN;
}

const char *aj_key_kid(const aj_key_t *key)
{
    return key ? key->kid : NULL;
}

const char *aj_key_warning(const aj_key_t *key)
{
    return key ? key->warning : NULL;
}

/* What kind of key this is, for the kid rules of a key set. */
static const char *aj_key_kind(const aj_key_t *key)
{
    const aj_alg_info_t *info = aj_alg_info(key->alg);

    switch (info ? info->kty : AJ_KTY_HMAC) {
    case AJ_KTY_HMAC:
        return "an HMAC secret";
    case AJ_KTY_RSA:
    case AJ_KTY_RSA_PSS:
        return "an RSA key";
    case AJ_KTY_EC:
        return "an EC key";
    default:
        return "an Ed25519 key";
    }
}

int aj_key_can_sign(const aj_key_t *key)
{
    return key && key->can_sign;
}

const struct evp_pkey_st *aj_key_pkey(const aj_key_t *key)
{
    return key ? key->pkey : NULL;
}

/* ---- ECDSA signature forms ---------------------------------------------- */

/* raw (2 * n bytes, R||S) to DER, refusing a wrong length and r or s
 * outside [1, order - 1] before converting anything.  APR_EINVAL when
 * refused, APR_ENOMEM when OpenSSL could not allocate. */
static apr_status_t aj_ecdsa_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                                    const unsigned char *order, apr_size_t n,
                                    const unsigned char *raw, apr_size_t rawlen)
{
    static const unsigned char zero[AJ_EC_MAX_COORD] = { 0 };
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *buf = NULL;
    int i, len;
    apr_status_t rv = APR_EINVAL;

    if (!raw || n == 0 || n > AJ_EC_MAX_COORD || rawlen != 2 * n) {
        goto cleanup;
    }
    /* Big-endian numbers of equal size compare like their bytes. */
    for (i = 0; i < 2; ++i) {
        const unsigned char *v = raw + (apr_size_t)i * n;
        if (!memcmp(v, zero, n) || memcmp(v, order, n) >= 0) {
            goto cleanup;
        }
    }
    rv = APR_ENOMEM;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(raw, (int)n, NULL);
    s = BN_bin2bn(raw + n, (int)n, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        goto cleanup;
    }
    r = s = NULL;               /* es owns them now */
    len = i2d_ECDSA_SIG(es, &buf);
    if (len <= 0) {
        goto cleanup;
    }
    *der = apr_pmemdup(p, buf, (apr_size_t)len);
    *derlen = (apr_size_t)len;
    rv = APR_SUCCESS;

cleanup:
    OPENSSL_free(buf);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rv;
}

/* DER to raw R||S, each n bytes. */
static apr_status_t aj_ecdsa_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p,
                                    apr_size_t n, const unsigned char *der, apr_size_t derlen)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r = NULL, *s = NULL;
    unsigned char *out;
    apr_status_t rv = APR_EINVAL;

    if (!der || derlen == 0 || derlen > AJ_KEY_FILE_MAX) {
        goto cleanup;
    }
    es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    if (!es || q != der + derlen) {
        goto cleanup;
    }
    ECDSA_SIG_get0(es, &r, &s);
    out = apr_palloc(p, 2 * n);
    if (BN_bn2binpad(r, out, (int)n) != (int)n || BN_bn2binpad(s, out + n, (int)n) != (int)n) {
        goto cleanup;
    }
    *raw = out;
    *rawlen = 2 * n;
    rv = APR_SUCCESS;

cleanup:
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return rv;
}

/* The order of alg's curve, for the alg-based conversions (not the hot
 * path: keys cache theirs). */
static apr_status_t aj_ecdsa_order(unsigned char *order, const aj_alg_info_t *info)
{
    EC_GROUP *group = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!info || info->kty != AJ_KTY_EC) {
        goto cleanup;
    }
    group = EC_GROUP_new_by_curve_name(info->ec_nid);
    if (!group || BN_bn2binpad(EC_GROUP_get0_order(group), order, (int)info->ec_coord)
                      != (int)info->ec_coord) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    rv = APR_SUCCESS;

cleanup:
    EC_GROUP_free(group);
    return rv;
}

apr_status_t aj_ecdsa_raw_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *raw, apr_size_t rawlen)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    unsigned char order[AJ_EC_MAX_COORD];
    apr_status_t rv = aj_ecdsa_order(order, info);

    if (rv == APR_SUCCESS) {
        rv = aj_ecdsa_to_der(der, derlen, p, order, info->ec_coord, raw, rawlen);
    }
    return rv;
}

apr_status_t aj_ecdsa_der_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *der, apr_size_t derlen)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    if (!info || info->kty != AJ_KTY_EC) {
        return APR_EINVAL;
    }
    return aj_ecdsa_to_raw(raw, rawlen, p, info->ec_coord, der, derlen);
}

/* ---- signing and verifying ---------------------------------------------- */

/* Each thread keeps a context for the last few HMAC keys it used, and
 * starts it over with EVP_MAC_init(ctx, NULL, 0, NULL): the same key, no
 * allocation and no copy of the key's pre-hashed pads beyond one digest
 * state.  Slots are matched by the key's serial, so a key freed and another
 * made at the same address (a configuration reload) never meet. */
#define AJ_HMAC_THREAD_SLOTS 4

typedef struct {
    apr_uint64_t serial;        /* of the key ctx holds; 0: empty */
    EVP_MAC_CTX *ctx;
} aj_hmac_slot_t;

typedef struct {
    aj_hmac_slot_t slot[AJ_HMAC_THREAD_SLOTS];
    unsigned int next;          /* the slot replaced next */
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
    }
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

/* This thread's context for key, ready for EVP_MAC_update; NULL when there
 * is none (the caller duplicates key->hmac for this one call). */
static EVP_MAC_CTX *aj_hmac_thread_ctx(const aj_key_t *key)
{
    aj_hmac_thread_t *t;
    aj_hmac_slot_t *s;
    int i;

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
    for (i = 0; i < AJ_HMAC_THREAD_SLOTS; ++i) {
        s = &t->slot[i];
        if (s->serial == key->serial && s->ctx) {
            return EVP_MAC_init(s->ctx, NULL, 0, NULL) == 1 ? s->ctx : NULL;
        }
    }
    s = &t->slot[t->next++ % AJ_HMAC_THREAD_SLOTS];
    EVP_MAC_CTX_free(s->ctx);
    s->ctx = EVP_MAC_CTX_dup(key->hmac);        /* keyed, not yet updated */
    s->serial = s->ctx ? key->serial : 0;
    return s->ctx;
}

/* HMAC of data into mac[EVP_MAX_MD_SIZE]. */
static apr_status_t aj_key_hmac(unsigned char *mac, unsigned int *maclen, const aj_key_t *key,
                                const unsigned char *data, apr_size_t len)
{
    const aj_alg_info_t *info = aj_alg_info(key->alg);
    EVP_MAC_CTX *ctx, *own = NULL;
    size_t n = 0;
    apr_status_t rv = APR_EGENERAL;

    if (!info || info->kty != AJ_KTY_HMAC || !key->hmac) {
        return APR_EINVAL;
    }
    ctx = aj_hmac_thread_ctx(key);
    if (!ctx) {
        ctx = own = EVP_MAC_CTX_dup(key->hmac);     /* the shared context is only read */
    }
    if (ctx && EVP_MAC_update(ctx, data, len) == 1
        && EVP_MAC_final(ctx, mac, &n, EVP_MAX_MD_SIZE) == 1 && n == info->hmac_len) {
        *maclen = (unsigned int)n;
        rv = APR_SUCCESS;
    }
    EVP_MAC_CTX_free(own);
    return rv;
}

/* A digest-sign or digest-verify context for key, with RSA padding set:
 * PKCS#1 v1.5 for RS; for PS, PSS with MGF1 over the same hash and a salt
 * as long as the hash (RFC 7518 §3.5). */
static EVP_MD_CTX *aj_key_md_ctx(const aj_key_t *key, const aj_alg_info_t *info, int sign)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = info->md ? info->md() : NULL;
    int ok;

    if (!ctx) {
        return NULL;
    }
    ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, key->pkey)
              : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key->pkey);
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

static apr_status_t aj_key_pkey_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                                     const aj_key_t *key, const aj_alg_info_t *info,
                                     const unsigned char *data, apr_size_t len)
{
    EVP_MD_CTX *ctx = aj_key_md_ctx(key, info, 1);
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

static apr_status_t aj_key_pkey_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                                       const aj_alg_info_t *info, const unsigned char *data,
                                       apr_size_t len, const unsigned char *sig,
                                       apr_size_t siglen)
{
    EVP_MD_CTX *ctx = NULL;
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
        if (siglen != (apr_size_t)EVP_PKEY_get_size(key->pkey)) {
            goto cleanup;
        }
        break;
    case AJ_KTY_EC:
        rv = aj_ecdsa_to_der(&der, &slen, p, key->ec_order, info->ec_coord, sig, siglen);
        if (rv == APR_EINVAL) {
            rv = APR_SUCCESS;   /* a refused signature, not a failed check */
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
    default:
        rv = APR_EINVAL;
        goto cleanup;
    }
    ctx = aj_key_md_ctx(key, info, 0);
    if (!ctx) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *match = EVP_DigestVerify(ctx, s, slen, data, len) == 1;

cleanup:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rv;
}

apr_status_t aj_key_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                         const aj_key_t *key, const unsigned char *data, apr_size_t len)
{
    const aj_alg_info_t *info = key ? aj_alg_info(key->alg) : NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    apr_status_t rv;

    if (!info) {
        rv = APR_ENOTIMPL;
        goto cleanup;
    }
    if (!key->can_sign) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (info->kty != AJ_KTY_HMAC) {
        rv = aj_key_pkey_sign(sig, siglen, p, key, info, data, len);
        goto cleanup;
    }
    rv = aj_key_hmac(mac, &maclen, key, data, len);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *sig = apr_pmemdup(p, mac, maclen);
    *siglen = maclen;

cleanup:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

apr_status_t aj_key_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                           const unsigned char *data, apr_size_t len,
                           const unsigned char *sig, apr_size_t siglen)
{
    const aj_alg_info_t *info = key ? aj_alg_info(key->alg) : NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int m = 0;
    apr_status_t rv;

    if (!info) {
        rv = APR_ENOTIMPL;
        goto cleanup;
    }
    if (info->kty != AJ_KTY_HMAC) {
        rv = aj_key_pkey_verify(&m, p, key, info, data, len, sig, siglen);
        if (rv == APR_SUCCESS) {
            *match = m;
        }
        goto cleanup;
    }
    rv = aj_key_hmac(mac, &maclen, key, data, len);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* The length is public (it follows from alg); the bytes are compared
     * in constant time. */
    *match = siglen == maclen && !CRYPTO_memcmp(mac, sig, maclen);

cleanup:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

/* ---- key sets ----------------------------------------------------------- */

static apr_status_t aj_keyset_cleanup(void *data)
{
    aj_keyset_t *ks = data;
    int i;

    for (i = 0; i < AJ_KEYSET_MEMO_SLOTS; ++i) {
        free(__atomic_exchange_n(&ks->memo[i], NULL, __ATOMIC_ACQ_REL));
    }
    return APR_SUCCESS;
}

aj_keyset_t *aj_keyset_make(apr_pool_t *p)
{
    aj_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->keys = apr_array_make(p, AJ_KEYSET_INITIAL, sizeof(const aj_key_t *));
    ks->pool = p;
    ks->jwks = AJ_JWK_SET_EMPTY;
    apr_pool_cleanup_register(p, ks, aj_keyset_cleanup, apr_pool_cleanup_null);
    return ks;
}

void **aj_keyset_memo(const aj_keyset_t *ks)
{
    return ks ? ((aj_keyset_t *)ks)->memo : NULL;     /* run-time state of a const set */
}

void aj_keyset_add(aj_keyset_t *ks, const aj_key_t *key)
{
    const char *jwks = NULL;

    if (ks && key) {
        APR_ARRAY_PUSH(ks->keys, const aj_key_t *) = key;
        /* Configuration time: the published set is rebuilt once per key. */
        if (aj_key_pkey(key)) {
            ks->jwks = aj_jwk_set_json(&jwks, ks->pool, ks) == APR_SUCCESS ? jwks : NULL;
        }
    }
}

apr_status_t aj_keyset_check_kid(const char **err, apr_pool_t *p, const aj_keyset_t *ks,
                                 const aj_key_t *key)
{
    const aj_key_t *other;
    int i;

    if (!key || !key->kid) {
        return APR_SUCCESS;     /* keys without kid: tried by alg, as always */
    }
    for (i = 0; i < aj_keyset_count(ks); ++i) {
        other = aj_keyset_get(ks, i);
        if (!other->kid || strcmp(other->kid, key->kid)) {
            continue;
        }
        if (strcmp(aj_key_kind(other), aj_key_kind(key))) {
            *err = apr_psprintf(p, "kid '%s' would name both %s (%s) and %s (%s): one kid "
                                "must name one key, and never a secret and a public key "
                                "together", key->kid, aj_key_kind(other),
                                aj_alg_name(other->alg), aj_key_kind(key),
                                aj_alg_name(key->alg));
        }
        else {
            *err = apr_psprintf(p, "kid '%s' is already used by an earlier %s key of this "
                                "section: every kid of a section must be different (a "
                                "token's kid picks exactly one key)", key->kid,
                                aj_alg_name(other->alg));
        }
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

int aj_keyset_count(const aj_keyset_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

const aj_key_t *aj_keyset_get(const aj_keyset_t *ks, int i)
{
    if (!ks || i < 0 || i >= ks->keys->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(ks->keys, i, const aj_key_t *);
}

const aj_key_t *aj_keyset_signing_key(const aj_keyset_t *ks)
{
    int i;

    for (i = 0; i < aj_keyset_count(ks); ++i) {
        const aj_key_t *key = aj_keyset_get(ks, i);
        if (key->can_sign) {
            return key;
        }
    }
    return NULL;
}

const char *aj_keyset_jwks(const aj_keyset_t *ks)
{
    return ks ? ks->jwks : AJ_JWK_SET_EMPTY;
}

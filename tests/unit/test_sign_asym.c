/*
 * test_sign_asym.c — RS/PS/ES/EdDSA signatures: the RFC vectors (RFC 7515
 * A.2 and A.3, RFC 8037 A.4), sign/verify round trips for every algorithm,
 * ECDSA R||S range checks and DER conversion, and the confusions a verifier
 * must refuse (HMAC secret = the RSA public key's PEM, a token bringing its
 * own "jwk", kid selection).  Loading asymmetric keys and every refusal at
 * load time: test_key_asym.c.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "aj_test.h"
#include "aj_b64.h"
#include "aj_jws.h"
#include "aj_key.h"
#include "aj_ecdsa.h"
#include "aj_sign.h"
#include "keys.h"

/* RFC 7515 A.2 / A.3: the payload both sign; exp 1300819380. */
#define RFC_PAYLOAD \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv" \
    "bS9pc19yb290Ijp0cnVlfQ"
#define RFC_EXP 1300819380
#define RFC_A2_TOKEN \
    "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD \
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4B" \
    "h-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZL" \
    "grnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO-" \
    "-xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6Lbg" \
    "GY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define RFC_A3_TOKEN \
    "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD \
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKT" \
    "UJqPP3-Kg6NU1Q"
/* RFC 8037 A.4: Ed25519 over the payload "Example of Ed25519 signing"
 * (not JSON: a verifier checks the signature, then refuses the payload). */
#define RFC8037_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC8037_SIG \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7s" \
    "VvpAr_MuM0KAg"
/* RFC 8037 A.1's key, public half, as SPKI PEM (the private half:
 * RFC8037_PRIV_PEM, keys.h). */
#define RFC8037_PUB_PEM \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n" \
    "-----END PUBLIC KEY-----\n"

/* Short names for the shared values of keys.h, as the bodies use them. */
#define T_CLAIMS   AJ_TEST_CLAIMS
#define T_RSA_BITS AJ_TEST_RSA_BITS

/* ---- helpers (the shared ones: tests/unit/support/keys.h) -------------- */

/* The verdict on token at time now, with no policy (keys.h). */
static aj_verdict_e verify_at(apr_pool_t *p, const char *token, const aj_keyset_t *keys,
                              apr_int64_t now)
{
    return aj_test_verify_at(p, token, keys, NULL, now);
}

/* token with its signature replaced by raw bytes. */
static const char *with_sig(apr_pool_t *p, const char *token, const unsigned char *sig,
                            apr_size_t len)
{
    const char *dot = strrchr(token, '.');

    return apr_pstrcat(p, apr_pstrmemdup(p, token, (apr_size_t)(dot - token)), ".",
                       aj_b64url_encode(p, sig, len), NULL);
}

static unsigned char *sig_of(apr_pool_t *p, const char *token, apr_size_t *len)
{
    const char *dot = strrchr(token, '.');
    unsigned char *sig = NULL;

    assert_int_equal(aj_b64url_decode(&sig, len, p, dot + 1, strlen(dot + 1)), APR_SUCCESS);
    return sig;
}

/* The token with one bit of its signature flipped. */
static const char *flip_sig(apr_pool_t *p, const char *token)
{
    apr_size_t len = 0;
    unsigned char *sig = sig_of(p, token, &len);

    sig[len / 2] ^= 0x01;
    return with_sig(p, token, sig, len);
}

/* ---- RFC vectors -------------------------------------------------------- */

static void test_rfc7515_a2_rs256(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_load(p, AJ_ALG_RS256, RFC_A2_PUB_PEM, 0, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);

    assert_false(aj_key_can_sign(key));
    assert_int_equal(verify_at(p, RFC_A2_TOKEN, ks, RFC_EXP - 1), AJ_OK);
    assert_int_equal(verify_at(p, RFC_A2_TOKEN, ks, RFC_EXP), AJ_EXPIRED);
    assert_int_equal(verify_at(p, flip_sig(p, RFC_A2_TOKEN), ks, RFC_EXP - 1), AJ_BAD_SIG);
    /* The same RSA key configured for PS256 or RS384 does not take it. */
    assert_int_equal(
        verify_at(p, RFC_A2_TOKEN,
                  aj_test_keyset_of(p, aj_test_load(p, AJ_ALG_PS256, RFC_A2_PUB_PEM, 0, NULL),
                                    aj_test_load(p, AJ_ALG_RS384, RFC_A2_PUB_PEM, 0, NULL)),
                  RFC_EXP - 1),
        AJ_BAD_ALG);
}

static void test_rfc7515_a3_es256(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks =
        aj_test_keyset_of(p, aj_test_load(p, AJ_ALG_ES256, RFC_A3_PUB_PEM, 0, "e9bc"), NULL);
    apr_size_t len = 0;
    unsigned char *sig = sig_of(p, RFC_A3_TOKEN, &len);

    assert_int_equal(len, 64);
    assert_int_equal(verify_at(p, RFC_A3_TOKEN, ks, RFC_EXP - 1), AJ_OK);
    assert_int_equal(verify_at(p, RFC_A3_TOKEN, ks, RFC_EXP), AJ_EXPIRED);
    assert_int_equal(verify_at(p, flip_sig(p, RFC_A3_TOKEN), ks, RFC_EXP - 1), AJ_BAD_SIG);
    /* R and S swapped, or S alone, are not the signature. */
    {
        unsigned char swapped[64];
        memcpy(swapped, sig + 32, 32);
        memcpy(swapped + 32, sig, 32);
        assert_int_equal(verify_at(p, with_sig(p, RFC_A3_TOKEN, swapped, 64), ks, RFC_EXP - 1),
                         AJ_BAD_SIG);
        assert_int_equal(verify_at(p, with_sig(p, RFC_A3_TOKEN, sig, 32), ks, RFC_EXP - 1),
                         AJ_BAD_SIG);
    }
    /* An RSA key does not take an ES256 token. */
    assert_int_equal(verify_at(p, RFC_A3_TOKEN,
                               aj_test_keyset_of(
                                   p, aj_test_load(p, AJ_ALG_RS256, RFC_A2_PUB_PEM, 0, NULL), NULL),
                               RFC_EXP - 1),
                     AJ_BAD_ALG);
}

static void test_rfc8037_a4_ed25519(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *pub = aj_test_load(p, AJ_ALG_EDDSA, RFC8037_PUB_PEM, 0, NULL);
    aj_key_t *priv = aj_test_load(p, AJ_ALG_EDDSA, RFC8037_PRIV_PEM, 1, NULL);
    unsigned char *want = NULL, *sig = NULL;
    apr_size_t wantlen = 0, siglen = 0;
    const char *token = RFC8037_INPUT "." RFC8037_SIG;
    int match = -1;

    assert_int_equal(aj_b64url_decode(&want, &wantlen, p, RFC8037_SIG, strlen(RFC8037_SIG)),
                     APR_SUCCESS);
    assert_int_equal(wantlen, 64);
    assert_int_equal(aj_key_verify(&match, p, pub, (const unsigned char *)RFC8037_INPUT,
                                   strlen(RFC8037_INPUT), want, wantlen),
                     APR_SUCCESS);
    assert_int_equal(match, 1);
    assert_int_equal(aj_key_verify(&match, p, pub, (const unsigned char *)RFC8037_INPUT,
                                   strlen(RFC8037_INPUT) - 1, want, wantlen),
                     APR_SUCCESS);
    assert_int_equal(match, 0);
    /* Ed25519 is deterministic: our signature is the RFC's. */
    assert_true(aj_key_can_sign(priv));
    assert_int_equal(aj_key_sign(&sig, &siglen, p, priv, (const unsigned char *)RFC8037_INPUT,
                                 strlen(RFC8037_INPUT)),
                     APR_SUCCESS);
    assert_int_equal(siglen, 64);
    assert_memory_equal(sig, want, 64);
    /* As a token: the signature passes, then the payload (not JSON) is
     * refused; with a bad signature the verdict is the signature's. */
    assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, pub, NULL)), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, flip_sig(p, token), aj_test_keyset_of(p, pub, NULL)),
                     AJ_BAD_SIG);
}

/* ---- every algorithm ---------------------------------------------------- */

typedef struct {
    aj_alg_e alg;
    const char *type;
    const char *curve;
    apr_size_t siglen; /* 0: the RSA modulus size */
} alg_case_t;

static const alg_case_t cases[] = {
    { AJ_ALG_RS256, "RSA", NULL, 0 },     { AJ_ALG_RS384, "RSA", NULL, 0 },
    { AJ_ALG_RS512, "RSA", NULL, 0 },     { AJ_ALG_PS256, "RSA", NULL, 0 },
    { AJ_ALG_PS384, "RSA", NULL, 0 },     { AJ_ALG_PS512, "RSA", NULL, 0 },
    { AJ_ALG_ES256, "EC", "P-256", 64 },  { AJ_ALG_ES384, "EC", "P-384", 96 },
    { AJ_ALG_ES512, "EC", "P-521", 132 }, { AJ_ALG_EDDSA, "ED25519", NULL, 64 },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* One RSA key for all six RSA algorithms (2048-bit generation is slow). */
static EVP_PKEY *case_key(apr_pool_t *p, const alg_case_t *c, EVP_PKEY **rsa)
{
    if (!strcmp(c->type, "RSA")) {
        if (!*rsa) {
            *rsa = aj_test_gen_key(p, "RSA", NULL, T_RSA_BITS);
        }
        return *rsa;
    }
    return aj_test_gen_key(p, c->type, c->curve, 0);
}

static void test_round_trips(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *rsa = NULL, *rsa2 = NULL;
    apr_size_t i;

    for (i = 0; i < N_CASES; ++i) {
        const alg_case_t *c = &cases[i];
        EVP_PKEY *k = case_key(p, c, &rsa);
        EVP_PKEY *other = !strcmp(c->type, "RSA")
                              ? (rsa2 ? rsa2 : (rsa2 = aj_test_gen_key(p, "RSA", NULL, T_RSA_BITS)))
                              : aj_test_gen_key(p, c->type, c->curve, 0);
        aj_key_t *signer = aj_test_load(p, c->alg, aj_test_private_pem(p, k), 1, "s");
        aj_key_t *by_pub = aj_test_load(p, c->alg, aj_test_public_pem(p, k), 0, NULL);
        aj_key_t *by_cert = aj_test_load(p, c->alg, aj_test_cert_pem(p, k), 0, NULL);
        aj_key_t *by_priv = aj_test_load(p, c->alg, aj_test_private_pem(p, k), 0, NULL);
        aj_key_t *wrong = aj_test_load(p, c->alg, aj_test_public_pem(p, other), 0, NULL);
        const char *token = NULL;
        apr_size_t siglen = 0;

        assert_true(aj_key_can_sign(signer));
        assert_false(aj_key_can_sign(by_pub));
        assert_false(aj_key_can_sign(by_cert));
        assert_false(aj_key_can_sign(by_priv)); /* AuthJWTVerifyKey never signs */
        assert_int_equal(aj_jws_sign(&token, p, signer, T_CLAIMS, strlen(T_CLAIMS)), APR_SUCCESS);
        sig_of(p, token, &siglen);
        assert_int_equal(siglen, c->siglen ? c->siglen : (apr_size_t)EVP_PKEY_get_size(k));
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, signer, NULL)), AJ_OK);
        /* The token names kid "s", which no verify-only key has. */
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, by_pub, NULL)),
                         AJ_UNKNOWN_KID);
        /* Without a kid, every key of the alg is tried. */
        assert_int_equal(aj_jws_sign(&token, p,
                                     aj_test_load(p, c->alg, aj_test_private_pem(p, k), 1, NULL),
                                     T_CLAIMS, strlen(T_CLAIMS)),
                         APR_SUCCESS);
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, by_pub, NULL)), AJ_OK);
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, by_cert, NULL)), AJ_OK);
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, by_priv, NULL)), AJ_OK);
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, wrong, NULL)), AJ_BAD_SIG);
        assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, wrong, by_pub)), AJ_OK);
        assert_int_equal(aj_test_verify(p, flip_sig(p, token), aj_test_keyset_of(p, by_pub, NULL)),
                         AJ_BAD_SIG);
        /* A signature one byte short or long. */
        {
            apr_size_t n = 0;
            unsigned char *sig = sig_of(p, token, &n);
            unsigned char *longer = apr_pcalloc(p, n + 1);
            memcpy(longer, sig, n);
            assert_int_equal(aj_test_verify(p, with_sig(p, token, sig, n - 1),
                                            aj_test_keyset_of(p, by_pub, NULL)),
                             AJ_BAD_SIG);
            assert_int_equal(aj_test_verify(p, with_sig(p, token, longer, n + 1),
                                            aj_test_keyset_of(p, by_pub, NULL)),
                             AJ_BAD_SIG);
        }
        /* A verify-only key cannot sign. */
        assert_int_equal(aj_jws_sign(&token, p, by_pub, T_CLAIMS, strlen(T_CLAIMS)), APR_EINVAL);
    }
}

/* RS and PS of the same key and hash: never each other's signatures. */
static void test_rsa_paddings_distinct(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *k = aj_test_gen_key(p, "RSA", NULL, T_RSA_BITS);
    const char *priv = aj_test_private_pem(p, k);
    aj_key_t *rs = aj_test_load(p, AJ_ALG_RS256, priv, 1, NULL);
    aj_key_t *ps = aj_test_load(p, AJ_ALG_PS256, priv, 1, NULL);
    const unsigned char *in = (const unsigned char *)"abc";
    unsigned char *sig = NULL;
    apr_size_t len = 0;
    int match = -1;

    assert_int_equal(aj_key_sign(&sig, &len, p, rs, in, 3), APR_SUCCESS);
    assert_int_equal(aj_key_verify(&match, p, ps, in, 3, sig, len), APR_SUCCESS);
    assert_int_equal(match, 0);
    assert_int_equal(aj_key_verify(&match, p, rs, in, 3, sig, len), APR_SUCCESS);
    assert_int_equal(match, 1);
    assert_int_equal(aj_key_sign(&sig, &len, p, ps, in, 3), APR_SUCCESS);
    assert_int_equal(aj_key_verify(&match, p, rs, in, 3, sig, len), APR_SUCCESS);
    assert_int_equal(match, 0);
    assert_int_equal(aj_key_verify(&match, p, ps, in, 3, sig, len), APR_SUCCESS);
    assert_int_equal(match, 1);
}

/* ---- ECDSA: range checks and DER ----------------------------------------- */

/* The group order of alg's curve, size bytes big-endian. */
static void group_order(unsigned char *out, int nid, apr_size_t size)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);

    assert_non_null(g);
    assert_int_equal(BN_bn2binpad(EC_GROUP_get0_order(g), out, (int)size), (int)size);
    EC_GROUP_free(g);
}

/* raw + 1 as a big-endian number of size bytes. */
static void add_one(unsigned char *v, apr_size_t size)
{
    apr_size_t i = size;

    while (i-- > 0) {
        if (++v[i] != 0) {
            break;
        }
    }
}

static void test_ecdsa_range(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const struct {
        aj_alg_e alg;
        const char *curve;
        int nid;
        apr_size_t n;
    } ec[] = {
        { AJ_ALG_ES256, "P-256", NID_X9_62_prime256v1, 32 },
        { AJ_ALG_ES384, "P-384", NID_secp384r1, 48 },
        { AJ_ALG_ES512, "P-521", NID_secp521r1, 66 },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ec) / sizeof(ec[0]); ++i) {
        EVP_PKEY *k = aj_test_gen_key(p, "EC", ec[i].curve, 0);
        aj_key_t *key = aj_test_load(p, ec[i].alg, aj_test_private_pem(p, k), 1, NULL);
        aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
        const char *token = NULL;
        apr_size_t n = ec[i].n, len = 0, derlen = 0;
        unsigned char *good, *bad, *der = NULL, order[66];
        apr_size_t lens[4];
        int j, match = -1;

        group_order(order, ec[i].nid, n);
        assert_int_equal(aj_jws_sign(&token, p, key, T_CLAIMS, strlen(T_CLAIMS)), APR_SUCCESS);
        good = sig_of(p, token, &len);
        assert_int_equal(len, 2 * n);
        assert_int_equal(aj_test_verify(p, token, ks), AJ_OK);
        bad = apr_palloc(p, 2 * n + 1);

        /* r = 0; s = 0; both 0. */
        for (j = 0; j < 3; ++j) {
            memcpy(bad, good, 2 * n);
            if (j != 1) {
                memset(bad, 0, n);
            }
            if (j != 0) {
                memset(bad + n, 0, n);
            }
            assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, bad, 2 * n),
                             APR_EINVAL);
            assert_int_equal(aj_test_verify(p, with_sig(p, token, bad, 2 * n), ks), AJ_BAD_SIG);
        }
        /* r = n, s = n, s = n + 1, r = s = 0xff...ff. */
        for (j = 0; j < 4; ++j) {
            memcpy(bad, good, 2 * n);
            if (j == 0) {
                memcpy(bad, order, n);
            }
            else if (j == 1) {
                memcpy(bad + n, order, n);
            }
            else if (j == 2) {
                memcpy(bad + n, order, n);
                add_one(bad + n, n);
            }
            else {
                memset(bad, 0xff, 2 * n);
            }
            assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, bad, 2 * n),
                             APR_EINVAL);
            assert_int_equal(
                aj_key_verify(&match, p, key, (const unsigned char *)"x", 1, bad, 2 * n),
                APR_SUCCESS);
            assert_int_equal(match, 0);
            assert_int_equal(aj_test_verify(p, with_sig(p, token, bad, 2 * n), ks), AJ_BAD_SIG);
        }
        /* r = n - 1 is in range: it converts (and does not verify). */
        memcpy(bad, good, 2 * n);
        memcpy(bad, order, n);
        bad[n - 1] -= 1;
        assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, bad, 2 * n), APR_SUCCESS);
        assert_int_equal(aj_test_verify(p, with_sig(p, token, bad, 2 * n), ks), AJ_BAD_SIG);
        /* Wrong lengths, including another curve's size and the DER form. */
        lens[0] = 2 * n - 1;
        lens[1] = 2 * n + 1;
        lens[2] = n;
        lens[3] = (n == 32) ? 96 : 64;
        for (j = 0; j < 4; ++j) {
            memset(bad, 0x11, 2 * n + 1);
            assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, bad, lens[j]),
                             APR_EINVAL);
            assert_int_equal(
                aj_key_verify(&match, p, key, (const unsigned char *)"x", 1, bad, lens[j]),
                APR_SUCCESS);
            assert_int_equal(match, 0);
        }
        assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, good, 0), APR_EINVAL);
        assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, AJ_ALG_RS256, good, 2 * n),
                         APR_EINVAL);
        assert_int_equal(aj_ecdsa_raw_to_der(&der, &derlen, p, ec[i].alg, good, 2 * n),
                         APR_SUCCESS);
        /* A DER signature sent as is is refused by length. */
        assert_int_equal(aj_test_verify(p, with_sig(p, token, der, derlen), ks), AJ_BAD_SIG);
    }
}

static void test_ecdsa_der_round_trip(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const struct {
        aj_alg_e alg;
        const char *curve;
        apr_size_t n;
    } ec[] = {
        { AJ_ALG_ES256, "P-256", 32 },
        { AJ_ALG_ES384, "P-384", 48 },
        { AJ_ALG_ES512, "P-521", 66 },
    };
    apr_size_t i;
    int round;

    for (i = 0; i < sizeof(ec) / sizeof(ec[0]); ++i) {
        EVP_PKEY *k = aj_test_gen_key(p, "EC", ec[i].curve, 0);
        /* Many signatures, so short r and s (leading zero bytes) occur. */
        for (round = 0; round < 64; ++round) {
            EVP_MD_CTX *ctx = EVP_MD_CTX_new();
            unsigned char der[256], *raw = NULL, *der2 = NULL;
            size_t derlen = sizeof(der);
            apr_size_t rawlen = 0, der2len = 0;
            unsigned char msg[4] = { (unsigned char)round, 1, 2, 3 };

            assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
            assert_int_equal(EVP_DigestSign(ctx, der, &derlen, msg, sizeof(msg)), 1);
            EVP_MD_CTX_free(ctx);
            assert_int_equal(aj_ecdsa_der_to_raw(&raw, &rawlen, p, ec[i].alg, der, derlen),
                             APR_SUCCESS);
            assert_int_equal(rawlen, 2 * ec[i].n);
            assert_int_equal(aj_ecdsa_raw_to_der(&der2, &der2len, p, ec[i].alg, raw, rawlen),
                             APR_SUCCESS);
            assert_int_equal(der2len, derlen);
            assert_memory_equal(der2, der, derlen);
            /* Trailing bytes after the DER, or a truncated one, are refused. */
            der[derlen] = 0;
            assert_int_equal(aj_ecdsa_der_to_raw(&raw, &rawlen, p, ec[i].alg, der, derlen + 1),
                             APR_EINVAL);
            assert_int_equal(aj_ecdsa_der_to_raw(&raw, &rawlen, p, ec[i].alg, der, derlen - 1),
                             APR_EINVAL);
        }
    }
    assert_int_equal(
        aj_ecdsa_der_to_raw(NULL, NULL, p, AJ_ALG_EDDSA, (const unsigned char *)"x", 1),
        APR_EINVAL);
}

/* ---- confusions --------------------------------------------------------- */

/* An HS256 token whose HMAC secret is the RS256 key's public PEM (which an
 * attacker knows) is never verified with the RSA key. */
static void test_hmac_with_rsa_pem_secret(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *rsa = aj_test_load(p, AJ_ALG_RS256, RFC_A2_PUB_PEM, 0, "rsa");
    aj_key_t *hmac = NULL;
    const char *err = NULL;
    const char *token;

    assert_int_equal(aj_key_hmac_make(&hmac, &err, p, AJ_ALG_HS256,
                                      (const unsigned char *)RFC_A2_PUB_PEM, strlen(RFC_A2_PUB_PEM),
                                      NULL),
                     APR_SUCCESS);
    token = aj_test_forge(p, hmac, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", T_CLAIMS);
    assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, rsa, NULL)), AJ_BAD_ALG);
    token = aj_test_forge(p, hmac, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", T_CLAIMS);
    assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, rsa, NULL)), AJ_BAD_ALG);
    /* Same secret without the final newline, and as HS512. */
    assert_int_equal(aj_key_hmac_make(&hmac, &err, p, AJ_ALG_HS512,
                                      (const unsigned char *)RFC_A2_PUB_PEM,
                                      strlen(RFC_A2_PUB_PEM) - 1, NULL),
                     APR_SUCCESS);
    token = aj_test_forge(p, hmac, "{\"alg\":\"HS512\"}", T_CLAIMS);
    assert_int_equal(aj_test_verify(p, token, aj_test_keyset_of(p, rsa, NULL)), AJ_BAD_ALG);
}

/* jwk, jku, x5u and x5c in a header never supply the key. */
static void test_embedded_key_headers_ignored(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *mine = aj_test_gen_key(p, "EC", "P-256", 0),
             *evil = aj_test_gen_key(p, "EC", "P-256", 0);
    aj_key_t *configured = aj_test_load(p, AJ_ALG_ES256, aj_test_public_pem(p, mine), 0, NULL);
    aj_key_t *attacker = aj_test_load(p, AJ_ALG_ES256, aj_test_private_pem(p, evil), 1, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, configured, NULL);
    const char *attacker_pub = aj_test_public_pem(p, evil);
    /* The attacker's public key as a JWK (x, y), built from its PEM. */
    aj_key_t *attacker_verify = aj_test_load(p, AJ_ALG_ES256, attacker_pub, 0, NULL);
    aj_keyset_t *attacker_ks = aj_test_keyset_of(p, attacker_verify, NULL);
    const char *headers[] = {
        NULL, /* the "jwk" header, filled in below */
        "{\"alg\":\"ES256\",\"jku\":\"https://evil.example/jwks.json\"}",
        "{\"alg\":\"ES256\",\"x5u\":\"https://evil.example/cert.pem\"}",
        "{\"alg\":\"ES256\",\"x5c\":[\"MIIB\"]}",
    };
    BIGNUM *x = NULL, *y = NULL;
    unsigned char xb[32], yb[32];
    apr_size_t i;

    assert_int_equal(EVP_PKEY_get_bn_param(evil, "qx", &x), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(evil, "qy", &y), 1);
    assert_int_equal(BN_bn2binpad(x, xb, 32), 32);
    assert_int_equal(BN_bn2binpad(y, yb, 32), 32);
    BN_free(x);
    BN_free(y);
    headers[0] = apr_pstrcat(p,
                             "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\","
                             "\"x\":\"",
                             aj_b64url_encode(p, xb, 32), "\",\"y\":\"",
                             aj_b64url_encode(p, yb, 32), "\"}}", NULL);
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); ++i) {
        const char *token = aj_test_forge(p, attacker, headers[i], T_CLAIMS);
        /* The signature is good for the attacker's key... */
        assert_int_equal(aj_test_verify(p, token, attacker_ks), AJ_OK);
        /* ...and means nothing here. */
        assert_int_equal(aj_test_verify(p, token, ks), AJ_BAD_SIG);
    }
}

static void test_kid_selection(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    EVP_PKEY *a = aj_test_gen_key(p, "EC", "P-256", 0), *b = aj_test_gen_key(p, "EC", "P-256", 0);
    aj_key_t *k1 = aj_test_load(p, AJ_ALG_ES256, aj_test_private_pem(p, a), 1, "k1");
    aj_key_t *k2 = aj_test_load(p, AJ_ALG_ES256, aj_test_private_pem(p, b), 1, "k2");
    aj_key_t *k1v = aj_test_load(p, AJ_ALG_ES256, aj_test_public_pem(p, a), 0, "k1");
    aj_key_t *k2v = aj_test_load(p, AJ_ALG_ES256, aj_test_public_pem(p, b), 0, "k2");
    aj_keyset_t *rotated = aj_test_keyset_of(p, k2, k1v); /* signs with k2, still takes k1 */
    const char *t1 = NULL, *t2 = NULL;

    assert_ptr_equal(aj_keyset_signing_key(rotated), k2);
    assert_ptr_equal(aj_keyset_signing_key(aj_test_keyset_of(p, k1v, k2)), k2);
    assert_null(aj_keyset_signing_key(aj_test_keyset_of(p, k1v, k2v)));
    assert_int_equal(aj_jws_sign(&t1, p, k1, T_CLAIMS, strlen(T_CLAIMS)), APR_SUCCESS);
    assert_int_equal(
        aj_jws_sign(&t2, p, aj_keyset_signing_key(rotated), T_CLAIMS, strlen(T_CLAIMS)),
        APR_SUCCESS);
    assert_int_equal(aj_test_verify(p, t1, rotated), AJ_OK);
    assert_int_equal(aj_test_verify(p, t2, rotated), AJ_OK);
    /* k1 removed: its tokens are refused (no key with that kid). */
    assert_int_equal(aj_test_verify(p, t1, aj_test_keyset_of(p, k2v, NULL)), AJ_UNKNOWN_KID);
    /* A kid picks exactly that key: k2's signature under kid k1 fails. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, k2, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", T_CLAIMS),
                       rotated),
        AJ_BAD_SIG);
    /* Unknown kid. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, k2, "{\"alg\":\"ES256\",\"kid\":\"k3\"}", T_CLAIMS),
                       rotated),
        AJ_UNKNOWN_KID);
    /* No kid: every key of the alg is tried. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, k1, "{\"alg\":\"ES256\"}", T_CLAIMS), rotated), AJ_OK);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, k2, "{\"alg\":\"ES256\"}", T_CLAIMS), rotated), AJ_OK);
    /* alg none with a good kid. */
    assert_int_equal(
        aj_test_verify(p,
                       apr_pstrcat(p, aj_test_b64(p, "{\"alg\":\"none\",\"kid\":\"k2\"}"), ".",
                                   aj_test_b64(p, T_CLAIMS), ".", NULL),
                       rotated),
        AJ_BAD_ALG);
    assert_int_equal(
        aj_test_verify(p,
                       apr_pstrcat(p, aj_test_b64(p, "{\"alg\":\"none\",\"kid\":\"k2\"}"), ".",
                                   aj_test_b64(p, T_CLAIMS), ".AA", NULL),
                       rotated),
        AJ_BAD_ALG);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_rfc7515_a2_rs256),
    AJ_TEST(test_rfc7515_a3_es256),
    AJ_TEST(test_rfc8037_a4_ed25519),
    AJ_TEST(test_round_trips),
    AJ_TEST(test_rsa_paddings_distinct),
    AJ_TEST(test_ecdsa_range),
    AJ_TEST(test_ecdsa_der_round_trip),
    AJ_TEST(test_hmac_with_rsa_pem_secret),
    AJ_TEST(test_embedded_key_headers_ignored),
    AJ_TEST(test_kid_selection),
};

AJ_TEST_MAIN("aj_sign_asym", tests)

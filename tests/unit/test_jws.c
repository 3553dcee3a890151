/*
 * test_jws.c — compact JWS signing and verification: RFC vectors, every
 * verdict on the signature, the algorithm, the key id and the claims (time,
 * iss, aud), the verified-header memo, round trips, signing refusals.  The
 * token's shape (segments, encoding, size, depth, duplicate members, crit),
 * aj_jws_looks_like_jwt and aj_jws_decode: test_jws_parse.c.
 */
#include "aj_test.h"
#include "aj_b64.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "keys.h"

/* Short names for the shared values of keys.h, as the bodies use them. */
#define RFC_TOKEN   RFC_A1_TOKEN
#define T_NOW       AJ_TEST_NOW
#define T_SECRET    AJ_TEST_SECRET
#define T_HDR_HS256 AJ_TEST_HDR_HS256
#define T_CLAIMS    AJ_TEST_CLAIMS

/* RFC 7515 Appendix A.1's HMAC key (its JWK's "k") and the token's exp. */
#define RFC_JWK_K \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUu" \
    "TwjAzZr1Z9CAow"
#define RFC_EXP 1300819380

#define T_OTHER_SECRET "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static aj_keyset_t *rfc_keys(apr_pool_t *p)
{
    unsigned char *k = NULL;
    apr_size_t klen = 0;
    aj_key_t *key = NULL;
    const char *err = NULL;

    assert_int_equal(aj_b64url_decode(&k, &klen, p, RFC_JWK_K, strlen(RFC_JWK_K)), APR_SUCCESS);
    assert_int_equal(klen, 64);
    assert_int_equal(aj_key_hmac_make(&key, &err, p, AJ_ALG_HS256, k, klen, NULL), APR_SUCCESS);
    return aj_test_keyset_of(p, key, NULL);
}

static void test_rfc7515_a1(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks = rfc_keys(p);
    aj_verdict_e v = AJ_VERDICT_COUNT;
    aj_claims_t *claims = NULL;
    apr_int64_t exp = 0;
    aj_policy_t policy = { "joe", NULL, 0 };

    assert_int_equal(
        aj_jws_verify(&v, &claims, p, RFC_TOKEN, strlen(RFC_TOKEN), ks, &policy, RFC_EXP - 1),
        APR_SUCCESS);
    assert_int_equal(v, AJ_OK);
    assert_string_equal(aj_claims_get_string(claims, "iss"), "joe");
    assert_true(aj_claims_get_int(claims, "exp", &exp));
    assert_int_equal(exp, RFC_EXP);
    assert_true(aj_claims_match(claims, "http://example.com/is_root", "true"));
    /* The vector's exp is in the past. */
    assert_int_equal(aj_test_verify_at(p, RFC_TOKEN, ks, &policy, RFC_EXP), AJ_EXPIRED);
    assert_int_equal(aj_test_verify_at(p, RFC_TOKEN, ks, NULL, T_NOW), AJ_EXPIRED);
}

static void test_rfc7519_3_1(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    /* RFC 7519 §3.1, written out as printed there. */
    static const char token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                                "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                                "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    aj_keyset_t *ks = rfc_keys(p);
    aj_policy_t wrong_iss = { "bob", NULL, 0 };

    assert_int_equal(aj_test_verify_at(p, token, ks, NULL, RFC_EXP - 100), AJ_OK);
    assert_int_equal(aj_test_verify_at(p, token, ks, &wrong_iss, RFC_EXP - 100), AJ_BAD_ISS);
    /* Another key: the signature fails. */
    assert_int_equal(
        aj_test_verify_at(
            p, token, aj_test_keyset_of(p, aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL), NULL),
            NULL, RFC_EXP - 100),
        AJ_BAD_SIG);
}

/* Re-encodes token with bit `bit` of segment `seg`'s decoded bytes flipped. */
static const char *flip(apr_pool_t *p, const char *token, int seg, apr_size_t bit)
{
    char **parts = apr_pcalloc(p, 3 * sizeof(char *));
    char *copy = apr_pstrdup(p, token), *last = NULL;
    unsigned char *raw = NULL;
    apr_size_t len = 0;
    int i;

    for (i = 0; i < 3; ++i) {
        parts[i] = apr_strtok(i ? NULL : copy, ".", &last);
        assert_non_null(parts[i]);
    }
    assert_int_equal(aj_b64url_decode(&raw, &len, p, parts[seg], strlen(parts[seg])), APR_SUCCESS);
    assert_true(bit / 8 < len);
    raw[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    parts[seg] = (char *)aj_b64url_encode(p, raw, len);
    return apr_pstrcat(p, parts[0], ".", parts[1], ".", parts[2], NULL);
}

static void test_bit_flips(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks = rfc_keys(p);
    apr_size_t bit;
    aj_verdict_e v;

    /* One chosen flip per segment that keeps the JSON valid: 't' -> 'u' in
     * "typ" (header byte 2: an unknown member, ignored), 'j' -> 'k' in "joe"
     * (payload byte 9), and the first signature bit.  'J' -> 'K' in "JWT"
     * (header byte 9) is a typ refused before the signature is looked at. */
    assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 0, 2 * 8), ks, NULL, RFC_EXP - 1),
                     AJ_BAD_SIG);
    assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 0, 9 * 8), ks, NULL, RFC_EXP - 1),
                     AJ_BAD_TYP);
    assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 1, 9 * 8), ks, NULL, RFC_EXP - 1),
                     AJ_BAD_SIG);
    assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 2, 0), ks, NULL, RFC_EXP - 1),
                     AJ_BAD_SIG);
    /* Every bit of the signature. */
    for (bit = 0; bit < 256; ++bit) {
        assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 2, bit), ks, NULL, RFC_EXP - 1),
                         AJ_BAD_SIG);
    }
    /* Every bit of the payload: the signature fails before the payload is
     * even parsed. */
    for (bit = 0; bit < 70 * 8; ++bit) {
        assert_int_equal(aj_test_verify_at(p, flip(p, RFC_TOKEN, 1, bit), ks, NULL, RFC_EXP - 1),
                         AJ_BAD_SIG);
    }
    /* Every bit of the header: never accepted; broken JSON is malformed,
     * a damaged alg name or typ is refused, anything else fails the
     * signature. */
    for (bit = 0; bit < 30 * 8; ++bit) {
        v = aj_test_verify_at(p, flip(p, RFC_TOKEN, 0, bit), ks, NULL, RFC_EXP - 1);
        assert_true(v == AJ_MALFORMED || v == AJ_BAD_ALG || v == AJ_BAD_TYP || v == AJ_BAD_SIG);
    }
}

static void test_alg_none(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    static const char *const nones[] = { "none", "None", "NONE", "nOnE" };
    apr_size_t i;

    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, T_HDR_HS256, T_CLAIMS), ks), AJ_OK);
    for (i = 0; i < sizeof(nones) / sizeof(nones[0]); ++i) {
        const char *hdr = apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", nones[i]);
        /* Unsigned, as RFC 7519 §6.1 writes it ... */
        assert_int_equal(aj_test_verify(p,
                                        apr_pstrcat(p, aj_test_b64(p, hdr), ".",
                                                    aj_test_b64(p, T_CLAIMS), ".", NULL),
                                        ks),
                         AJ_BAD_ALG);
        /* ... and with a valid HMAC over it. */
        assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, hdr, T_CLAIMS), ks), AJ_BAD_ALG);
    }
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"hs256\"}", T_CLAIMS), ks),
                     AJ_BAD_ALG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"\"}", T_CLAIMS), ks),
                     AJ_BAD_ALG);
    /* No alg, or not a string: the header is malformed. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "{\"typ\":\"JWT\"}", T_CLAIMS), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":null}", T_CLAIMS), ks),
                     AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":[\"HS256\"]}", T_CLAIMS), ks),
        AJ_MALFORMED);
}

static void test_alg_other_hmac_size(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *k256 = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_key_t *k384 = aj_test_hmac_key(p, AJ_ALG_HS384, T_SECRET, NULL);
    aj_key_t *k512 = aj_test_hmac_key(p, AJ_ALG_HS512, T_SECRET, NULL);

    /* An HS256 key never verifies an HS384/HS512 token, even when the MAC
     * was made with the same secret. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, k384, "{\"alg\":\"HS384\"}", T_CLAIMS),
                                    aj_test_keyset_of(p, k256, NULL)),
                     AJ_BAD_ALG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, k512, "{\"alg\":\"HS512\"}", T_CLAIMS),
                                    aj_test_keyset_of(p, k256, NULL)),
                     AJ_BAD_ALG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, k256, "{\"alg\":\"HS512\"}", T_CLAIMS),
                                    aj_test_keyset_of(p, k256, k512)),
                     AJ_BAD_SIG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, k512, "{\"alg\":\"HS256\"}", T_CLAIMS),
                                    aj_test_keyset_of(p, k256, NULL)),
                     AJ_BAD_SIG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, k512, "{\"alg\":\"HS512\"}", T_CLAIMS),
                                    aj_test_keyset_of(p, k256, k512)),
                     AJ_OK);
}

static void test_hmac_key_never_for_other_algs(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, "k");
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    static const char *const algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384",
                                        "PS512", "ES256", "ES384", "ES512", "EdDSA" };
    apr_size_t i;

    /* The classic confusion: an asymmetric alg "verified" with the HMAC
     * secret.  With and without the key's kid. */
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i) {
        assert_int_equal(
            aj_test_verify(
                p, aj_test_forge(p, key, apr_psprintf(p, "{\"alg\":\"%s\"}", algs[i]), T_CLAIMS),
                ks),
            AJ_BAD_ALG);
        assert_int_equal(
            aj_test_verify(p,
                           aj_test_forge(p, key,
                                         apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"k\"}", algs[i]),
                                         T_CLAIMS),
                           ks),
            AJ_BAD_ALG);
    }
}

static void test_time_claims(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    aj_policy_t leeway = { NULL, NULL, 30 };

#define TOK(claims) aj_test_forge(p, key, T_HDR_HS256, (claims))
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1699999999}"), ks), AJ_EXPIRED);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700000000}"), ks), AJ_EXPIRED);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700000001}"), ks), AJ_OK);
    assert_int_equal(aj_test_verify_at(p, TOK("{\"exp\":1699999980}"), ks, &leeway, T_NOW), AJ_OK);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700003600,\"nbf\":1700000001}"), ks),
                     AJ_NOT_YET_VALID);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700003600,\"nbf\":1700000000}"), ks), AJ_OK);
    assert_int_equal(
        aj_test_verify_at(p, TOK("{\"exp\":1700003600,\"nbf\":1700000030}"), ks, &leeway, T_NOW),
        AJ_OK);
    assert_int_equal(
        aj_test_verify_at(p, TOK("{\"exp\":1700003600,\"nbf\":1700000031}"), ks, &leeway, T_NOW),
        AJ_NOT_YET_VALID);
    /* iat in the future: beyond the leeway refused, within it accepted. */
    assert_int_equal(
        aj_test_verify_at(p, TOK("{\"exp\":1700003600,\"iat\":1700000031}"), ks, &leeway, T_NOW),
        AJ_BAD_IAT);
    assert_int_equal(
        aj_test_verify_at(p, TOK("{\"exp\":1700003600,\"iat\":1700000030}"), ks, &leeway, T_NOW),
        AJ_OK);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700003600,\"iat\":1700000001}"), ks),
                     AJ_BAD_IAT);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":1700003600,\"iat\":1}"), ks), AJ_OK);
    assert_int_equal(aj_test_verify(p, TOK("{\"sub\":\"1\"}"), ks), AJ_MISSING_EXP);
    assert_int_equal(aj_test_verify(p, TOK("{}"), ks), AJ_MISSING_EXP);
    assert_int_equal(aj_test_verify(p, TOK("{\"exp\":\"1700003600\"}"), ks), AJ_MALFORMED);
#undef TOK
}

static void test_iss_aud(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    static const char *const auds[] = { "api", "web" };
    aj_policy_t pol = { "https://issuer", aj_test_strings(p, auds, 2), 0 };

#define TOK(claims) aj_test_forge(p, key, T_HDR_HS256, (claims))
#define WITH(rest)  TOK("{\"exp\":1700003600," rest "}")
    assert_int_equal(
        aj_test_verify_at(p, WITH("\"iss\":\"https://issuer\",\"aud\":\"api\""), ks, &pol, T_NOW),
        AJ_OK);
    assert_int_equal(aj_test_verify_at(p,
                                       WITH("\"iss\":\"https://issuer\",\"aud\":[\"x\",\"web\"]"),
                                       ks, &pol, T_NOW),
                     AJ_OK);
    assert_int_equal(
        aj_test_verify_at(p, WITH("\"iss\":\"https://other\",\"aud\":\"api\""), ks, &pol, T_NOW),
        AJ_BAD_ISS);
    assert_int_equal(aj_test_verify_at(p, WITH("\"aud\":\"api\""), ks, &pol, T_NOW), AJ_BAD_ISS);
    assert_int_equal(
        aj_test_verify_at(p, WITH("\"iss\":\"https://issuer\",\"aud\":\"apix\""), ks, &pol, T_NOW),
        AJ_BAD_AUD);
    assert_int_equal(aj_test_verify_at(p, WITH("\"iss\":\"https://issuer\",\"aud\":[\"x\",\"y\"]"),
                                       ks, &pol, T_NOW),
                     AJ_BAD_AUD);
    assert_int_equal(aj_test_verify_at(p, WITH("\"iss\":\"https://issuer\""), ks, &pol, T_NOW),
                     AJ_BAD_AUD);
#undef WITH
#undef TOK
}

static void test_kid(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *ka = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, "a");
    aj_key_t *kb = aj_test_hmac_key(p, AJ_ALG_HS256, T_OTHER_SECRET, "b");
    aj_key_t *nokid = aj_test_hmac_key(p, AJ_ALG_HS256, T_OTHER_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, ka, kb);

    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS256\",\"kid\":\"a\"}", T_CLAIMS), ks),
        AJ_OK);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, kb, "{\"alg\":\"HS256\",\"kid\":\"b\"}", T_CLAIMS), ks),
        AJ_OK);
    /* kid selects the key: b's signature under kid a fails. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, kb, "{\"alg\":\"HS256\",\"kid\":\"a\"}", T_CLAIMS), ks),
        AJ_BAD_SIG);
    /* Unknown kid: its own verdict ("unknown key id"), kids compared exactly. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS256\",\"kid\":\"c\"}", T_CLAIMS), ks),
        AJ_UNKNOWN_KID);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS256\",\"kid\":\"A\"}", T_CLAIMS), ks),
        AJ_UNKNOWN_KID);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, nokid, "{\"alg\":\"HS256\",\"kid\":\"x\"}", T_CLAIMS),
                       aj_test_keyset_of(p, nokid, NULL)),
        AJ_UNKNOWN_KID);
    /* A known kid with another alg is an alg mismatch, not an unknown kid. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS384\",\"kid\":\"a\"}", T_CLAIMS), ks),
        AJ_BAD_ALG);
    /* kid not a string. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS256\",\"kid\":1}", T_CLAIMS), ks),
        AJ_MALFORMED);
    /* No kid: every key of the alg is tried, in order. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, kb, T_HDR_HS256, T_CLAIMS), ks), AJ_OK);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, T_HDR_HS256, T_CLAIMS), ks), AJ_OK);
    /* An empty key set accepts nothing. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, T_HDR_HS256, T_CLAIMS), aj_keyset_make(p)),
        AJ_BAD_ALG);
}

static void test_header_keys_ignored(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_key_t *attacker = aj_test_hmac_key(p, AJ_ALG_HS256, T_OTHER_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    const char *hdr = apr_psprintf(
        p,
        "{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"%s\"},\"jku\":\"https://evil/\","
        "\"x5u\":\"https://evil/c\",\"x5c\":[\"MIIB\"]}",
        aj_b64url_encode(p, (const unsigned char *)T_OTHER_SECRET, 32));

    /* Signed with the configured key: fine, the extra members are ignored. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, hdr, T_CLAIMS), ks), AJ_OK);
    /* Signed with the key the header offers: refused. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, attacker, hdr, T_CLAIMS), ks), AJ_BAD_SIG);
}

/* Verified headers are remembered per key set, and only those: a header
 * seen with a bad signature or a refused header never fills a slot, a
 * remembered one still needs its own signature and claims, and the slots
 * are bounded. */
static void test_header_memo(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *ka = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, "a");
    aj_key_t *kb = aj_test_hmac_key(p, AJ_ALG_HS256, T_OTHER_SECRET, "b");
    aj_keyset_t *ks = aj_test_keyset_of(p, ka, kb), *other = aj_test_keyset_of(p, ka, NULL);
    aj_jws_memo_t *memo = aj_keyset_memo(ks);
    const char *hdr_a = "{\"alg\":\"HS256\",\"kid\":\"a\"}";
    int i;

    assert_non_null(memo);
    assert_null(aj_keyset_memo(NULL));
    /* Refused before or at the signature: nothing remembered. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, kb, hdr_a, T_CLAIMS), ks), AJ_BAD_SIG);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, ka, "{\"alg\":\"HS256\",\"crit\":[\"x\"]}", T_CLAIMS),
                       ks),
        AJ_BAD_CRIT);
    assert_null(memo->slot[0]);
    /* Verified: remembered, once. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, hdr_a, T_CLAIMS), ks), AJ_OK);
    assert_non_null(memo->slot[0]);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, hdr_a, T_CLAIMS), ks), AJ_OK);
    assert_null(memo->slot[1]);
    /* Remembered header, wrong key or bad claims: still refused. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, kb, hdr_a, T_CLAIMS), ks), AJ_BAD_SIG);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, hdr_a, "{\"sub\":\"1\"}"), ks),
                     AJ_MISSING_EXP);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, hdr_a, "{\"exp\":1}"), ks), AJ_EXPIRED);
    /* Per set: the other set learnt nothing. */
    assert_null(aj_keyset_memo(other)->slot[0]);
    /* Bounded: more distinct verified headers than slots still verify. */
    for (i = 0; i < AJ_JWS_MEMO_SLOTS + 4; ++i) {
        const char *h = apr_psprintf(p, "{\"alg\":\"HS256\",\"kid\":\"b\",\"n\":%d}", i);
        assert_int_equal(aj_test_verify(p, aj_test_forge(p, kb, h, T_CLAIMS), ks), AJ_OK);
        assert_int_equal(aj_test_verify(p, aj_test_forge(p, kb, h, T_CLAIMS), ks), AJ_OK);
        assert_int_equal(aj_test_verify(p, aj_test_forge(p, ka, h, T_CLAIMS), ks), AJ_BAD_SIG);
    }
    for (i = 0; i < AJ_JWS_MEMO_SLOTS; ++i) {
        assert_non_null(memo->slot[i]);
    }
}

static void test_round_trips(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const aj_alg_e algs[] = { AJ_ALG_HS256, AJ_ALG_HS384, AJ_ALG_HS512 };
    json_object *hdr = NULL, *payload = NULL, *v = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i) {
        aj_key_t *key = aj_test_hmac_key(p, algs[i], T_SECRET, i == 1 ? "rot-2" : NULL);
        aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
        const char *tok = NULL;
        aj_verdict_e verdict = AJ_VERDICT_COUNT;
        aj_claims_t *claims = NULL;

        assert_int_equal(aj_jws_sign(&tok, p, key, T_CLAIMS, strlen(T_CLAIMS)), APR_SUCCESS);
        assert_int_equal(aj_jws_verify(&verdict, &claims, p, tok, strlen(tok), ks, NULL, T_NOW),
                         APR_SUCCESS);
        assert_int_equal(verdict, AJ_OK);
        assert_string_equal(aj_claims_get_string(claims, "name"), "alice");
        assert_true(aj_jws_looks_like_jwt(tok, strlen(tok)));
        /* The header says alg, typ and (only when the key has one) kid. */
        assert_int_equal(aj_jws_decode(&hdr, &payload, p, tok, strlen(tok)), APR_SUCCESS);
        assert_true(json_object_object_get_ex(hdr, "alg", &v));
        assert_string_equal(json_object_get_string(v), aj_alg_name(algs[i]));
        assert_true(json_object_object_get_ex(hdr, "typ", &v));
        assert_string_equal(json_object_get_string(v), "JWT");
        assert_int_equal(json_object_object_get_ex(hdr, "kid", &v), i == 1);
        if (i == 1) {
            assert_string_equal(json_object_get_string(v), "rot-2");
        }
        assert_int_equal(json_object_object_length(hdr), i == 1 ? 3 : 2);
        assert_string_equal(aj_json_dump(p, payload), T_CLAIMS);
        /* The same token against a key set of another size: refused (the
         * token with a kid: no key there carries it). */
        assert_int_equal(
            aj_test_verify(
                p, tok,
                aj_test_keyset_of(p, aj_test_hmac_key(p, algs[(i + 1) % 3], T_SECRET, NULL), NULL)),
            i == 1 ? AJ_UNKNOWN_KID : AJ_BAD_ALG);
    }
}

static void test_sign_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    const char *tok = NULL;

    assert_int_equal(aj_jws_sign(&tok, p, NULL, T_CLAIMS, strlen(T_CLAIMS)), APR_EINVAL);
    assert_int_equal(aj_jws_sign(&tok, p, key, NULL, 0), APR_EINVAL);
    assert_int_equal(aj_jws_sign(&tok, p, key, "", 0), APR_EINVAL);
    assert_null(tok);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_rfc7515_a1),
    AJ_TEST(test_rfc7519_3_1),
    AJ_TEST(test_bit_flips),
    AJ_TEST(test_alg_none),
    AJ_TEST(test_alg_other_hmac_size),
    AJ_TEST(test_hmac_key_never_for_other_algs),
    AJ_TEST(test_time_claims),
    AJ_TEST(test_iss_aud),
    AJ_TEST(test_kid),
    AJ_TEST(test_header_keys_ignored),
    AJ_TEST(test_header_memo),
    AJ_TEST(test_round_trips),
    AJ_TEST(test_sign_refusals),
};

AJ_TEST_MAIN("aj_jws", tests)

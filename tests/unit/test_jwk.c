/*
 * test_jwk.c — JWK export of public keys (RFC 7517, RFC 7518 §6, RFC 8037
 * §2): the RFC keys give the RFC's members, P-521 coordinates are 66
 * bytes, HMAC keys and private members never appear, and the key set's
 * cached JWK Set equals a fresh one.
 */
#include "aj_test.h"
#include "aj_b64.h"
#include "aj_json.h"
#include "aj_jwk.h"
#include "aj_jwks.h"
#include "aj_key.h"
#include "aj_keyset.h"
#include "keys.h"

/* The members of RFC 7515 A.2 (n), A.3 (x, y) and RFC 8037 A.1 (x) public
 * keys (their PEM: keys.h). */
#define RFC_A2_N \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPC" \
    "JrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soM" \
    "Zo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2C" \
    "apHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NA" \
    "co9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC_A3_X  "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC_A3_Y  "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

#define T_SECRET "0123456789abcdef0123456789abcdef"

static const char *member(json_object *o, const char *name)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, name, &v)) {
        return NULL;
    }
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static int member_count(json_object *o)
{
    return json_object_object_length(o);
}

/* No member that a private JWK would carry. */
static void assert_public_only(json_object *jwk)
{
    static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "k", "oth" };
    apr_size_t i;

    for (i = 0; i < sizeof(priv) / sizeof(priv[0]); ++i) {
        assert_null(member(jwk, priv[i]));
    }
}

static apr_size_t decoded_len(apr_pool_t *p, const char *s)
{
    unsigned char *out = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_b64url_decode(&out, &len, p, s, strlen(s)), APR_SUCCESS);
    return len;
}

static void test_rfc_keys(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *jwk = NULL;

    assert_int_equal(
        aj_jwk_from_key(&jwk, p, aj_test_load(p, AJ_ALG_RS256, RFC_A2_PUB_PEM, 0, "r")),
        APR_SUCCESS);
    assert_string_equal(member(jwk, "kty"), "RSA");
    assert_string_equal(member(jwk, "n"), RFC_A2_N);
    assert_string_equal(member(jwk, "e"), "AQAB");
    assert_string_equal(member(jwk, "kid"), "r");
    assert_string_equal(member(jwk, "alg"), "RS256");
    assert_string_equal(member(jwk, "use"), "sig");
    assert_int_equal(member_count(jwk), 6);

    assert_int_equal(
        aj_jwk_from_key(&jwk, p, aj_test_load(p, AJ_ALG_ES256, RFC_A3_PUB_PEM, 0, NULL)),
        APR_SUCCESS);
    assert_string_equal(member(jwk, "kty"), "EC");
    assert_string_equal(member(jwk, "crv"), "P-256");
    assert_string_equal(member(jwk, "x"), RFC_A3_X);
    assert_string_equal(member(jwk, "y"), RFC_A3_Y);
    assert_null(member(jwk, "kid"));
    assert_string_equal(member(jwk, "alg"), "ES256");
    assert_int_equal(member_count(jwk), 6);

    /* From the private key: only the public half. */
    assert_int_equal(
        aj_jwk_from_key(&jwk, p, aj_test_load(p, AJ_ALG_EDDSA, RFC8037_PRIV_PEM, 1, "ed")),
        APR_SUCCESS);
    assert_string_equal(member(jwk, "kty"), "OKP");
    assert_string_equal(member(jwk, "crv"), "Ed25519");
    assert_string_equal(member(jwk, "x"), RFC8037_X);
    assert_string_equal(member(jwk, "alg"), "EdDSA");
    assert_public_only(jwk);
    assert_int_equal(member_count(jwk), 6);
}

static void test_generated_keys(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const struct {
        aj_alg_e alg;
        const char *curve;
        apr_size_t coord;
    } ec[] = {
        { AJ_ALG_ES256, "P-256", 32 },
        { AJ_ALG_ES384, "P-384", 48 },
        { AJ_ALG_ES512, "P-521", 66 },
    };
    json_object *jwk = NULL;
    apr_size_t i;
    int round;

    for (i = 0; i < sizeof(ec) / sizeof(ec[0]); ++i) {
        /* Coordinates keep their leading zero bytes: try a few keys. */
        for (round = 0; round < 8; ++round) {
            const char *pem = aj_test_private_pem(p, aj_test_gen_key(p, "EC", ec[i].curve, 0));
            assert_int_equal(aj_jwk_from_key(&jwk, p, aj_test_load(p, ec[i].alg, pem, 1, "k")),
                             APR_SUCCESS);
            assert_string_equal(member(jwk, "crv"), ec[i].curve);
            assert_int_equal(decoded_len(p, member(jwk, "x")), ec[i].coord);
            assert_int_equal(decoded_len(p, member(jwk, "y")), ec[i].coord);
            assert_public_only(jwk);
        }
    }
    {
        const char *pem = aj_test_private_pem(p, aj_test_gen_key(p, "RSA", NULL, 3072));
        assert_int_equal(aj_jwk_from_key(&jwk, p, aj_test_load(p, AJ_ALG_PS512, pem, 1, NULL)),
                         APR_SUCCESS);
        assert_int_equal(decoded_len(p, member(jwk, "n")), 384);
        assert_string_equal(member(jwk, "alg"), "PS512");
        assert_public_only(jwk);
    }
}

static void test_hmac_never_exported(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *hmac = NULL;
    const char *err = NULL, *json = NULL;
    json_object *jwk = NULL, *set = NULL, *keys = NULL;
    aj_keyset_t *ks = aj_keyset_make(p);

    assert_int_equal(
        aj_key_hmac_make(&hmac, &err, p, AJ_ALG_HS256, (const unsigned char *)T_SECRET, 32, "h"),
        APR_SUCCESS);
    assert_int_equal(aj_jwk_from_key(&jwk, p, hmac), APR_ENOENT);
    assert_null(jwk);
    assert_int_equal(aj_jwk_from_key(&jwk, p, NULL), APR_ENOENT);

    assert_string_equal(aj_keyset_jwks(ks), AJ_JWK_SET_EMPTY);
    aj_keyset_add(ks, hmac);
    assert_string_equal(aj_keyset_jwks(ks), "{\"keys\":[]}");
    aj_keyset_add(ks, aj_test_load(p, AJ_ALG_RS256, RFC_A2_PUB_PEM, 0, "r"));
    aj_keyset_add(ks, hmac);
    aj_keyset_add(ks, aj_test_load(p, AJ_ALG_EDDSA, RFC8037_PRIV_PEM, 1, "ed"));
    assert_int_equal(aj_jwk_set_json(&json, p, ks), APR_SUCCESS);
    assert_string_equal(aj_keyset_jwks(ks), json);
    assert_null(strstr(json, T_SECRET));
    assert_null(strstr(json, "\"h\""));
    assert_null(strstr(json, "oct"));
    assert_int_equal(aj_json_parse(&set, p, json, strlen(json), &aj_json_body_limits), APR_SUCCESS);
    assert_true(json_object_object_get_ex(set, "keys", &keys));
    assert_int_equal(json_object_array_length(keys), 2);
    assert_string_equal(member(json_object_array_get_idx(keys, 0), "kid"), "r");
    assert_string_equal(member(json_object_array_get_idx(keys, 1), "kid"), "ed");
    assert_public_only(json_object_array_get_idx(keys, 1));
    assert_string_equal(aj_keyset_jwks(NULL), AJ_JWK_SET_EMPTY);
}

/* ---- JWK import (docs/reference.md §11 JWK rules) ------------------------------------ */

/* RFC 7515 A.3's P-256 public key. */
#define T_EC_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define T_EC_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define T_EC_JWK(extra) \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" T_EC_X "\",\"y\":\"" T_EC_Y "\"" extra "}"

static apr_status_t import(apr_pool_t *p, const char *text, apr_array_header_t **keys,
                           const char **err)
{
    json_object *jwk = aj_json_own(p, json_tokener_parse(text));

    assert_non_null(jwk);
    *err = NULL;
    return aj_jwk_to_keys(keys, err, p, jwk, 1);
}

static void assert_refused(apr_pool_t *p, const char *text, const char *words)
{
    apr_array_header_t *keys = NULL;
    const char *err = NULL;

    assert_int_equal(import(p, text, &keys, &err), APR_EINVAL);
    assert_null(keys);
    assert_non_null(err);
    if (!strstr(err, words)) {
        fail_msg("%s: message \"%s\" lacks \"%s\"", text, err, words);
    }
}

static void test_jwk_import_rules(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_array_header_t *keys = NULL;
    const char *err = NULL;
    aj_key_t *k;

    /* an EC key: its curve's alg only; kid kept; verify-only */
    assert_int_equal(import(p,
                            T_EC_JWK(",\"kid\":\"e\",\"use\":\"sig\","
                                     "\"key_ops\":[\"sign\",\"verify\"]"),
                            &keys, &err),
                     APR_SUCCESS);
    assert_int_equal(keys->nelts, 1);
    k = APR_ARRAY_IDX(keys, 0, aj_key_t *);
    assert_int_equal(aj_key_alg(k), AJ_ALG_ES256);
    assert_string_equal(aj_key_kid(k), "e");
    assert_false(aj_key_can_sign(k));
    /* use, key_ops, alg pin, curve, point, sizes */
    assert_refused(p, T_EC_JWK(",\"use\":\"enc\""), "\"use\"");
    assert_refused(p, T_EC_JWK(",\"key_ops\":[\"sign\"]"), "verify");
    assert_refused(p, T_EC_JWK(",\"key_ops\":\"verify\""), "key_ops");
    assert_refused(p, T_EC_JWK(",\"alg\":\"ES384\""), "does not fit");
    assert_refused(p, T_EC_JWK(",\"alg\":\"ES224\""), "ES224");
    assert_refused(p,
                   "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" T_EC_X "\",\"y\":\"" T_EC_Y "\"}",
                   "not a valid EC key");
    /* y with its last bits changed: not on the curve */
    assert_refused(p,
                   "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" T_EC_X
                   "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1\"}",
                   "point of the curve");
    assert_refused(
        p, "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" T_EC_X "\",\"y\":\"" T_EC_Y "\"}",
        "curve");
    assert_refused(p, "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "2048");
    assert_refused(p, "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AAAA\"}", "at least 32");
    assert_refused(p, "{\"kty\":\"oct\",\"k\":\"AAAA\"}", "shorter");
    assert_refused(p, "{\"kty\":\"oct\",\"alg\":\"A256GCM\",\"k\":\"AAAA\"}", "A256GCM");
    assert_refused(p, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}", "X25519");
    assert_refused(p, "{\"kty\":\"foo\"}", "kty");
    assert_refused(p, "[]", "object");
    /* oct without alg: every HS the length allows (32 bytes: HS256 only) */
    assert_int_equal(import(p,
                            "{\"kty\":\"oct\",\"k\":"
                            "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}",
                            &keys, &err),
                     APR_SUCCESS);
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(aj_key_alg(APR_ARRAY_IDX(keys, 0, aj_key_t *)), AJ_ALG_HS256);
    /* not from a URL: oct refused when the caller says so */
    keys = NULL;
    assert_int_equal(
        aj_jwk_to_keys(&keys, &err, p,
                       aj_json_own(p, json_tokener_parse(
                                          "{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMU"
                                          "FRYXGBkaGxwdHh8\"}")),
                       0),
        APR_EINVAL);
}

static void test_jwk_set_rules(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_keyset_t *ks = NULL;
    apr_array_header_t *notes = NULL;
    const char *err = NULL;
#define T_OCT(kid) \
    "{\"kty\":\"oct\",\"kid\":\"" kid "\",\"alg\":\"HS256\"," \
    "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}"

    /* a kid shared by two keys: both unusable, the other key kept */
    assert_int_equal(
        aj_jwk_set_to_keyset(&ks, &notes, &err, p,
                             aj_json_own(p, json_tokener_parse("{\"keys\":[" T_OCT("a") "," T_OCT(
                                                "a") "," T_OCT("b") "]}")),
                             1),
        APR_SUCCESS);
    assert_int_equal(aj_keyset_count(ks), 1);
    assert_string_equal(aj_key_kid(aj_keyset_get(ks, 0)), "b");
    assert_int_equal(notes->nelts, 2);
    assert_non_null(strstr(APR_ARRAY_IDX(notes, 0, const char *), "shared"));
    /* secrets and public keys in one set: refused whole */
    ks = NULL;
    assert_int_equal(
        aj_jwk_set_to_keyset(&ks, &notes, &err, p,
                             aj_json_own(p, json_tokener_parse("{\"keys\":[" T_OCT(
                                                "a") "," T_EC_JWK(",\"kid\":\"e\"") "]}")),
                             1),
        APR_EINVAL);
    assert_null(ks);
    assert_non_null(strstr(err, "mixes"));
    /* an unusable entry is skipped with a note */
    assert_int_equal(
        aj_jwk_set_to_keyset(
            &ks, &notes, &err, p,
            aj_json_own(p, json_tokener_parse("{\"keys\":[" T_EC_JWK(
                               ",\"use\":\"enc\"") "," T_EC_JWK(",\"kid\":\"ok\"") "]}")),
            1),
        APR_SUCCESS);
    assert_int_equal(aj_keyset_count(ks), 1);
    assert_int_equal(notes->nelts, 1);
    assert_int_equal(aj_jwk_set_to_keyset(&ks, &notes, &err, p,
                                          aj_json_own(p, json_tokener_parse("{\"key\":[]}")), 1),
                     APR_EINVAL);
#undef T_OCT
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_rfc_keys),         AJ_TEST(test_generated_keys), AJ_TEST(test_hmac_never_exported),
    AJ_TEST(test_jwk_import_rules), AJ_TEST(test_jwk_set_rules),
};

AJ_TEST_MAIN("aj_jwk", tests)

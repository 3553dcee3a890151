/*
 * test_jws_parse.c — the shape of a compact JWS before and around its
 * signature: segments and base64url encoding, the size limit, JSON depth,
 * duplicate members and non-object header or payload, typ, crit, and the two
 * parsers that verify nothing (aj_jws_looks_like_jwt, aj_jws_decode).
 * Signing and verification: test_jws.c.
 */
#include "aj_test.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "keys.h"

/* Short names for the shared values of keys.h, as the bodies use them. */
#define RFC_TOKEN   RFC_A1_TOKEN
#define T_NOW       AJ_TEST_NOW
#define T_SECRET    AJ_TEST_SECRET
#define T_HDR_HS256 AJ_TEST_HDR_HS256
#define T_CLAIMS    AJ_TEST_CLAIMS

/* Sentinel: verify must not touch *claims unless the verdict is AJ_OK. */
static aj_claims_t *const untouched = (aj_claims_t *)&untouched;

static void test_segments_and_encoding(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    const char *good = aj_test_forge(p, key, T_HDR_HS256, T_CLAIMS);
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    const char *h = apr_pstrmemdup(p, good, (apr_size_t)(dot1 - good));
    const char *pl = apr_pstrmemdup(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1));
    const char *sig = dot2 + 1;

    assert_int_equal(aj_test_verify(p, good, ks), AJ_OK);
    /* 2 and 4 segments; empty header or payload. */
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, ".", pl, NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, good, ".", sig, NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, good, ".", NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, ".", pl, ".", sig, NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, "..", sig, NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, "", ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, "..", ks), AJ_MALFORMED);
    /* An empty signature is a wrong signature. */
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, ".", pl, ".", NULL), ks), AJ_BAD_SIG);
    /* Padding. */
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, good, "=", NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, "=.", pl, ".", sig, NULL), ks),
                     AJ_MALFORMED);
    /* Whitespace. */
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, good, "\n", NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, " ", good, NULL), ks), AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, ". ", pl, ".", sig, NULL), ks),
                     AJ_MALFORMED);
    /* A byte outside base64url, in each segment. */
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, "+", h + 1, ".", pl, ".", sig, NULL), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, ".", "/", pl + 1, ".", sig, NULL), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, apr_pstrcat(p, h, ".", pl, ".", "*", sig + 1, NULL), ks),
                     AJ_MALFORMED);
    /* A non-canonical tail: the signature's last character +1 keeps the
     * alphabet but sets an unused bit (43 chars: 2 unused bits). */
    {
        char *nc = apr_pstrdup(p, good);
        char *last = nc + strlen(nc) - 1;
        *last = (char)(*last == 'z' ? 'y' : *last + 1);
        assert_int_equal(aj_test_verify(p, nc, ks), AJ_MALFORMED);
    }
}

static void test_size_limit(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    const char *tok = NULL;
    char *pad, *big;
    apr_size_t n;
    aj_verdict_e v = AJ_VERDICT_COUNT;
    aj_claims_t *claims = untouched;

    /* Grow a claim until the token is exactly AJ_TOKEN_MAX_LEN long. */
    for (n = 5900; n < 6200; ++n) {
        pad = apr_palloc(p, n + 1);
        memset(pad, 'x', n);
        pad[n] = '\0';
        tok = aj_test_forge(p, key, T_HDR_HS256,
                            apr_pstrcat(p, "{\"exp\":1700003600,\"pad\":\"", pad, "\"}", NULL));
        if (strlen(tok) >= AJ_TOKEN_MAX_LEN) {
            break;
        }
    }
    assert_int_equal(strlen(tok), AJ_TOKEN_MAX_LEN);
    assert_int_equal(aj_test_verify(p, tok, ks), AJ_OK);
    /* One more byte: refused by size, before anything else. */
    big = apr_pstrcat(p, tok, "A", NULL);
    assert_int_equal(aj_test_verify(p, big, ks), AJ_MALFORMED);
    /* The length argument is what counts, not a terminating NUL. */
    assert_int_equal(aj_jws_verify(&v, &claims, p, big, AJ_TOKEN_MAX_LEN + 1, ks, NULL, T_NOW),
                     APR_SUCCESS);
    assert_int_equal(v, AJ_MALFORMED);
    assert_int_equal(aj_jws_verify(&v, &claims, p, tok, AJ_TOKEN_MAX_LEN, ks, NULL, T_NOW),
                     APR_SUCCESS);
    assert_int_equal(v, AJ_OK);
    /* Signing never makes a token verify would refuse. */
    pad = apr_palloc(p, AJ_TOKEN_MAX_LEN);
    memset(pad, 'x', AJ_TOKEN_MAX_LEN - 1);
    pad[AJ_TOKEN_MAX_LEN - 1] = '\0';
    tok = NULL;
    assert_int_equal(aj_jws_sign(&tok, p, key, pad, strlen(pad)), AJ_E2BIG);
    assert_null(tok);
}

static const char *deep(apr_pool_t *p, int depth)
{
    char *s = apr_palloc(p, (apr_size_t)depth * 2 + 2), *o = s;
    int i;

    for (i = 0; i < depth; ++i) {
        *o++ = '[';
    }
    *o++ = '1';
    for (i = 0; i < depth; ++i) {
        *o++ = ']';
    }
    *o = '\0';
    return s;
}

static void test_depth(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);

    /* The object itself is level 1. */
    assert_int_equal(
        aj_test_verify(p,
                       aj_test_forge(p, key, T_HDR_HS256,
                                     apr_pstrcat(p, "{\"exp\":1700003600,\"d\":",
                                                 deep(p, AJ_JSON_MAX_DEPTH - 1), "}", NULL)),
                       ks),
        AJ_OK);
    assert_int_equal(
        aj_test_verify(p,
                       aj_test_forge(p, key, T_HDR_HS256,
                                     apr_pstrcat(p, "{\"exp\":1700003600,\"d\":",
                                                 deep(p, AJ_JSON_MAX_DEPTH), "}", NULL)),
                       ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p,
                       aj_test_forge(p, key,
                                     apr_pstrcat(p, "{\"alg\":\"HS256\",\"x\":",
                                                 deep(p, AJ_JSON_MAX_DEPTH - 1), "}", NULL),
                                     T_CLAIMS),
                       ks),
        AJ_OK);
    assert_int_equal(
        aj_test_verify(p,
                       aj_test_forge(p, key,
                                     apr_pstrcat(p, "{\"alg\":\"HS256\",\"x\":",
                                                 deep(p, AJ_JSON_MAX_DEPTH), "}", NULL),
                                     T_CLAIMS),
                       ks),
        AJ_MALFORMED);
}

static void test_duplicates_and_shapes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);

    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", T_CLAIMS),
                       ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"none\",\"alg\":\"HS256\"}", T_CLAIMS),
                       ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(
            p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", T_CLAIMS), ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, T_HDR_HS256, "{\"exp\":1,\"exp\":1700003600}"), ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p,
                       aj_test_forge(p, key, T_HDR_HS256,
                                     "{\"exp\":1700003600,\"sub\":\"a\",\"s\\u0075b\":\"b\"}"),
                       ks),
        AJ_MALFORMED);
    /* Non-object header or payload. */
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "[\"HS256\"]", T_CLAIMS), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "\"HS256\"", T_CLAIMS), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, "not json", T_CLAIMS), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, T_HDR_HS256, "[1700003600]"), ks),
                     AJ_MALFORMED);
    assert_int_equal(aj_test_verify(p, aj_test_forge(p, key, T_HDR_HS256, "1700003600"), ks),
                     AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, T_HDR_HS256, "{\"exp\":1700003600"), ks),
        AJ_MALFORMED);
    /* A payload is only read once the signature holds. */
    assert_int_equal(aj_test_verify(p,
                                    apr_pstrcat(p, aj_test_b64(p, T_HDR_HS256), ".",
                                                aj_test_b64(p, "[]"), ".", "AAAA", NULL),
                                    ks),
                     AJ_BAD_SIG);
}

static void test_crit(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);

    assert_int_equal(
        aj_test_verify(
            p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", T_CLAIMS),
            ks),
        AJ_BAD_CRIT);
    assert_int_equal(
        aj_test_verify(
            p,
            aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", T_CLAIMS),
            ks),
        AJ_BAD_CRIT);
    /* Not a non-empty array of strings: a malformed header. */
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":[]}", T_CLAIMS), ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":\"exp\"}", T_CLAIMS),
                       ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":[1]}", T_CLAIMS), ks),
        AJ_MALFORMED);
    assert_int_equal(
        aj_test_verify(p, aj_test_forge(p, key, "{\"alg\":\"HS256\",\"crit\":null}", T_CLAIMS), ks),
        AJ_MALFORMED);
}

/* docs/reference.md §5: typ is optional; when present it is JWT or at+jwt
 * (RFC 9068), in any letter case, with or without "application/". */
static void test_typ(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_key_t *key = aj_test_hmac_key(p, AJ_ALG_HS256, T_SECRET, NULL);
    aj_keyset_t *ks = aj_test_keyset_of(p, key, NULL);
    static const struct {
        const char *typ; /* the JSON value; NULL: no typ member */
        aj_verdict_e want;
    } cases[] = {
        { NULL, AJ_OK },
        { "\"JWT\"", AJ_OK },
        { "\"jwt\"", AJ_OK },
        { "\"at+jwt\"", AJ_OK },
        { "\"AT+JWT\"", AJ_OK },
        { "\"application/jwt\"", AJ_OK },
        { "\"Application/At+Jwt\"", AJ_OK },
        { "\"JOSE\"", AJ_BAD_TYP },
        { "\"JOSE+JSON\"", AJ_BAD_TYP },
        { "\"dpop+jwt\"", AJ_BAD_TYP },     /* RFC 9449 proofs are not access tokens */
        { "\"logout+jwt\"", AJ_BAD_TYP },   /* OIDC back-channel logout tokens */
        { "\"secevent+jwt\"", AJ_BAD_TYP }, /* RFC 8417 */
        { "\"application/jose\"", AJ_BAD_TYP },
        { "\"\"", AJ_BAD_TYP },
        { "\"application/\"", AJ_BAD_TYP },
        { "\"application/application/jwt\"", AJ_BAD_TYP },
        { "\"JWT \"", AJ_BAD_TYP },
        { "\" JWT\"", AJ_BAD_TYP },
        { "\"JWTx\"", AJ_BAD_TYP },
        { "\"JW\"", AJ_BAD_TYP },
        { "\"at+jwtx\"", AJ_BAD_TYP },
        { "\"text/jwt\"", AJ_BAD_TYP },
        { "\"JWT\\u0000\"", AJ_MALFORMED }, /* aj_json.c refuses \u0000 first */
        { "1", AJ_MALFORMED },
        { "null", AJ_MALFORMED },
        { "[\"JWT\"]", AJ_MALFORMED },
        { "{\"t\":\"JWT\"}", AJ_MALFORMED },
        { "true", AJ_MALFORMED },
    };
    apr_size_t i;
    const char *hdr;
    int round;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        hdr = cases[i].typ ? apr_pstrcat(p, "{\"alg\":\"HS256\",\"typ\":", cases[i].typ, "}", NULL)
                           : "{\"alg\":\"HS256\"}";
        /* twice: the second pass of an accepted header comes from the
         * verified-header memo, and a refused one must never get there */
        for (round = 0; round < 2; ++round) {
            if (aj_test_verify(p, aj_test_forge(p, key, hdr, T_CLAIMS), ks) != cases[i].want) {
                fail_msg(
                    "typ %s (round %d): want %s, got %s", cases[i].typ ? cases[i].typ : "-", round,
                    aj_verdict_name(cases[i].want),
                    aj_verdict_name(aj_test_verify(p, aj_test_forge(p, key, hdr, T_CLAIMS), ks)));
            }
        }
    }
}

static void test_looks_like_jwt(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const no[] = {
        "alice",
        "john.doe@example.com",
        "a.b.c",
        "abcd.efgh.ijkl",
        "e30.e30",
        "e30.e30.e30.e30",
        "e30..e30",
        ".e30.e30",
        "e30.e30.",
        "e30=.e30.e30",
        "e30.e30.e30 ",
        "e30.e3+.e30",
        "W10.e30.e30",  /* "[]" */
        "ICAg.e30.e30", /* "   " */
        "",
        ".",
        "..",
    };
    apr_size_t i;
    char *big;

    assert_true(aj_jws_looks_like_jwt(RFC_TOKEN, strlen(RFC_TOKEN)));
    assert_true(aj_jws_looks_like_jwt("e30.e30.e30", 11)); /* "{}" */
    assert_true(aj_jws_looks_like_jwt("ew.e30.e30", 10));  /* "{" */
    /* Leading JSON whitespace, beyond the first base64 group too. */
    {
        const char *t =
            apr_pstrcat(p, aj_test_b64(p, "\r\n \t      {\"alg\":1}"), ".e30.e30", NULL);
        assert_true(aj_jws_looks_like_jwt(t, strlen(t)));
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); ++i) {
        assert_false(aj_jws_looks_like_jwt(no[i], strlen(no[i])));
    }
    assert_false(aj_jws_looks_like_jwt(NULL, 0));
    /* Only len bytes count. */
    assert_false(aj_jws_looks_like_jwt("e30.e30.e30", 10));
    /* Over the size limit. */
    big = apr_palloc(p, AJ_TOKEN_MAX_LEN + 2);
    memset(big, 'A', AJ_TOKEN_MAX_LEN + 1);
    memcpy(big, "e30.e30.", 8);
    big[AJ_TOKEN_MAX_LEN + 1] = '\0';
    assert_false(aj_jws_looks_like_jwt(big, AJ_TOKEN_MAX_LEN + 1));
    assert_true(aj_jws_looks_like_jwt(big, AJ_TOKEN_MAX_LEN - 1)); /* 8192-8 = 4n */
}

static void test_decode(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *hdr = NULL, *payload = NULL, *v = NULL;

    assert_int_equal(aj_jws_decode(&hdr, &payload, p, RFC_TOKEN, strlen(RFC_TOKEN)), APR_SUCCESS);
    assert_true(json_object_object_get_ex(hdr, "alg", &v));
    assert_string_equal(json_object_get_string(v), "HS256");
    assert_true(json_object_object_get_ex(payload, "iss", &v));
    assert_string_equal(json_object_get_string(v), "joe");
    hdr = payload = NULL;
    assert_int_equal(aj_jws_decode(&hdr, &payload, p, "e30.e30", 7), APR_EINVAL);
    assert_int_equal(aj_jws_decode(&hdr, &payload, p, "e30.W10.", 8), APR_EINVAL);
    assert_int_equal(aj_jws_decode(&hdr, &payload, p, "e30=.e30.", 9), APR_EINVAL);
    assert_null(hdr);
    assert_null(payload);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_segments_and_encoding), AJ_TEST(test_size_limit), AJ_TEST(test_depth),
    AJ_TEST(test_duplicates_and_shapes), AJ_TEST(test_crit),       AJ_TEST(test_typ),
    AJ_TEST(test_looks_like_jwt),        AJ_TEST(test_decode),
};

AJ_TEST_MAIN("aj_jws_parse", tests)

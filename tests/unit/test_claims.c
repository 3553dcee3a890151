/*
 * test_claims.c — registered-claim checks, claim accessors, building issued
 * claims, random ids.
 */
#include "aj_test.h"
#include "aj_b64.h"
#include "aj_claims.h"
#include "aj_issue.h"
#include "aj_json.h"

#define T_NOW 1700000000

/* The second run of every test reads each claim set through its packed
 * image (aj_claims_pack/unpack, as the verified-token cache does): both
 * forms must give the same answers. */
static int packed_run;

/* A packed image copied into fresh (8-byte aligned) pool memory. */
static aj_claims_t *repack(apr_pool_t *p, const aj_claims_t *c)
{
    void *image = NULL, *copy;
    apr_size_t len = 0;
    aj_claims_t *out;

    assert_int_equal(aj_claims_pack(&image, &len, p, c), APR_SUCCESS);
    copy = apr_pmemdup(p, image, len);
    out = aj_claims_unpack(p, copy, len);
    assert_non_null(out);
    return out;
}

static aj_claims_t *claims_of(apr_pool_t *p, const char *json)
{
    json_object *o = NULL;
    aj_claims_t *c;

    assert_int_equal(aj_json_parse(&o, p, json, strlen(json), &aj_json_token_limits), APR_SUCCESS);
    c = aj_claims_wrap_text(p, o, json, strlen(json));
    return packed_run ? repack(p, c) : c;
}

static aj_verdict_e check(apr_pool_t *p, const char *json, const aj_policy_t *pol, apr_int64_t now)
{
    return aj_claims_check(claims_of(p, json), pol, now);
}

static void test_wrap(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *arr = aj_json_own(p, json_object_new_array());
    aj_claims_t *c = claims_of(p, "{\"a\":1}");

    assert_null(aj_claims_wrap(p, NULL));
    assert_null(aj_claims_wrap(p, arr));
    assert_non_null(c);
    assert_true(json_object_is_type(aj_claims_object(c), json_type_object));
    assert_int_equal(aj_claims_check(NULL, NULL, T_NOW), AJ_MALFORMED);
}

static void test_exp(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_policy_t lee = { NULL, NULL, 10 }, neg = { NULL, NULL, -100 };

    assert_int_equal(check(p, "{\"exp\":1700000001}", NULL, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":1700000000}", NULL, T_NOW), AJ_EXPIRED);
    assert_int_equal(check(p, "{\"exp\":1699999990}", &lee, T_NOW), AJ_EXPIRED);
    assert_int_equal(check(p, "{\"exp\":1699999991}", &lee, T_NOW), AJ_OK);
    /* A negative leeway counts as none. */
    assert_int_equal(check(p, "{\"exp\":1700000001}", &neg, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":1700000000}", &neg, T_NOW), AJ_EXPIRED);
    /* Missing, or not a number. */
    assert_int_equal(check(p, "{}", NULL, T_NOW), AJ_MISSING_EXP);
    assert_int_equal(check(p, "{\"EXP\":1800000000}", NULL, T_NOW), AJ_MISSING_EXP);
    assert_int_equal(check(p, "{\"exp\":\"1800000000\"}", NULL, T_NOW), AJ_MALFORMED);
    assert_int_equal(check(p, "{\"exp\":true}", NULL, T_NOW), AJ_MALFORMED);
    assert_int_equal(check(p, "{\"exp\":null}", NULL, T_NOW), AJ_MALFORMED);
    assert_int_equal(check(p, "{\"exp\":[1800000000]}", NULL, T_NOW), AJ_MALFORMED);
    /* Fractions are truncated; huge values saturate (no overflow). */
    assert_int_equal(check(p, "{\"exp\":1700000000.9}", NULL, T_NOW), AJ_EXPIRED);
    assert_int_equal(check(p, "{\"exp\":1700000001.5}", NULL, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":1e300}", NULL, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":-1e300}", NULL, T_NOW), AJ_EXPIRED);
    assert_int_equal(check(p, "{\"exp\":18446744073709551615}", NULL, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":9223372036854775807}", &lee, T_NOW), AJ_OK);
    assert_int_equal(check(p, "{\"exp\":-9223372036854775808}", &lee, T_NOW), AJ_EXPIRED);
}

#define TIME_CLAIM_JSON "{\"exp\":1800000000,\"%s\":%s}"

/* nbf or iat (name) at now and one second past it, without and with a 5 s
 * leeway, refused as `late` past the bound; not_a_number is malformed. */
static void time_claim_bounds(apr_pool_t *p, const char *name, aj_verdict_e late,
                              const char *not_a_number)
{
    aj_policy_t lee = { NULL, NULL, 5 };

    assert_int_equal(check(p, apr_psprintf(p, TIME_CLAIM_JSON, name, "1700000000"), NULL, T_NOW),
                     AJ_OK);
    assert_int_equal(check(p, apr_psprintf(p, TIME_CLAIM_JSON, name, "1700000001"), NULL, T_NOW),
                     late);
    assert_int_equal(check(p, apr_psprintf(p, TIME_CLAIM_JSON, name, "1700000005"), &lee, T_NOW),
                     AJ_OK);
    assert_int_equal(check(p, apr_psprintf(p, TIME_CLAIM_JSON, name, "1700000006"), &lee, T_NOW),
                     late);
    assert_int_equal(check(p, apr_psprintf(p, TIME_CLAIM_JSON, name, not_a_number), NULL, T_NOW),
                     AJ_MALFORMED);
}

static void test_nbf_iat(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_policy_t huge = { NULL, NULL, APR_INT64_MAX };

    time_claim_bounds(p, "nbf", AJ_NOT_YET_VALID, "\"x\"");
    time_claim_bounds(p, "iat", AJ_BAD_IAT, "false");
    /* Type errors are found even when a time check would fail first. */
    assert_int_equal(check(p, "{\"exp\":1,\"iat\":{}}", NULL, T_NOW), AJ_MALFORMED);
    /* A leeway as large as it gets overflows nothing. */
    assert_int_equal(check(p, "{\"exp\":1,\"nbf\":9223372036854775807,\"iat\":9e18}", &huge, T_NOW),
                     AJ_OK);
}

/* Require jwt-fresh: auth_time at most max_age before now, the leeway
 * widening both bounds; anything that does not show a login fails. */
static int fresh(apr_pool_t *p, const char *json, const aj_policy_t *pol, apr_int64_t max_age)
{
    return aj_claims_fresh(claims_of(p, json), pol, max_age, T_NOW);
}

static void test_fresh(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_policy_t lee = { NULL, NULL, 5 }, neg = { NULL, NULL, -100 };
    aj_policy_t huge = { NULL, NULL, APR_INT64_MAX };

    assert_true(fresh(p, "{\"auth_time\":1700000000}", NULL, 300));
    assert_true(fresh(p, "{\"auth_time\":1699999700}", NULL, 300));
    assert_false(fresh(p, "{\"auth_time\":1699999699}", NULL, 300));
    assert_true(fresh(p, "{\"auth_time\":1699999695}", &lee, 300));
    assert_false(fresh(p, "{\"auth_time\":1699999694}", &lee, 300));
    assert_false(fresh(p, "{\"auth_time\":1699999699}", &neg, 300));
    assert_true(fresh(p, "{\"auth_time\":1700000000}", NULL, 0));
    assert_false(fresh(p, "{\"auth_time\":1699999999}", NULL, 0));
    /* A login in the future: within the leeway only. */
    assert_false(fresh(p, "{\"auth_time\":1700000001}", NULL, 300));
    assert_true(fresh(p, "{\"auth_time\":1700000005}", &lee, 300));
    assert_false(fresh(p, "{\"auth_time\":1700000006}", &lee, 300));
    /* No auth_time (iat does not stand in), or not a number. */
    assert_false(fresh(p, "{\"iat\":1700000000,\"exp\":1800000000}", NULL, 300));
    assert_false(fresh(p, "{\"auth_time\":\"1700000000\"}", NULL, 300));
    assert_false(fresh(p, "{\"auth_time\":null}", NULL, 300));
    assert_false(fresh(p, "{\"auth_time\":[1700000000]}", NULL, 300));
    assert_false(aj_claims_fresh(NULL, NULL, 300, T_NOW));
    assert_false(fresh(p, "{\"auth_time\":1700000000}", NULL, -1));
    /* Extremes saturate: nothing wraps into a fresh login. */
    assert_false(fresh(p, "{\"auth_time\":-9223372036854775808}", NULL, APR_INT64_MAX - 1));
    assert_false(fresh(p, "{\"auth_time\":-1e300}", &huge, 300));
    assert_false(fresh(p, "{\"auth_time\":1e300}", NULL, APR_INT64_MAX));
    assert_true(fresh(p, "{\"auth_time\":9223372036854775807}", &huge, 300));
    assert_true(fresh(p, "{\"auth_time\":1}", NULL, APR_INT64_MAX));
}

static void test_iss(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_policy_t pol = { "https://idp.example", NULL, 0 };

    assert_int_equal(check(p, "{\"exp\":1800000000,\"iss\":\"https://idp.example\"}", &pol, T_NOW),
                     AJ_OK);
    assert_int_equal(check(p, "{\"exp\":1800000000,\"iss\":\"https://idp.example/\"}", &pol, T_NOW),
                     AJ_BAD_ISS);
    assert_int_equal(check(p, "{\"exp\":1800000000,\"iss\":\"HTTPS://IDP.EXAMPLE\"}", &pol, T_NOW),
                     AJ_BAD_ISS);
    assert_int_equal(
        check(p, "{\"exp\":1800000000,\"iss\":[\"https://idp.example\"]}", &pol, T_NOW),
        AJ_BAD_ISS);
    assert_int_equal(check(p, "{\"exp\":1800000000}", &pol, T_NOW), AJ_BAD_ISS);
    /* Not configured: not checked. */
    assert_int_equal(check(p, "{\"exp\":1800000000,\"iss\":\"anyone\"}", NULL, T_NOW), AJ_OK);
}

static void test_aud(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const two[] = { "api", "https://web" };
    aj_policy_t pol = { NULL, aj_test_strings(p, two, 2), 0 };
    aj_policy_t none = { NULL, aj_test_strings(p, two, 0), 0 };

    static const char *const accepted[] = {
        "\"api\"",
        "\"https://web\"",
        "[\"x\",\"api\"]",
        "[\"https://web\"]",
    };
    static const char *const refused[] = {
        "\"API\"",     "\"ap\"",      "[\"x\",\"y\"]", "[]",
        "[\"api\",1]", "[[\"api\"]]", "{\"api\":1}",   "null",
    };
    apr_size_t i;

#define AUD_JSON "{\"exp\":1800000000,\"aud\":%s}"
    for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); ++i) {
        assert_int_equal(check(p, apr_psprintf(p, AUD_JSON, accepted[i]), &pol, T_NOW), AJ_OK);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        assert_int_equal(check(p, apr_psprintf(p, AUD_JSON, refused[i]), &pol, T_NOW), AJ_BAD_AUD);
    }
#undef AUD_JSON
    assert_int_equal(check(p, "{\"exp\":1800000000}", &pol, T_NOW), AJ_BAD_AUD);
    /* An empty list: not checked. */
    assert_int_equal(check(p, "{\"exp\":1800000000,\"aud\":\"x\"}", &none, T_NOW), AJ_OK);
}

static void test_accessors(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_claims_t *c = claims_of(p, "{\"s\":\"str\",\"i\":42,\"d\":1.75,\"neg\":-3.9,\"b\":true,"
                                  "\"n\":null,\"a\":[\"x\",2,false],\"o\":{\"k\":\"v\"},"
                                  "\"big\":1e30}");
    apr_int64_t v = -1;

    assert_string_equal(aj_claims_get_string(c, "s"), "str");
    assert_null(aj_claims_get_string(c, "i"));
    assert_null(aj_claims_get_string(c, "missing"));
    assert_null(aj_claims_get_string(NULL, "s"));
    assert_true(aj_claims_get_int(c, "i", &v));
    assert_int_equal(v, 42);
    assert_true(aj_claims_get_int(c, "d", &v));
    assert_int_equal(v, 1);
    assert_true(aj_claims_get_int(c, "neg", &v));
    assert_int_equal(v, -3);
    assert_true(aj_claims_get_int(c, "big", &v));
    assert_true(v == APR_INT64_MAX);
    v = 7;
    assert_false(aj_claims_get_int(c, "s", &v));
    assert_false(aj_claims_get_int(c, "b", &v));
    assert_false(aj_claims_get_int(c, "missing", &v));
    assert_int_equal(v, 7);

    assert_true(aj_claims_match(c, "s", "str"));
    assert_false(aj_claims_match(c, "s", "st"));
    assert_false(aj_claims_match(c, "s", "STR"));
    assert_true(aj_claims_match(c, "i", "42"));
    assert_false(aj_claims_match(c, "i", "42.0"));
    assert_true(aj_claims_match(c, "d", "1.75"));
    assert_true(aj_claims_match(c, "b", "true"));
    assert_false(aj_claims_match(c, "b", "1"));
    assert_true(aj_claims_match(c, "a", "x"));
    assert_true(aj_claims_match(c, "a", "2"));
    assert_true(aj_claims_match(c, "a", "false"));
    assert_false(aj_claims_match(c, "a", "y"));
    assert_false(aj_claims_match(c, "n", "null"));
    assert_false(aj_claims_match(c, "o", "{\"k\":\"v\"}"));
    assert_false(aj_claims_match(c, "missing", ""));
    assert_false(aj_claims_match(c, "s", NULL));
}

static apr_array_header_t *words(apr_pool_t *p, const char *s)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, s), *last = NULL, *w;

    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = w;
    }
    return a;
}

static void test_scopes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_claims_t *str = claims_of(p, "{\"scope\":\"  read   write admin:users \"}");
    aj_claims_t *arr = claims_of(p, "{\"scope\":[\"read\",\"write\"]}");
    aj_claims_t *scp = claims_of(p, "{\"scp\":[\"read\"]}");
    aj_claims_t *scps = claims_of(p, "{\"scp\":\"read write\"}");
    aj_claims_t *bad = claims_of(p, "{\"scope\":[\"read write\",1]}");
    aj_claims_t *none = claims_of(p, "{\"sub\":\"x\"}");

    assert_true(aj_claims_has_scopes(str, words(p, "read")));
    assert_true(aj_claims_has_scopes(str, words(p, "write read")));
    assert_true(aj_claims_has_scopes(str, words(p, "admin:users")));
    assert_false(aj_claims_has_scopes(str, words(p, "rea")));
    assert_false(aj_claims_has_scopes(str, words(p, "read delete")));
    assert_false(aj_claims_has_scopes(str, words(p, "admin")));
    assert_true(aj_claims_has_scopes(arr, words(p, "read write")));
    assert_false(aj_claims_has_scopes(arr, words(p, "admin")));
    assert_true(aj_claims_has_scopes(scp, words(p, "read")));
    assert_false(aj_claims_has_scopes(scp, words(p, "write")));
    assert_true(aj_claims_has_scopes(scps, words(p, "write")));
    assert_false(aj_claims_has_scopes(bad, words(p, "read")));
    assert_false(aj_claims_has_scopes(none, words(p, "read")));
    /* Nothing asked: fail closed. */
    assert_false(aj_claims_has_scopes(str, words(p, "")));
    assert_false(aj_claims_has_scopes(str, NULL));
}

/* RFC 6749 §3.3 scope-token: what Require jwt-scope takes (and writes
 * into the insufficient_scope challenge unescaped). */
static void test_scope_token(void **state)
{
    static const char *const good[] = { "read", "admin:users", "a",
                                        "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
                                        "https://api.example/read" };
    static const char *const bad[] = { "",          "read write", "say\"hi", "back\\slash",
                                       "tab\there", "nl\n",       "del\x7f", "caf\xc3\xa9",
                                       "\x01" };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        if (!aj_claims_scope_token_ok(good[i])) {
            fail_msg("refused: [%s]", good[i]);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        if (aj_claims_scope_token_ok(bad[i])) {
            fail_msg("accepted: [%s]", bad[i]);
        }
    }
    assert_false(aj_claims_scope_token_ok(NULL));
}

static int collect(void *baton, const char *name, const char *value)
{
    apr_table_t *t = baton;

    apr_table_setn(t, name, value);
    return !strcmp(name, "stop");
}

static void test_visit(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_claims_t *c = claims_of(p, "{\"s\":\"v\",\"i\":-7,\"d\":2.5,\"b\":false,\"n\":null,"
                                  "\"o\":{\"x\":1},\"a\":[\"r\",\"w\",3,true],\"e\":[],"
                                  "\"mixed\":[\"x\",{}],\"stop\":\"here\",\"after\":\"no\"}");
    apr_table_t *t = apr_table_make(p, 8);

    aj_claims_visit(c, p, collect, t);
    assert_string_equal(apr_table_get(t, "s"), "v");
    assert_string_equal(apr_table_get(t, "i"), "-7");
    assert_string_equal(apr_table_get(t, "d"), "2.5");
    assert_string_equal(apr_table_get(t, "b"), "false");
    assert_string_equal(apr_table_get(t, "a"), "r w 3 true");
    assert_string_equal(apr_table_get(t, "e"), "");
    assert_null(apr_table_get(t, "n"));
    assert_null(apr_table_get(t, "o"));
    assert_null(apr_table_get(t, "mixed"));
    assert_string_equal(apr_table_get(t, "stop"), "here");
    assert_null(apr_table_get(t, "after"));
    assert_int_equal(apr_table_elts(t)->nelts, 7);
}

static void test_reserved(void **state)
{
    static const char *const reserved[] = { "iss", "sub",  "aud",       "exp",  "nbf", "iat",
                                            "jti", "name", "auth_time", "csrf", "sid" };
    apr_size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); ++i) {
        assert_true(aj_claims_is_reserved(reserved[i]));
    }
    assert_false(aj_claims_is_reserved("role"));
    assert_false(aj_claims_is_reserved("scope"));
    assert_false(aj_claims_is_reserved("Sub"));
    assert_false(aj_claims_is_reserved("sub "));
    assert_false(aj_claims_is_reserved(""));
    assert_false(aj_claims_is_reserved(NULL));
}

static aj_issue_t issue(apr_pool_t *p)
{
    aj_issue_t in;

    memset(&in, 0, sizeof(in));
    in.sub = "42";
    in.name = "alice";
    in.iat = T_NOW;
    in.nbf = T_NOW;
    in.exp = T_NOW + 3600;
    in.auth_time = T_NOW - 5;
    in.jti = "jti-1";
    return in;
}

static void test_build(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const one[] = { "api" }, *const two[] = { "api", "web" };
    aj_issue_t in = issue(p);
    const char *json = NULL;

    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    assert_string_equal(json, "{\"sub\":\"42\",\"name\":\"alice\",\"iat\":1700000000,"
                              "\"nbf\":1700000000,\"exp\":1700003600,\"jti\":\"jti-1\","
                              "\"auth_time\":1699999995}");
    in.iss = "https://idp/x";
    in.aud = aj_test_strings(p, one, 1);
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    assert_non_null(strstr(json, ",\"iss\":\"https://idp/x\",\"aud\":\"api\""));
    in.aud = aj_test_strings(p, two, 2);
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    assert_non_null(strstr(json, "\"aud\":[\"api\",\"web\"]"));
    in.aud = aj_test_strings(p, two, 0);
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    assert_null(strstr(json, "\"aud\""));
    assert_null(strstr(json, "\"sid\""));
    /* a token of a refresh family names it, last */
    in.sid = "fam-1";
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    assert_non_null(strstr(json, ",\"sid\":\"fam-1\"}"));
    /* The result is what a verifier accepts. */
    {
        aj_policy_t pol = { "https://idp/x", NULL, 0 };
        assert_int_equal(check(p, json, &pol, T_NOW), AJ_OK);
    }
}

static void test_build_extra(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_issue_t in = issue(p);
    const char *json = NULL;
    aj_claims_t *c;
    apr_int64_t exp = 0;

    in.extra_json =
        "{\"role\":\"admin\",\"scope\":\"read write\",\"sub\":\"0\",\"name\":\"root\","
        "\"exp\":9999999999,\"iss\":\"evil\",\"aud\":\"evil\",\"jti\":\"x\","
        "\"csrf\":\"c\",\"sid\":\"s\",\"iat\":1,\"nbf\":1,\"auth_time\":1,\"n\":{\"deep\":[1]}}";
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    c = claims_of(p, json);
    /* Stored claims never override reserved ones. */
    assert_string_equal(aj_claims_get_string(c, "sub"), "42");
    assert_string_equal(aj_claims_get_string(c, "name"), "alice");
    assert_string_equal(aj_claims_get_string(c, "jti"), "jti-1");
    assert_true(aj_claims_get_int(c, "exp", &exp));
    assert_int_equal(exp, T_NOW + 3600);
    assert_null(aj_claims_get_string(c, "iss"));
    assert_null(aj_claims_get_string(c, "aud"));
    assert_null(aj_claims_get_string(c, "csrf"));
    assert_null(aj_claims_get_string(c, "sid"));
    /* The others are carried over. */
    assert_string_equal(aj_claims_get_string(c, "role"), "admin");
    assert_string_equal(aj_claims_get_string(c, "scope"), "read write");
    assert_non_null(strstr(json, "\"n\":{\"deep\":[1]}"));
    assert_int_equal(json_object_object_length(aj_claims_object(c)), 10);
}

static void test_build_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const bad_extra[] = {
        "[1]", "\"x\"", "nope", "{\"a\":1", "{\"a\":1,\"a\":2}", "", "{\"a\":1}x",
    };
    aj_issue_t in = issue(p);
    const char *json = NULL;
    char *big;
    apr_size_t i;

    for (i = 0; i < sizeof(bad_extra) / sizeof(bad_extra[0]); ++i) {
        in.extra_json = bad_extra[i];
        assert_int_equal(aj_claims_build(&json, p, &in), APR_EINVAL);
    }
    /* Over the body limit. */
    big = apr_palloc(p, AJ_BODY_MAX_LEN + 16);
    memset(big, ' ', AJ_BODY_MAX_LEN + 15);
    big[0] = '{';
    big[AJ_BODY_MAX_LEN] = '}';
    big[AJ_BODY_MAX_LEN + 1] = '\0';
    in.extra_json = big;
    assert_int_equal(aj_claims_build(&json, p, &in), APR_EINVAL);
    big[AJ_BODY_MAX_LEN] = '\0';
    big[AJ_BODY_MAX_LEN - 1] = '}';
    assert_int_equal(aj_claims_build(&json, p, &in), APR_SUCCESS);
    json = NULL;
    in.extra_json = NULL;
    in.jti = NULL;
    assert_int_equal(aj_claims_build(&json, p, &in), APR_EINVAL);
    in = issue(p);
    in.sub = NULL;
    assert_int_equal(aj_claims_build(&json, p, &in), APR_EINVAL);
    assert_int_equal(aj_claims_build(&json, p, NULL), APR_EINVAL);
    assert_null(json);
}

static void test_random_id(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *a = NULL, *b = NULL;
    unsigned char *raw = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_random_id(&a, p, AJ_JTI_RANDOM_BYTES), APR_SUCCESS);
    assert_int_equal(aj_random_id(&b, p, AJ_JTI_RANDOM_BYTES), APR_SUCCESS);
    assert_int_equal(strlen(a), 22); /* 128 bits */
    assert_string_not_equal(a, b);
    assert_int_equal(aj_b64url_decode(&raw, &len, p, a, strlen(a)), APR_SUCCESS);
    assert_int_equal(len, AJ_JTI_RANDOM_BYTES);
    assert_int_equal(aj_random_id(&b, p, 64), APR_SUCCESS);
    assert_int_equal(strlen(b), 86);
    a = NULL;
    assert_int_equal(aj_random_id(&a, p, 0), APR_EINVAL);
    assert_int_equal(aj_random_id(&a, p, 65), APR_EINVAL);
    assert_null(a);
}

static void test_pack_image(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char json[] = "{\"s\":\"a\\\"\\u00e9\",\"u\":18446744073709551615,"
                               "\"m\":-99999999999999999999,\"i\":-42,"
                               "\"o\":{\"k\":[1,2]},\"n\":null,\"exp\":1800000000}";
    json_object *o = NULL;
    aj_claims_t *plain, *packed;
    void *image = NULL;
    char *copy;
    apr_size_t len = 0;
    apr_int64_t v = 0;

    assert_int_equal(aj_json_parse(&o, p, json, strlen(json), &aj_json_token_limits), APR_SUCCESS);
    /* No text to keep, or already packed: nothing to pack. */
    assert_int_equal(aj_claims_pack(&image, &len, p, aj_claims_wrap(p, o)), APR_EINVAL);
    plain = aj_claims_wrap_text(p, o, json, strlen(json));
    packed = repack(p, plain);
    assert_int_equal(aj_claims_pack(&image, &len, p, packed), APR_EINVAL);

    /* Strings are kept unescaped (aj_json_parse refuses \u0000). */
    assert_string_equal(aj_claims_get_string(packed, "s"), "a\"\xc3\xa9");
    assert_true(aj_claims_match(packed, "s", "a\"\xc3\xa9"));
    assert_false(aj_claims_match(packed, "s", "a\""));
    /* Beyond int64: the same answers as the parsed form. */
    assert_int_equal(aj_claims_match(packed, "u", "18446744073709551615"),
                     aj_claims_match(plain, "u", "18446744073709551615"));
    assert_int_equal(aj_claims_get_int(packed, "u", &v), aj_claims_get_int(plain, "u", &v));
    assert_int_equal(aj_claims_match(packed, "m", "-99999999999999999999"),
                     aj_claims_match(plain, "m", "-99999999999999999999"));
    assert_int_equal(aj_claims_match(packed, "m", "-9223372036854775808"),
                     aj_claims_match(plain, "m", "-9223372036854775808"));
    assert_true(aj_claims_match(packed, "i", "-42"));
    /* Objects and null are parsed on demand; the object is the whole set. */
    assert_false(aj_claims_match(packed, "o", "1"));
    assert_true(json_object_is_type(aj_claims_object(packed), json_type_object));
    assert_int_equal(json_object_object_length(aj_claims_object(packed)), 7);
    assert_true(aj_claims_get_int(packed, "exp", &v));
    assert_int_equal(v, 1800000000);

    /* A damaged or misplaced image is refused, never read past its end. */
    assert_int_equal(aj_claims_pack(&image, &len, p, plain), APR_SUCCESS);
    copy = apr_palloc(p, len + 8);
    memcpy(copy, image, len);
    assert_non_null(aj_claims_unpack(p, copy, len));
    assert_null(aj_claims_unpack(p, copy, len - 1));
    assert_null(aj_claims_unpack(p, copy, len + 1));
    assert_null(aj_claims_unpack(p, NULL, len));
    memmove(copy + 4, copy, len);
    assert_null(aj_claims_unpack(p, copy + 4, len)); /* misaligned */
    memmove(copy, copy + 4, len);
    copy[len - 1] = 'x';
    assert_null(aj_claims_unpack(p, copy, len)); /* unterminated */
    copy[len - 1] = '\0';
    copy[0] ^= 1;
    assert_null(aj_claims_unpack(p, copy, len)); /* not an image */
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_wrap),        AJ_TEST(test_exp),         AJ_TEST(test_nbf_iat),
    AJ_TEST(test_iss),         AJ_TEST(test_aud),         AJ_TEST(test_accessors),
    AJ_TEST(test_scopes),      AJ_TEST(test_visit),       AJ_TEST(test_reserved),
    AJ_TEST(test_build),       AJ_TEST(test_build_extra), AJ_TEST(test_build_refusals),
    AJ_TEST(test_random_id),   AJ_TEST(test_pack_image),  AJ_TEST(test_fresh),
    AJ_TEST(test_scope_token),
};

/* Every test twice: claim sets as parsed, then through packed images. */
int main(void)
{
    int rc;

    if (apr_initialize() != APR_SUCCESS) {
        return 1;
    }
    rc = cmocka_run_group_tests_name("aj_claims", tests, NULL, NULL);
    packed_run = 1;
    rc |= cmocka_run_group_tests_name("aj_claims (packed)", tests, NULL, NULL);
    apr_terminate();
    return rc;
}

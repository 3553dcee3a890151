/*
 * test_json.c — aj_json_parse's limits: size, depth, duplicate names
 * (after unescaping), member count, NUL/UTF-8, strict grammar.
 */
#include "aj_test.h"
#include "aj_json.h"

/* Like the token limits but allowing any top-level value. */
static const aj_json_limits_t any_value = { AJ_TOKEN_MAX_LEN, AJ_JSON_MAX_DEPTH, 0 };

static apr_status_t parse(apr_pool_t *p, const char *s, const aj_json_limits_t *lim)
{
    json_object *o = NULL;
    apr_status_t rv = aj_json_parse(&o, p, s, strlen(s), lim);

    if (rv == APR_SUCCESS) {
        assert_non_null(o);
    }
    else {
        assert_null(o); /* *out set only on success */
    }
    return rv;
}

#define OK(s)      assert_int_equal(parse(p, (s), &aj_json_token_limits), APR_SUCCESS)
#define BAD(s)     assert_int_equal(parse(p, (s), &aj_json_token_limits), APR_EINVAL)
#define OK_ANY(s)  assert_int_equal(parse(p, (s), &any_value), APR_SUCCESS)
#define BAD_ANY(s) assert_int_equal(parse(p, (s), &any_value), APR_EINVAL)

/* depth levels of '[' ... ']' around 0, or of {"a": ... } around 0. */
static const char *nested(apr_pool_t *p, int depth, int objects)
{
    char *s = apr_palloc(p, (apr_size_t)depth * 6 + 2), *o = s;
    int i;

    for (i = 0; i < depth; ++i) {
        if (objects) {
            memcpy(o, "{\"a\":", 5);
            o += 5;
        }
        else {
            *o++ = '[';
        }
    }
    *o++ = '0';
    for (i = 0; i < depth; ++i) {
        *o++ = objects ? '}' : ']';
    }
    *o = '\0';
    return s;
}

static void test_basic(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *o = NULL, *v = NULL;
    const char *s =
        "{\"sub\":\"42\",\"n\":1.5,\"t\":true,\"z\":null,\"a\":[1,{\"b\":[]}],\"e\":{}}";

    assert_int_equal(aj_json_parse(&o, p, s, strlen(s), &aj_json_token_limits), APR_SUCCESS);
    assert_true(json_object_object_get_ex(o, "sub", &v));
    assert_string_equal(json_object_get_string(v), "42");
    assert_true(json_object_object_get_ex(o, "a", &v));
    assert_int_equal(json_object_array_length(v), 2);
    OK(" \t\r\n{}\n ");
    OK("{\"a\" : [ 1 , 2 ] }");
}

static void test_limits_values(void **state)
{
    assert_int_equal(aj_json_token_limits.max_len, AJ_TOKEN_MAX_LEN);
    assert_int_equal(aj_json_token_limits.max_depth, AJ_JSON_MAX_DEPTH);
    assert_int_equal(aj_json_token_limits.require_object, 1);
    assert_int_equal(aj_json_body_limits.max_len, AJ_BODY_MAX_LEN);
    assert_int_equal(aj_json_body_limits.max_depth, AJ_JSON_MAX_DEPTH);
    assert_int_equal(aj_json_body_limits.require_object, 1);
}

static void test_size(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const aj_json_limits_t small = { 10, AJ_JSON_MAX_DEPTH, 1 };
    json_object *o = NULL;
    char *big;

    assert_int_equal(parse(p, "{\"a\":\"12\"}", &small), APR_SUCCESS); /* 10 bytes */
    assert_int_equal(parse(p, "{\"a\":\"123\"}", &small), AJ_E2BIG);   /* 11 bytes */
    /* The length is checked before the text is read at all. */
    assert_int_equal(aj_json_parse(&o, p, NULL, AJ_TOKEN_MAX_LEN + 1, &aj_json_token_limits),
                     AJ_E2BIG);
    big = apr_palloc(p, AJ_BODY_MAX_LEN + 1);
    memset(big, ' ', AJ_BODY_MAX_LEN);
    big[0] = '{';
    big[AJ_BODY_MAX_LEN - 1] = '}';
    assert_int_equal(aj_json_parse(&o, p, big, AJ_BODY_MAX_LEN, &aj_json_body_limits), APR_SUCCESS);
    assert_int_equal(aj_json_parse(&o, p, big, AJ_TOKEN_MAX_LEN + 1, &aj_json_token_limits),
                     AJ_E2BIG);
}

static void test_depth(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    OK_ANY(nested(p, AJ_JSON_MAX_DEPTH, 0));
    BAD_ANY(nested(p, AJ_JSON_MAX_DEPTH + 1, 0));
    OK(nested(p, AJ_JSON_MAX_DEPTH, 1));
    BAD(nested(p, AJ_JSON_MAX_DEPTH + 1, 1));
    BAD(nested(p, 200, 1));
    /* Depth counts open containers, not containers seen. */
    OK(apr_pstrcat(p, "{\"x\":", nested(p, AJ_JSON_MAX_DEPTH - 1, 0),
                   ",\"y\":", nested(p, AJ_JSON_MAX_DEPTH - 1, 1), "}", NULL));
    BAD(apr_pstrcat(p, "{\"x\":", nested(p, AJ_JSON_MAX_DEPTH, 0), "}", NULL));
    /* A caller's lower limit applies. */
    {
        const aj_json_limits_t shallow = { AJ_TOKEN_MAX_LEN, 2, 1 };
        assert_int_equal(parse(p, "{\"a\":[1]}", &shallow), APR_SUCCESS);
        assert_int_equal(parse(p, "{\"a\":[[1]]}", &shallow), APR_EINVAL);
    }
}

static void test_duplicates(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    BAD("{\"a\":1,\"a\":2}");
    BAD("{\"alg\":\"HS256\",\"alg\":\"none\"}");
    BAD("{\"ab\":1,\"a\\u0062\":2}");       /* escaped duplicate */
    BAD("{\"a\\u0062\":1,\"\\u0061b\":2}"); /* both escaped */
    BAD("{\"a/b\":1,\"a\\/b\":2}");
    BAD("{\"\xc3\xa9\":1,\"\\u00e9\":2}");                /* raw UTF-8 vs escape */
    BAD("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}"); /* surrogate pair */
    BAD("{\"a\":{\"b\":1},\"a\":2}");
    BAD("{\"o\":{\"b\":1,\"c\":2,\"b\":3}}"); /* inside a nested object */
    BAD("{\"o\":[{\"b\":1,\"b\":1}]}");
    BAD("{\"\":1,\"\":2}");
    /* The same name in different objects is fine. */
    OK("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}");
    OK("{\"a\":{\"b\":1,\"c\":2},\"b\":3,\"c\":[{\"b\":1},{\"b\":2}]}");
    OK("{\"ab\":1,\"a\\u0063\":2,\"a\":3,\"abc\":4}");
    OK("{\"\":1,\" \":2}");
}

static const char *members(apr_pool_t *p, int n, int split)
{
    apr_array_header_t *parts = apr_array_make(p, n, sizeof(const char *));
    int i;

    for (i = 0; i < n; ++i) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p, "%s\"k%d\":%d", (i == 0 || i == split) ? "" : ",", i, i);
        if (split && i == split - 1) {
            APR_ARRAY_PUSH(parts, const char *) = "},\"second\":{";
        }
    }
    return split ? apr_pstrcat(p, "{\"first\":{", apr_array_pstrcat(p, parts, 0), "}}", NULL)
                 : apr_pstrcat(p, "{", apr_array_pstrcat(p, parts, 0), "}", NULL);
}

static void test_member_count(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    OK(members(p, AJ_JSON_MAX_MEMBERS, 0));
    BAD(members(p, AJ_JSON_MAX_MEMBERS + 1, 0));
    /* Counted over the document: "first" and "second" are members too. */
    OK(members(p, AJ_JSON_MAX_MEMBERS - 2, 100));
    BAD(members(p, AJ_JSON_MAX_MEMBERS - 1, 100));
}

static void test_nul_and_utf8(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *o = NULL;
    static const char with_nul[] = "{\"a\":\"x\0y\"}";

    assert_int_equal(aj_json_parse(&o, p, with_nul, sizeof(with_nul) - 1, &aj_json_token_limits),
                     APR_EINVAL);
    assert_int_equal(aj_json_parse(&o, p, "{}\0", 3, &aj_json_token_limits), APR_EINVAL);
    BAD("{\"a\":\"x\\u0000y\"}"); /* escaped NUL */
    BAD("{\"a\\u0000\":1}");
    BAD("{\"a\":\"\xc0\xaf\"}");         /* overlong */
    BAD("{\"a\":\"\xed\xa0\x80\"}");     /* encoded surrogate */
    BAD("{\"a\":\"\xe2\x82\"}");         /* truncated */
    BAD("{\"a\":\"\xf4\x90\x80\x80\"}"); /* past U+10FFFF */
    BAD("{\"a\":\"\xff\"}");
    BAD("{\"a\":\"\x80\"}");    /* lone continuation */
    BAD("{\"a\":\"\\ud800\"}"); /* lone high surrogate */
    BAD("{\"a\":\"\\udc00\"}"); /* lone low surrogate */
    BAD("{\"a\":\"\\ud800\\u0041\"}");
    BAD("{\"a\":\"tab\there\"}"); /* raw control character */
    BAD("{\"a\":\"\\x41\"}");     /* unknown escape */
    BAD("{\"a\":\"\\u12G4\"}");
    BAD("\xef\xbb\xbf{}"); /* BOM */
    OK("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    OK("{\"a\":\"\\ud83d\\ude00 \\u20ac \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}");
}

static void test_grammar(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    BAD("");
    BAD("   ");
    BAD("{");
    BAD("}");
    BAD("{\"a\":1}x"); /* trailing garbage */
    BAD("{\"a\":1}{}");
    BAD("{\"a\":1,}"); /* trailing comma */
    BAD("{,}");
    BAD("{\"a\":[1,]}");
    BAD("{\"a\":[,1]}");
    BAD("{\"a\" 1}");
    BAD("{\"a\":}");
    BAD("{'a':1}");
    BAD("{a:1}");
    BAD("{\"a\":1 /* c */}");
    BAD("{\"a\":NaN}");
    BAD("{\"a\":Infinity}");
    BAD("{\"a\":-Infinity}");
    BAD("{\"a\":01}");
    BAD("{\"a\":1.}");
    BAD("{\"a\":.5}");
    BAD("{\"a\":+1}");
    BAD("{\"a\":-}");
    BAD("{\"a\":1e}");
    BAD("{\"a\":0x10}");
    BAD("{\"a\":tru}");
    BAD("{\"a\":nulls}");
    BAD("{\"a\":True}");
    BAD("{\"a\":\"unterminated}");
    BAD("{\"a\":1]");
    BAD("[1}");
    OK("{\"a\":-0.5e+10,\"b\":0,\"c\":1E-2,\"d\":-0,\"e\":123456789012345678901234567890}");
    /* require_object */
    BAD("[]");
    BAD("\"s\"");
    BAD("1");
    BAD("null");
    OK_ANY("[]");
    OK_ANY("\"s\"");
    OK_ANY(" 12 ");
    OK_ANY("true");
    BAD_ANY("12 13");
}

static void test_dump(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *o = NULL;
    const char *s = "{ \"u\" : \"https://a/b\", \"n\" : [ 1, 2 ] }";

    assert_int_equal(aj_json_parse(&o, p, s, strlen(s), &aj_json_token_limits), APR_SUCCESS);
    assert_string_equal(aj_json_dump(p, o), "{\"u\":\"https://a/b\",\"n\":[1,2]}");
}

static void test_own(void **state)
{
    apr_pool_t *p = AJ_POOL(state), *sub = NULL;
    json_object *o = json_object_new_object();

    assert_null(aj_json_own(p, NULL));
    /* Released with the subpool: the extra reference taken here keeps o
     * alive, so its refcount shows the cleanup ran. */
    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    assert_ptr_equal(aj_json_own(sub, json_object_get(o)), o);
    apr_pool_destroy(sub);
    assert_int_equal(json_object_put(o), 1); /* 1: it was the last reference */
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_basic),        AJ_TEST(test_limits_values), AJ_TEST(test_size),
    AJ_TEST(test_depth),        AJ_TEST(test_duplicates),    AJ_TEST(test_member_count),
    AJ_TEST(test_nul_and_utf8), AJ_TEST(test_grammar),       AJ_TEST(test_dump),
    AJ_TEST(test_own),
};

AJ_TEST_MAIN("aj_json", tests)

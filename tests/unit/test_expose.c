/*
 * test_expose.c — the user and the claim headers of a verified token
 * (docs/reference.md §11 AuthJWTUserClaim, AuthJWTClaimHeader): which
 * claim names the user, the header values and when a value is withheld,
 * header names as httpd and a CGI compare them, the names refused at
 * configuration time.  Every claim set is read twice: parsed, and through
 * its packed image (as the verified-token cache hands it back).
 */
#include "aj_test.h"
#include "aj_claims.h"
#include "aj_expose.h"
#include "aj_http.h"
#include "aj_json.h"

#define FORMS 2 /* 0: parsed JSON, 1: the packed image */

static aj_claims_t *claims_of(apr_pool_t *p, const char *json, int packed)
{
    json_object *o = NULL;
    aj_claims_t *c;
    void *image = NULL;
    apr_size_t len = 0;

    assert_int_equal(aj_json_parse(&o, p, json, strlen(json), &aj_json_token_limits), APR_SUCCESS);
    c = aj_claims_wrap_text(p, o, json, strlen(json));
    assert_non_null(c);
    if (!packed) {
        return c;
    }
    assert_int_equal(aj_claims_pack(&image, &len, p, c), APR_SUCCESS);
    c = aj_claims_unpack(p, apr_pmemdup(p, image, len), len);
    assert_non_null(c);
    return c;
}

static void test_user(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const struct {
        const char *json;
        const char *claim; /* AuthJWTUserClaim; NULL: the default */
        const char *want;  /* NULL: names no user */
    } cases[] = {
        /* the default: name when a non-empty string, else sub */
        { "{\"name\":\"alice\",\"sub\":\"42\"}", NULL, "alice" },
        { "{\"sub\":\"42\"}", NULL, "42" },
        { "{\"name\":\"\",\"sub\":\"42\"}", NULL, "42" },
        { "{\"name\":7,\"sub\":\"42\"}", NULL, "42" },
        { "{\"name\":null,\"sub\":\"42\"}", NULL, "42" },
        { "{\"name\":[\"a\"],\"sub\":\"42\"}", NULL, "42" },
        { "{\"sub\":\"\"}", NULL, NULL },
        { "{\"sub\":42}", NULL, NULL },
        { "{}", NULL, NULL },
        { "{\"email\":\"a@example.com\"}", NULL, NULL },
        /* the chosen claim must be usable: no silent fallback past a bad name */
        { "{\"name\":\"al\\nice\",\"sub\":\"42\"}", NULL, NULL },
        { "{\"sub\":\"4\\r2\"}", NULL, NULL },
        /* a configured claim, and nothing else */
        { "{\"email\":\"a@example.com\",\"name\":\"alice\"}", "email", "a@example.com" },
        { "{\"name\":\"alice\",\"sub\":\"42\"}", "email", NULL },
        { "{\"email\":\"\",\"sub\":\"42\"}", "email", NULL },
        { "{\"email\":1}", "email", NULL },
        { "{\"email\":[\"a@example.com\"]}", "email", NULL },
        { "{\"email\":{\"v\":\"a\"}}", "email", NULL },
        { "{\"preferred_username\":\"b\\u007fob\"}", "preferred_username", NULL },
        { "{\"preferred_username\":\"b\\u001fob\"}", "preferred_username", NULL },
        { "{\"preferred_username\":\"b\\tob\"}", "preferred_username", NULL },
        /* UTF-8 beyond ASCII, and C1 code points, are not control bytes here */
        { "{\"preferred_username\":\"J\\u00f6rg\\u0085\"}", "preferred_username",
          "J\xc3\xb6rg\xc2\x85" },
        { "{\"Email\":\"a@example.com\"}", "email", NULL }, /* JSON names are exact */
    };
    apr_size_t i;
    int form;
    const char *got;

    for (form = 0; form < FORMS; ++form) {
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
            got = aj_expose_user(claims_of(p, cases[i].json, form), cases[i].claim);
            if (cases[i].want ? !got || strcmp(got, cases[i].want) : got != NULL) {
                fail_msg("%s claim %s (form %d): want %s, got %s", cases[i].json,
                         cases[i].claim ? cases[i].claim : "(default)", form,
                         cases[i].want ? cases[i].want : "no user", got ? got : "no user");
            }
        }
    }
}

static void test_header_value(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char json[] =
        "{\"s\":\"alice\",\"empty\":\"\",\"n\":42,\"neg\":-7,\"d\":1.5,\"t\":true,\"f\":false,"
        "\"roles\":[\"a\",\"b c\",3,true],\"none\":[],\"objs\":[{\"x\":1}],\"obj\":{\"x\":1},"
        "\"null\":null,\"lf\":\"a\\nb\",\"cr\":\"a\\rb\",\"tab\":\"a\\tb\",\"del\":\"a\\u007fb\","
        "\"arr_lf\":[\"ok\",\"x\\ny\"],\"arr_del\":[\"x\\u007f\",1],"
        "\"utf8\":\"J\\u00f6rg\"}";
    static const struct {
        const char *claim;
        aj_expose_e want;
        const char *value;
    } cases[] = {
        { "s", AJ_EXPOSE_SET, "alice" },        { "empty", AJ_EXPOSE_SET, "" },
        { "n", AJ_EXPOSE_SET, "42" },           { "neg", AJ_EXPOSE_SET, "-7" },
        { "d", AJ_EXPOSE_SET, "1.5" },          { "t", AJ_EXPOSE_SET, "true" },
        { "f", AJ_EXPOSE_SET, "false" },        { "roles", AJ_EXPOSE_SET, "a b c 3 true" },
        { "none", AJ_EXPOSE_SET, "" },          { "utf8", AJ_EXPOSE_SET, "J\xc3\xb6rg" },
        { "objs", AJ_EXPOSE_ABSENT, NULL },     { "obj", AJ_EXPOSE_ABSENT, NULL },
        { "null", AJ_EXPOSE_ABSENT, NULL },     { "missing", AJ_EXPOSE_ABSENT, NULL },
        { "S", AJ_EXPOSE_ABSENT, NULL },        { "lf", AJ_EXPOSE_CONTROL, NULL },
        { "cr", AJ_EXPOSE_CONTROL, NULL },      { "tab", AJ_EXPOSE_CONTROL, NULL },
        { "del", AJ_EXPOSE_CONTROL, NULL },     { "arr_lf", AJ_EXPOSE_CONTROL, NULL },
        { "arr_del", AJ_EXPOSE_CONTROL, NULL },
    };
    apr_size_t i;
    int form;
    aj_expose_e got;
    const char *value;
    const aj_claims_t *c;

    for (form = 0; form < FORMS; ++form) {
        c = claims_of(p, json, form);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
            value = NULL;
            got = aj_expose_header_value(&value, c, p, cases[i].claim);
            if (got != cases[i].want) {
                fail_msg("claim %s (form %d): want %d, got %d", cases[i].claim, form,
                         (int)cases[i].want, (int)got);
            }
            if (cases[i].value && (!value || strcmp(value, cases[i].value))) {
                fail_msg("claim %s (form %d): want \"%s\", got \"%s\"", cases[i].claim, form,
                         cases[i].value, value ? value : "(null)");
            }
            if (!cases[i].value && value) {
                fail_msg("claim %s (form %d): value set although withheld", cases[i].claim, form);
            }
        }
    }
}

static void test_header_same(void **state)
{
    static const struct {
        const char *name, *sent;
        int same;
    } cases[] = {
        { "X-User", "X-User", 1 },
        { "X-User", "x-user", 1 },
        { "X-User", "X-USER", 1 },
        { "X-User", "X_User", 1 },
        { "X-User", "x_USER", 1 },
        { "X_User", "X-User", 1 },
        { "X-Remote-User", "X_Remote-user", 1 },
        { "X-User", "X-Users", 0 },
        { "X-User", "X-Use", 0 },
        { "X-User", "XUser", 0 },
        { "X-User", "X.User", 0 },
        { "X-User", "X-User ", 0 },
        { "X-User", "", 0 },
        { "X-User", NULL, 0 },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        if (aj_expose_header_same(cases[i].name, cases[i].sent) != cases[i].same) {
            fail_msg("%s vs %s: want %d", cases[i].name, cases[i].sent ? cases[i].sent : "(null)",
                     cases[i].same);
        }
    }
}

static void test_header_problem(void **state)
{
    static const char *const ok[] = {
        "X-User", "X_User", "Remote-User", "x-email", "OIDC_CLAIM_sub", "A", "X!#$%&'*+.^`|~",
    };
    static const char *const refused[] = {
        "",
        "X User",
        "X-User:",
        "X-Üser",
        "X\tUser",
        "X-User\r\n",
        "(X)",
        "X/User",
        "Authorization",
        "authorization",
        "Proxy-Authorization",
        "proxy_authorization",
        "Cookie",
        "COOKIE",
        "Host",
        "Content-Length",
        "content_length",
        "Transfer-Encoding",
        "Transfer_encoding",
        "X-CSRF-Token",
        "x_csrf_token",
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) {
        if (aj_expose_header_problem(ok[i])) {
            fail_msg("%s refused: %s", ok[i], aj_expose_header_problem(ok[i]));
        }
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        if (!aj_expose_header_problem(refused[i])) {
            fail_msg("\"%s\" accepted", refused[i]);
        }
    }
}

static void test_text_ok(void **state)
{
    static const struct {
        const char *s;
        apr_size_t len;
        int ok;
    } cases[] = {
        { "", 0, 1 },       { "plain text", 10, 1 }, { "\x7e", 1, 1 }, { "\x80\xff", 2, 1 },
        { "\x1f", 1, 0 },   { "\x7f", 1, 0 },        { "a\0b", 3, 0 }, { "\t", 1, 0 },
        { "ends\n", 5, 0 }, { " ", 1, 1 },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        if (aj_expose_text_ok(cases[i].s, cases[i].len) != cases[i].ok) {
            fail_msg("case %u: want %d", (unsigned)i, cases[i].ok);
        }
    }
}

static void test_http_token(void **state)
{
    (void)state;
    assert_true(aj_http_is_token("X-User"));
    assert_true(aj_http_is_token("!#$%&'*+-.^_`|~09azAZ"));
    assert_false(aj_http_is_token(""));
    assert_false(aj_http_is_token(NULL));
    assert_false(aj_http_is_token("a b"));
    assert_false(aj_http_is_token("a:b"));
    assert_false(aj_http_is_token("a\"b"));
    assert_false(aj_http_is_token("\x80"));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_user),           AJ_TEST(test_header_value), AJ_TEST(test_header_same),
    AJ_TEST(test_header_problem), AJ_TEST(test_text_ok),      AJ_TEST(test_http_token),
};

AJ_TEST_MAIN("aj_expose", tests)

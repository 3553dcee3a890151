/*
 * test_http.c — Content-Type judged for the JSON handlers
 * (aj_http_is_json_media_type, docs/reference.md §10), and Accept judged for
 * the JSON error bodies (aj_http_accept_wants_json, docs/reference.md §13).
 */
#include "aj_test.h"
#include "aj_http.h"

typedef int judge_fn(const char *value);

/* judge(value) is true for every value of the list when want is 1, false
 * for every one when want is 0; the message names the first that is not. */
static void assert_judged(judge_fn *judge, const char *const *values, apr_size_t n, int want,
                          const char *wrong)
{
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        if (!judge(values[i]) != !want) {
            fail_msg("%s: [%s]", wrong, values[i] ? values[i] : "(null)");
        }
    }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_json_accepted(void **state)
{
    static const char *const good[] = {
        "application/json",
        "Application/JSON",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json ; charset=utf-8",
        "application/json;\tcharset=utf-8",
        "application/json; charset=\"utf-8\"",
        "application/json; charset=utf-8; foo=bar",
        "application/json; q=\"a;b\\\"c\"", /* ';' and an escaped quote, quoted */
        "application/json;",                /* empty parameters are allowed */
        "application/json; ;charset=utf-8",
        "  application/json  ", /* surrounding OWS */
        "\tapplication/json",
    };
    (void)state;
    assert_judged(aj_http_is_json_media_type, good, COUNT(good), 1, "refused");
}

static void test_other_refused(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "application",
        "application/",
        "/json",
        "json",
        "application/jsonx",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/x-json",
        "text/json",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "\"application/json\"", /* a quoted media type */
        "application /json",
        "application/ json",
        "application/json foo",         /* junk after the type */
        "application/json, text/plain", /* a list is not a value */
        "application/json; charset",    /* parameter without '=' */
        "application/json; charset=",   /* and without a value */
        "application/json; =utf-8",
        "application/json; charset=\"utf-8",   /* unterminated quote */
        "application/json; charset=\"utf-8\\", /* backslash at the end */
        "application/json; charset=utf 8",
        "application/json; charset=\"a\x01\"", /* control character */
        "application/json\r\nX-Injected: 1",
        "application/json\x7f",
        "application/json\xc3\xa9",
        "text/plain; x=application/json",
    };
    (void)state;
    assert_false(aj_http_is_json_media_type(NULL));
    assert_judged(aj_http_is_json_media_type, bad, COUNT(bad), 0, "accepted");
}

static void test_accept_json(void **state)
{
    static const char *const json[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;q=1",
        "application/json;q=1.000",
        "application/json;Q=0.001",
        "application/json, */*",
        "application/json, */*;q=0.8",
        "application/json, text/html;q=0", /* HTML refused outright */
        "application/json, text/html;q=0.000",
        "application/json, text/*", /* a wildcard names nothing */
        "application/json, application/*",
        "text/plain, application/json",
        "application/problem+json, application/json",
        " , application/json ,, ",              /* empty elements */
        "application/json;q=0.5;level=\"a,b\"", /* ',' inside a quoted value */
        "application/json\t;\tq=0.9",
    };
    (void)state;
    assert_judged(aj_http_accept_wants_json, json, COUNT(json), 1, "not JSON");
}

static void test_accept_html_kept(void **state)
{
    static const char *const html[] = {
        NULL,
        "",
        " ",
        "*/*",
        "text/html",
        "application/*",
        "application/json;q=0.9, text/html;q=0.1", /* names text/html */
        "text/html, application/json",
        "TEXT/HTML;q=0.001, application/json",
        "application/json;q=0", /* JSON not acceptable */
        "application/json;q=0.0",
        "application/json;q=0, */*",
        "application/jsonx",
        "application/json-patch+json",
        "application/problem+json",
        "text/json",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", /* a browser */
        /* malformed anywhere: the usual page */
        "application/json;q=2",
        "application/json;q=1.001",
        "application/json;q=0.1234",
        "application/json;q=.5",
        "application/json;q=",
        "application/json;q=\"0.5\"",
        "application/json;q=0.5x",
        "application/json; charset",
        "application/json; level=\"unterminated",
        "application/json, text",
        "application/json, /html",
        "application/json, text/",
        "application/json x",
        "\"application/json\"",
        "application/json, text/html\x01",
    };
    (void)state;
    assert_judged(aj_http_accept_wants_json, html, COUNT(html), 0, "JSON");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_json_accepted),
    AJ_TEST(test_other_refused),
    AJ_TEST(test_accept_json),
    AJ_TEST(test_accept_html_kept),
};

AJ_TEST_MAIN("aj_http", tests)

/*
 * test_http.c — Content-Type judged for the JSON handlers
 * (aj_http_is_json_media_type, docs/reference.md §10).
 */
#include "aj_test.h"
#include "aj_http.h"

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
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        if (!aj_http_is_json_media_type(good[i])) {
            fail_msg("refused: [%s]", good[i]);
        }
    }
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
    apr_size_t i;

    (void)state;
    assert_false(aj_http_is_json_media_type(NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        if (aj_http_is_json_media_type(bad[i])) {
            fail_msg("accepted: [%s]", bad[i]);
        }
    }
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_json_accepted),
    AJ_TEST(test_other_refused),
};

AJ_TEST_MAIN("aj_http", tests)

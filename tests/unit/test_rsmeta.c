/*
 * test_rsmeta.c — OAuth 2.0 Protected Resource Metadata (RFC 9728,
 * docs/reference.md §11): the AuthJWTResourceMetadata URL check, the
 * resource identifier it names, the document.
 */
#include <string.h>

#include "aj_test.h"
#include "aj_json.h"
#include "aj_rsmeta.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_url_accepted(void **state)
{
    static const char *const good[] = {
        "https://api.example/.well-known/oauth-protected-resource",
        "https://api.example/.well-known/oauth-protected-resource/v1",
        "http://127.0.0.1:8080/.well-known/oauth-protected-resource",
        "HTTPS://api.example/meta.json",
        "https://api.example",
        "https://[::1]:8443/x%20y",
    };
    const char *err = NULL;
    apr_size_t i;

    (void)state;
    for (i = 0; i < COUNT(good); ++i) {
        if (aj_rsmeta_url_check(&err, good[i]) != APR_SUCCESS) {
            fail_msg("refused: [%s]: %s", good[i], err);
        }
    }
}

static void test_url_refused(void **state)
{
    static const struct {
        const char *url;
        const char *why; /* a word of the message */
    } bad[] = {
        { "/.well-known/oauth-protected-resource", "absolute" },
        { "api.example/.well-known/oauth-protected-resource", "absolute" },
        { "ftp://api.example/meta", "absolute" },
        { "https:/api.example/meta", "absolute" },
        { "", "absolute" },
        { "https://", "host" },
        { "https:///meta", "host" },
        { "https://api.example/a b", "spaces" },
        { "https://api.example/a\tb", "control" },
        { "https://api.example/a\"b", "'\"'" },
        { "https://api.example/a\\b", "'\\'" },
        { "https://api.example/\x7f", "control" },
        { "https://api.example/caf\xc3\xa9", "ASCII" },
        { "https://api.example/meta\r\nX-Evil: 1", "control" },
        { "https://api.example/meta?x=1", "query" },
        { "https://api.example/meta#top", "fragment" },
    };
    const char *err;
    apr_size_t i;

    (void)state;
    for (i = 0; i < COUNT(bad); ++i) {
        err = NULL;
        if (aj_rsmeta_url_check(&err, bad[i].url) != APR_EINVAL) {
            fail_msg("accepted: [%s]", bad[i].url);
        }
        if (!err || !strstr(err, bad[i].why)) {
            fail_msg("[%s]: message [%s] does not say %s", bad[i].url, err ? err : "(none)",
                     bad[i].why);
        }
    }
    err = NULL;
    assert_int_equal(aj_rsmeta_url_check(&err, NULL), APR_EINVAL);
    assert_non_null(err);
}

static void test_url_length(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *prefix = "https://api.example/";
    apr_size_t n = AJ_RSMETA_URL_MAX - strlen(prefix);
    char *tail = apr_palloc(p, n + 2);
    const char *err = NULL;

    memset(tail, 'a', n + 1);
    tail[n] = '\0';
    assert_int_equal(aj_rsmeta_url_check(&err, apr_pstrcat(p, prefix, tail, NULL)), APR_SUCCESS);
    tail[n] = 'a';
    tail[n + 1] = '\0';
    assert_int_equal(aj_rsmeta_url_check(&err, apr_pstrcat(p, prefix, tail, NULL)), APR_EINVAL);
    assert_non_null(strstr(err, "longer"));
}

static void test_resource(void **state)
{
    static const char *const cases[][2] = {
        /* RFC 9728 §3.1: the well-known part between origin and path */
        { "https://api.example/.well-known/oauth-protected-resource", "https://api.example" },
        { "https://api.example/.well-known/oauth-protected-resource/v1", "https://api.example/v1" },
        { "https://api.example:8443/.well-known/oauth-protected-resource/v1/x/",
          "https://api.example:8443/v1/x/" },
        /* mounted under the resource's own path: the suffix goes */
        { "https://api.example/v1/.well-known/oauth-protected-resource", "https://api.example/v1" },
        /* neither: the URL itself */
        { "https://api.example/meta.json", "https://api.example/meta.json" },
        { "https://api.example/.well-known/oauth-protected-resourcex",
          "https://api.example/.well-known/oauth-protected-resourcex" },
        { "https://api.example/v1/.well-known/oauth-protected-resource/",
          "https://api.example/v1/.well-known/oauth-protected-resource/" },
        { "https://api.example", "https://api.example" },
        /* a host that looks like the path is not the path */
        { "http://127.0.0.1:8080/.well-known/oauth-protected-resource", "http://127.0.0.1:8080" },
    };
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t i;

    for (i = 0; i < COUNT(cases); ++i) {
        const char *got = aj_rsmeta_resource(p, cases[i][0]);
        if (strcmp(got, cases[i][1])) {
            fail_msg("[%s] -> [%s], want [%s]", cases[i][0], got, cases[i][1]);
        }
    }
}

static void test_document(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_array_header_t *servers = apr_array_make(p, 2, sizeof(const char *));

    assert_string_equal(aj_rsmeta_document(p, "https://api.example/v1", NULL),
                        "{\"resource\":\"https://api.example/v1\","
                        "\"bearer_methods_supported\":[\"header\"]}");
    assert_string_equal(aj_rsmeta_document(p, "https://api.example", servers),
                        "{\"resource\":\"https://api.example\","
                        "\"bearer_methods_supported\":[\"header\"]}");
    APR_ARRAY_PUSH(servers, const char *) = "https://idp.example";
    APR_ARRAY_PUSH(servers, const char *) = "https://other.example/realms/a";
    assert_string_equal(aj_rsmeta_document(p, "https://api.example", servers),
                        "{\"resource\":\"https://api.example\","
                        "\"authorization_servers\":[\"https://idp.example\","
                        "\"https://other.example/realms/a\"],"
                        "\"bearer_methods_supported\":[\"header\"]}");
}

/* An issuer is the administrator's text, not a URL we checked: JSON escapes
 * whatever it holds. */
static void test_document_escapes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_array_header_t *servers = apr_array_make(p, 1, sizeof(const char *));
    json_object *o = NULL;
    const char *doc;

    APR_ARRAY_PUSH(servers, const char *) = "iss \"quoted\" \\ \x01";
    doc = aj_rsmeta_document(p, "https://api.example", servers);
    assert_non_null(doc);
    assert_int_equal(aj_json_parse(&o, p, doc, strlen(doc), &aj_json_body_limits), APR_SUCCESS);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(
                            json_object_object_get(o, "authorization_servers"), 0)),
                        "iss \"quoted\" \\ \x01");
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_url_accepted), AJ_TEST(test_url_refused), AJ_TEST(test_url_length),
    AJ_TEST(test_resource),     AJ_TEST(test_document),    AJ_TEST(test_document_escapes),
};

AJ_TEST_MAIN("aj_rsmeta", tests)

/*
 * test_issuer.c — a trusted issuer's published keys without I/O
 * (aj_issuer.c, docs/reference.md §11): which URLs may be fetched, the
 * discovery document, a JWK Set document, and the refresh schedule.
 */
#include "aj_test.h"
#include "aj_issuer.h"

/* RFC 7515 A.3's P-256 public key as a JWK (kid and more appended). */
#define EC_JWK(more) \
    "{\"kty\":\"EC\",\"crv\":\"P-256\"," \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"" more "}"
#define OCT_JWK \
    "{\"kty\":\"oct\",\"kid\":\"h\",\"alg\":\"HS256\"," \
    "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}"

static void test_url_check(void **state)
{
    static const char *const good[] = {
        "https://idp.example",
        "https://idp.example/realms/x/protocol/openid-connect/certs",
        "HTTPS://IDP.EXAMPLE:8443/jwks",
        "https://[2001:db8::1]/jwks",
        "http://127.0.0.1/jwks",
        "http://127.0.0.1:8080/jwks",
        "http://127.255.0.9/x",
        "http://localhost:1/x",
        "http://LocalHost/x",
        "http://[::1]:9/x",
        "http://127.0.0.1?x=1",
    };
    static const char *const bad[] = {
        NULL,
        "",
        "idp.example/jwks",
        "ftp://idp.example/jwks",
        "file:///etc/passwd",
        "https://",
        "https:///jwks",
        "https://user@idp.example/jwks",
        "https://idp.example:/jwks",
        "https://idp.example:80x/jwks",
        "https://idp example/jwks",
        "https://idp.example/\x01",
        "https://idp.example/\"x",
        /* plain http only to a loopback literal, decided without DNS */
        "http://idp.example/jwks",
        "http://10.0.0.1/jwks",
        "http://128.0.0.1/jwks",
        "http://127.1/jwks",
        "http://127.0.0.1.nip.io/jwks",
        "http://127.0.0.01/jwks",
        "http://0x7f.0.0.1/jwks",
        "http://127.0.0.256/jwks",
        "http://127.0.0.1./jwks",
        "http://localhost.example/jwks",
        "http://[::2]/jwks",
        "http://[::1/jwks",
        "http://127.0.0.1@evil.example/jwks",
    };
    const char *err = NULL;
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(*good); ++i) {
        if (aj_issuer_url_check(&err, good[i]) != APR_SUCCESS) {
            fail_msg("refused [%s]: %s", good[i], err);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(*bad); ++i) {
        err = NULL;
        if (aj_issuer_url_check(&err, bad[i]) != APR_EINVAL || !err) {
            fail_msg("accepted [%s]", bad[i] ? bad[i] : "(null)");
        }
    }
}

static void test_discovery(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *uri = NULL, *err = NULL;
#define DISC(iss, jwks) "{\"issuer\":\"" iss "\",\"jwks_uri\":\"" jwks "\"}"

    assert_string_equal(aj_issuer_discovery_url(p, "https://idp.example/realms/r"),
                        "https://idp.example/realms/r/.well-known/openid-configuration");
    /* Auth0's issuers end with '/': one is dropped before the path */
    assert_string_equal(aj_issuer_discovery_url(p, "https://t.auth0.com/"),
                        "https://t.auth0.com/.well-known/openid-configuration");

    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p, DISC("https://i", "https://i/k"),
                                        sizeof(DISC("https://i", "https://i/k")) - 1, "https://i"),
                     APR_SUCCESS);
    assert_string_equal(uri, "https://i/k");
    /* another issuer's document (exact match, trailing slash included) */
    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p, DISC("https://i/", "https://i/k"),
                                        sizeof(DISC("https://i/", "https://i/k")) - 1, "https://i"),
                     APR_EINVAL);
    assert_null(uri);
    assert_non_null(strstr(err, "another issuer"));
    /* a jwks_uri that may not be fetched */
    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p, DISC("https://i", "http://evil/k"),
                                        sizeof(DISC("https://i", "http://evil/k")) - 1,
                                        "https://i"),
                     APR_EINVAL);
    assert_non_null(strstr(err, "jwks_uri"));
    /* not JSON, no jwks_uri, a jwks_uri of the wrong type, duplicate names */
    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p, "nope", 4, "https://i"), APR_EINVAL);
    assert_int_equal(
        aj_issuer_jwks_uri(&uri, &err, p, "{\"issuer\":\"https://i\"}", 22, "https://i"),
        APR_EINVAL);
    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p, "{\"issuer\":\"https://i\",\"jwks_uri\":1}",
                                        34, "https://i"),
                     APR_EINVAL);
    assert_int_equal(aj_issuer_jwks_uri(&uri, &err, p,
                                        "{\"issuer\":\"https://x\",\"issuer\":\"https://i\","
                                        "\"jwks_uri\":\"https://i/k\"}",
                                        67, "https://i"),
                     APR_EINVAL);
#undef DISC
}

static void test_keyset(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char ok[] = "{\"keys\":[" EC_JWK(",\"kid\":\"a\"") "]}";
    static const char mixed[] =
        "{\"keys\":[" EC_JWK(",\"kid\":\"a\",\"use\":\"enc\"") "," EC_JWK(",\"kid\":\"b\"") "]}";
    static const char none[] = "{\"keys\":[" EC_JWK(",\"use\":\"enc\"") "]}";
    static const char oct[] = "{\"keys\":[" OCT_JWK "]}";
    apr_array_header_t *skipped = NULL;
    aj_keyset_t *ks = NULL;
    const char *err = NULL;
    char *big;

    assert_int_equal(aj_issuer_keyset(&ks, &skipped, &err, p, ok, sizeof(ok) - 1, 0), APR_SUCCESS);
    assert_true(aj_keyset_has_kid(ks, "a"));
    assert_int_equal(aj_issuer_keyset(&ks, &skipped, &err, p, mixed, sizeof(mixed) - 1, 0),
                     APR_SUCCESS);
    assert_false(aj_keyset_has_kid(ks, "a"));
    assert_true(aj_keyset_has_kid(ks, "b"));
    assert_int_equal(skipped->nelts, 1);
    /* no usable key: a failed fetch */
    assert_int_equal(aj_issuer_keyset(&ks, &skipped, &err, p, none, sizeof(none) - 1, 0),
                     APR_EINVAL);
    assert_null(ks);
    assert_non_null(strstr(err, "no usable key"));
    /* HMAC secrets only from a file */
    assert_int_equal(aj_issuer_keyset(&ks, &skipped, &err, p, oct, sizeof(oct) - 1, 0), APR_EINVAL);
    assert_int_equal(aj_issuer_keyset(&ks, &skipped, &err, p, oct, sizeof(oct) - 1, 1),
                     APR_SUCCESS);
    assert_true(aj_keyset_has_kid(ks, "h"));
    /* not JSON, not an object, over 1 MiB */
    assert_int_equal(aj_issuer_keyset(&ks, NULL, &err, p, "[]", 2, 0), APR_EINVAL);
    assert_int_equal(aj_issuer_keyset(&ks, NULL, &err, p, "{", 1, 0), APR_EINVAL);
    big = apr_palloc(p, AJ_ISSUER_DOC_MAX + 2);
    memset(big, ' ', AJ_ISSUER_DOC_MAX + 1);
    memcpy(big, ok, sizeof(ok) - 1);
    big[AJ_ISSUER_DOC_MAX + 1] = '\0';
    assert_int_equal(aj_issuer_keyset(&ks, NULL, &err, p, big, AJ_ISSUER_DOC_MAX + 1, 0),
                     APR_EINVAL);
    assert_int_equal(aj_issuer_keyset(&ks, NULL, &err, p, big, AJ_ISSUER_DOC_MAX, 0), APR_SUCCESS);
}

static void test_refresh_in(void **state)
{
    (void)state;
    assert_int_equal(aj_issuer_refresh_in(3600, NULL), 3600);
    assert_int_equal(aj_issuer_refresh_in(3600, "public, max-age=300"), 300);
    assert_int_equal(aj_issuer_refresh_in(3600, "MAX-AGE=120,public"), 120);
    /* never more often than a minute, never later than configured */
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age=0"), AJ_ISSUER_MIN_REFRESH);
    assert_int_equal(aj_issuer_refresh_in(3600, "no-store, max-age=5"), AJ_ISSUER_MIN_REFRESH);
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age=86400"), 3600);
    assert_int_equal(aj_issuer_refresh_in(30, NULL), AJ_ISSUER_MIN_REFRESH);
    /* what does not parse is ignored */
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age=12x"), 3600);
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age=-5"), 3600);
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age="), 3600);
    assert_int_equal(aj_issuer_refresh_in(3600, "s-maxage=100"), 3600);
    assert_int_equal(aj_issuer_refresh_in(3600, "max-age=99999999999999999999"), 3600);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_url_check),
    AJ_TEST(test_discovery),
    AJ_TEST(test_keyset),
    AJ_TEST(test_refresh_in),
};

AJ_TEST_MAIN("aj_issuer", tests)

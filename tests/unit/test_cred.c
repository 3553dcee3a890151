/*
 * test_cred.c — which credential a request carries (aj_cred_*): the
 * Authorization header, the token cookie, the two together, and the CSRF
 * double-submit comparison; hostile input throughout (empty, huge, NULs,
 * repeated schemes, odd spacing, non-ASCII).
 */
#include "aj_test.h"
#include "aj_cred.h"

/* A compact JWS as aj_jws_looks_like_jwt sees one: header {"alg":"HS256"},
 * payload {"sub":"1"}, signature "sig" (never verified here). */
#define JWT         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
#define JWT_OTHER   "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2ln"
/* base64(JWT ":x") and base64("alice:secret") */
#define BASIC_JWT   "ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUl4SW4wLmMybG46eA=="
#define BASIC_ALICE "YWxpY2U6c2VjcmV0"
#define COOKIE_NAME "tok"
/* Bigger than any header httpd would pass with its default limits. */
#define HUGE_LEN    (1024 * 1024)

/* An input and what it should give (a problem text, a cookie value). */
typedef struct {
    const char *in;
    const char *out;
} cred_case_t;

static aj_cred_kind_e authz(aj_cred_t *cred, apr_pool_t *p, const char *line)
{
    return aj_cred_authorization(cred, p, line, line ? strlen(line) : 0);
}

static aj_cred_kind_e parse(aj_cred_t *cred, apr_pool_t *p, const char *authorization,
                            const char *cookie, const char *cookie_name)
{
    aj_cred_in_t in;

    memset(&in, 0, sizeof(in));
    in.authorization = authorization;
    in.authorization_len = authorization ? strlen(authorization) : 0;
    in.cookie = cookie;
    in.cookie_len = cookie ? strlen(cookie) : 0;
    in.cookie_name = cookie_name;
    return aj_cred_parse(cred, p, &in);
}

static apr_status_t cookie(const char **value, const char **problem, apr_pool_t *p,
                           const char *header)
{
    return aj_cred_cookie(value, problem, p, header, header ? strlen(header) : 0, COOKIE_NAME);
}

/* ---- Authorization ------------------------------------------------------ */

static void test_absent(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cred_t cred;

    memset(&cred, 0xff, sizeof(cred)); /* cleared whatever it held */
    assert_int_equal(aj_cred_authorization(&cred, p, NULL, 0), AJ_CRED_NONE);
    assert_null(cred.token);
    assert_int_equal(cred.token_len, 0);
    assert_null(cred.user);
    assert_null(cred.password);
    assert_null(cred.problem);
    assert_int_equal(cred.from_cookie, 0);
}

static void test_bearer(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const ok[] = {
        "Bearer " JWT,         "bearer " JWT,                 /* schemes ignore case */
        "BEARER " JWT,         "bEaReR " JWT, "Bearer\t" JWT, /* HTAB is whitespace */
        "Bearer    \t " JWT,                                  /* any run of it */
        "Bearer " JWT "   ",                                  /* trailing whitespace tolerated */
        "Bearer " JWT "\t \t",
    };
    apr_size_t i;
    aj_cred_t cred;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) {
        assert_int_equal(authz(&cred, p, ok[i]), AJ_CRED_BEARER);
        assert_string_equal(cred.token, JWT);
        assert_int_equal(cred.token_len, strlen(JWT));
        assert_null(cred.user);
        assert_null(cred.problem);
        assert_int_equal(cred.from_cookie, 0);
    }
    /* the parser does not judge the token: verification refuses it later */
    assert_int_equal(authz(&cred, p, "Bearer x"), AJ_CRED_BEARER);
    assert_string_equal(cred.token, "x");
    assert_int_equal(authz(&cred, p, "Bearer \xc3\xa9\xff"), AJ_CRED_BEARER);
    assert_string_equal(cred.token, "\xc3\xa9\xff");
}

static void test_basic(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cred_t cred;

    assert_int_equal(authz(&cred, p, "Basic " BASIC_ALICE), AJ_CRED_BASIC);
    assert_string_equal(cred.user, "alice");
    assert_string_equal(cred.password, "secret");
    assert_null(cred.token);
    assert_int_equal(authz(&cred, p, "bASIC\t " BASIC_ALICE " "), AJ_CRED_BASIC);
    assert_string_equal(cred.user, "alice");
    /* REST-auth: a user-id shaped like a JWT is also the token */
    assert_int_equal(authz(&cred, p, "Basic " BASIC_JWT), AJ_CRED_BASIC);
    assert_string_equal(cred.user, JWT);
    assert_string_equal(cred.password, "x");
    assert_string_equal(cred.token, JWT);
    assert_int_equal(cred.token_len, strlen(JWT));
}

static void test_malformed(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const cred_case_t bad[] = {
        /* two headers, joined by httpd with ", " */
        { "Bearer " JWT ", Bearer " JWT, "more than one Authorization header" },
        { "Basic " BASIC_ALICE ", Bearer " JWT, "more than one Authorization header" },
        { ",", "more than one Authorization header" },
        { "Negotiate a,b", "more than one Authorization header" },
        /* a second word, whatever the scheme */
        { "Bearer " JWT " " JWT, "malformed Authorization header" },
        { "Bearer Bearer " JWT, "malformed Authorization header" },
        { "Basic Basic " BASIC_ALICE, "malformed Authorization header" },
        { "Bearer " JWT " x", "malformed Authorization header" },
        { "Digest a b", "malformed Authorization header" },
        { " Bearer " JWT, "malformed Authorization header" }, /* no scheme */
        /* empty credentials */
        { "Bearer", "empty Bearer token" },
        { "Bearer   \t", "empty Bearer token" },
        { "bearer ", "empty Bearer token" },
        { "Basic", "empty Basic credentials" },
        { "Basic \t ", "empty Basic credentials" },
        /* Basic that does not decode (aj_basic_decode's texts) */
        { "Basic !!!!", "Basic credentials are not base64" },
        { "Basic \xc3\xa9\xc3\xa9", "Basic credentials are not base64" },
        { "Basic c2VjcmV0LXZhbHVl", "Basic credentials have no ':'" },
        { "Basic dXNlcgA6cHc=", "Basic credentials contain a NUL byte" },
    };
    apr_size_t i;
    aj_cred_t cred;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        assert_int_equal(authz(&cred, p, bad[i].in), AJ_CRED_BAD);
        assert_non_null(cred.problem);
        assert_string_equal(cred.problem, bad[i].out);
        assert_null(cred.token);
    }
    /* the texts are fixed: a rejected credential is never echoed */
    assert_int_equal(authz(&cred, p, "Bearer secret-token more"), AJ_CRED_BAD);
    assert_null(strstr(cred.problem, "secret"));
}

static void test_nul_byte(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char line[] = "Bearer ab\0cd";
    static const char nul_only[] = "\0";
    aj_cred_t cred;

    /* httpd hands C strings, so a NUL cannot arrive: here it is refused
     * rather than silently cutting the token short */
    assert_int_equal(aj_cred_authorization(&cred, p, line, sizeof(line) - 1), AJ_CRED_BAD);
    assert_string_equal(cred.problem, "NUL byte in the Authorization header");
    assert_int_equal(aj_cred_authorization(&cred, p, nul_only, 1), AJ_CRED_BAD);
}

static void test_other_schemes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const other[] = {
        "",    /* empty header */
        "   ", /* whitespace only */
        "Digest abc",
        "Negotiate YII=",
        "Bearerx " JWT, /* a longer word is another scheme */
        "Bear " JWT,
        "Basic2 " BASIC_ALICE,
        "B\xc3\xa9"
        "arer " JWT, /* non-ASCII scheme */
        "Token",     /* a scheme alone */
    };
    apr_size_t i;
    aj_cred_t cred;

    for (i = 0; i < sizeof(other) / sizeof(other[0]); ++i) {
        assert_int_equal(authz(&cred, p, other[i]), AJ_CRED_OTHER);
        assert_null(cred.token);
        assert_null(cred.user);
        assert_null(cred.problem);
    }
}

static void test_slice_and_huge(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char hdr[] = "Bearer abcXYZ";
    char *huge = apr_palloc(p, HUGE_LEN + 1);
    aj_cred_t cred;

    /* only len bytes count: the value is cut at the slice's end */
    assert_int_equal(aj_cred_authorization(&cred, p, hdr, 10), AJ_CRED_BEARER);
    assert_string_equal(cred.token, "abc");
    assert_int_equal(cred.token_len, 3);
    assert_int_equal(aj_cred_authorization(&cred, p, hdr, 6), AJ_CRED_BAD); /* "Bearer" */
    assert_int_equal(aj_cred_authorization(&cred, p, hdr, 0), AJ_CRED_OTHER);

    /* a huge token is one pass and one copy; its size is verification's business */
    memcpy(huge, "Bearer ", 7);
    memset(huge + 7, 'a', HUGE_LEN - 7);
    huge[HUGE_LEN] = '\0';
    assert_int_equal(aj_cred_authorization(&cred, p, huge, HUGE_LEN), AJ_CRED_BEARER);
    assert_int_equal(cred.token_len, HUGE_LEN - 7);
    assert_int_equal(strlen(cred.token), HUGE_LEN - 7);
    /* huge whitespace runs, then a second word */
    memset(huge + 7, ' ', HUGE_LEN - 8);
    huge[HUGE_LEN - 1] = 'x';
    assert_int_equal(aj_cred_authorization(&cred, p, huge, HUGE_LEN), AJ_CRED_BEARER);
    assert_string_equal(cred.token, "x");
    huge[7] = 'y';
    assert_int_equal(aj_cred_authorization(&cred, p, huge, HUGE_LEN), AJ_CRED_BAD);
    assert_string_equal(cred.problem, "malformed Authorization header");
}

/* ---- the token cookie ----------------------------------------------------- */

static void test_cookie_found(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const cred_case_t cases[] = {
        { COOKIE_NAME "=abc", "abc" },
        { "a=1; " COOKIE_NAME "=abc; b=2", "abc" },
        { "a=1;" COOKIE_NAME "=abc;b=2", "abc" },
        { " \t" COOKIE_NAME "=abc \t; x=y", "abc" },        /* around the pair */
        { COOKIE_NAME "= abc", " abc" },                    /* inside: kept */
        { COOKIE_NAME "=a=b", "a=b" },                      /* the first '=' splits */
        { COOKIE_NAME "=abc; " COOKIE_NAME "=abc", "abc" }, /* same value twice */
        { "a=1, " COOKIE_NAME "=abc", "abc" },              /* two Cookie headers joined */
        { COOKIE_NAME "=\xc3\xa9", "\xc3\xa9" },
        { ";;; ,, " COOKIE_NAME "=abc ;;", "abc" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *value = NULL, *problem = NULL;
        assert_int_equal(cookie(&value, &problem, p, cases[i].in), APR_SUCCESS);
        assert_non_null(value);
        assert_string_equal(value, cases[i].out);
        assert_null(problem);
    }
}

static void test_cookie_absent(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const none[] = {
        "",
        " ",
        ";;;, ,",
        "a=1; b=2",
        COOKIE_NAME,         /* no '=' */
        COOKIE_NAME " =abc", /* space before '=': another name */
        COOKIE_NAME "=",     /* empty value */
        COOKIE_NAME "=  \t",
        "x" COOKIE_NAME "=abc", /* names compare exactly */
        COOKIE_NAME "2=abc",
        "TOK=abc",
        "a=" COOKIE_NAME "=abc", /* inside another value */
    };
    apr_size_t i;
    const char *value = "untouched", *problem = NULL;

    assert_int_equal(cookie(&value, &problem, p, NULL), APR_SUCCESS);
    assert_null(value);
    for (i = 0; i < sizeof(none) / sizeof(none[0]); ++i) {
        value = "untouched";
        assert_int_equal(cookie(&value, &problem, p, none[i]), APR_SUCCESS);
        assert_null(value);
        assert_null(problem);
    }
}

static void test_cookie_conflict(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const twice[] = {
        COOKIE_NAME "=abc; " COOKIE_NAME "=def",
        COOKIE_NAME "=abc, " COOKIE_NAME "=def", /* two headers */
        COOKIE_NAME "=; " COOKIE_NAME "=abc",    /* empty, then a value */
        COOKIE_NAME "=abc; " COOKIE_NAME "=abcd",
        COOKIE_NAME "=abc; " COOKIE_NAME "=ab",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(twice) / sizeof(twice[0]); ++i) {
        const char *value = "untouched", *problem = NULL;
        assert_int_equal(cookie(&value, &problem, p, twice[i]), APR_EINVAL);
        assert_string_equal(value, "untouched");
        assert_string_equal(problem, "the token cookie is sent twice with different values");
    }
}

static void test_cookie_hostile(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char with_nul[] = COOKIE_NAME "=ab\0cd";
    const char slice[] = COOKIE_NAME "=abc; " COOKIE_NAME "=def";
    const char *value = "untouched", *problem = NULL;
    char *huge = apr_palloc(p, HUGE_LEN + 1);
    apr_size_t i;

    assert_int_equal(
        aj_cred_cookie(&value, &problem, p, with_nul, sizeof(with_nul) - 1, COOKIE_NAME),
        APR_EINVAL);
    assert_string_equal(value, "untouched");
    assert_string_equal(problem, "NUL byte in the Cookie header");
    /* only len bytes count: the second, different value lies beyond */
    problem = NULL;
    assert_int_equal(aj_cred_cookie(&value, &problem, p, slice, 7, COOKIE_NAME), APR_SUCCESS);
    assert_string_equal(value, "abc");
    assert_int_equal(aj_cred_cookie(&value, &problem, p, slice, 4, COOKIE_NAME), APR_SUCCESS);
    assert_null(value); /* "tok=" */
    /* a huge header of empty pairs, then the cookie */
    for (i = 0; i < HUGE_LEN; ++i) {
        huge[i] = (i % 2) ? ';' : ' ';
    }
    memcpy(huge + HUGE_LEN - 8, COOKIE_NAME "=abcd", 8);
    huge[HUGE_LEN] = '\0';
    assert_int_equal(aj_cred_cookie(&value, &problem, p, huge, HUGE_LEN, COOKIE_NAME), APR_SUCCESS);
    assert_string_equal(value, "abcd");
}

/* ---- the credential of a request ---------------------------------------- */

static void test_parse_without_cookie(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cred_t cred;

    assert_int_equal(parse(&cred, p, NULL, NULL, NULL), AJ_CRED_NONE);
    /* no AuthJWTCookie: the Cookie header is not read */
    assert_int_equal(parse(&cred, p, NULL, COOKIE_NAME "=" JWT, NULL), AJ_CRED_NONE);
    assert_int_equal(parse(&cred, p, NULL, COOKIE_NAME "=a; " COOKIE_NAME "=b", NULL),
                     AJ_CRED_NONE);
    assert_int_equal(parse(&cred, p, "Bearer " JWT, NULL, NULL), AJ_CRED_BEARER);
    assert_string_equal(cred.token, JWT);
    /* the cookie configured but not sent */
    assert_int_equal(parse(&cred, p, "Bearer " JWT, NULL, COOKIE_NAME), AJ_CRED_BEARER);
    assert_int_equal(parse(&cred, p, NULL, "a=1", COOKIE_NAME), AJ_CRED_NONE);
    assert_int_equal(parse(&cred, p, "Digest x", "a=1", COOKIE_NAME), AJ_CRED_OTHER);
}

static void test_parse_cookie_token(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cred_t cred;

    assert_int_equal(parse(&cred, p, NULL, COOKIE_NAME "=" JWT, COOKIE_NAME), AJ_CRED_BEARER);
    assert_string_equal(cred.token, JWT);
    assert_int_equal(cred.token_len, strlen(JWT));
    assert_int_equal(cred.from_cookie, 1);
    /* another scheme leaves the cookie to decide */
    assert_int_equal(parse(&cred, p, "Digest x", COOKIE_NAME "=" JWT, COOKIE_NAME), AJ_CRED_BEARER);
    assert_int_equal(cred.from_cookie, 1);
    /* the same token in both: the header's (no CSRF rule) */
    assert_int_equal(parse(&cred, p, "Bearer " JWT, COOKIE_NAME "=" JWT, COOKIE_NAME),
                     AJ_CRED_BEARER);
    assert_int_equal(cred.from_cookie, 0);
    assert_int_equal(parse(&cred, p, "Basic " BASIC_JWT, COOKIE_NAME "=" JWT, COOKIE_NAME),
                     AJ_CRED_BASIC);
    assert_string_equal(cred.token, JWT);
    assert_int_equal(cred.from_cookie, 0);
    /* a username/password leaves the cookie unused */
    assert_int_equal(parse(&cred, p, "Basic " BASIC_ALICE, COOKIE_NAME "=" JWT, COOKIE_NAME),
                     AJ_CRED_BASIC);
    assert_null(cred.token);
    assert_string_equal(cred.user, "alice");
    assert_int_equal(cred.from_cookie, 0);
}

static void test_parse_refused(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cred_t cred;

    assert_int_equal(parse(&cred, p, "Bearer " JWT, COOKIE_NAME "=" JWT_OTHER, COOKIE_NAME),
                     AJ_CRED_BAD);
    assert_string_equal(cred.problem, "the Authorization token and the cookie token differ");
    assert_int_equal(parse(&cred, p, "Basic " BASIC_JWT, COOKIE_NAME "=" JWT_OTHER, COOKIE_NAME),
                     AJ_CRED_BAD);
    assert_string_equal(cred.problem, "the Authorization token and the cookie token differ");
    assert_int_equal(
        parse(&cred, p, NULL, COOKIE_NAME "=" JWT "; " COOKIE_NAME "=" JWT_OTHER, COOKIE_NAME),
        AJ_CRED_BAD);
    assert_string_equal(cred.problem, "the token cookie is sent twice with different values");
    /* a malformed header is refused before the cookie is looked at */
    assert_int_equal(parse(&cred, p, "Bearer", COOKIE_NAME "=a; " COOKIE_NAME "=b", COOKIE_NAME),
                     AJ_CRED_BAD);
    assert_string_equal(cred.problem, "empty Bearer token");
}

/* ---- CSRF ------------------------------------------------------------------- */

static void test_csrf(void **state)
{
    assert_true(aj_cred_csrf_match("abc", 3, "abc", 3));
    assert_false(aj_cred_csrf_match(NULL, 0, "abc", 3)); /* header missing */
    assert_false(aj_cred_csrf_match("abc", 3, NULL, 0)); /* claim missing */
    assert_false(aj_cred_csrf_match(NULL, 0, NULL, 0));
    assert_false(aj_cred_csrf_match("abd", 3, "abc", 3));
    assert_false(aj_cred_csrf_match("ab", 2, "abc", 3));
    assert_false(aj_cred_csrf_match("abcd", 4, "abc", 3));
    assert_false(aj_cred_csrf_match("ABC", 3, "abc", 3));      /* exact, case too */
    assert_false(aj_cred_csrf_match("abc, abc", 8, "abc", 3)); /* two headers joined */
    /* lengths are explicit: a NUL is just a byte */
    assert_false(aj_cred_csrf_match("ab\0", 3, "abc", 3));
    assert_true(aj_cred_csrf_match("a\0c", 3, "a\0c", 3));
    /* an empty claim matches only an empty header (as ever) */
    assert_true(aj_cred_csrf_match("", 0, "", 0));
    assert_false(aj_cred_csrf_match("x", 1, "", 0));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_absent),
    AJ_TEST(test_bearer),
    AJ_TEST(test_basic),
    AJ_TEST(test_malformed),
    AJ_TEST(test_nul_byte),
    AJ_TEST(test_other_schemes),
    AJ_TEST(test_slice_and_huge),
    AJ_TEST(test_cookie_found),
    AJ_TEST(test_cookie_absent),
    AJ_TEST(test_cookie_conflict),
    AJ_TEST(test_cookie_hostile),
    AJ_TEST(test_parse_without_cookie),
    AJ_TEST(test_parse_cookie_token),
    AJ_TEST(test_parse_refused),
    AJ_TEST(test_csrf),
};

AJ_TEST_MAIN("aj_cred", tests)

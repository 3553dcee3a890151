/*
 * test_confcheck.c — the configtest rules of docs/reference.md §13 on a
 * model of the configuration tree (aj_confcheck.h): each mistake is found,
 * and nothing is reported that is not certain.
 */
#include "aj_test.h"
#include "aj_confcheck.h"

#define F "site.conf"

/* A tiny builder: sections and directives with made-up line numbers. */
static int line_no;

static int sec(aj_cc_conf_t *c, int parent, const char *dir, const char *args)
{
    return aj_cc_section_add(c, parent, dir, args, F, ++line_no);
}

static void set(aj_cc_conf_t *c, int s, const char *name, const char *args)
{
    aj_cc_directive(c, s, name, args, F, ++line_no);
}

static void jwt_auth(aj_cc_conf_t *c, int s)
{
    set(c, s, "AuthType", "JWT");
    set(c, s, "AuthName", "\"api\"");
    set(c, s, "Require", "valid-user");
}

/* <Location where> with SetHandler handler in it. */
static int mount(aj_cc_conf_t *c, int parent, const char *where, const char *handler)
{
    int s = sec(c, parent, "<Location", where);

    set(c, s, "SetHandler", handler);
    return s;
}

/* <Location where> protected by AuthType JWT. */
static int jwt_location(aj_cc_conf_t *c, int parent, const char *where)
{
    int s = sec(c, parent, "<Location", where);

    jwt_auth(c, s);
    return s;
}

static apr_array_header_t *check(aj_cc_conf_t *c, apr_pool_t *p)
{
    return aj_cc_check(c, p);
}

static const aj_cc_finding_t *finding(apr_array_header_t *f, int i)
{
    return &APR_ARRAY_IDX(f, i, aj_cc_finding_t);
}

static void assert_one(apr_array_header_t *f, aj_cc_problem_e problem, const char *needle)
{
    if (f->nelts != 1) {
        fail_msg("%d findings, expected 1%s%s", f->nelts, f->nelts ? ": " : "",
                 f->nelts ? finding(f, 0)->text : "");
    }
    assert_int_equal(finding(f, 0)->problem, problem);
    if (needle && !strstr(finding(f, 0)->text, needle)) {
        fail_msg("[%s] not in [%s]", needle, finding(f, 0)->text);
    }
}

/* ---- AuthType JWT without AuthName ----------------------------------------- */

static void test_auth_name_missing(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int loc = sec(c, 0, "<Location", "/api>");

    set(c, loc, "AuthType", "jwt");
    set(c, loc, "Require", "valid-user");
    assert_one(check(c, p), AJ_CC_NO_AUTH_NAME, "AuthType JWT at site.conf:");
    assert_non_null(strstr(finding(check(c, p), 0)->text, "<Location /api>"));
}

/* A section (dir args) setting AuthName, then <Location where> setting
 * AuthType JWT. */
static apr_array_header_t *check_name_then_jwt(apr_pool_t *p, const char *dir, const char *args,
                                               const char *auth_name, const char *where)
{
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int named = sec(c, 0, dir, args);
    int loc = sec(c, 0, "<Location", where);

    set(c, named, "AuthName", auth_name);
    set(c, loc, "AuthType", "JWT");
    return check(c, p);
}

static void test_auth_name_from_prefix_location_or_server(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c;
    int inner;

    assert_int_equal(
        check_name_then_jwt(p, "<Location", "/api>", "api", "\"/api/private\">")->nelts, 0);

    c = aj_cc_make(p, 1);
    set(c, 0, "AuthName", "site");
    inner = sec(c, 0, "<Location", "/x>");
    set(c, inner, "AuthType", "JWT");
    assert_int_equal(check(c, p)->nelts, 0);
}

static void test_auth_name_elsewhere_does_not_count(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int other = sec(c, 0, "<Location", "/apix>"); /* not a prefix in segments */
    int deeper = sec(c, 0, "<Location", "/api/deeper>");
    int loc = sec(c, 0, "<Location", "/api>");

    set(c, other, "AuthName", "x");
    set(c, deeper, "AuthName", "x");
    set(c, loc, "AuthType", "JWT");
    assert_one(check(c, p), AJ_CC_NO_AUTH_NAME, NULL);
}

static void test_auth_name_maybe_is_not_an_error(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const maybe[][2] = {
        { "<Directory", "/var/www>" },
        { "<LocationMatch", "^/api>" },
        { "<Location", "~ \"^/a\">" },
        { "<Location", "/a*>" },
        { "<If", "\"%{REMOTE_ADDR} == '127.0.0.1'\">" },
        { "<Files", "x>" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(maybe) / sizeof(maybe[0]); ++i) {
        if (check_name_then_jwt(p, maybe[i][0], maybe[i][1], "x", "/api>")->nelts) {
            fail_msg("reported although %s %s may set AuthName", maybe[i][0], maybe[i][1]);
        }
    }
}

static void test_auth_type_overridden_later(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int loc = sec(c, 0, "<Location", "/api>");
    int later = sec(c, 0, "<Location", "/>");

    set(c, loc, "AuthType", "JWT");
    set(c, later, "AuthType", "None"); /* merged after: /api is not JWT */
    assert_int_equal(check(c, p)->nelts, 0);
}

/* ---- handlers that need an authenticated user ------------------------------ */

static void test_status_without_auth(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const handlers[] = { "auth-jwt-status", "auth-jwt-token", "auth-jwt-logout",
                                            "AUTH-JWT-PASSWORD" };
    apr_size_t i;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); ++i) {
        aj_cc_conf_t *c = aj_cc_make(p, 1);
        int loc = sec(c, 0, "<Location", "/api/x>");
        set(c, 0, "AuthJWTSigningKey", "HS256 file:k");
        set(c, loc, "SetHandler", handlers[i]);
        assert_one(check(c, p), AJ_CC_NO_AUTH, "needs an authenticated user");
    }
}

static void test_auth_inherited_from_enclosing_location(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int api = sec(c, 0, "<Location", "/api/>");
    int st = sec(c, 0, "<Location", "/api/status>");

    jwt_auth(c, api);
    set(c, st, "SetHandler", "auth-jwt-status");
    assert_int_equal(check(c, p)->nelts, 0);
}

/* The status handler under AuthType Basic with these providers. */
static apr_array_header_t *check_basic_status(apr_pool_t *p, const char *providers)
{
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int st = sec(c, 0, "<Location", "/status>");

    set(c, st, "AuthType", "Basic");
    set(c, st, "AuthName", "x");
    set(c, st, "AuthBasicProvider", providers);
    set(c, st, "SetHandler", "auth-jwt-status");
    return check(c, p);
}

static void test_basic_with_jwt_provider(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_int_equal(check_basic_status(p, "file jwt")->nelts, 0);
    assert_one(check_basic_status(p, "file"), AJ_CC_NO_AUTH,
               "SetHandler auth-jwt-status at site.conf:");
}

/* <Directory dir> with AllowOverride override, then the status handler
 * with no authentication. */
static apr_array_header_t *check_status_after_directory(apr_pool_t *p, const char *dir,
                                                        const char *override)
{
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int d = sec(c, 0, "<Directory", dir);

    set(c, d, "AllowOverride", override);
    (void)mount(c, 0, "/status>", "auth-jwt-status");
    return check(c, p);
}

static void test_handler_not_certain(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int st = sec(c, 0, "<Location", "/status>");
    int iff;

    set(c, st, "SetHandler", "auth-jwt-status");
    iff = sec(c, st, "<If", "\"-n %{HTTP_X}\">");
    set(c, iff, "AuthType", "JWT"); /* may apply: not certain */
    set(c, iff, "AuthName", "x");
    assert_int_equal(check(c, p)->nelts, 0);

    /* .htaccess files may set anything */
    assert_int_equal(check_status_after_directory(p, "/var/www>", "AuthConfig")->nelts, 0);
    /* AllowOverride None changes nothing */
    assert_int_equal(check_status_after_directory(p, "/>", "None")->nelts, 1);

    /* a later matching section mounts something else */
    c = aj_cc_make(p, 1);
    (void)mount(c, 0, "/status>", "auth-jwt-status");
    (void)mount(c, 0, "/>", "none");
    assert_int_equal(check(c, p)->nelts, 0);
}

/* ---- signing keys ---------------------------------------------------------- */

#define SIGNING_KEY "HS256 file:k"
#define VERIFY_KEY  "RS256 file:pub"

static void test_issuing_without_signing_key(void **state)
{
    /* where the keys are set, and whether the login handler has a key to sign with */
    static const struct {
        const char *server_signing, *section_signing, *section_verify;
        int missing;
        const char *needle;
    } cases[] = {
        /* no key at all */
        { NULL, NULL, NULL, 1, "AuthJWTSigningKey" },
        /* from the server level: fine */
        { SIGNING_KEY, NULL, NULL, 0, NULL },
        /* a section naming only a verify key replaces the server's keys */
        { SIGNING_KEY, NULL, VERIFY_KEY, 1, NULL },
        /* verify and signing keys in one section */
        { NULL, SIGNING_KEY, VERIFY_KEY, 0, NULL },
    };
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); ++i) {
        aj_cc_conf_t *c = aj_cc_make(p, 1);
        int login;

        if (cases[i].server_signing) {
            set(c, 0, "AuthJWTSigningKey", cases[i].server_signing);
        }
        login = sec(c, 0, "<Location", "/login>");
        if (cases[i].section_signing) {
            set(c, login, "AuthJWTSigningKey", cases[i].section_signing);
        }
        if (cases[i].section_verify) {
            set(c, login, "AuthJWTVerifyKey", cases[i].section_verify);
        }
        set(c, login, "SetHandler", "auth-jwt-login");
        if (cases[i].missing) {
            assert_one(check(c, p), AJ_CC_NO_SIGNING_KEY, cases[i].needle);
        }
        else {
            assert_int_equal(check(c, p)->nelts, 0);
        }
    }
}

/* ---- the store and virtual hosts -------------------------------------------- */

static void test_store_needed(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 0);
    int users = sec(c, 0, "<Location", "/users>");
    int jwks = sec(c, 0, "<Location", "/jwks>");
    int meta = sec(c, 0, "<Location", "/.well-known/oauth-protected-resource>");
    int st = sec(c, 0, "<Location", "/status>");

    set(c, users, "SetHandler", "auth-jwt-users");
    set(c, jwks, "SetHandler", "auth-jwt-jwks");
    set(c, meta, "SetHandler", "auth-jwt-resource-metadata"); /* needs nothing */
    jwt_auth(c, st);
    set(c, st, "SetHandler", "auth-jwt-status"); /* a token's claims only: no store */
    assert_one(check(c, p), AJ_CC_NO_STORE, "DBDriver");
}

static void test_virtual_hosts(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 0);
    int users = sec(c, 0, "<Location", "/users>");
    int a, b, loc;

    set(c, users, "SetHandler", "auth-jwt-users");
    /* one virtual host has a store: the main server's mount may work there */
    (void)aj_cc_vhost_add(c, 1, F, ++line_no);
    (void)aj_cc_vhost_add(c, 0, F, ++line_no);
    assert_int_equal(check(c, p)->nelts, 0);

    /* a virtual host's mount is judged in that host only; another host's
     * sections never reach it */
    c = aj_cc_make(p, 1);
    a = aj_cc_vhost_add(c, 1, F, ++line_no);
    (void)jwt_location(c, a, "/api>");
    b = aj_cc_vhost_add(c, 1, F, ++line_no);
    (void)mount(c, b, "/api/status>", "auth-jwt-status");
    assert_one(check(c, p), AJ_CC_NO_AUTH, NULL);

    /* the main server's <Location> reaches the virtual host */
    c = aj_cc_make(p, 1);
    (void)jwt_location(c, 0, "/api>");
    a = aj_cc_vhost_add(c, 1, F, ++line_no);
    (void)mount(c, a, "/api/status>", "auth-jwt-status");
    assert_int_equal(check(c, p)->nelts, 0);

    /* a virtual host's own AuthType None after the main server's JWT */
    c = aj_cc_make(p, 1);
    (void)jwt_location(c, 0, "/api>");
    a = aj_cc_vhost_add(c, 1, F, ++line_no);
    loc = sec(c, a, "<Location", "/>");
    set(c, loc, "AuthType", "None");
    (void)mount(c, a, "/api/status>", "auth-jwt-status");
    assert_one(check(c, p), AJ_CC_NO_AUTH, NULL);
}

/* ---- refresh tokens in cookies ---------------------------------------------- */

/* A server with a signing key and a login handler in cookie mode with the
 * given AuthJWTRefreshLifetime (NULL: not set). */
static aj_cc_conf_t *cookie_login(apr_pool_t *p, const char *lifetime)
{
    aj_cc_conf_t *c = aj_cc_make(p, 1);

    set(c, 0, "AuthJWTSigningKey", SIGNING_KEY);
    set(c, 0, "AuthJWTCookie", "jwt");
    if (lifetime) {
        set(c, 0, "AuthJWTRefreshLifetime", lifetime);
    }
    (void)mount(c, 0, "/login>", "auth-jwt-login");
    return c;
}

static void test_refresh_cookie_needs_handler(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c;
    int v, loc;

    /* refresh tokens in cookies, and nowhere to send them */
    assert_one(check(cookie_login(p, "14d"), p), AJ_CC_NO_REFRESH_PATH, "auth-jwt-refresh");
    /* off, unset, or no cookie: nothing to send */
    assert_int_equal(check(cookie_login(p, "0"), p)->nelts, 0);
    assert_int_equal(check(cookie_login(p, NULL), p)->nelts, 0);
    c = aj_cc_make(p, 1);
    set(c, 0, "AuthJWTSigningKey", SIGNING_KEY);
    set(c, 0, "AuthJWTRefreshLifetime", "3600");
    (void)mount(c, 0, "/login>", "auth-jwt-login");
    assert_int_equal(check(c, p)->nelts, 0);
    /* the refresh handler at a plain path: found */
    c = cookie_login(p, "3600");
    (void)mount(c, 0, "/auth/refresh>", "auth-jwt-refresh");
    assert_int_equal(check(c, p)->nelts, 0);
    /* a pattern names no one path for the cookie, but it may also match
     * /login and replace its handler: not certain, no finding (the module
     * logs AJ064 at the first login instead) */
    c = cookie_login(p, "3600");
    (void)mount(c, 0, "~ ^/auth/refresh$>", "auth-jwt-refresh");
    assert_int_equal(check(c, p)->nelts, 0);
    /* another virtual host's refresh handler is not this one's */
    c = aj_cc_make(p, 1);
    set(c, 0, "AuthJWTSigningKey", SIGNING_KEY);
    v = aj_cc_vhost_add(c, 1, F, ++line_no);
    (void)mount(c, v, "/refresh>", "auth-jwt-refresh");
    v = aj_cc_vhost_add(c, 1, F, ++line_no);
    set(c, v, "AuthJWTCookie", "jwt");
    set(c, v, "AuthJWTRefreshLifetime", "1h");
    (void)mount(c, v, "/login>", "auth-jwt-login");
    assert_one(check(c, p), AJ_CC_NO_REFRESH_PATH, NULL);
    /* a virtual host's login: its own handler, or the main server's */
    c = aj_cc_make(p, 1);
    set(c, 0, "AuthJWTSigningKey", SIGNING_KEY);
    v = aj_cc_vhost_add(c, 1, F, ++line_no);
    set(c, v, "AuthJWTCookie", "jwt");
    set(c, v, "AuthJWTRefreshLifetime", "1h");
    loc = mount(c, v, "/login>", "auth-jwt-login");
    assert_one(check(c, p), AJ_CC_NO_REFRESH_PATH, NULL);
    (void)mount(c, 0, "/refresh>", "auth-jwt-refresh");
    assert_int_equal(check(c, p)->nelts, 0);
    /* the section itself turns refresh tokens off: fine */
    c = cookie_login(p, "3600");
    loc = sec(c, 0, "<Location", "/login>");
    set(c, loc, "AuthJWTRefreshLifetime", "0");
    assert_int_equal(check(c, p)->nelts, 0);
}

static void test_possible_values(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    aj_cc_conf_t *c = aj_cc_make(p, 1);
    int dir = sec(c, 0, "<Directory", "/srv>");
    int loc = sec(c, 0, "<Location", "/a/b>");

    set(c, 0, "AuthType", "Basic");
    set(c, dir, "AuthType", "JWT");
    assert_int_equal(aj_cc_possible(c, loc, 0, AJ_CC_AUTH_TYPE),
                     AJ_CC_BIT(AJ_CC_BASIC) | AJ_CC_BIT(AJ_CC_JWT));
    assert_int_equal(aj_cc_possible(c, loc, 0, AJ_CC_AUTH_NAME), AJ_CC_BIT(AJ_CC_UNSET));
    set(c, loc, "AuthType", "Digest");
    assert_int_equal(aj_cc_possible(c, loc, 0, AJ_CC_AUTH_TYPE),
                     AJ_CC_BIT(AJ_CC_OTHER) | AJ_CC_BIT(AJ_CC_JWT));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_auth_name_missing),
    AJ_TEST(test_auth_name_from_prefix_location_or_server),
    AJ_TEST(test_auth_name_elsewhere_does_not_count),
    AJ_TEST(test_auth_name_maybe_is_not_an_error),
    AJ_TEST(test_auth_type_overridden_later),
    AJ_TEST(test_status_without_auth),
    AJ_TEST(test_auth_inherited_from_enclosing_location),
    AJ_TEST(test_basic_with_jwt_provider),
    AJ_TEST(test_handler_not_certain),
    AJ_TEST(test_issuing_without_signing_key),
    AJ_TEST(test_store_needed),
    AJ_TEST(test_virtual_hosts),
    AJ_TEST(test_refresh_cookie_needs_handler),
    AJ_TEST(test_possible_values),
};

AJ_TEST_MAIN("aj_confcheck", tests)

/*
 * test_audit.c — the username as the audit lines show it (aj_audit).
 */
#include "aj_test.h"
#include "aj_audit.h"

static void test_plain_names(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_string_equal(aj_audit_username(p, "alice"), "alice");
    assert_string_equal(aj_audit_username(p, "a.b"), "a.b"); /* one dot */
    assert_string_equal(aj_audit_username(p, ""), "");
    assert_string_equal(aj_audit_username(p, NULL), "");
}

static void test_token_shaped(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_string_equal(aj_audit_username(p, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"),
                        AJ_AUDIT_TOKEN_NAME);
    assert_string_equal(aj_audit_username(p, "a.b.c"), AJ_AUDIT_TOKEN_NAME);
    assert_string_equal(aj_audit_username(p, ".."), AJ_AUDIT_TOKEN_NAME);
}

static void test_escapes(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    /* a forged log line, quotes and backslashes cannot get through */
    assert_string_equal(aj_audit_username(p, "x\n[error] AJ200: fake"),
                        "x\\x0a[error] AJ200: fake");
    assert_string_equal(aj_audit_username(p, "a\"b\\c\td\x7f"), "a\\x22b\\x5cc\\x09d\\x7f");
    /* bytes outside ASCII (UTF-8 or not) are escaped too */
    assert_string_equal(aj_audit_username(p, "j\xc3\xb6rg"), "j\\xc3\\xb6rg");
}

static void test_length(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    char name[200];
    const char *out;
    int i;

    /* exactly 64 bytes: kept whole */
    memset(name, 'a', 64);
    name[64] = '\0';
    assert_string_equal(aj_audit_username(p, name), name);
    /* longer: cut to 64 bytes with the mark */
    memset(name, 'a', 150);
    name[150] = '\0';
    out = aj_audit_username(p, name);
    assert_int_equal(strlen(out), AJ_AUDIT_USER_MAX);
    assert_string_equal(out + AJ_AUDIT_USER_MAX - 3, "...");
    /* escapes count, and a cut never splits one */
    for (i = 0; i < 40; i++) {
        name[i] = '\x01';
    }
    name[40] = '\0';
    out = aj_audit_username(p, name);
    assert_true(strlen(out) <= AJ_AUDIT_USER_MAX);
    assert_string_equal(out + strlen(out) - 3, "...");
    assert_int_equal((strlen(out) - 3) % 4, 0);
    assert_int_equal(strncmp(out, "\\x01\\x01", 8), 0);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_plain_names),
    AJ_TEST(test_token_shaped),
    AJ_TEST(test_escapes),
    AJ_TEST(test_length),
};

AJ_TEST_MAIN("aj_audit", tests)

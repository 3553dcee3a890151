/*
 * test_user.c — the username and password rules (docs/reference.md §4)
 * that the registration and password endpoints and htjwt share.
 */
#include "aj_test.h"
#include "aj_user.h"

static const char *problem(const char *name)
{
    return aj_user_name_problem(name, strlen(name));
}

static void test_username_ok(void **state)
{
    char longest[AJ_USERNAME_MAX_LEN + 1];

    (void)state;
    assert_null(problem("alice"));
    assert_null(problem("al ice@example.org"));
    assert_null(problem("J\xc3\xbcrgen"));    /* Jürgen */
    assert_null(problem("\xf0\x9f\x94\x91")); /* U+1F511 */
    memset(longest, 'a', AJ_USERNAME_MAX_LEN);
    longest[AJ_USERNAME_MAX_LEN] = '\0';
    assert_null(problem(longest));
}

static void test_username_refused(void **state)
{
    char too_long[AJ_USERNAME_MAX_LEN + 2];

    (void)state;
    assert_string_equal(problem(""), "username is empty");
    memset(too_long, 'a', AJ_USERNAME_MAX_LEN + 1);
    too_long[AJ_USERNAME_MAX_LEN + 1] = '\0';
    assert_string_equal(problem(too_long), "username is longer than 64 bytes");
    assert_string_equal(problem("a\tb"), "username contains a control character");
    assert_string_equal(problem("a\x7f"), "username contains a control character");
    assert_string_equal(problem("a:b"), "username contains ':'");
    /* C1 controls, overlong, surrogate, cut short, not UTF-8 at all */
    assert_string_equal(problem("a\xc2\x85"),
                        "username is not valid UTF-8 or contains a control character");
    assert_string_equal(problem("\xc0\xba"),
                        "username is not valid UTF-8 or contains a control character");
    assert_string_equal(problem("\xed\xa0\x80"),
                        "username is not valid UTF-8 or contains a control character");
    assert_string_equal(problem("a\xe2\x82"),
                        "username is not valid UTF-8 or contains a control character");
    assert_string_equal(problem("\xff"),
                        "username is not valid UTF-8 or contains a control character");
    /* an embedded NUL counts with the length given */
    assert_string_equal(aj_user_name_problem("a\0b", 3), "username contains a control character");
    /* a Basic user part shaped like a token would be taken for one */
    assert_string_equal(problem("e30.e30.e30"), "username is shaped like a token");
}

static void test_password_length(void **state)
{
    char *longest, *too_long;
    apr_pool_t *p = AJ_POOL(state);

    assert_true(aj_user_password_too_short("1234567", AJ_PASSWORD_MIN_LEN_DEFAULT));
    assert_false(aj_user_password_too_short("12345678", AJ_PASSWORD_MIN_LEN_DEFAULT));
    /* characters, not bytes: seven 2-byte characters are still too short */
    assert_true(aj_user_password_too_short("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
                                           "\xc3\xa4",
                                           AJ_PASSWORD_MIN_LEN_DEFAULT));
    assert_false(aj_user_password_too_short("", 0));
    longest = apr_palloc(p, AJ_PASSWORD_MAX_LEN + 1);
    memset(longest, 'x', AJ_PASSWORD_MAX_LEN);
    longest[AJ_PASSWORD_MAX_LEN] = '\0';
    assert_false(aj_user_password_too_long(longest));
    too_long = apr_pstrcat(p, longest, "x", NULL);
    assert_true(aj_user_password_too_long(too_long));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_username_ok),
    AJ_TEST(test_username_refused),
    AJ_TEST(test_password_length),
};

AJ_TEST_MAIN("aj_user", tests)

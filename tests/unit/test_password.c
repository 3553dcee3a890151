/*
 * test_password.c — bcrypt hashing, and verification of bcrypt and the
 * htpasswd hashes apr_password_validate understands.
 */
#include "aj_test.h"
#include "aj_password.h"

#define T_PASSWORD  "correct horse"
/* `openssl passwd -apr1 -salt r31.../ 'correct horse'` */
#define T_APR1      "$apr1$r31.../$0dBZxKc3puWvTOJCCXLj8/"
/* {SHA} + base64(SHA-1("correct horse")), as `htpasswd -s` writes it */
#define T_SHA1      "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A="

static void test_hash_and_verify(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *h1 = NULL, *h2 = NULL;

    assert_int_equal(aj_password_hash(&h1, p, T_PASSWORD, AJ_BCRYPT_COST_MIN), APR_SUCCESS);
    assert_int_equal(strncmp(h1, "$2y$04$", 7), 0);
    assert_int_equal(strlen(h1), 60);
    assert_true(aj_password_verify(T_PASSWORD, h1));
    assert_false(aj_password_verify("correct horsE", h1));
    assert_false(aj_password_verify("", h1));
    /* A fresh salt each time. */
    assert_int_equal(aj_password_hash(&h2, p, T_PASSWORD, AJ_BCRYPT_COST_MIN), APR_SUCCESS);
    assert_string_not_equal(h1, h2);
    assert_true(aj_password_verify(T_PASSWORD, h2));
    assert_int_equal(aj_password_hash(&h2, p, "", 5), APR_SUCCESS);
    assert_int_equal(strncmp(h2, "$2y$05$", 7), 0);
    assert_true(aj_password_verify("", h2));
    assert_false(aj_password_verify("x", h2));
}

static void test_default_cost(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *h = NULL;

    assert_int_equal(aj_password_hash(&h, p, T_PASSWORD, AJ_BCRYPT_COST_DEFAULT), APR_SUCCESS);
    assert_int_equal(strncmp(h, "$2y$10$", 7), 0);
    assert_true(aj_password_verify(T_PASSWORD, h));
}

static void test_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *h = NULL;
    char *longpw = apr_palloc(p, AJ_PASSWORD_MAX_LEN + 2);

    assert_int_equal(aj_password_hash(&h, p, T_PASSWORD, AJ_BCRYPT_COST_MIN - 1), APR_EINVAL);
    assert_int_equal(aj_password_hash(&h, p, T_PASSWORD, AJ_BCRYPT_COST_MAX + 1), APR_EINVAL);
    assert_int_equal(aj_password_hash(&h, p, T_PASSWORD, -1), APR_EINVAL);
    assert_int_equal(aj_password_hash(&h, p, NULL, AJ_BCRYPT_COST_MIN), APR_EINVAL);
    memset(longpw, 'p', AJ_PASSWORD_MAX_LEN + 1);
    longpw[AJ_PASSWORD_MAX_LEN + 1] = '\0';
    assert_int_equal(aj_password_hash(&h, p, longpw, AJ_BCRYPT_COST_MIN), APR_EINVAL);
    assert_null(h);
    longpw[AJ_PASSWORD_MAX_LEN] = '\0';
    assert_int_equal(aj_password_hash(&h, p, longpw, AJ_BCRYPT_COST_MIN), APR_SUCCESS);
    assert_true(aj_password_verify(longpw, h));
    /* Longer than accepted: never verifies, whatever the hash. */
    longpw[AJ_PASSWORD_MAX_LEN] = 'p';
    assert_false(aj_password_verify(longpw, h));
    assert_false(aj_password_verify(NULL, h));
    assert_false(aj_password_verify(T_PASSWORD, NULL));
    assert_false(aj_password_verify(T_PASSWORD, ""));
    assert_false(aj_password_verify("", ""));
}

static void test_htpasswd_hashes(void **state)
{
    assert_true(aj_password_verify(T_PASSWORD, T_APR1));
    assert_false(aj_password_verify("correct horse ", T_APR1));
    assert_true(aj_password_verify(T_PASSWORD, T_SHA1));
    assert_false(aj_password_verify("Correct horse", T_SHA1));
    /* A plain-text "hash" is not a password on Unix. */
    assert_false(aj_password_verify(T_PASSWORD, T_PASSWORD));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_hash_and_verify),
    AJ_TEST(test_default_cost),
    AJ_TEST(test_refusals),
    AJ_TEST(test_htpasswd_hashes),
};

AJ_TEST_MAIN("aj_password", tests)

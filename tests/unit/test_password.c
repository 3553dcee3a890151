/*
 * test_password.c — bcrypt hashing, and verification of bcrypt and the
 * htpasswd hashes apr_password_validate understands.
 */
#include "aj_test.h"
#include "aj_password.h"

#define T_PASSWORD "correct horse"
/* `openssl passwd -apr1 -salt r31.../ 'correct horse'` */
#define T_APR1     "$apr1$r31.../$0dBZxKc3puWvTOJCCXLj8/"
/* {SHA} + base64(SHA-1("correct horse")), as `htpasswd -s` writes it */
#define T_SHA1     "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A="

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

static void test_bcrypt_cost(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *h = NULL;

    assert_int_equal(aj_password_hash(&h, p, T_PASSWORD, 5), APR_SUCCESS);
    assert_int_equal(aj_password_bcrypt_cost(h), 5);
    assert_int_equal(aj_password_bcrypt_cost("$2y$12$abc"), 12);
    assert_int_equal(aj_password_bcrypt_cost("$2a$10$abc"), 10);
    assert_int_equal(aj_password_bcrypt_cost("$2b$31$"), 31);
    assert_int_equal(aj_password_bcrypt_cost("$2x$04$"), 4);
    /* not bcrypt, or not a cost bcrypt can have */
    assert_int_equal(aj_password_bcrypt_cost(T_APR1), 0);
    assert_int_equal(aj_password_bcrypt_cost(T_SHA1), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2y$03$abc"), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2y$32$abc"), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2y$9$abc"), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2z$10$abc"), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2y$1"), 0);
    assert_int_equal(aj_password_bcrypt_cost("$2$10$abc"), 0);
    assert_int_equal(aj_password_bcrypt_cost(""), 0);
    assert_int_equal(aj_password_bcrypt_cost(NULL), 0);
}

static void test_pace_floor(void **state)
{
    aj_pace_t pace;
    int i;

    (void)state;
    aj_pace_init(&pace);
    assert_int_equal(aj_pace_floor(&pace, 10), 0); /* no sample yet */
    /* 6.4 ms at cost 6: 100 us per unit; cost 9 then takes 51.2 ms, and
     * the floor adds the 3/2 margin */
    aj_pace_add(&pace, 6, 6400);
    assert_int_equal(aj_pace_floor(&pace, 9), 51200 * 3 / 2);
    assert_int_equal(aj_pace_floor(&pace, 6), 6400 * 3 / 2);
    /* invalid samples are ignored */
    aj_pace_add(&pace, 3, 1);
    aj_pace_add(&pace, 6, 0);
    aj_pace_add(&pace, 6, -5);
    aj_pace_add(&pace, 32, 1000);
    assert_int_equal(aj_pace_floor(&pace, 6), 6400 * 3 / 2);
    assert_int_equal(aj_pace_floor(&pace, 3), 0);
    /* the median resists outliers either way: two runs slowed 10x by a
     * busy CPU and one lucky fast one among consistent runs at cost 10 */
    for (i = 0; i < 8; i++) {
        aj_pace_add(&pace, 10, 102400);
    }
    aj_pace_add(&pace, 10, 1024000);
    aj_pace_add(&pace, 10, 1024000);
    aj_pace_add(&pace, 10, 1024);
    assert_int_equal(aj_pace_floor(&pace, 10), 102400 * 3 / 2);
    /* a ring: old samples leave (the CPU became twice as slow) */
    for (i = 0; i < AJ_PACE_SAMPLES; i++) {
        aj_pace_add(&pace, 8, 51200);
    }
    assert_int_equal(aj_pace_floor(&pace, 10), 204800 * 3 / 2);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_hash_and_verify), AJ_TEST(test_default_cost), AJ_TEST(test_refusals),
    AJ_TEST(test_htpasswd_hashes), AJ_TEST(test_bcrypt_cost),  AJ_TEST(test_pace_floor),
};

AJ_TEST_MAIN("aj_password", tests)

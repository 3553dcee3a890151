/*
 * test_issue.c — what an issuer sets beyond aj_claims_build (tested in
 * test_claims.c): the claims a password login stands for, the reserved
 * names as people read them, the revoke-all time.
 */
#include "aj_test.h"
#include "aj_issue.h"

/* A claim set that can be packed, read back through its image. */
static const aj_claims_t *through_image(apr_pool_t *p, const aj_claims_t *c)
{
    void *image = NULL, *copy;
    apr_size_t len = 0;

    assert_int_equal(aj_claims_pack(&image, &len, p, c), APR_SUCCESS);
    copy = apr_pmemdup(p, image, len);
    return aj_claims_unpack(p, copy, len);
}

static int collect(void *baton, const char *name, const char *value)
{
    apr_table_addn(baton, name, value);
    return 0;
}

static void test_user_claims(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const aj_claims_t *c;
    apr_table_t *seen = apr_table_make(p, 4);
    const apr_array_header_t *order;

    c = aj_issue_user_claims(p, 42, "alice",
                             "{\"role\":\"admin\",\"sub\":\"0\",\"name\":\"root\",\"exp\":1,"
                             "\"scope\":\"read write\"}");
    assert_non_null(c);
    /* the stored claims, reserved names left out, then sub and name */
    assert_string_equal(json_object_to_json_string_ext(aj_claims_object(c), JSON_C_TO_STRING_PLAIN),
                        "{\"role\":\"admin\",\"scope\":\"read write\",\"sub\":\"42\","
                        "\"name\":\"alice\"}");
    /* packable, and the image answers the same */
    c = through_image(p, c);
    assert_non_null(c);
    assert_string_equal(aj_claims_get_string(c, "sub"), "42");
    assert_string_equal(aj_claims_get_string(c, "name"), "alice");
    assert_true(aj_claims_match(c, "role", "admin"));
    assert_false(aj_claims_get_int(c, "exp", &(apr_int64_t){ 0 }));
    aj_claims_visit(c, p, collect, seen);
    order = apr_table_elts(seen);
    assert_int_equal(order->nelts, 4);
    assert_string_equal(APR_ARRAY_IDX(order, 0, apr_table_entry_t).key, "role");
    assert_string_equal(APR_ARRAY_IDX(order, 3, apr_table_entry_t).key, "name");
}

static void test_user_claims_unusable_stored(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    static const char *const unusable[] = { NULL, "", "[1]", "nope", "{\"a\":1,\"a\":2}" };
    const aj_claims_t *c;
    apr_size_t i;

    /* stored claims that are not one JSON object: sub and name only */
    for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); ++i) {
        c = aj_issue_user_claims(p, 7, "bob", unusable[i]);
        assert_non_null(c);
        assert_string_equal(
            json_object_to_json_string_ext(aj_claims_object(c), JSON_C_TO_STRING_PLAIN),
            "{\"sub\":\"7\",\"name\":\"bob\"}");
    }
}

static void test_reserved_names(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_string_equal(aj_claims_reserved_names(p),
                        "iss, sub, aud, exp, nbf, iat, jti, name, auth_time, csrf, sid");
}

static void test_revoke_all_value(void **state)
{
    (void)state;
    /* this very second's tokens are covered: iat < value */
    assert_int_equal(aj_issue_revoke_all_value(1700000000), 1700000001);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_user_claims),
    AJ_TEST(test_user_claims_unusable_stored),
    AJ_TEST(test_reserved_names),
    AJ_TEST(test_revoke_all_value),
};

AJ_TEST_MAIN("aj_issue", tests)

/*
 * test_refresh.c — refresh tokens as the core makes them (aj_refresh.c):
 * randomness and shape of a new token, its hash (a known answer), the
 * refusal of anything not shaped as an issued token, family ids and their
 * revocation key.
 *
 * The expected hash was computed independently with Python (3.11):
 *     raw = base64.urlsafe_b64encode(bytes(range(32))).rstrip(b"=")
 *     hashlib.sha256(raw).hexdigest()
 */
#include <apr_hash.h>

#include "aj_test.h"
#include "aj_b64.h"
#include "aj_refresh.h"

/* base64url of the bytes 0..31 and its SHA-256 (see above). */
#define RAW_0_31  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define HASH_0_31 "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0"
/* How many fresh tokens the uniqueness check draws. */
#define DRAWS     64

static int is_lower_hex(const char *s)
{
    return strspn(s, "0123456789abcdef") == strlen(s);
}

static void test_hash_known_answer(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *hash = NULL;

    assert_int_equal(strlen(RAW_0_31), AJ_REFRESH_TOKEN_LEN);
    assert_int_equal(aj_refresh_token_hash(&hash, p, RAW_0_31), APR_SUCCESS);
    assert_string_equal(hash, HASH_0_31);
}

/* At least 256 bits of randomness, base64url, and the hash of exactly that
 * text; no two tokens alike. */
static void test_new_token(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_hash_t *seen = apr_hash_make(p);
    const char *raw = NULL, *hash = NULL, *again = NULL;
    int i;

    assert_true(AJ_REFRESH_RANDOM_BYTES * 8 >= 256);
    for (i = 0; i < DRAWS; ++i) {
        assert_int_equal(aj_refresh_token_new(&raw, &hash, p), APR_SUCCESS);
        assert_int_equal(strlen(raw), AJ_REFRESH_TOKEN_LEN);
        assert_true(aj_b64url_valid(raw, strlen(raw)));
        assert_int_equal(aj_b64url_decoded_len(strlen(raw)), AJ_REFRESH_RANDOM_BYTES);
        assert_int_equal(strlen(hash), AJ_REFRESH_HASH_LEN);
        assert_true(is_lower_hex(hash));
        assert_int_equal(aj_refresh_token_hash(&again, p, raw), APR_SUCCESS);
        assert_string_equal(again, hash);
        assert_null(apr_hash_get(seen, raw, APR_HASH_KEY_STRING));
        apr_hash_set(seen, raw, APR_HASH_KEY_STRING, raw);
    }
}

/* Anything not shaped as an issued token is refused, and the out-parameter
 * is left alone. */
static void test_hash_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *bad[] = {
        "",
        RAW_0_31 "A",                                        /* one too long */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",        /* one too short */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh=",       /* padding */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH+8",       /* base64, not base64url */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHhB",       /* non-canonical last character */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH\xc3\xa9", /* UTF-8 */
    };
    char *big = apr_palloc(p, AJ_BODY_MAX_LEN + 1);
    const char *hash = "untouched";
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(*bad); ++i) {
        if (aj_refresh_token_hash(&hash, p, bad[i]) != APR_EINVAL) {
            fail_msg("accepted bad token #%u", (unsigned)i);
        }
    }
    assert_int_equal(aj_refresh_token_hash(&hash, p, NULL), APR_EINVAL);
    memset(big, 'A', AJ_BODY_MAX_LEN);
    big[AJ_BODY_MAX_LEN] = '\0';
    assert_int_equal(aj_refresh_token_hash(&hash, p, big), APR_EINVAL);
    assert_string_equal(hash, "untouched");
}

/* Family ids: as random as a jti, distinct, and a revocation key that
 * fits the revocation table and cannot be an issued jti (':'). */
static void test_family(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    const char *a = NULL, *b = NULL, *key;

    assert_int_equal(aj_refresh_family_new(&a, p), APR_SUCCESS);
    assert_int_equal(aj_refresh_family_new(&b, p), APR_SUCCESS);
    assert_string_not_equal(a, b);
    assert_int_equal(aj_b64url_decoded_len(strlen(a)), AJ_REFRESH_FAMILY_BYTES);
    assert_true(aj_b64url_valid(a, strlen(a)));
    key = aj_refresh_sid_key(p, a);
    assert_string_equal(key, apr_pstrcat(p, "sid:", a, NULL));
    assert_true(strlen(key) <= AJ_JTI_MAX_LEN);
    assert_false(aj_b64url_valid(key, strlen(key)));
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_hash_known_answer),
    AJ_TEST(test_new_token),
    AJ_TEST(test_hash_refusals),
    AJ_TEST(test_family),
};

AJ_TEST_MAIN("aj_refresh", tests)

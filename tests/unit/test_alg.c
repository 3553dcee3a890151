/*
 * test_alg.c — the algorithm table (aj_alg.c) row by row: every known alg
 * has one row whose facts agree with RFC 7518 §3 (HMAC sizes, curves and
 * their coordinate sizes, the key type), and nothing else has a row.
 * Names and lookups: test_key.c (test_alg_names).
 */
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "aj_test.h"
#include "aj_alg.h"

static void test_every_alg_has_its_row(void **state)
{
    aj_alg_e a;
    const aj_alg_info_t *info;

    for (a = AJ_ALG_UNKNOWN + 1; a < AJ_ALG_COUNT; ++a) {
        info = aj_alg_info(a);
        assert_non_null(info);
        assert_int_equal(info->alg, a);
        assert_int_equal(aj_alg_from_name(info->name, strlen(info->name)), a);
        assert_non_null(info->want);
        /* Every algorithm but EdDSA names its digest. */
        assert_int_equal(info->md == NULL, a == AJ_ALG_EDDSA);
    }
    assert_null(aj_alg_info(AJ_ALG_UNKNOWN));
    assert_null(aj_alg_info(AJ_ALG_COUNT));
}

static void test_rfc7518_facts(void **state)
{
    static const struct {
        aj_alg_e alg;
        aj_kty_e kty;
        apr_size_t hmac_len;
        int nid;
        apr_size_t coord;
        int md_size;
    } rows[] = {
        { AJ_ALG_HS256, AJ_KTY_HMAC, 32, 0, 0, 32 },
        { AJ_ALG_HS384, AJ_KTY_HMAC, 48, 0, 0, 48 },
        { AJ_ALG_HS512, AJ_KTY_HMAC, 64, 0, 0, 64 },
        { AJ_ALG_RS256, AJ_KTY_RSA, 0, 0, 0, 32 },
        { AJ_ALG_RS512, AJ_KTY_RSA, 0, 0, 0, 64 },
        { AJ_ALG_PS256, AJ_KTY_RSA_PSS, 0, 0, 0, 32 },
        { AJ_ALG_PS384, AJ_KTY_RSA_PSS, 0, 0, 0, 48 },
        { AJ_ALG_ES256, AJ_KTY_EC, 0, NID_X9_62_prime256v1, 32, 32 },
        { AJ_ALG_ES384, AJ_KTY_EC, 0, NID_secp384r1, 48, 48 },
        { AJ_ALG_ES512, AJ_KTY_EC, 0, NID_secp521r1, 66, 64 },
        { AJ_ALG_EDDSA, AJ_KTY_ED25519, 0, 0, 0, 0 },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        const aj_alg_info_t *info = aj_alg_info(rows[i].alg);
        assert_non_null(info);
        assert_int_equal(info->kty, rows[i].kty);
        assert_int_equal(info->hmac_len, rows[i].hmac_len);
        assert_int_equal(aj_alg_hmac_len(rows[i].alg), rows[i].hmac_len);
        assert_int_equal(aj_alg_is_hmac(rows[i].alg), rows[i].kty == AJ_KTY_HMAC);
        assert_int_equal(info->ec_nid, rows[i].nid);
        assert_int_equal(info->ec_coord, rows[i].coord);
        assert_true(info->ec_coord <= AJ_EC_MAX_COORD);
        if (info->md) {
            assert_int_equal(EVP_MD_get_size(info->md()), rows[i].md_size);
        }
    }
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_every_alg_has_its_row),
    AJ_TEST(test_rfc7518_facts),
};

AJ_TEST_MAIN("aj_alg", tests)

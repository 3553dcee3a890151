/*
 * test_ecdsa.c — aj_ecdsa.c by size and by curve: the group orders of
 * P-256/384/521, the range rule on r and s at its edges (0, 1, order - 1,
 * order), the DER round trip of the size-based calls, and DER that is not
 * exactly one signature.  The alg-based calls against real signatures:
 * test_sign_asym.c (test_ecdsa_range, test_ecdsa_der_round_trip).
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "aj_test.h"
#include "aj_ecdsa.h"

static const struct {
    aj_alg_e alg;
    int nid;
    apr_size_t n;
} curves[] = {
    { AJ_ALG_ES256, NID_X9_62_prime256v1, 32 },
    { AJ_ALG_ES384, NID_secp384r1, 48 },
    { AJ_ALG_ES512, NID_secp521r1, 66 },
};
#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

/* value - 1 or value + 1, big-endian, in place. */
static void step(unsigned char *v, apr_size_t n, int up)
{
    apr_size_t i = n;

    while (i-- > 0) {
        if (up ? ++v[i] != 0 : v[i]-- != 0) {
            return;
        }
    }
}

static void test_orders(void **state)
{
    unsigned char order[AJ_EC_MAX_COORD], want[AJ_EC_MAX_COORD];
    EC_GROUP *g;
    apr_size_t i;

    for (i = 0; i < N_CURVES; ++i) {
        g = EC_GROUP_new_by_curve_name(curves[i].nid);
        assert_non_null(g);
        assert_int_equal(BN_bn2binpad(EC_GROUP_get0_order(g), want, (int)curves[i].n),
                         (int)curves[i].n);
        EC_GROUP_free(g);
        assert_int_equal(aj_ecdsa_order(order, curves[i].alg), APR_SUCCESS);
        assert_memory_equal(order, want, curves[i].n);
    }
    assert_int_equal(aj_ecdsa_order(order, AJ_ALG_RS256), APR_EINVAL);
    assert_int_equal(aj_ecdsa_order(order, AJ_ALG_EDDSA), APR_EINVAL);
    assert_int_equal(aj_ecdsa_order(order, AJ_ALG_UNKNOWN), APR_EINVAL);
}

static void test_range_edges(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    unsigned char order[AJ_EC_MAX_COORD], raw[2 * AJ_EC_MAX_COORD], *der = NULL, *back = NULL;
    apr_size_t i, n, derlen = 0, backlen = 0;

    for (i = 0; i < N_CURVES; ++i) {
        n = curves[i].n;
        assert_int_equal(aj_ecdsa_order(order, curves[i].alg), APR_SUCCESS);
        /* r = 1, s = order - 1: the smallest and largest allowed. */
        memset(raw, 0, 2 * n);
        raw[n - 1] = 1;
        memcpy(raw + n, order, n);
        step(raw + n, n, 0);
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, n, raw, 2 * n), APR_SUCCESS);
        assert_int_equal(aj_ecdsa_to_raw(&back, &backlen, p, n, der, derlen), APR_SUCCESS);
        assert_int_equal(backlen, 2 * n);
        assert_memory_equal(back, raw, 2 * n);
        /* s = order, r = 0: refused. */
        step(raw + n, n, 1);
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, n, raw, 2 * n), APR_EINVAL);
        memcpy(raw + n, raw, n);
        raw[n - 1] = 0;
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, n, raw, 2 * n), APR_EINVAL);
        /* Wrong lengths and sizes. */
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, n, raw, 2 * n - 1), APR_EINVAL);
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, 0, raw, 0), APR_EINVAL);
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, AJ_EC_MAX_COORD + 1, raw,
                                         2 * (AJ_EC_MAX_COORD + 1)),
                         APR_EINVAL);
        assert_int_equal(aj_ecdsa_to_der(&der, &derlen, p, order, n, NULL, 2 * n), APR_EINVAL);
    }
}

static void test_der_not_one_signature(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    /* SEQUENCE { INTEGER 1, INTEGER 2 }, then the same with a trailing byte. */
    static const unsigned char good[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
    static const unsigned char trailing[] = {
        0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00
    };
    static const unsigned char big[] = { 0x30, 0x07, 0x02, 0x02, 0x01, 0x00, 0x02, 0x01, 0x02 };
    unsigned char *raw = NULL;
    apr_size_t rawlen = 0;

    assert_int_equal(aj_ecdsa_to_raw(&raw, &rawlen, p, 32, good, sizeof(good)), APR_SUCCESS);
    assert_int_equal(rawlen, 64);
    assert_int_equal(raw[31], 1);
    assert_int_equal(raw[63], 2);
    assert_int_equal(aj_ecdsa_to_raw(&raw, &rawlen, p, 32, trailing, sizeof(trailing)), APR_EINVAL);
    assert_int_equal(aj_ecdsa_to_raw(&raw, &rawlen, p, 32, good, sizeof(good) - 1), APR_EINVAL);
    assert_int_equal(aj_ecdsa_to_raw(&raw, &rawlen, p, 32, NULL, 8), APR_EINVAL);
    /* r = 256 does not fit one byte. */
    assert_int_equal(aj_ecdsa_to_raw(&raw, &rawlen, p, 1, big, sizeof(big)), APR_EINVAL);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_orders),
    AJ_TEST(test_range_edges),
    AJ_TEST(test_der_not_one_signature),
};

AJ_TEST_MAIN("aj_ecdsa", tests)

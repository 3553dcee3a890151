/*
 * aj_ecdsa.c — ECDSA signatures between JOSE's raw R||S and OpenSSL's DER
 * (RFC 7518 §3.4), with the range checks a verifier owes: r and s in
 * [1, order - 1], checked on the raw bytes before OpenSSL sees them.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "aj_ecdsa.h"

/* A DER signature longer than this is not one (the largest, P-521, is
 * under 140 bytes); the bound keeps the length cast to long safe.  It is
 * the bound key files have had. */
#define AJ_ECDSA_DER_MAX (64 * 1024)

apr_status_t aj_ecdsa_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                             const unsigned char *order, apr_size_t n, const unsigned char *raw,
                             apr_size_t rawlen)
{
    static const unsigned char zero[AJ_EC_MAX_COORD] = { 0 };
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *buf = NULL;
    int i, len;
    apr_status_t rv = APR_EINVAL;

    if (!raw || n == 0 || n > AJ_EC_MAX_COORD || rawlen != 2 * n) {
        goto cleanup;
    }
    /* Big-endian numbers of equal size compare like their bytes. */
    for (i = 0; i < 2; ++i) {
        const unsigned char *v = raw + (apr_size_t)i * n;
        if (!memcmp(v, zero, n) || memcmp(v, order, n) >= 0) {
            goto cleanup;
        }
    }
    rv = APR_ENOMEM;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(raw, (int)n, NULL);
    s = BN_bin2bn(raw + n, (int)n, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        goto cleanup;
    }
    r = s = NULL; /* es owns them now */
    len = i2d_ECDSA_SIG(es, &buf);
    if (len <= 0) {
        goto cleanup;
    }
    *der = apr_pmemdup(p, buf, (apr_size_t)len);
    *derlen = (apr_size_t)len;
    rv = APR_SUCCESS;

cleanup:
    OPENSSL_free(buf);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rv;
}

apr_status_t aj_ecdsa_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p, apr_size_t n,
                             const unsigned char *der, apr_size_t derlen)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r = NULL, *s = NULL;
    unsigned char *out;
    apr_status_t rv = APR_EINVAL;

    if (!der || derlen == 0 || derlen > AJ_ECDSA_DER_MAX) {
        goto cleanup;
    }
    es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    if (!es || q != der + derlen) {
        goto cleanup;
    }
    ECDSA_SIG_get0(es, &r, &s);
    out = apr_palloc(p, 2 * n);
    if (BN_bn2binpad(r, out, (int)n) != (int)n || BN_bn2binpad(s, out + n, (int)n) != (int)n) {
        goto cleanup;
    }
    *raw = out;
    *rawlen = 2 * n;
    rv = APR_SUCCESS;

cleanup:
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return rv;
}

apr_status_t aj_ecdsa_order(unsigned char *order, aj_alg_e alg)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    EC_GROUP *group = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!info || info->kty != AJ_KTY_EC) {
        goto cleanup;
    }
    group = EC_GROUP_new_by_curve_name(info->ec_nid);
    if (!group
        || BN_bn2binpad(EC_GROUP_get0_order(group), order, (int)info->ec_coord)
               != (int)info->ec_coord) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    rv = APR_SUCCESS;

cleanup:
    EC_GROUP_free(group);
    return rv;
}

apr_status_t aj_ecdsa_raw_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *raw, apr_size_t rawlen)
{
    const aj_alg_info_t *info = aj_alg_info(alg);
    unsigned char order[AJ_EC_MAX_COORD];
    apr_status_t rv = aj_ecdsa_order(order, alg);

    if (rv == APR_SUCCESS) {
        rv = aj_ecdsa_to_der(der, derlen, p, order, info->ec_coord, raw, rawlen);
    }
    return rv;
}

apr_status_t aj_ecdsa_der_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *der, apr_size_t derlen)
{
    const aj_alg_info_t *info = aj_alg_info(alg);

    if (!info || info->kty != AJ_KTY_EC) {
        return APR_EINVAL;
    }
    return aj_ecdsa_to_raw(raw, rawlen, p, info->ec_coord, der, derlen);
}

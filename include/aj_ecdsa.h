/*
 * aj_ecdsa.h — the two forms of an ECDSA signature (RFC 7518 §3.4).
 *
 * JOSE carries R||S, each exactly the curve's size (32/48/66 bytes: 64/96/
 * 132 in all); OpenSSL speaks DER.  A raw signature is refused (APR_EINVAL)
 * when its length is wrong or r or s is 0 or not below the group order
 * (the CVE-2022-21449 class), before anything is converted.
 */
#ifndef AJ_ECDSA_H
#define AJ_ECDSA_H

#include "aj.h"
#include "aj_alg.h"

/* By algorithm (ES256/384/512; APR_EINVAL for any other): the group order
 * is computed per call.  For tools and tests. */
apr_status_t aj_ecdsa_raw_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *raw, apr_size_t rawlen);
apr_status_t aj_ecdsa_der_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p,
                                 aj_alg_e alg, const unsigned char *der, apr_size_t derlen);

/* The group order of alg's curve (ES256/384/512), big-endian, exactly the
 * curve's coordinate size, into order[AJ_EC_MAX_COORD].  APR_EINVAL for
 * another alg.  Keys cache it at load time (aj_key.c). */
apr_status_t aj_ecdsa_order(unsigned char *order, aj_alg_e alg);

/* By size, for aj_sign.c, whose keys cache their curve's order: raw is
 * 2 * n bytes, order the group order as n big-endian bytes.  APR_EINVAL
 * when refused, APR_ENOMEM when OpenSSL could not allocate. */
apr_status_t aj_ecdsa_to_der(unsigned char **der, apr_size_t *derlen, apr_pool_t *p,
                             const unsigned char *order, apr_size_t n, const unsigned char *raw,
                             apr_size_t rawlen);
/* DER to R||S, each n bytes; APR_EINVAL for anything but one whole DER
 * ECDSA-Sig-Value whose numbers fit n bytes. */
apr_status_t aj_ecdsa_to_raw(unsigned char **raw, apr_size_t *rawlen, apr_pool_t *p, apr_size_t n,
                             const unsigned char *der, apr_size_t derlen);

#endif /* AJ_ECDSA_H */

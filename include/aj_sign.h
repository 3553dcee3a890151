/*
 * aj_sign.h — the algorithm operations on one key, for aj_jws.c (and
 * htjwt): RFC 7518 §3 signatures over a signing input.
 */
#ifndef AJ_SIGN_H
#define AJ_SIGN_H

#include "aj.h"
#include "aj_key.h"

/* The signing input is data[0..len); the signature is in JOSE form
 * (RFC 7518 §3: ECDSA as raw R||S).  aj_key_sign: *sig is pool memory;
 * APR_EINVAL when the key cannot sign, APR_ENOTIMPL when this build cannot
 * use its algorithm.  aj_key_verify: *match is non-zero when sig is a valid
 * signature by key (HMAC compared in constant time; an ECDSA r or s out of
 * range is refused, as aj_ecdsa.h says, with the order the key cached); an
 * error status only when the check could not run. */
apr_status_t aj_key_sign(unsigned char **sig, apr_size_t *siglen, apr_pool_t *p,
                         const aj_key_t *key, const unsigned char *data, apr_size_t len);
apr_status_t aj_key_verify(int *match, apr_pool_t *p, const aj_key_t *key,
                           const unsigned char *data, apr_size_t len, const unsigned char *sig,
                           apr_size_t siglen);

#endif /* AJ_SIGN_H */

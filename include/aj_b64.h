/*
 * aj_b64.h — strict base64url (RFC 4648 §5, RFC 7515 §2): no padding, no
 * whitespace, no characters outside [A-Za-z0-9_-], and non-canonical trailing
 * bits refused (so each token has exactly one encoding).
 */
#ifndef AJ_B64_H
#define AJ_B64_H

#include "aj.h"

/* Length of the decoded form of a valid encoded length, or -1 if inlen is
 * impossible for unpadded base64url (inlen % 4 == 1). */
apr_ssize_t aj_b64url_decoded_len(apr_size_t inlen);

/* Non-zero when in[0..inlen) is strict, canonical base64url (the empty
 * string is valid).  Allocates nothing. */
int aj_b64url_valid(const char *in, apr_size_t inlen);

/* Decodes into a caller buffer of cap bytes.  APR_EINVAL on any invalid
 * input; APR_ENOSPC if cap is too small.  *outlen set only on success. */
apr_status_t aj_b64url_decode_buf(unsigned char *out, apr_size_t cap, apr_size_t *outlen,
                                  const char *in, apr_size_t inlen);

/* Decodes into pool memory (NUL-terminated for convenience). */
apr_status_t aj_b64url_decode(unsigned char **out, apr_size_t *outlen, apr_pool_t *p,
                              const char *in, apr_size_t inlen);

/* Standard base64 (RFC 4648 §4, the alphabet of HTTP Basic) for aj_basic:
 * decodes the unpadded in[0..n) into out (room for n / 4 * 3 + 2 bytes)
 * and returns the length written, or -1 when n % 4 == 1 or a character is
 * outside the alphabet ('=' included: the caller takes the padding off).
 * Lax in one way only, like apr_base64_decode: the unused low bits of a
 * last partial group are ignored. */
apr_ssize_t aj_b64std_decode_lax(unsigned char *out, const char *in, apr_size_t n);

/* Encodes without padding; the result is NUL-terminated pool memory. */
const char *aj_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len);

#endif /* AJ_B64_H */

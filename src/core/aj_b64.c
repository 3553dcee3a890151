/*
 * aj_b64.c — strict base64url (RFC 4648 §5 without padding, RFC 7515 §2).
 *
 * Refused: '=', whitespace, any byte outside [A-Za-z0-9_-], a length of
 * 4n+1, and unused trailing bits that are not zero (so every byte string
 * has exactly one accepted encoding).
 */
#include <string.h>

#include "aj_b64.h"

#define AJ_B64_GROUP_CHARS 4    /* one group of encoded characters ... */
#define AJ_B64_GROUP_BYTES 3    /* ... carries three bytes */
#define AJ_B64_BITS        6    /* bits per character */
#define AJ_B64_CHAR_MASK   0x3F /* the low AJ_B64_BITS bits */
#define AJ_BYTE_BITS       8
#define AJ_BYTE_MASK       0xFF
#define AJ_B64_INVALID     0xFF                    /* marks a byte outside the alphabet */
#define AJ_B64_MASK_2CHARS 0x0F                    /* unused low bits of a 2-char tail */
#define AJ_B64_MASK_3CHARS 0x03                    /* unused low bits of a 3-char tail */
#define AJ_B64_GROUP_BAD   ((apr_uint32_t)1 << 31) /* aj_b64_group(): outside the alphabet */

static const char aj_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of byte c in a base64 alphabet whose last two characters are
 * c62 and c63 (the two alphabets of RFC 4648 share the first 62), or
 * AJ_B64_INVALID.  A constant expression: the tables below are built by
 * the compiler from this one definition (test_b64 and test_basic check
 * every byte of both).  The mask changes no value it yields; it keeps the
 * arms not taken for a byte within a byte (clang checks their constants
 * too). */
#define AJ_B64_VALUE(c, c62, c63) \
    ((c) >= 'A' && (c) <= 'Z'   ? ((c) - 'A') & AJ_B64_CHAR_MASK \
     : (c) >= 'a' && (c) <= 'z' ? ((c) - 'a' + 26) & AJ_B64_CHAR_MASK \
     : (c) >= '0' && (c) <= '9' ? ((c) - '0' + 52) & AJ_B64_CHAR_MASK \
     : (c) == (c62)             ? 62 \
     : (c) == (c63)             ? 63 \
                                : AJ_B64_INVALID)
#define AJ_B64_ROW(r, c62, c63) \
    AJ_B64_VALUE((r) + 0, c62, c63), AJ_B64_VALUE((r) + 1, c62, c63), \
        AJ_B64_VALUE((r) + 2, c62, c63), AJ_B64_VALUE((r) + 3, c62, c63), \
        AJ_B64_VALUE((r) + 4, c62, c63), AJ_B64_VALUE((r) + 5, c62, c63), \
        AJ_B64_VALUE((r) + 6, c62, c63), AJ_B64_VALUE((r) + 7, c62, c63), \
        AJ_B64_VALUE((r) + 8, c62, c63), AJ_B64_VALUE((r) + 9, c62, c63), \
        AJ_B64_VALUE((r) + 10, c62, c63), AJ_B64_VALUE((r) + 11, c62, c63), \
        AJ_B64_VALUE((r) + 12, c62, c63), AJ_B64_VALUE((r) + 13, c62, c63), \
        AJ_B64_VALUE((r) + 14, c62, c63), AJ_B64_VALUE((r) + 15, c62, c63)
#define AJ_B64_TABLE(c62, c63) \
    { \
        AJ_B64_ROW(0, c62, c63), AJ_B64_ROW(16, c62, c63), AJ_B64_ROW(32, c62, c63), \
            AJ_B64_ROW(48, c62, c63), AJ_B64_ROW(64, c62, c63), AJ_B64_ROW(80, c62, c63), \
            AJ_B64_ROW(96, c62, c63), AJ_B64_ROW(112, c62, c63), AJ_B64_ROW(128, c62, c63), \
            AJ_B64_ROW(144, c62, c63), AJ_B64_ROW(160, c62, c63), AJ_B64_ROW(176, c62, c63), \
            AJ_B64_ROW(192, c62, c63), AJ_B64_ROW(208, c62, c63), AJ_B64_ROW(224, c62, c63), \
            AJ_B64_ROW(240, c62, c63) \
    }

/* base64url (RFC 4648 §5) and standard base64 (§4, for HTTP Basic). */
static const unsigned char aj_b64url_values[256] = AJ_B64_TABLE('-', '_');
static const unsigned char aj_b64std_values[256] = AJ_B64_TABLE('+', '/');

static unsigned int aj_b64url_value(unsigned char c)
{
    return aj_b64url_values[c];
}

apr_ssize_t aj_b64url_decoded_len(apr_size_t inlen)
{
    apr_size_t rem = inlen % AJ_B64_GROUP_CHARS;

    if (rem == 1) {
        return -1;
    }
    return (apr_ssize_t)((inlen / AJ_B64_GROUP_CHARS) * AJ_B64_GROUP_BYTES + (rem ? rem - 1 : 0));
}

/* The values of in[0..4) in the alphabet of values as one 24-bit group; AJ_B64_GROUP_BAD set when
 * any of the four is outside the alphabet (the OR of the values then has
 * AJ_B64_INVALID's high bits).  Four table reads and one branch per group:
 * the inner loop of validation and decoding. */
static inline apr_uint32_t aj_b64_group(const unsigned char *values, const char *in)
{
    unsigned int a = values[(unsigned char)in[0]];
    unsigned int b = values[(unsigned char)in[1]];
    unsigned int c = values[(unsigned char)in[2]];
    unsigned int d = values[(unsigned char)in[3]];

    if ((a | b | c | d) & ~(unsigned int)AJ_B64_CHAR_MASK) {
        return AJ_B64_GROUP_BAD;
    }
    return (apr_uint32_t)(a << (3 * AJ_B64_BITS) | b << (2 * AJ_B64_BITS) | c << AJ_B64_BITS | d);
}

int aj_b64url_valid(const char *in, apr_size_t inlen)
{
    apr_size_t i, rem = inlen % AJ_B64_GROUP_CHARS, full = inlen - rem;
    unsigned int v = 0, bad = 0;

    if (rem == 1 || (inlen && !in)) {
        return 0;
    }
    for (i = 0; i < full; i += AJ_B64_GROUP_CHARS) {
        if (aj_b64_group(aj_b64url_values, in + i) & AJ_B64_GROUP_BAD) {
            return 0;
        }
    }
    for (; i < inlen; ++i) {
        v = aj_b64url_value((unsigned char)in[i]);
        bad |= v;
    }
    if (bad & ~(unsigned int)AJ_B64_CHAR_MASK) {
        return 0;
    }
    /* The last character carries bits past the end of the data. */
    if ((rem == 2 && (v & AJ_B64_MASK_2CHARS)) || (rem == 3 && (v & AJ_B64_MASK_3CHARS))) {
        return 0;
    }
    return 1;
}

apr_status_t aj_b64url_decode_buf(unsigned char *out, apr_size_t cap, apr_size_t *outlen,
                                  const char *in, apr_size_t inlen)
{
    apr_ssize_t need = aj_b64url_decoded_len(inlen);
    apr_size_t rem = inlen % AJ_B64_GROUP_CHARS;
    apr_uint32_t acc = 0;
    apr_size_t i, n = 0;
    unsigned int v = 0;
    int bits = 0;

    if (need < 0 || (inlen && !in)) {
        return APR_EINVAL;
    }
    if ((apr_size_t)need > cap) {
        return APR_ENOSPC;
    }
    /* One pass: every character is checked as it is decoded; whole groups
     * first (three bytes from four characters), then the 2- or 3-char tail
     * one character at a time. */
    for (i = 0; i + AJ_B64_GROUP_CHARS <= inlen; i += AJ_B64_GROUP_CHARS) {
        acc = aj_b64_group(aj_b64url_values, in + i);
        if (acc & AJ_B64_GROUP_BAD) {
            return APR_EINVAL;
        }
        out[n++] = (unsigned char)((acc >> (2 * AJ_BYTE_BITS)) & AJ_BYTE_MASK);
        out[n++] = (unsigned char)((acc >> AJ_BYTE_BITS) & AJ_BYTE_MASK);
        out[n++] = (unsigned char)(acc & AJ_BYTE_MASK);
    }
    acc = 0;
    for (; i < inlen; ++i) {
        v = aj_b64url_value((unsigned char)in[i]);
        if (v == AJ_B64_INVALID) {
            return APR_EINVAL;
        }
        acc = (acc << AJ_B64_BITS) | v;
        bits += AJ_B64_BITS;
        if (bits >= AJ_BYTE_BITS) {
            bits -= AJ_BYTE_BITS;
            out[n++] = (unsigned char)((acc >> bits) & AJ_BYTE_MASK);
        }
    }
    /* The last character carries bits past the end of the data. */
    if ((rem == 2 && (v & AJ_B64_MASK_2CHARS)) || (rem == 3 && (v & AJ_B64_MASK_3CHARS))) {
        return APR_EINVAL;
    }
    *outlen = n;
    return APR_SUCCESS;
}

apr_status_t aj_b64url_decode(unsigned char **out, apr_size_t *outlen, apr_pool_t *p,
                              const char *in, apr_size_t inlen)
{
    apr_ssize_t need = aj_b64url_decoded_len(inlen);
    unsigned char *buf;
    apr_size_t n = 0;
    apr_status_t rv;

    if (need < 0) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, (apr_size_t)need + 1); /* decode_buf validates */
    rv = aj_b64url_decode_buf(buf, (apr_size_t)need, &n, in, inlen);
    if (rv == APR_SUCCESS) {
        buf[n] = '\0';
        *out = buf;
        *outlen = n;
    }
    return rv;
}

apr_ssize_t aj_b64std_decode_lax(unsigned char *out, const char *in, apr_size_t n)
{
    apr_size_t i, o = 0, rem = n % AJ_B64_GROUP_CHARS;
    unsigned int a, b, c = 0;
    apr_uint32_t acc;

    if (rem == 1) {
        return -1;
    }
    for (i = 0; i + AJ_B64_GROUP_CHARS <= n; i += AJ_B64_GROUP_CHARS) {
        acc = aj_b64_group(aj_b64std_values, in + i);
        if (acc & AJ_B64_GROUP_BAD) {
            return -1;
        }
        out[o++] = (unsigned char)((acc >> (2 * AJ_BYTE_BITS)) & AJ_BYTE_MASK);
        out[o++] = (unsigned char)((acc >> AJ_BYTE_BITS) & AJ_BYTE_MASK);
        out[o++] = (unsigned char)(acc & AJ_BYTE_MASK);
    }
    if (rem) {
        /* 2 characters carry one byte, 3 carry two; their unused low bits
         * are ignored (as apr_base64_decode does) */
        a = aj_b64std_values[(unsigned char)in[i]];
        b = aj_b64std_values[(unsigned char)in[i + 1]];
        if (rem == AJ_B64_GROUP_BYTES) {
            c = aj_b64std_values[(unsigned char)in[i + 2]];
        }
        if ((a | b | c) & ~(unsigned int)AJ_B64_CHAR_MASK) {
            return -1;
        }
        acc = (apr_uint32_t)(a << (3 * AJ_B64_BITS) | b << (2 * AJ_B64_BITS) | c << AJ_B64_BITS);
        out[o++] = (unsigned char)((acc >> (2 * AJ_BYTE_BITS)) & AJ_BYTE_MASK);
        if (rem == AJ_B64_GROUP_BYTES) {
            out[o++] = (unsigned char)((acc >> AJ_BYTE_BITS) & AJ_BYTE_MASK);
        }
    }
    return (apr_ssize_t)o;
}

const char *aj_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len)
{
    apr_size_t full = len / AJ_B64_GROUP_BYTES, rem = len % AJ_B64_GROUP_BYTES;
    char *out = apr_palloc(p, full * AJ_B64_GROUP_CHARS + (rem ? rem + 1 : 0) + 1);
    apr_uint32_t acc = 0; /* only the low bits still to emit matter */
    apr_size_t i, n = 0;
    int bits = 0;

    for (i = 0; i < len; ++i) {
        acc = (acc << AJ_BYTE_BITS) | in[i];
        bits += AJ_BYTE_BITS;
        while (bits >= AJ_B64_BITS) {
            bits -= AJ_B64_BITS;
            out[n++] = aj_b64url_alphabet[(acc >> bits) & AJ_B64_CHAR_MASK];
        }
    }
    if (bits > 0) {
        /* The unused trailing bits are zero: the canonical encoding. */
        out[n++] = aj_b64url_alphabet[(acc << (AJ_B64_BITS - bits)) & AJ_B64_CHAR_MASK];
    }
    out[n] = '\0';
    return out;
}

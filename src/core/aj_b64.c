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
#define AJ_B64_GROUP_BAD   ((apr_uint32_t)1 << 31) /* aj_b64url_group(): not base64url */

static const char aj_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each byte as a base64url character, AJ_B64_INVALID outside
 * the alphabet (the inverse of aj_b64url_alphabet; test_b64 checks it). */
static const unsigned char aj_b64url_values[256] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3E, 0xFF, 0xFF,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
    0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F,
    0xFF, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

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

/* The values of in[0..4) as one 24-bit group; AJ_B64_GROUP_BAD set when
 * any of the four is outside the alphabet (the OR of the values then has
 * AJ_B64_INVALID's high bits).  Four table reads and one branch per group:
 * the inner loop of validation and decoding. */
static apr_uint32_t aj_b64url_group(const char *in)
{
    unsigned int a = aj_b64url_value((unsigned char)in[0]);
    unsigned int b = aj_b64url_value((unsigned char)in[1]);
    unsigned int c = aj_b64url_value((unsigned char)in[2]);
    unsigned int d = aj_b64url_value((unsigned char)in[3]);

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
        if (aj_b64url_group(in + i) & AJ_B64_GROUP_BAD) {
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
        acc = aj_b64url_group(in + i);
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

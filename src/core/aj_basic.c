/*
 * aj_basic.c — strict decoding of HTTP Basic credentials (RFC 7617).
 *
 * One pass over the value: every character is checked against the
 * standard base64 alphabet (RFC 4648 §4) through a table as it is decoded,
 * whole 4-character groups at a time.  (apr_base64_decode() checks nothing:
 * it stops at the first character outside the alphabet and decodes what
 * came before, so it needed a validation pass first, and a NUL-terminated
 * copy.)  What is accepted is unchanged: the alphabet, '=' only at the end,
 * at most two and only to a multiple of four, no length of 4n+1.  As with
 * apr_base64_decode, the unused bits of a last partial group are ignored.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_basic.h"

/* At most two '=' end a base64 quantum (RFC 4648 §4). */
#define AJ_BASIC_MAX_PAD     2
#define AJ_BASIC_GROUP_CHARS 4    /* one group of encoded characters ... */
#define AJ_BASIC_GROUP_BYTES 3    /* ... carries three bytes */
#define AJ_BASIC_BITS        6    /* bits per character */
#define AJ_BASIC_CHAR_MASK   0x3F /* the values of the alphabet */
#define AJ_BASIC_BYTE_BITS   8
#define AJ_BASIC_BYTE_MASK   0xFF
#define AJ_BASIC_PAD         '='
#define AJ_BASIC_SEP         ':'

/* The value of each byte as a standard base64 character, 0xFF outside the
 * alphabet A-Z a-z 0-9 + / ('=' included: padding is taken off first).
 * tests/unit/test_basic.c checks it against apr_base64_encode. */
static const unsigned char aj_basic_values[256] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3E, 0xFF, 0xFF, 0xFF, 0x3F,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
    0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
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

static unsigned int aj_basic_value(char c)
{
    return aj_basic_values[(unsigned char)c];
}

/* Decodes the unpadded base64 in[0..n) (n % 4 != 1, checked by the
 * caller) into out (room for n / 4 * 3 + 2 bytes).  The length written, or
 * -1 when a character is outside the alphabet.  The OR of all values
 * (bad, a local: out may alias nothing the loop reads) is checked once at
 * the end; the bytes written before are then unused. */
static apr_ssize_t aj_basic_b64(unsigned char *out, const char *in, apr_size_t n)
{
    apr_size_t i, o = 0, rem = n % AJ_BASIC_GROUP_CHARS;
    unsigned int a, b, c, d, bad = 0;
    apr_uint32_t acc;

    for (i = 0; i + AJ_BASIC_GROUP_CHARS <= n; i += AJ_BASIC_GROUP_CHARS) {
        a = aj_basic_value(in[i]);
        b = aj_basic_value(in[i + 1]);
        c = aj_basic_value(in[i + 2]);
        d = aj_basic_value(in[i + 3]);
        bad |= a | b | c | d;
        acc = (apr_uint32_t)(a << (3 * AJ_BASIC_BITS) | b << (2 * AJ_BASIC_BITS)
                             | c << AJ_BASIC_BITS | d);
        out[o] = (unsigned char)((acc >> (2 * AJ_BASIC_BYTE_BITS)) & AJ_BASIC_BYTE_MASK);
        out[o + 1] = (unsigned char)((acc >> AJ_BASIC_BYTE_BITS) & AJ_BASIC_BYTE_MASK);
        out[o + 2] = (unsigned char)(acc & AJ_BASIC_BYTE_MASK);
        o += AJ_BASIC_GROUP_BYTES;
    }
    if (rem) {
        /* 2 characters carry one byte, 3 carry two */
        a = aj_basic_value(in[i]);
        b = aj_basic_value(in[i + 1]);
        c = rem == AJ_BASIC_GROUP_BYTES ? aj_basic_value(in[i + 2]) : 0;
        bad |= a | b | c;
        acc = (apr_uint32_t)(a << (3 * AJ_BASIC_BITS) | b << (2 * AJ_BASIC_BITS)
                             | (c & AJ_BASIC_CHAR_MASK) << AJ_BASIC_BITS);
        out[o++] = (unsigned char)((acc >> (2 * AJ_BASIC_BYTE_BITS)) & AJ_BASIC_BYTE_MASK);
        if (rem == AJ_BASIC_GROUP_BYTES) {
            out[o++] = (unsigned char)((acc >> AJ_BASIC_BYTE_BITS) & AJ_BASIC_BYTE_MASK);
        }
    }
    return (bad & ~(unsigned int)AJ_BASIC_CHAR_MASK) ? -1 : (apr_ssize_t)o;
}

apr_status_t aj_basic_decode(const char **user, const char **password, const char **problem,
                             apr_pool_t *p, const char *value, apr_size_t len)
{
    apr_size_t data = len, pad = 0;
    const unsigned char *colon;
    unsigned char *out;
    apr_ssize_t outlen;
    apr_status_t rv = APR_EINVAL;

    if (len == 0) {
        *problem = "empty Basic credentials";
        goto cleanup;
    }
    /* The padding: only at the end, at most two, to a multiple of four. */
    while (data > 0 && value[data - 1] == AJ_BASIC_PAD && pad <= AJ_BASIC_MAX_PAD) {
        --data;
        ++pad;
    }
    if (pad > AJ_BASIC_MAX_PAD || (pad && len % AJ_BASIC_GROUP_CHARS)
        || data % AJ_BASIC_GROUP_CHARS == 1) {
        *problem = "Basic credentials are not base64";
        goto cleanup;
    }
    /* a '=' left inside data is outside the table's alphabet */
    out = apr_palloc(p, data / AJ_BASIC_GROUP_CHARS * AJ_BASIC_GROUP_BYTES + AJ_BASIC_GROUP_BYTES);
    outlen = aj_basic_b64(out, value, data);
    if (outlen < 0) {
        *problem = "Basic credentials are not base64";
        goto cleanup;
    }
    if (memchr(out, '\0', (apr_size_t)outlen)) {
        *problem = "Basic credentials contain a NUL byte";
        goto cleanup;
    }
    colon = memchr(out, AJ_BASIC_SEP, (apr_size_t)outlen);
    if (!colon) {
        *problem = "Basic credentials have no ':'";
        goto cleanup;
    }
    /* the user-id ends at the colon, the password at the end: both in place */
    out[outlen] = '\0';
    out[colon - out] = '\0';
    *user = (const char *)out;
    *password = (const char *)colon + 1;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

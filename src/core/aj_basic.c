/*
 * aj_basic.c — strict decoding of HTTP Basic credentials (RFC 7617).
 *
 * One pass over the value: every character is checked against the
 * standard base64 alphabet (RFC 4648 §4) as it is decoded, whole
 * 4-character groups at a time (aj_b64std_decode_lax, aj_b64.c's table
 * decoder with the standard alphabet).  (apr_base64_decode() checks nothing:
 * it stops at the first character outside the alphabet and decodes what
 * came before, so it needed a validation pass first, and a NUL-terminated
 * copy.)  What is accepted is unchanged: the alphabet, '=' only at the end,
 * at most two and only to a multiple of four, no length of 4n+1.  As with
 * apr_base64_decode, the unused bits of a last partial group are ignored.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_b64.h"
#include "aj_basic.h"

/* At most two '=' end a base64 quantum (RFC 4648 §4). */
#define AJ_BASIC_MAX_PAD     2
#define AJ_BASIC_GROUP_CHARS 4 /* one group of encoded characters ... */
#define AJ_BASIC_GROUP_BYTES 3 /* ... carries three bytes */
#define AJ_BASIC_PAD         '='
#define AJ_BASIC_SEP         ':'

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
    outlen = aj_b64std_decode_lax(out, value, data);
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

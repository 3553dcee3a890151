/*
 * aj_basic.c — strict decoding of HTTP Basic credentials (RFC 7617).
 *
 * apr_base64_decode() skips nothing and checks nothing: it stops at the
 * first character outside the alphabet and decodes whatever came before.
 * So the value is checked first (alphabet, padding, length), and only a
 * value that is exactly base64 is decoded.
 */
#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_basic.h"

/* At most two '=' end a base64 quantum (RFC 4648 §4). */
#define AJ_BASIC_MAX_PAD 2

static int aj_basic_is_b64_char(char ch)
{
    return apr_isalnum(ch) || ch == '+' || ch == '/';
}

/* Non-zero when in[0..n) is standard base64, padded or not. */
static int aj_basic_valid(const char *in, apr_size_t n)
{
    apr_size_t i, pad = 0;

    for (i = 0; i < n; ++i) {
        if (in[i] == '=') {
            ++pad;
        }
        else if (pad || !aj_basic_is_b64_char(in[i])) {
            return 0;
        }
    }
    return !(pad > AJ_BASIC_MAX_PAD || (pad && n % 4) || n % 4 == 1);
}

apr_status_t aj_basic_decode(const char **user, const char **password, const char **problem,
                             apr_pool_t *p, const char *value, apr_size_t len)
{
    const char *in, *colon;
    char *out;
    int outlen;
    apr_status_t rv = APR_EINVAL;

    if (len == 0) {
        *problem = "empty Basic credentials";
        goto cleanup;
    }
    if (!aj_basic_valid(value, len)) {
        *problem = "Basic credentials are not base64";
        goto cleanup;
    }
    in = apr_pstrmemdup(p, value, len); /* apr_base64_* read up to a NUL */
    out = apr_palloc(p, (apr_size_t)apr_base64_decode_len(in) + 1);
    outlen = apr_base64_decode(out, in);
    if (outlen < 0) {
        *problem = "Basic credentials are not base64";
        goto cleanup;
    }
    out[outlen] = '\0';
    if (memchr(out, '\0', (apr_size_t)outlen)) {
        *problem = "Basic credentials contain a NUL byte";
        goto cleanup;
    }
    colon = strchr(out, ':');
    if (!colon) {
        *problem = "Basic credentials have no ':'";
        goto cleanup;
    }
    *user = apr_pstrmemdup(p, out, (apr_size_t)(colon - out));
    *password = colon + 1;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

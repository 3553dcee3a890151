/*
 * aj_cred.c — which credential a request carries (docs/reference.md §2),
 * read from the values of its Authorization and Cookie headers, and the
 * CSRF double-submit comparison.
 *
 * Every function walks an explicit (pointer, length) slice once and never
 * past its end; what it returns is a pool copy.  Texts in `problem` are
 * fixed: a malformed header is logged by the glue, and its bytes (a token,
 * a password) must never reach a log.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <apr_strings.h>

#include "aj_basic.h"
#include "aj_cred.h"
#include "aj_jws.h"

/* The schemes of RFC 6750 §2.1 and RFC 7617 §2, compared without regard
 * to case (RFC 9110 §11.1). */
#define AJ_CRED_BEARER_SCHEME "Bearer"
#define AJ_CRED_BASIC_SCHEME  "Basic"

/* Separates several headers that httpd joined into one value, and (with
 * ';') the pairs of a Cookie header. */
#define AJ_CRED_LIST_SEP   ','
#define AJ_CRED_COOKIE_SEP ';'
#define AJ_CRED_COOKIE_EQ  '='

static int aj_cred_is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The first i >= from with s[i] whitespace (or len).  A word here is a
 * token or base64 of some hundred bytes: memchr scans it many bytes at a
 * time (the first SP, then a HTAB before it). */
static apr_size_t aj_cred_skip_word(const char *s, apr_size_t from, apr_size_t len)
{
    const char *sp = memchr(s + from, ' ', len - from);
    apr_size_t end = sp ? (apr_size_t)(sp - s) : len;
    const char *tab = memchr(s + from, '\t', end - from);

    return tab ? (apr_size_t)(tab - s) : end;
}

/* The first i >= from with s[i] not whitespace (or len). */
static apr_size_t aj_cred_skip_ws(const char *s, apr_size_t from, apr_size_t len)
{
    while (from < len && aj_cred_is_ws(s[from])) {
        ++from;
    }
    return from;
}

static int aj_cred_is_scheme(const char *s, apr_size_t len, const char *scheme)
{
    return len == strlen(scheme) && !strncasecmp(s, scheme, len);
}

static aj_cred_kind_e aj_cred_bad(aj_cred_t *cred, const char *problem)
{
    cred->problem = problem;
    return AJ_CRED_BAD;
}

static aj_cred_kind_e aj_cred_basic(aj_cred_t *cred, apr_pool_t *p, const char *value,
                                    apr_size_t len)
{
    const char *user = NULL, *password = NULL, *problem = NULL;

    if (aj_basic_decode(&user, &password, &problem, p, value, len) != APR_SUCCESS) {
        return aj_cred_bad(cred, problem);
    }
    cred->user = user;
    cred->password = password;
    /* REST-auth (docs/reference.md §2 form 2): the token as the user-id */
    if (aj_jws_looks_like_jwt(user, strlen(user))) {
        cred->token = user;
        cred->token_len = strlen(user);
    }
    return AJ_CRED_BASIC;
}

aj_cred_kind_e aj_cred_authorization(aj_cred_t *cred, apr_pool_t *p, const char *line,
                                     apr_size_t len)
{
    apr_size_t scheme_end, value, end;

    memset(cred, 0, sizeof(*cred));
    if (!line) {
        return AJ_CRED_NONE;
    }
    if (memchr(line, '\0', len)) {
        return aj_cred_bad(cred, "NUL byte in the Authorization header");
    }
    /* Neither a JWT nor base64 contains ',' — it means two headers. */
    if (memchr(line, AJ_CRED_LIST_SEP, len)) {
        return aj_cred_bad(cred, "more than one Authorization header");
    }
    scheme_end = aj_cred_skip_word(line, 0, len);
    value = aj_cred_skip_ws(line, scheme_end, len);
    end = aj_cred_skip_word(line, value, len);
    /* trailing whitespace is tolerated; anything after it is not */
    if (aj_cred_skip_ws(line, end, len) != len) {
        return aj_cred_bad(cred, "malformed Authorization header");
    }
    if (aj_cred_is_scheme(line, scheme_end, AJ_CRED_BEARER_SCHEME)) {
        if (end == value) {
            return aj_cred_bad(cred, "empty Bearer token");
        }
        cred->token = apr_pstrmemdup(p, line + value, end - value);
        cred->token_len = end - value;
        return AJ_CRED_BEARER;
    }
    if (aj_cred_is_scheme(line, scheme_end, AJ_CRED_BASIC_SCHEME)) {
        if (end == value) {
            return aj_cred_bad(cred, "empty Basic credentials");
        }
        return aj_cred_basic(cred, p, line + value, end - value);
    }
    return AJ_CRED_OTHER;
}

apr_status_t aj_cred_cookie(const char **value, const char **problem, apr_pool_t *p,
                            const char *header, apr_size_t len, const char *name)
{
    apr_size_t nlen = strlen(name), at = 0, end, vstart, vend;
    const char *found = NULL;
    apr_size_t found_len = 0;
    apr_status_t rv = APR_EINVAL;

    if (header && memchr(header, '\0', len)) {
        *problem = "NUL byte in the Cookie header";
        goto cleanup;
    }
    while (header && at < len) {
        at = aj_cred_skip_ws(header, at, len);
        end = at;
        while (end < len && header[end] != AJ_CRED_COOKIE_SEP && header[end] != AJ_CRED_LIST_SEP) {
            ++end;
        }
        if (end - at > nlen && !memcmp(header + at, name, nlen)
            && header[at + nlen] == AJ_CRED_COOKIE_EQ) {
            vstart = at + nlen + 1;
            vend = end;
            while (vend > vstart && aj_cred_is_ws(header[vend - 1])) {
                --vend;
            }
            if (found
                && (found_len != vend - vstart || memcmp(found, header + vstart, found_len))) {
                *problem = "the token cookie is sent twice with different values";
                goto cleanup;
            }
            found = header + vstart;
            found_len = vend - vstart;
        }
        at = end < len ? end + 1 : end;
    }
    *value = found_len ? apr_pstrmemdup(p, found, found_len) : NULL;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

aj_cred_kind_e aj_cred_parse(aj_cred_t *cred, apr_pool_t *p, const aj_cred_in_t *in)
{
    aj_cred_kind_e kind = aj_cred_authorization(cred, p, in->authorization, in->authorization_len);
    const char *cookie = NULL, *problem = NULL;

    if (!in->cookie_name || kind == AJ_CRED_BAD) {
        return kind;
    }
    if (aj_cred_cookie(&cookie, &problem, p, in->cookie, in->cookie_len, in->cookie_name)
        != APR_SUCCESS) {
        return aj_cred_bad(cred, problem);
    }
    if (!cookie) {
        return kind;
    }
    if (kind == AJ_CRED_NONE || kind == AJ_CRED_OTHER) {
        cred->token = cookie;
        cred->token_len = strlen(cookie);
        cred->from_cookie = 1;
        return AJ_CRED_BEARER;
    }
    /* a Basic username/password (no token) leaves the cookie unused */
    if (cred->token && strcmp(cred->token, cookie)) {
        return aj_cred_bad(cred, "the Authorization token and the cookie token differ");
    }
    return kind;
}

int aj_cred_csrf_match(const char *sent, apr_size_t sent_len, const char *want, apr_size_t want_len)
{
    return sent && want && sent_len == want_len && CRYPTO_memcmp(sent, want, want_len) == 0;
}

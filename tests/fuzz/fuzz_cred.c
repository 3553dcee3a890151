/*
 * fuzz_cred.c — the headers a credential comes from (aj_cred_*), as
 * src/httpd/auth_jwt_authn.c hands them over.  The input is
 *     <flags byte> <Authorization> '\n' <Cookie> '\n' <X-CSRF-Token>
 * (a header value never holds '\n'; each part may hold anything else,
 * NULs included).  A part the input does not reach is an absent header;
 * flag FUZZ_CRED_COOKIE_ON configures the token cookie.
 * Invariants: the kind is one of the enum; a refusal names a fixed
 * problem and no token; a token is non-empty, NUL-free, its length right,
 * and a slice of the header (or cookie) it came from; Basic has a user and
 * a password, and its token is the user; a cookie value is a slice of the
 * Cookie header with no separator in it; the CSRF comparison is symmetric.
 */
#include "fuzz_common.h"
#include "aj_cred.h"

#define FUZZ_CRED_COOKIE_ON 0x01
#define FUZZ_CRED_SEP       '\n'
#define FUZZ_CRED_NAME      "tok"

/* The next part of in[*at..len) up to FUZZ_CRED_SEP, as a private copy of
 * exactly its bytes (ASan sees any read past it); NULL when no part is
 * left.  The copy is freed by the caller. */
static char *fuzz_part(apr_size_t *plen, const uint8_t *in, apr_size_t len, apr_size_t *at)
{
    const uint8_t *sep;
    apr_size_t n;
    char *part;

    if (*at > len) {
        return NULL;
    }
    sep = memchr(in + *at, FUZZ_CRED_SEP, len - *at);
    n = sep ? (apr_size_t)(sep - (in + *at)) : len - *at;
    part = malloc(n ? n : 1);
    FUZZ_ASSERT(part != NULL);
    memcpy(part, in + *at, n);
    *plen = n;
    *at += n + 1;
    return part;
}

/* Non-zero when the pointer s lies inside hay[0..hlen). */
static int fuzz_points_into(const char *s, const char *hay, apr_size_t hlen)
{
    return hay && s >= hay && s < hay + hlen;
}

/* Non-zero when s[0..n) occurs in hay[0..hlen). */
static int fuzz_within(const char *s, apr_size_t n, const char *hay, apr_size_t hlen)
{
    apr_size_t i;

    for (i = 0; hay && n <= hlen && i + n <= hlen; ++i) {
        if (!memcmp(hay + i, s, n)) {
            return 1;
        }
    }
    return 0;
}

static void fuzz_check_token(const aj_cred_t *cred, const aj_cred_in_t *in)
{
    FUZZ_ASSERT(cred->token != NULL && cred->token_len > 0);
    FUZZ_ASSERT(strlen(cred->token) == cred->token_len);
    FUZZ_ASSERT(fuzz_within(cred->token, cred->token_len,
                            cred->from_cookie ? in->cookie : in->authorization,
                            cred->from_cookie ? in->cookie_len : in->authorization_len)
                || (!cred->from_cookie && cred->user == cred->token));
}

static void fuzz_check_cred(aj_cred_kind_e kind, const aj_cred_t *cred, const aj_cred_in_t *in)
{
    switch (kind) {
    case AJ_CRED_NONE: FUZZ_ASSERT(!in->authorization && !cred->token && !cred->problem); break;
    case AJ_CRED_OTHER:
        FUZZ_ASSERT(in->authorization && !cred->token && !cred->user && !cred->problem);
        break;
    case AJ_CRED_BEARER:
        fuzz_check_token(cred, in);
        FUZZ_ASSERT(!cred->user && !cred->problem);
        FUZZ_ASSERT(!cred->from_cookie || in->cookie_name);
        if (!cred->from_cookie) {
            /* one word of one header */
            FUZZ_ASSERT(!memchr(cred->token, ',', cred->token_len));
            FUZZ_ASSERT(!memchr(cred->token, ' ', cred->token_len));
            FUZZ_ASSERT(!memchr(cred->token, '\t', cred->token_len));
        }
        break;
    case AJ_CRED_BASIC:
        FUZZ_ASSERT(cred->user && cred->password && !cred->problem && !cred->from_cookie);
        FUZZ_ASSERT(strchr(cred->user, ':') == NULL);
        if (cred->token) {
            FUZZ_ASSERT(cred->token == cred->user);
            fuzz_check_token(cred, in);
        }
        break;
    case AJ_CRED_BAD:
        /* fixed texts only: never a pointer into the input */
        FUZZ_ASSERT(cred->problem != NULL && strlen(cred->problem) > 0);
        FUZZ_ASSERT(!fuzz_points_into(cred->problem, in->authorization, in->authorization_len)
                    && !fuzz_points_into(cred->problem, in->cookie, in->cookie_len));
        break;
    default: FUZZ_ASSERT(0);
    }
}

static void fuzz_check_cookie(apr_pool_t *p, const aj_cred_in_t *in)
{
    const char *value = NULL, *problem = NULL;
    apr_size_t n;

    if (aj_cred_cookie(&value, &problem, p, in->cookie, in->cookie_len, FUZZ_CRED_NAME)
        != APR_SUCCESS) {
        FUZZ_ASSERT(problem != NULL && value == NULL);
        return;
    }
    if (value) {
        n = strlen(value);
        FUZZ_ASSERT(n > 0 && fuzz_within(value, n, in->cookie, in->cookie_len));
        FUZZ_ASSERT(!strchr(value, ';') && !strchr(value, ','));
        FUZZ_ASSERT(value[n - 1] != ' ' && value[n - 1] != '\t');
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_apr_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_size_t at = 1, alen = 0, clen = 0, slen = 0;
    char *authorization, *cookie, *sent;
    aj_cred_in_t in;
    aj_cred_t cred, alone;
    aj_cred_kind_e kind;

    if (size == 0) {
        apr_pool_destroy(p);
        return 0;
    }
    authorization = fuzz_part(&alen, data, size, &at);
    cookie = fuzz_part(&clen, data, size, &at);
    sent = fuzz_part(&slen, data, size, &at);

    memset(&in, 0, sizeof(in));
    in.authorization = authorization;
    in.authorization_len = alen;
    in.cookie = cookie;
    in.cookie_len = clen;
    in.cookie_name = (data[0] & FUZZ_CRED_COOKIE_ON) ? FUZZ_CRED_NAME : NULL;
    kind = aj_cred_parse(&cred, p, &in);
    fuzz_check_cred(kind, &cred, &in);

    /* without a cookie, the whole is the Authorization header alone */
    if (!in.cookie_name) {
        FUZZ_ASSERT(aj_cred_authorization(&alone, p, authorization, alen) == kind);
    }
    fuzz_check_cookie(p, &in);

    /* the CSRF header against the token's bytes, both ways round */
    if (cred.token) {
        int m = aj_cred_csrf_match(sent, slen, cred.token, cred.token_len);
        FUZZ_ASSERT(m == aj_cred_csrf_match(cred.token, cred.token_len, sent, slen));
        FUZZ_ASSERT(aj_cred_csrf_match(cred.token, cred.token_len, cred.token, cred.token_len));
    }
    FUZZ_ASSERT(!aj_cred_csrf_match(NULL, 0, sent, slen));

    free(authorization);
    free(cookie);
    free(sent);
    apr_pool_destroy(p);
    return 0;
}

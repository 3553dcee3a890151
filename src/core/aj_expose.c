/*
 * aj_expose.c — the user and the claim headers of a verified token
 * (docs/reference.md §11 AuthJWTUserClaim, AuthJWTClaimHeader).
 *
 * A claim reaches the request as text only when it has no control
 * character: a CR or LF in r->user would forge access-log lines, and in a
 * request header would split it when a proxy or CGI passes it on.  NUL
 * never gets this far: the JSON parser refuses \u0000 in a token
 * (aj_json.c), so a C string is all of a claim's text.
 */
#include <string.h>

#include <apr_lib.h>

#include "aj_cred.h"
#include "aj_expose.h"
#include "aj_http.h"

int aj_expose_text_ok(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < AJ_EXPOSE_CTL_LIMIT || ch == AJ_EXPOSE_DEL) {
            return 0;
        }
    }
    return 1;
}

const char *aj_expose_user(const aj_claims_t *c, const char *claim)
{
    const char *user;

    if (claim) {
        user = aj_claims_get_string(c, claim);
    }
    else {
        /* the default of every release so far: "name" when it is a
         * non-empty string, else "sub" */
        user = aj_claims_get_string(c, AJ_EXPOSE_USER_CLAIM);
        if (!user || !*user) {
            user = aj_claims_get_string(c, AJ_EXPOSE_USER_FALLBACK);
        }
    }
    if (!user || !*user || !aj_expose_text_ok(user, strlen(user))) {
        return NULL;
    }
    return user;
}

/* aj_claims_visit's callback that keeps the text of one claim. */
typedef struct {
    const char *name;
    const char *text;
} aj_expose_find_t;

static int aj_expose_find(void *baton, const char *name, const char *value)
{
    aj_expose_find_t *f = baton;

    if (strcmp(name, f->name)) {
        return 0;
    }
    f->text = value;
    return 1; /* JSON names are unique in a token: stop */
}

aj_expose_e aj_expose_header_value(const char **value, const aj_claims_t *c, apr_pool_t *p,
                                   const char *claim)
{
    aj_expose_find_t f;

    /* the very text JWT_CLAIM_<claim> gets (auth_jwt_env.c visits the same way) */
    f.name = claim;
    f.text = NULL;
    aj_claims_visit(c, p, aj_expose_find, &f);
    if (!f.text) {
        return AJ_EXPOSE_ABSENT;
    }
    if (!aj_expose_text_ok(f.text, strlen(f.text))) {
        return AJ_EXPOSE_CONTROL;
    }
    *value = f.text;
    return AJ_EXPOSE_SET;
}

/* A header name's character as httpd and a CGI see it: lower case, '_' as '-'. */
static int aj_expose_fold(char ch)
{
    return ch == '_' ? '-' : apr_tolower(ch);
}

int aj_expose_header_same(const char *name, const char *sent)
{
    if (!name || !sent) {
        return 0;
    }
    for (; *name && *sent; ++name, ++sent) {
        if (aj_expose_fold(*name) != aj_expose_fold(*sent)) {
            return 0;
        }
    }
    return !*name && !*sent;
}

/* Headers the client's own value of which must reach the module or httpd:
 * stripping them would drop the credential (or the CSRF proof) before it
 * is read, and setting them from a claim would let a token forge them. */
static const char *const aj_expose_reserved[] = {
    "Authorization",     "Proxy-Authorization", "Cookie", "Host", "Content-Length",
    "Transfer-Encoding", AJ_CRED_CSRF_HEADER,
};

const char *aj_expose_header_problem(const char *name)
{
    apr_size_t i;

    if (!aj_http_is_token(name)) {
        return "the header name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)";
    }
    for (i = 0; i < sizeof(aj_expose_reserved) / sizeof(aj_expose_reserved[0]); ++i) {
        if (aj_expose_header_same(aj_expose_reserved[i], name)) {
            return "the header cannot be Authorization, Proxy-Authorization, Cookie, Host, "
                   "Content-Length, Transfer-Encoding or " AJ_CRED_CSRF_HEADER;
        }
    }
    return NULL;
}

/*
 * auth_jwt_env.c — the claims of the request's identity (a verified token,
 * or the user of a password login) exported as JWT_CLAIM_* environment
 * variables, for `Require expr`, CGI and the proxy.  Only names that can
 * be environment variables and values without control characters are
 * exported.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "auth_jwt_env.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "aj_claims.h"

#define AUTH_JWT_ENV_PREFIX   "JWT_CLAIM_"
/* Longest claim name exported to the environment. */
#define AUTH_JWT_ENV_NAME_MAX 64

/* The exportable claims of one request, gathered before any is exported:
 * apr tables compare keys without regard to case, so JWT_CLAIM_role and
 * JWT_CLAIM_ROLE are one variable, and a claim could otherwise overwrite
 * (or, with apr_table_add, shadow) another that a `Require expr` or a CGI
 * reads.  Names that differ only in case are therefore exported neither. */
typedef struct {
    request_rec *r;
    apr_array_header_t *names;  /* const char *, in claim order */
    apr_array_header_t *values; /* const char *, parallel to names */
    apr_table_t *seen;          /* name -> the first spelling seen */
    apr_table_t *ambiguous;     /* names (any case) not to export */
} auth_jwt_env_baton;

/* Exportable claims expected per token before the arrays grow. */
#define AUTH_JWT_ENV_CLAIMS_HINT 16

/* ASCII letters, digits and '_' (what apr_isalnum accepts in the C locale
 * httpd runs in), tested inline: these run for every claim of every
 * request, and the ctype macros are a library call per character. */
static int auth_jwt_env_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int auth_jwt_env_name_ok(const char *name)
{
    apr_size_t n = 0;

    for (; *name; ++name, ++n) {
        if (!auth_jwt_env_name_char((unsigned char)*name) || n >= AUTH_JWT_ENV_NAME_MAX) {
            return 0;
        }
    }
    return n > 0;
}

/* No control character (C0 or DEL, apr_iscntrl in the C locale). */
static int auth_jwt_env_value_ok(const char *value)
{
    const unsigned char *v = (const unsigned char *)value;

    for (; *v; ++v) {
        if (*v < 0x20 || *v == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static int auth_jwt_env_visit(void *baton, const char *name, const char *value)
{
    auth_jwt_env_baton *b = baton;
    const char *first;

    /* Names that cannot be environment variables, and values that could
     * split a header when copied into one, are not exported. */
    if (!auth_jwt_env_name_ok(name) || !auth_jwt_env_value_ok(value)) {
        return 0;
    }
    first = apr_table_get(b->seen, name);
    if (first) {
        /* JSON names are unique (duplicates are refused when the token is
         * parsed), so a hit is the same name in another letter case */
        apr_table_setn(b->ambiguous, first, first);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, b->r,
                      AJ_LOGNO(230) "claims \"%s\" and \"%s\" differ only in letter case: "
                                    "neither is exported as " AUTH_JWT_ENV_PREFIX "*",
                      ap_escape_logitem(b->r->pool, first), ap_escape_logitem(b->r->pool, name));
        return 0;
    }
    /* both strings are already in the request pool: no copies */
    apr_table_setn(b->seen, name, name);
    APR_ARRAY_PUSH(b->names, const char *) = name;
    APR_ARRAY_PUSH(b->values, const char *) = value;
    return 0;
}

void auth_jwt_export_claims(request_rec *r, const auth_jwt_dir_conf *c, const aj_claims_t *claims)
{
    auth_jwt_env_baton b;
    int i;

    if (!auth_jwt_cfg_claims_to_env(c)) {
        return;
    }
    b.r = r;
    b.names = apr_array_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT, sizeof(const char *));
    b.values = apr_array_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT, sizeof(const char *));
    b.seen = apr_table_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT);
    b.ambiguous = apr_table_make(r->pool, 1);
    aj_claims_visit(claims, r->pool, auth_jwt_env_visit, &b);
    for (i = 0; i < b.names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(b.names, i, const char *);
        if (!apr_table_get(b.ambiguous, name)) {
            apr_table_setn(r->subprocess_env, apr_pstrcat(r->pool, AUTH_JWT_ENV_PREFIX, name, NULL),
                           APR_ARRAY_IDX(b.values, i, const char *));
        }
    }
}

/*
 * aj_store_describe.c — what a log line may say about a store
 * (docs/reference.md §13): the store named without its password, and
 * whether a failure is the operating system refusing access.  Text only:
 * no connection is needed.
 */
#include <errno.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_store.h"

/* Words of SQLite's and the OS's messages for an access the OS refused
 * (sqlite3_errstr: SQLITE_CANTOPEN, SQLITE_READONLY; strerror(EACCES)). */
static const char *const aj_store_permission_words[] = {
    "unable to open database file",
    "readonly database",
    "Permission denied",
};

int aj_store_error_is_permission(const char *msg, apr_status_t rv)
{
    apr_size_t i;

    if (APR_STATUS_IS_EACCES(rv) || rv == APR_FROM_OS_ERROR(EPERM)) {
        return 1;
    }
    for (i = 0; msg && i < sizeof(aj_store_permission_words) / sizeof(*aj_store_permission_words);
         ++i) {
        if (strstr(msg, aj_store_permission_words[i])) {
            return 1;
        }
    }
    return 0;
}

/* A key=value key that names a secret (password=, pass=, passwd=). */
static int aj_store_key_is_secret(const char *key, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i + 4 <= len; ++i) {
        if (apr_tolower(key[i]) == 'p' && apr_tolower(key[i + 1]) == 'a'
            && apr_tolower(key[i + 2]) == 's' && apr_tolower(key[i + 3]) == 's') {
            return 1;
        }
    }
    return 0;
}

/* The key=value form (libpq's conninfo; apr_dbd_mysql's list, which may
 * separate pairs by ',' or ';'): the pairs without the secret ones, joined
 * by spaces; NULL when it does not parse (an unterminated quote, no '='). */
static const char *aj_store_redact_pairs(apr_pool_t *p, const char *s)
{
    const char *out = NULL, *key, *key_end, *val;
    apr_size_t klen;

    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ',' || *s == ';') {
            ++s;
        }
        if (!*s) {
            return out ? out : "";
        }
        key = s;
        while (*s && *s != '=' && *s != ' ' && *s != '\t') {
            ++s;
        }
        key_end = s;
        while (*s == ' ' || *s == '\t') {
            ++s;
        }
        if (*s != '=' || key_end == key) {
            return NULL;
        }
        ++s;
        while (*s == ' ' || *s == '\t') {
            ++s;
        }
        val = s;
        if (*s == '\'') {
            for (++s; *s && *s != '\''; ++s) {
                if (*s == '\\' && s[1]) {
                    ++s;
                }
            }
            if (*s != '\'') {
                return NULL;
            }
            ++s;
        }
        else {
            while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ','
                   && *s != ';') {
                ++s;
            }
        }
        klen = (apr_size_t)(key_end - key);
        if (!aj_store_key_is_secret(key, klen)) {
            const char *pair = apr_pstrcat(p, apr_pstrmemdup(p, key, klen), "=",
                                           apr_pstrmemdup(p, val, (apr_size_t)(s - val)), NULL);
            out = out ? apr_pstrcat(p, out, " ", pair, NULL) : pair;
        }
    }
}

/* The URI form (postgresql://user:secret@host/db?password=x&...): without
 * the userinfo's password and without password query parameters. */
static const char *aj_store_redact_uri(apr_pool_t *p, const char *s, const char *authority)
{
    const char *at, *colon, *end = authority + strcspn(authority, "/?#");
    const char *query, *out, *param, *next, *sep = "?";

    out = apr_pstrmemdup(p, s, (apr_size_t)(authority - s));
    at = memchr(authority, '@', (apr_size_t)(end - authority));
    if (at) {
        colon = memchr(authority, ':', (apr_size_t)(at - authority));
        out = apr_pstrcat(
            p, out, apr_pstrmemdup(p, authority, (apr_size_t)((colon ? colon : at) - authority)),
            NULL);
        authority = at;
    }
    query = strchr(end, '?');
    if (!query) {
        return apr_pstrcat(p, out, authority, NULL);
    }
    out = apr_pstrcat(p, out, apr_pstrmemdup(p, authority, (apr_size_t)(query - authority)), NULL);
    for (param = query + 1; *param && *param != '#'; param = next) {
        apr_size_t len = strcspn(param, "&#");
        next = param + len + (param[len] == '&');
        if (!aj_store_key_is_secret(param, strcspn(param, "=&#"))) {
            out = apr_pstrcat(p, out, sep, apr_pstrmemdup(p, param, len), NULL);
            sep = "&";
        }
    }
    return out; /* a #fragment means nothing to a database */
}

const char *aj_store_describe(apr_pool_t *p, const char *driver, const char *params)
{
    const char *scheme_end, *shown;

    if (!driver || !params) {
        return "the store";
    }
    if (!strcmp(driver, AJ_STORE_SQLITE_DRIVER)) {
        return apr_pstrcat(p, driver, " database ", params, NULL);
    }
    /* libpq reads backslash escapes in values ("password=se\\ cret"):
     * rather than follow them, show nothing of such parameters */
    scheme_end = strstr(params, "://");
    shown = strchr(params, '\\') ? NULL
            : scheme_end         ? aj_store_redact_uri(p, params, scheme_end + 3)
                                 : aj_store_redact_pairs(p, params);
    return shown ? apr_psprintf(p, "%s connection '%s'", driver, shown)
                 : apr_pstrcat(p, driver, " connection (parameters not shown)", NULL);
}

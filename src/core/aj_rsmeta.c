/*
 * aj_rsmeta.c — OAuth 2.0 Protected Resource Metadata (RFC 9728,
 * docs/reference.md §11): the metadata URL, the resource it names, the
 * document.  What each function accepts: aj_rsmeta.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_rsmeta.h"
#include "aj_json.h"

#define AJ_RSMETA_HTTPS "https://"
#define AJ_RSMETA_HTTP  "http://"

/* Printable ASCII, the bytes a URL is made of (RFC 3986 §2). */
#define AJ_RSMETA_CHAR_MIN 0x21
#define AJ_RSMETA_CHAR_MAX 0x7E

/* RFC 9728 §2: the one way this module takes a bearer token that the
 * metadata names (RFC 6750 §2.1; the cookie is not an RFC 6750 method). */
#define AJ_RSMETA_BEARER_METHOD "header"

/* The length of the scheme and "://" of url, 0 when neither http nor https. */
static apr_size_t aj_rsmeta_scheme_len(const char *url)
{
    if (!strncasecmp(url, AJ_RSMETA_HTTPS, sizeof(AJ_RSMETA_HTTPS) - 1)) {
        return sizeof(AJ_RSMETA_HTTPS) - 1;
    }
    if (!strncasecmp(url, AJ_RSMETA_HTTP, sizeof(AJ_RSMETA_HTTP) - 1)) {
        return sizeof(AJ_RSMETA_HTTP) - 1;
    }
    return 0;
}

/* Where the path of a URL with a scheme starts (at its end when none). */
static const char *aj_rsmeta_path(const char *url)
{
    const char *authority = url + aj_rsmeta_scheme_len(url);

    return authority + strcspn(authority, "/");
}

apr_status_t aj_rsmeta_url_check(const char **err, const char *url)
{
    const unsigned char *u;
    apr_size_t scheme;

    if (!url || !(scheme = aj_rsmeta_scheme_len(url))) {
        *err = "the URL must be absolute, starting with https:// or http://";
        return APR_EINVAL;
    }
    if (strlen(url) > AJ_RSMETA_URL_MAX) {
        *err = "the URL is longer than 2048 bytes";
        return APR_EINVAL;
    }
    for (u = (const unsigned char *)url; *u; ++u) {
        if (*u < AJ_RSMETA_CHAR_MIN || *u > AJ_RSMETA_CHAR_MAX || *u == '"' || *u == '\\') {
            *err = "the URL must be printable ASCII without spaces, control characters, "
                   "'\"' or '\\' (percent-encode them)";
            return APR_EINVAL;
        }
    }
    if (strchr(url, '?') || strchr(url, '#')) {
        *err = "the URL must have no query (?) or fragment (#)";
        return APR_EINVAL;
    }
    if (aj_rsmeta_path(url) == url + scheme) {
        *err = "the URL has no host";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

const char *aj_rsmeta_resource(apr_pool_t *p, const char *url)
{
    static const apr_size_t wk_len = sizeof(AJ_RSMETA_WELL_KNOWN) - 1;
    const char *path = aj_rsmeta_path(url);
    apr_size_t path_len = strlen(path);

    if (!strncmp(path, AJ_RSMETA_WELL_KNOWN, wk_len)
        && (path[wk_len] == '\0' || path[wk_len] == '/')) {
        return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(path - url)), path + wk_len,
                           NULL);
    }
    if (path_len > wk_len && !strcmp(path + path_len - wk_len, AJ_RSMETA_WELL_KNOWN)) {
        return apr_pstrmemdup(p, url, strlen(url) - wk_len);
    }
    return apr_pstrdup(p, url);
}

/* json-c objects are owned by their parent once added; the document is
 * owned by p (aj_json_own) and serialized before p goes. */
const char *aj_rsmeta_document(apr_pool_t *p, const char *resource,
                               const apr_array_header_t *authorization_servers)
{
    json_object *doc = aj_json_own(p, json_object_new_object());
    json_object *servers, *methods;
    int i;

    if (!doc) {
        return NULL;
    }
    json_object_object_add(doc, "resource", json_object_new_string(resource));
    if (authorization_servers && authorization_servers->nelts > 0) {
        servers = json_object_new_array();
        for (i = 0; i < authorization_servers->nelts; ++i) {
            json_object_array_add(servers, json_object_new_string(APR_ARRAY_IDX(
                                               authorization_servers, i, const char *)));
        }
        json_object_object_add(doc, "authorization_servers", servers);
    }
    methods = json_object_new_array();
    json_object_array_add(methods, json_object_new_string(AJ_RSMETA_BEARER_METHOD));
    json_object_object_add(doc, "bearer_methods_supported", methods);
    return aj_json_dump(p, doc);
}

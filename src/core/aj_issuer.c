/*
 * aj_issuer.c — a trusted issuer's published keys, without I/O
 * (docs/reference.md §11; API in include/aj_issuer.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_issuer.h"
#include "aj_json.h"
#include "aj_jwks.h"

/* "localhost", compared without case. */
#define AJ_ISSUER_LOCALHOST "localhost"
/* The one IPv6 loopback literal, as it appears between brackets. */
#define AJ_ISSUER_LOOPBACK6 "::1"
/* Documents are JSON of bounded depth; nothing in a JWK Set nests deeply. */
#define AJ_ISSUER_DOC_DEPTH 8

static const aj_json_limits_t aj_issuer_limits = { AJ_ISSUER_DOC_MAX, AJ_ISSUER_DOC_DEPTH, 1 };

/* host[0..len) is four dotted decimal octets, the first 127: a literal in
 * 127.0.0.0/8 (no short forms such as 127.1, no hex or octal). */
static int aj_issuer_is_loopback4(const char *host, apr_size_t len)
{
    apr_size_t i = 0;
    int octet, parts = 0, first = -1;

    while (i < len) {
        apr_size_t start = i;
        octet = 0;
        while (i < len && apr_isdigit(host[i]) && i - start < 3) {
            octet = octet * 10 + (host[i] - '0');
            ++i;
        }
        if (i == start || octet > 255 || (i - start > 1 && host[start] == '0')) {
            return 0;
        }
        if (first < 0) {
            first = octet;
        }
        ++parts;
        if (i < len) {
            if (host[i] != '.' || parts == 4) {
                return 0;
            }
            ++i;
            if (i == len) {
                return 0; /* a trailing dot */
            }
        }
    }
    return parts == 4 && first == 127;
}

static int aj_issuer_is_loopback(const char *host, apr_size_t len)
{
    if (len == sizeof(AJ_ISSUER_LOCALHOST) - 1 && !strncasecmp(host, AJ_ISSUER_LOCALHOST, len)) {
        return 1;
    }
    if (len == sizeof(AJ_ISSUER_LOOPBACK6) + 1 && host[0] == '['
        && !strncmp(host + 1, AJ_ISSUER_LOOPBACK6, sizeof(AJ_ISSUER_LOOPBACK6) - 1)
        && host[len - 1] == ']') {
        return 1;
    }
    return aj_issuer_is_loopback4(host, len);
}

apr_status_t aj_issuer_url_check(const char **err, const char *url)
{
    static const char https[] = "https://", http[] = "http://";
    const char *authority, *end, *host_end, *c;
    int plain;

    *err = NULL;
    if (!url || !*url || strlen(url) > AJ_ISSUER_URL_MAX) {
        *err = "empty or longer than 2048 bytes";
        return APR_EINVAL;
    }
    for (c = url; *c; ++c) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '"' || *c == '\\') {
            *err = "has whitespace, quotes or control characters";
            return APR_EINVAL;
        }
    }
    if (!strncasecmp(url, https, sizeof(https) - 1)) {
        plain = 0;
        authority = url + sizeof(https) - 1;
    }
    else if (!strncasecmp(url, http, sizeof(http) - 1)) {
        plain = 1;
        authority = url + sizeof(http) - 1;
    }
    else {
        *err = "is not an https:// URL";
        return APR_EINVAL;
    }
    end = authority + strcspn(authority, "/?#");
    if (memchr(authority, '@', (apr_size_t)(end - authority))) {
        *err = "has user information (user@host)";
        return APR_EINVAL;
    }
    /* the host: a [v6 literal], or up to the port */
    if (*authority == '[') {
        host_end = memchr(authority, ']', (apr_size_t)(end - authority));
        host_end = host_end ? host_end + 1 : end;
    }
    else {
        host_end = memchr(authority, ':', (apr_size_t)(end - authority));
        host_end = host_end ? host_end : end;
    }
    if (host_end == authority) {
        *err = "has no host";
        return APR_EINVAL;
    }
    if (host_end < end) {
        for (c = host_end + 1; c < end && apr_isdigit(*c); ++c) {
        }
        if (*host_end != ':' || c != end || c == host_end + 1) {
            *err = "has a malformed port";
            return APR_EINVAL;
        }
    }
    if (plain && !aj_issuer_is_loopback(authority, (apr_size_t)(host_end - authority))) {
        *err = "is http:// to a host that is not a loopback literal (127.0.0.0/8, [::1], "
               "localhost): use https://";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

const char *aj_issuer_discovery_url(apr_pool_t *p, const char *issuer)
{
    apr_size_t len = strlen(issuer);

    if (len && issuer[len - 1] == '/') {
        --len;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, issuer, len), AJ_ISSUER_DISCOVERY_PATH, NULL);
}

apr_status_t aj_issuer_jwks_uri(const char **uri, const char **err, apr_pool_t *p, const char *doc,
                                apr_size_t len, const char *issuer)
{
    json_object *o = NULL, *v = NULL;
    const char *url_err = NULL;

    *uri = NULL;
    if (aj_json_parse(&o, p, doc, len, &aj_issuer_limits) != APR_SUCCESS) {
        *err = "the discovery document is not a JSON object";
        return APR_EINVAL;
    }
    if (!json_object_object_get_ex(o, "issuer", &v) || !json_object_is_type(v, json_type_string)
        || strcmp(json_object_get_string(v), issuer)) {
        *err = "the discovery document names another issuer";
        return APR_EINVAL;
    }
    if (!json_object_object_get_ex(o, "jwks_uri", &v)
        || !json_object_is_type(v, json_type_string)) {
        *err = "the discovery document has no jwks_uri";
        return APR_EINVAL;
    }
    if (aj_issuer_url_check(&url_err, json_object_get_string(v)) != APR_SUCCESS) {
        *err = apr_pstrcat(p, "the discovery document's jwks_uri ", url_err, NULL);
        return APR_EINVAL;
    }
    *uri = apr_pstrdup(p, json_object_get_string(v));
    return APR_SUCCESS;
}

apr_status_t aj_issuer_keyset(aj_keyset_t **ks, apr_array_header_t **skipped, const char **err,
                              apr_pool_t *p, const char *doc, apr_size_t len, int allow_oct)
{
    json_object *o = NULL;
    apr_status_t rv;

    *ks = NULL;
    if (aj_json_parse(&o, p, doc, len, &aj_issuer_limits) != APR_SUCCESS) {
        *err = "not a JSON object";
        return APR_EINVAL;
    }
    rv = aj_jwk_set_to_keyset(ks, skipped, err, p, o, allow_oct);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (aj_keyset_count(*ks) == 0) {
        *err = "no usable key in the set";
        *ks = NULL;
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_int64_t aj_issuer_refresh_in(apr_int64_t refresh, const char *cache_control)
{
    static const char max_age[] = "max-age=";
    const char *c = cache_control;
    apr_int64_t in = refresh;

    while (c && *c) {
        while (*c == ' ' || *c == '\t' || *c == ',') {
            ++c;
        }
        if (!strncasecmp(c, max_age, sizeof(max_age) - 1)) {
            const char *d = c + sizeof(max_age) - 1;
            apr_int64_t v = 0;
            int digits = 0;
            while (apr_isdigit(*d) && digits < 10) {
                v = v * 10 + (*d - '0');
                ++d;
                ++digits;
            }
            if (digits && (*d == '\0' || *d == ',' || *d == ' ' || *d == '\t') && v < in) {
                in = v;
            }
        }
        c += strcspn(c, ",");
    }
    return in < AJ_ISSUER_MIN_REFRESH ? AJ_ISSUER_MIN_REFRESH : in;
}

/*
 * aj_http.c — Content-Type judged for the JSON handlers (docs/reference.md §10).
 *
 * A strict reading of RFC 9110 §8.3.1 over a NUL-terminated header value:
 * the type/subtype must be exactly application/json (case-insensitively),
 * and whatever parameters follow must be well-formed.  A browser's
 * cross-site form can send only application/x-www-form-urlencoded,
 * multipart/form-data or text/plain, so a request the handlers accept was
 * made by a script subject to CORS, never by a plain form.
 */
#include <string.h>

#include <apr_cstr.h>
#include <apr_lib.h>

#include "aj_http.h"

/* RFC 9110 §5.6.2: tchar */
static int aj_http_is_tchar(char ch)
{
    return apr_isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* RFC 9110 §5.6.3: OWS = *( SP / HTAB ) */
static const char *aj_http_skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        ++s;
    }
    return s;
}

/* Past a token (at least one tchar), or NULL when none is there. */
static const char *aj_http_skip_token(const char *s)
{
    const char *start = s;

    while (aj_http_is_tchar(*s)) {
        ++s;
    }
    return s == start ? NULL : s;
}

/* RFC 9110 §5.6.4: qdtext and the character after a backslash (HTAB, SP,
 * VCHAR, obs-text). */
static int aj_http_is_qdchar(unsigned char ch)
{
    return ch == '\t' || ch == ' ' || (ch >= 0x21 && ch != 0x7F);
}

/* Past a quoted-string starting at s (on the opening quote), or NULL when
 * it is not terminated or holds a control character. */
static const char *aj_http_skip_quoted(const char *s)
{
    ++s;
    while (*s && *s != '"') {
        if (*s == '\\') {
            ++s;
        }
        if (!aj_http_is_qdchar((unsigned char)*s)) {
            return NULL;
        }
        ++s;
    }
    return *s == '"' ? s + 1 : NULL;
}

/* Past the parameters after the media type, or NULL when they do not
 * parse: *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] ) OWS. */
static const char *aj_http_skip_params(const char *s)
{
    for (;;) {
        s = aj_http_skip_ows(s);
        if (*s != ';') {
            return s;
        }
        s = aj_http_skip_ows(s + 1);
        if (*s == ';' || *s == '\0') {
            continue; /* an empty parameter is allowed */
        }
        s = aj_http_skip_token(s);
        if (!s || *s != '=') {
            return NULL;
        }
        ++s;
        s = (*s == '"') ? aj_http_skip_quoted(s) : aj_http_skip_token(s);
        if (!s) {
            return NULL;
        }
    }
}

int aj_http_is_json_media_type(const char *value)
{
    static const apr_size_t json_len = sizeof(AJ_HTTP_JSON_MEDIA_TYPE) - 1;
    const char *s, *type_end;

    if (!value) {
        return 0;
    }
    s = aj_http_skip_ows(value);
    /* type "/" subtype, both tokens, compared in ASCII whatever the locale
     * (apr_cstr_casecmpn): the media type ends where the tokens
     * end, so "application/jsonx" and "application/json-patch+json" are
     * one longer subtype and differ from application/json */
    type_end = aj_http_skip_token(s);
    if (!type_end || *type_end != '/') {
        return 0;
    }
    type_end = aj_http_skip_token(type_end + 1);
    if (!type_end || (apr_size_t)(type_end - s) != json_len ||
        apr_cstr_casecmpn(s, AJ_HTTP_JSON_MEDIA_TYPE, json_len) != 0) {
        return 0;
    }
    s = aj_http_skip_params(type_end);
    return s != NULL && *s == '\0';
}

/*
 * aj_http.c — Content-Type judged for the JSON handlers (docs/reference.md §10),
 * and Accept judged for the JSON error bodies (docs/reference.md §13).
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

int aj_http_is_token(const char *s)
{
    const char *end = s ? aj_http_skip_token(s) : NULL;

    return end && !*end;
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
    if (!type_end || (apr_size_t)(type_end - s) != json_len
        || apr_cstr_casecmpn(s, AJ_HTTP_JSON_MEDIA_TYPE, json_len) != 0) {
        return 0;
    }
    s = aj_http_skip_params(type_end);
    return s != NULL && *s == '\0';
}

/* ---- Accept (RFC 9110 §12.5.1) ------------------------------------------ */

/* RFC 9110 §12.4.2: weight = OWS ";" OWS "q=" qvalue, a qvalue in
 * thousandths (0 to AJ_HTTP_Q_MAX). */
#define AJ_HTTP_Q_MAX    1000
#define AJ_HTTP_Q_DIGITS 3
#define AJ_HTTP_Q_NAME   "q"

/* The qvalue in [s, end) in thousandths, or -1 when it is not one:
 *     qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int aj_http_qvalue(const char *s, const char *end)
{
    int q, scale = AJ_HTTP_Q_MAX, digits = 0;

    if (s == end || (*s != '0' && *s != '1')) {
        return -1;
    }
    q = (*s++ - '0') * AJ_HTTP_Q_MAX;
    if (s == end) {
        return q;
    }
    if (*s++ != '.') {
        return -1;
    }
    for (; s < end; ++s) {
        if (!apr_isdigit(*s) || ++digits > AJ_HTTP_Q_DIGITS) {
            return -1;
        }
        scale /= 10;
        q += (*s - '0') * scale;
    }
    return q <= AJ_HTTP_Q_MAX ? q : -1;
}

/* One Accept element's parameters, starting after the media range: past
 * them (at ',' or the end), with *weight set (AJ_HTTP_Q_MAX when no q), or
 * NULL when they do not parse. */
static const char *aj_http_accept_params(const char *s, int *weight)
{
    const char *name, *name_end, *value;

    *weight = AJ_HTTP_Q_MAX;
    for (;;) {
        s = aj_http_skip_ows(s);
        if (*s != ';') {
            return (*s == ',' || *s == '\0') ? s : NULL;
        }
        s = aj_http_skip_ows(s + 1);
        if (*s == ';' || *s == ',' || *s == '\0') {
            continue; /* an empty parameter */
        }
        name = s;
        name_end = aj_http_skip_token(s);
        if (!name_end || *name_end != '=') {
            return NULL;
        }
        value = name_end + 1;
        s = (*value == '"') ? aj_http_skip_quoted(value) : aj_http_skip_token(value);
        if (!s) {
            return NULL;
        }
        if ((apr_size_t)(name_end - name) == sizeof(AJ_HTTP_Q_NAME) - 1
            && apr_cstr_casecmpn(name, AJ_HTTP_Q_NAME, sizeof(AJ_HTTP_Q_NAME) - 1) == 0) {
            *weight = aj_http_qvalue(value, s);
            if (*weight < 0) {
                return NULL;
            }
        }
    }
}

/* Is the media range [s, end) exactly `type` (type "/" subtype)? */
static int aj_http_range_is(const char *s, const char *end, const char *type)
{
    apr_size_t len = strlen(type);

    return (apr_size_t)(end - s) == len && apr_cstr_casecmpn(s, type, len) == 0;
}

int aj_http_accept_wants_json(const char *accept)
{
    const char *s = accept, *range, *range_end;
    int weight, json = 0, html = 0;

    if (!s) {
        return 0;
    }
    for (;;) {
        s = aj_http_skip_ows(s);
        if (*s == ',') {
            ++s; /* an empty list element */
            continue;
        }
        if (*s == '\0') {
            break;
        }
        /* media-range = ( "*" "/" "*" / type "/" "*" / type "/" subtype ):
         * '*' is a tchar, so all three are token "/" token */
        range = s;
        range_end = aj_http_skip_token(s);
        if (!range_end || *range_end != '/') {
            return 0;
        }
        range_end = aj_http_skip_token(range_end + 1);
        if (!range_end) {
            return 0;
        }
        s = aj_http_accept_params(range_end, &weight);
        if (!s) {
            return 0;
        }
        if (weight > 0) {
            json |= aj_http_range_is(range, range_end, AJ_HTTP_JSON_MEDIA_TYPE);
            html |= aj_http_range_is(range, range_end, AJ_HTTP_HTML_MEDIA_TYPE);
        }
    }
    return json && !html;
}

/*
 * aj_http.h — small pieces of HTTP header parsing the handlers need, with
 * no httpd in sight (the glue reads the header; this judges its value).
 */
#ifndef AJ_HTTP_H
#define AJ_HTTP_H

#include "aj.h"

/* The one media type the JSON handlers take request bodies as (docs/reference.md §10). */
#define AJ_HTTP_JSON_MEDIA_TYPE "application/json"

/* Non-zero when the Content-Type value `value` is application/json, with
 * the grammar of RFC 9110 §8.3.1:
 *
 *     media-type = type "/" subtype *( OWS ";" OWS [ name "=" value ] )
 *
 * type and subtype compared case-insensitively; parameters (charset=utf-8
 * and any other) allowed and ignored, each a token "=" token or quoted
 * string; leading and trailing spaces and tabs allowed.  Zero for NULL,
 * an empty value, another type ("text/plain", "application/jsonx",
 * "application/json-patch+json"), or a value that does not parse (a quoted
 * type, a parameter without "=", an unterminated quoted string, control
 * characters).  Refusing what does not parse is what keeps a cross-site
 * HTML form, which can only send the three "simple" types, out. */
int aj_http_is_json_media_type(const char *value);

/* The one media type whose presence in Accept keeps httpd's HTML error
 * pages (docs/reference.md §13). */
#define AJ_HTTP_HTML_MEDIA_TYPE "text/html"

/* Non-zero when the Accept value `accept` names application/json and does
 * not name text/html, each "named" only by an exact media range (type and
 * subtype compared case-insensitively, parameters allowed) with a weight
 * above zero (RFC 9110 §12.5.1, §12.4.2: q=0 means "not acceptable").
 * Wildcard ranges name neither (any type, or application or text with the
 * subtype "*"): alone they keep the HTML page, which every client can take.
 * Zero for NULL,
 * an empty value, and a value that does not parse (a malformed range,
 * parameter or qvalue anywhere in the list): a client that cannot be read
 * gets httpd's usual page.  Empty list elements (", ,") are allowed, as
 * RFC 9110 §5.6.1 asks of a recipient.  Decides the JSON error bodies of
 * 401/403/429/503 under AuthType JWT. */
int aj_http_accept_wants_json(const char *accept);

/* Non-zero when s is an RFC 9110 §5.6.2 token (one or more tchar): what a
 * header field name must be. */
int aj_http_is_token(const char *s);

#endif /* AJ_HTTP_H */

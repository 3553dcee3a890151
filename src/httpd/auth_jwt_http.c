/*
 * auth_jwt_http.c — the HTTP side that every auth-jwt-* handler shares
 * (docs/reference.md §4, §10).
 *
 * Bodies are taken only as application/json (415 otherwise: a cross-site
 * HTML form cannot send that type), bounded (413 over AJ_BODY_MAX_LEN),
 * parsed with the core's JSON limits, and every refusal is a JSON
 * {"error": ...} with a 4xx; a store failure is a 503.  Responses carrying
 * tokens are never cached.  Answers go out through one brigade and the
 * handler returns OK (or the status of a refusal already sent).
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "auth_jwt_http.h"
#include "auth_jwt_logcap.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_authn.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_http.h"
#include "aj_json.h"
#include "aj_store.h"

/* ---- responses ---------------------------------------------------------- */

int auth_jwt_http_send_text(request_rec *r, int status, const char *text)
{
    apr_size_t len = strlen(text);
    apr_bucket_brigade *bb;

    r->status = status;
    ap_set_content_type(r, AJ_HTTP_JSON_MEDIA_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_write(bb, NULL, NULL, text, len);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
        return AP_FILTER_ERROR;
    }
    return OK;
}

int auth_jwt_http_send_json(request_rec *r, int status, json_object *body)
{
    return auth_jwt_http_send_text(r, status,
                                   apr_pstrcat(r->pool, aj_json_dump(r->pool, body), "\n", NULL));
}

int auth_jwt_http_send_error(request_rec *r, int status, const char *message)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "error", json_object_new_string(message));
    return auth_jwt_http_send_json(r, status, o);
}

int auth_jwt_http_send_success(request_rec *r)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "status", json_object_new_string("success"));
    return auth_jwt_http_send_json(r, HTTP_OK, o);
}

int auth_jwt_http_method_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->err_headers_out, "Allow", allow);
    return auth_jwt_http_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
}

void auth_jwt_http_no_store(request_rec *r)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
}

/* The token cookie is HttpOnly so scripts never read it; SameSite=Lax and
 * the csrf double submit guard state-changing requests.  Max-Age=0 (RFC
 * 6265 §5.2.2: expire now) clears it. */
void auth_jwt_http_set_cookie(request_rec *r, const char *value, apr_int64_t max_age)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);

    if (!c->cookie) {
        return;
    }
    auth_jwt_logcap(r); /* httpd's trace4 dump of the response's headers */
    apr_table_add(r->err_headers_out, "Set-Cookie",
                  apr_psprintf(r->pool,
                               "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT
                               "; HttpOnly; Secure; SameSite=Lax",
                               c->cookie, value ? value : "", value ? max_age : 0));
}

/* ---- requests ----------------------------------------------------------- */

/* docs/reference.md §10: an HTML form (text/plain, x-www-form-urlencoded,
 * multipart) is refused before anything reads the body, checks a password
 * or writes to the store.  need_type: the handler reads a body, so the type
 * is required even when the body is empty; otherwise only a body that is
 * present is judged. */
int auth_jwt_http_body_type_ok(request_rec *r, int need_type)
{
    if (!need_type && !ap_request_has_body(r)) {
        return 1;
    }
    return aj_http_is_json_media_type(apr_table_get(r->headers_in, "Content-Type"));
}

static int auth_jwt_http_too_large(request_rec *r)
{
    return auth_jwt_http_send_error(
        r, HTTP_REQUEST_ENTITY_TOO_LARGE,
        apr_psprintf(r->pool, "request body is larger than %d bytes", AJ_BODY_MAX_LEN));
}

int auth_jwt_http_read_json(json_object **out, request_rec *r, int *answered)
{
    char *buf;
    apr_size_t len = 0;
    long n;
    int rc;
    const char *clen = apr_table_get(r->headers_in, "Content-Length");

    *answered = 0;
    if (!auth_jwt_http_body_type_ok(r, 1)) {
        *answered = 1;
        return auth_jwt_http_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                        AUTH_JWT_HTTP_NOT_JSON_TEXT);
    }
    /* A declared length over the bound is refused before reading a byte. */
    if (clen) {
        char *end = NULL;
        apr_int64_t v = apr_strtoi64(clen, &end, 10);
        if (end && !*end && v > AJ_BODY_MAX_LEN) {
            *answered = 1;
            return auth_jwt_http_too_large(r);
        }
    }
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        *answered = 1;
        return rc;
    }
    /* One byte more than the bound: reading it tells a body over the bound
     * (chunked, or a lying Content-Length) from one exactly at it. */
    buf = apr_palloc(r->pool, AJ_BODY_MAX_LEN + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, AJ_BODY_MAX_LEN + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > AJ_BODY_MAX_LEN) {
                *answered = 1;
                return auth_jwt_http_too_large(r);
            }
        }
        if (n < 0) {
            *answered = 1;
            return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST, "could not read the request body");
        }
    }
    buf[len] = '\0';
    if (aj_json_parse(out, r->pool, buf, len, &aj_json_body_limits) != APR_SUCCESS) {
        *answered = 1;
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "request body is not a valid JSON object");
    }
    return OK;
}

const char *auth_jwt_http_json_string(request_rec *r, json_object *o, const char *name,
                                      int *answered)
{
    json_object *v = NULL;
    const char *s;

    if (!json_object_object_get_ex(o, name, &v) || !v) {
        *answered = auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                             apr_psprintf(r->pool, "missing field: %s", name));
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        *answered = auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                             apr_psprintf(r->pool, "%s must be a string", name));
        return NULL;
    }
    s = json_object_get_string(v);
    /* json-c decodes \u0000 into the string: strlen stops at it, the length
     * json-c kept does not */
    if ((apr_size_t)json_object_get_string_len(v) != strlen(s)) {
        *answered = auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                             apr_psprintf(r->pool, "%s contains a NUL byte", name));
        return NULL;
    }
    return s;
}

int auth_jwt_http_read_credentials(const char **user, const char **password, request_rec *r,
                                   int *answered)
{
    json_object *body = NULL;
    int rc = auth_jwt_http_read_json(&body, r, answered);

    if (*answered) {
        return rc;
    }
    *user = auth_jwt_http_json_string(r, body, "username", &rc);
    if (!*user) {
        *answered = 1;
        return rc;
    }
    *password = auth_jwt_http_json_string(r, body, "password", &rc);
    if (!*password) {
        *answered = 1;
        return rc;
    }
    return OK;
}

/* ---- who the request is ------------------------------------------------- */

const auth_jwt_req_t *auth_jwt_http_need_auth(request_rec *r, apr_int64_t methods,
                                              const char *allow, int *answered)
{
    const auth_jwt_req_t *st;

    if (!((AP_METHOD_BIT << r->method_number) & methods)) {
        *answered = auth_jwt_http_method_not_allowed(r, allow);
        return NULL;
    }
    st = auth_jwt_req_get(r);
    if (!st || !r->user) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            AJ_LOGNO(052) "%s at %s is not behind AuthType JWT (or AuthBasicProvider jwt) "
                          "and a Require line",
            r->handler, r->uri);
        *answered = auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
        return NULL;
    }
    return st;
}

apr_int64_t auth_jwt_http_user_id(const auth_jwt_req_t *st)
{
    const char *sub;
    char *end = NULL;
    apr_int64_t id;

    if (st->via == AUTH_JWT_VIA_PASSWORD) {
        return st->user->id;
    }
    if (st->issuer) {
        return 0; /* a trusted issuer's sub names none of this site's users */
    }
    sub = aj_claims_get_string(st->claims, "sub");
    if (!sub) {
        return 0;
    }
    id = apr_strtoi64(sub, &end, 10);
    return (end && !*end && id > 0) ? id : 0;
}

aj_user_t *auth_jwt_http_user_by_id(aj_store_t **store, request_rec *r, apr_int64_t id,
                                    int missing_status, const char *missing_text, int *answered)
{
    aj_store_t *st;
    aj_user_t *user = NULL;
    apr_status_t rv;

    if (!id) {
        *answered = auth_jwt_http_send_error(r, missing_status, missing_text);
        return NULL;
    }
    st = auth_jwt_store(r);
    if (!st) {
        *answered = auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
        return NULL;
    }
    rv = aj_store_user_by_id(&user, r->pool, st, id);
    if (rv == APR_NOTFOUND) {
        *answered = auth_jwt_http_send_error(r, missing_status, missing_text);
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "reading a user", rv);
        *answered = auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
        return NULL;
    }
    if (store) {
        *store = st;
    }
    return user;
}

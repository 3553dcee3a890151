/*
 * auth_jwt_errors.c — JSON error bodies for JSON clients (docs/reference.md §13).
 *
 * Where AuthType JWT applies, the 401, 403, 429 and 503 that httpd answers
 * with its own HTML page (ap_send_error_response: a status returned by a
 * hook, ours or mod_authz_core's) are sent as {"error": "..."} with
 * Content-Type: application/json when the client's Accept names
 * application/json and not text/html (aj_http_accept_wants_json).  The
 * handlers write their JSON bodies themselves and never come here.
 *
 * httpd's idiom for an error body of one request is ap_custom_response().
 * ap_send_error_response() runs the insert_error_filter hook first, then
 * sets Content-Type: text/html, then reads the custom response: so the
 * hook below sets the body, and a one-shot filter it inserts puts the JSON
 * type back when the body passes (before the HTTP header filter writes the
 * headers).  Headers are left alone: WWW-Authenticate and Retry-After go
 * out as they would with the HTML page.  An ErrorDocument configured for
 * the status is the administrator's choice and wins (a local URL is
 * served by ap_die() before this hook could run; a text or a remote URL
 * is seen here and left in place).
 *
 * The text is the module's own reason for its status (auth_jwt_errors_note,
 * a fixed text), else a fixed text for the status (mod_authz_core's 403,
 * a 503 of a proxied back end).  Either way the body varies with Accept,
 * so these responses say `Vary: Accept`, HTML or not.
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <mod_core.h>
#include <util_filter.h>

#include "auth_jwt_errors.h"
#include "auth_jwt_authn.h"
#include "aj_http.h"
#include "aj_json.h"

#define AUTH_JWT_ERRORS_FILTER "AUTH_JWT_JSON_ERROR"

/* One status answered in JSON: the r->notes key of the module's reason,
 * and the text when the module gave none. */
typedef struct {
    int status;
    const char *note;
    const char *fallback;
} auth_jwt_error_t;

static const auth_jwt_error_t auth_jwt_errors[] = {
    { HTTP_UNAUTHORIZED, "auth-jwt-error-401", AUTH_JWT_ERR_AUTH_REQUIRED },
    { HTTP_FORBIDDEN, "auth-jwt-error-403", AUTH_JWT_ERR_FORBIDDEN },
    { HTTP_TOO_MANY_REQUESTS, "auth-jwt-error-429", "too many requests" },
    { HTTP_SERVICE_UNAVAILABLE, "auth-jwt-error-503", "service unavailable" },
};

static ap_filter_rec_t *auth_jwt_errors_filter_handle;

static const auth_jwt_error_t *auth_jwt_errors_find(int status)
{
    apr_size_t i;

    for (i = 0; i < sizeof(auth_jwt_errors) / sizeof(auth_jwt_errors[0]); ++i) {
        if (auth_jwt_errors[i].status == status) {
            return &auth_jwt_errors[i];
        }
    }
    return NULL;
}

void auth_jwt_errors_note(request_rec *r, int status, const char *text)
{
    const auth_jwt_error_t *e = auth_jwt_errors_find(status);

    if (e) {
        apr_table_setn(r->notes, e->note, text);
    }
}

int auth_jwt_errors_noted(request_rec *r, int status)
{
    const auth_jwt_error_t *e = auth_jwt_errors_find(status);

    return e && apr_table_get(r->notes, e->note) != NULL;
}

/* The body: {"error": text} and a newline, as the handlers write theirs. */
static const char *auth_jwt_errors_body(request_rec *r, const char *text)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());
    const char *json;

    if (!o || json_object_object_add(o, "error", json_object_new_string(text)) != 0) {
        return NULL;
    }
    json = aj_json_dump(r->pool, o);
    return json ? apr_pstrcat(r->pool, json, "\n", NULL) : NULL;
}

/* ap_send_error_response() set text/html after the hook: the JSON type
 * replaces it as the body passes, before any header is written.  Once. */
static apr_status_t auth_jwt_errors_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, AJ_HTTP_JSON_MEDIA_TYPE);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static void auth_jwt_errors_insert(request_rec *r)
{
    const auth_jwt_error_t *e = auth_jwt_errors_find(r->status);
    const char *type = ap_auth_type(r);
    const char *text, *body;

    if (!e || !type || strcasecmp(type, AUTH_JWT_AUTH_TYPE)) {
        return;
    }
    /* err_headers_out: ap_send_error_response() sends only those */
    apr_table_mergen(r->err_headers_out, "Vary", "Accept");
    if (!aj_http_accept_wants_json(apr_table_get(r->headers_in, "Accept"))
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;
    }
    text = apr_table_get(r->notes, e->note);
    body = auth_jwt_errors_body(r, text ? text : e->fallback);
    if (!body) {
        return; /* out of memory: httpd's page it is */
    }
    ap_custom_response(r, r->status, body);
    ap_add_output_filter_handle(auth_jwt_errors_filter_handle, NULL, r, r->connection);
}

void auth_jwt_errors_register(apr_pool_t *p)
{
    auth_jwt_errors_filter_handle = ap_register_output_filter(
        AUTH_JWT_ERRORS_FILTER, auth_jwt_errors_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_insert_error_filter(auth_jwt_errors_insert, NULL, NULL, APR_HOOK_MIDDLE);
}

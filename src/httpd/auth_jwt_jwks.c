/*
 * auth_jwt_jwks.c — the auth-jwt-jwks handler (docs/reference.md §4): the RFC 7517 JWK
 * Set of the public keys of this directory's key set, for other nodes and
 * for clients that verify tokens themselves.
 *
 * The JSON is built once per key set while the configuration is read
 * (aj_keyset_jwks), so a request costs no key work: GET and HEAD answer
 * it with Content-Type application/json and a five-minute Cache-Control,
 * anything else is a 405 with Allow.  HMAC keys are never published, nor
 * any private member (aj_jwk.h).
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "auth_jwt_jwks.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "aj_jwk.h"
#include "aj_key.h"
#include "aj_keyset.h"

#define AUTH_JWT_JWKS_TYPE          "application/json"
/* Rotation publishes the next key well before it signs (docs/verify-only.md),
 * so caches may keep the set a few minutes. */
#define AUTH_JWT_JWKS_CACHE_CONTROL "max-age=300"
#define AUTH_JWT_JWKS_ALLOW         "GET, HEAD"
#define AUTH_JWT_JWKS_405_BODY      "{\"error\":\"method not allowed\"}\n"
#define AUTH_JWT_JWKS_500_BODY      "{\"error\":\"the key set could not be published\"}\n"

static int auth_jwt_jwks_send(request_rec *r, int status, const char *text)
{
    apr_bucket_brigade *bb;
    apr_size_t len = strlen(text);

    r->status = status;
    ap_set_content_type(r, AUTH_JWT_JWKS_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(text, len,
                                                           r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
        return AP_FILTER_ERROR;
    }
    return OK;
}

int auth_jwt_jwks_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *jwks;
    int rc;

    /* HEAD is M_GET with header_only set. */
    if (r->method_number != M_GET) {
        apr_table_setn(r->err_headers_out, "Allow", AUTH_JWT_JWKS_ALLOW);
        r->allowed = (AP_METHOD_BIT << M_GET);
        return auth_jwt_jwks_send(r, HTTP_METHOD_NOT_ALLOWED, AUTH_JWT_JWKS_405_BODY);
    }
    rc = ap_discard_request_body(r);
    if (rc != OK) {
        return rc;
    }
    jwks = c->keys ? aj_keyset_jwks(c->keys) : AJ_JWK_SET_EMPTY;
    if (!jwks) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(301)
                      "the JWK Set of this location could not be built (out of memory "
                      "at startup)");
        return auth_jwt_jwks_send(r, HTTP_INTERNAL_SERVER_ERROR, AUTH_JWT_JWKS_500_BODY);
    }
    apr_table_setn(r->headers_out, "Cache-Control", AUTH_JWT_JWKS_CACHE_CONTROL);
    return auth_jwt_jwks_send(r, HTTP_OK, apr_pstrcat(r->pool, jwks, "\n", NULL));
}

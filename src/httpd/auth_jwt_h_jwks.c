/*
 * auth_jwt_h_jwks.c — the auth-jwt-jwks handler (docs/reference.md §4): the RFC
 * 7517 JWK Set of the public keys of this directory's key set, for other
 * nodes and for clients that verify tokens themselves.
 *
 * The JSON is built once per key set while the configuration is read
 * (aj_keyset_jwks), so a request costs no key work: GET and HEAD answer
 * it with Content-Type application/json and a five-minute Cache-Control,
 * anything else is a 405 with Allow.  HMAC keys are never published, nor
 * any private member (aj_jwk.h).
 */
#include <apr_strings.h>
#include <http_protocol.h>

#include "auth_jwt_h_jwks.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_http.h"
#include "aj_keyset.h"

/* Rotation publishes the next key well before it signs (docs/verify-only.md),
 * so caches may keep the set a few minutes. */
#define AUTH_JWT_JWKS_CACHE_CONTROL "max-age=300"
#define AUTH_JWT_JWKS_ALLOW         "GET, HEAD"

int auth_jwt_jwks_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *jwks;
    int rc;

    /* HEAD is M_GET with header_only set. */
    if (r->method_number != M_GET) {
        r->allowed = (AP_METHOD_BIT << M_GET);
        return auth_jwt_http_method_not_allowed(r, AUTH_JWT_JWKS_ALLOW);
    }
    rc = ap_discard_request_body(r);
    if (rc != OK) {
        return rc;
    }
    jwks = c->keys ? aj_keyset_jwks(c->keys) : AJ_JWK_SET_EMPTY;
    if (!jwks) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            AJ_LOGNO(301) "the JWK Set of this location could not be built (out of memory "
                          "at startup)");
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "the key set could not be published");
    }
    apr_table_setn(r->headers_out, "Cache-Control", AUTH_JWT_JWKS_CACHE_CONTROL);
    return auth_jwt_http_send_text(r, HTTP_OK, apr_pstrcat(r->pool, jwks, "\n", NULL));
}

/*
 * auth_jwt_h_metadata.c — the auth-jwt-resource-metadata handler
 * (docs/reference.md §11): the OAuth 2.0 Protected Resource Metadata of RFC
 * 9728, which a client that met a Bearer challenge with resource_metadata
 * (MCP clients among them) reads to find the authorization server to ask
 * for a token.
 *
 * GET and HEAD, no authentication (a client reads it before it has a
 * token); anything else is a 405 with Allow.  The document is the one of
 * the section the handler is mounted in: its AuthJWTResourceMetadata names
 * the resource (aj_rsmeta_resource), its issuers the authorization servers.
 * Without AuthJWTResourceMetadata there is nothing to describe: 404.
 */
#include <apr_strings.h>
#include <http_protocol.h>

#include "auth_jwt_h_metadata.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_http.h"
#include "auth_jwt_trust.h"
#include "aj_rsmeta.h"

/* The document changes only with the configuration: as the JWK Set. */
#define AUTH_JWT_METADATA_CACHE_CONTROL "max-age=300"
#define AUTH_JWT_METADATA_ALLOW         "GET, HEAD"
#define AUTH_JWT_METADATA_NONE_TEXT     "no resource metadata: AuthJWTResourceMetadata is not set"

/* The issuers whose tokens this section accepts: its trusted issuers
 * (docs/reference.md §11), then the local AuthJWTIssuer when set. */
static apr_array_header_t *auth_jwt_metadata_servers(apr_pool_t *p, const auth_jwt_dir_conf *c)
{
    apr_array_header_t *servers = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; c->trusted && i < c->trusted->nelts; ++i) {
        APR_ARRAY_PUSH(servers, const char *) =
            APR_ARRAY_IDX(c->trusted, i, const auth_jwt_issuer_t *)->issuer;
    }
    if (c->issuer && !auth_jwt_trust_find(c->trusted, c->issuer)) {
        APR_ARRAY_PUSH(servers, const char *) = c->issuer;
    }
    return servers;
}

int auth_jwt_metadata_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *doc;
    int rc;

    /* HEAD is M_GET with header_only set. */
    if (r->method_number != M_GET) {
        r->allowed = (AP_METHOD_BIT << M_GET);
        return auth_jwt_http_method_not_allowed(r, AUTH_JWT_METADATA_ALLOW);
    }
    rc = ap_discard_request_body(r);
    if (rc != OK) {
        return rc;
    }
    if (!c->resource_metadata) {
        return auth_jwt_http_send_error(r, HTTP_NOT_FOUND, AUTH_JWT_METADATA_NONE_TEXT);
    }
    doc = aj_rsmeta_document(r->pool, aj_rsmeta_resource(r->pool, c->resource_metadata),
                             auth_jwt_metadata_servers(r->pool, c));
    if (!doc) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(310) "the resource metadata could not be built (out of memory)");
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "the resource metadata could not be built");
    }
    apr_table_setn(r->headers_out, "Cache-Control", AUTH_JWT_METADATA_CACHE_CONTROL);
    return auth_jwt_http_send_text(r, HTTP_OK, apr_pstrcat(r->pool, doc, "\n", NULL));
}

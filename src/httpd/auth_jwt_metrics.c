/*
 * auth_jwt_metrics.c — the auth-jwt-metrics handler and the mod_status
 * section (docs/reference.md §13): authentication outcomes, cache hits and misses, the
 * revocation table's fill, password checks and their time, summed over
 * every child.
 *
 * The counters live in one shared-memory block made in post_config
 * (aj_metrics: one atomic add per event, no lock); a (graceful) restart
 * makes a new block, so the counters start again from zero, which
 * Prometheus reads as a counter reset.  The handler answers GET/HEAD with
 * the text exposition format 0.0.4; mount it behind `Require ip` or
 * authentication, as server-status is.
 */
#include <string.h>

#include <apr_optional.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>
#include <util_filter.h>

#include "auth_jwt_metrics.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_revoke.h"
#include "aj_metrics.h"

#define AUTH_JWT_METRICS_HANDLER "auth-jwt-metrics"
#define AUTH_JWT_METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"
#define AUTH_JWT_METRICS_ALLOW   "GET, HEAD"

/* Set in post_config (parent, before the children exist); NULL when the
 * block could not be made (then nothing is counted). */
static aj_metrics_t *auth_jwt_metrics;

static apr_status_t auth_jwt_metrics_reset(void *data)
{
    auth_jwt_metrics = NULL;
    return APR_SUCCESS;
}

int auth_jwt_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm = NULL;
    apr_status_t rv = apr_shm_create(&shm, aj_metrics_size(), NULL, pconf);

    auth_jwt_metrics = NULL;
    if (rv != APR_SUCCESS) {
        /* counting is not worth refusing to start over */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, AJ_LOGNO(150)
                     "no shared memory for the counters: auth-jwt-metrics reports zeros");
        return OK;
    }
    auth_jwt_metrics = aj_metrics_format(apr_shm_baseaddr_get(shm), aj_metrics_size());
    apr_pool_cleanup_register(pconf, NULL, auth_jwt_metrics_reset, apr_pool_cleanup_null);
    return OK;
}

void auth_jwt_metrics_count(aj_metric_e what)
{
    aj_metrics_add(auth_jwt_metrics, what, 1);
}

void auth_jwt_metrics_password(apr_interval_time_t spent)
{
    aj_metrics_add(auth_jwt_metrics, AJ_M_PASSWORD_CHECKS, 1);
    aj_metrics_add(auth_jwt_metrics, AJ_M_PASSWORD_USEC, spent > 0 ? (apr_uint64_t)spent : 0);
}

static void auth_jwt_metrics_gauges(aj_metrics_gauges_t *g)
{
    memset(g, 0, sizeof(*g));
    auth_jwt_revoke_fill(&g->revocation_entries, &g->revocation_capacity);
}

static int auth_jwt_metrics_handler(request_rec *r)
{
    aj_metrics_gauges_t g;
    apr_bucket_brigade *bb;
    const char *text;
    apr_size_t len;
    int rc;

    if (!r->handler || strcmp(r->handler, AUTH_JWT_METRICS_HANDLER)) {
        return DECLINED;
    }
    rc = ap_discard_request_body(r);
    if (rc != OK) {
        return rc;
    }
    /* HEAD is M_GET with header_only set. */
    if (r->method_number != M_GET) {
        apr_table_setn(r->err_headers_out, "Allow", AUTH_JWT_METRICS_ALLOW);
        r->status = HTTP_METHOD_NOT_ALLOWED;
        text = "method not allowed\n";
    }
    else {
        auth_jwt_metrics_gauges(&g);
        text = aj_metrics_prometheus(r->pool, auth_jwt_metrics, &g);
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    len = strlen(text);
    ap_set_content_type(r, AUTH_JWT_METRICS_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(text, len, r->pool,
                                                       r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

/* mod_status: a section of its page, or key: value lines for ?auto. */
static int auth_jwt_metrics_status(request_rec *r, int flags)
{
    aj_metrics_gauges_t g;
    const char *name;
    int i;

    if (!auth_jwt_metrics) {
        return OK;
    }
    auth_jwt_metrics_gauges(&g);
    if (flags & AP_STATUS_SHORT) {
        for (i = 0; (name = aj_metrics_result_name((aj_metric_e)i)); i++) {
            ap_rprintf(r, "AuthJWTRequests_%s: %" APR_UINT64_T_FMT "\n", name,
                       aj_metrics_get(auth_jwt_metrics, (aj_metric_e)i));
        }
        ap_rprintf(r, "AuthJWTVerifyCacheHits: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTVerifyCacheMisses: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTBasicCacheHits: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTBasicCacheMisses: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTRevocationEntries: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTRevocationCapacity: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTPasswordChecks: %" APR_UINT64_T_FMT "\n"
                      "AuthJWTPasswordCheckMicroseconds: %" APR_UINT64_T_FMT "\n",
                   aj_metrics_get(auth_jwt_metrics, AJ_M_VERIFY_HIT),
                   aj_metrics_get(auth_jwt_metrics, AJ_M_VERIFY_MISS),
                   aj_metrics_get(auth_jwt_metrics, AJ_M_BASIC_HIT),
                   aj_metrics_get(auth_jwt_metrics, AJ_M_BASIC_MISS),
                   g.revocation_entries, g.revocation_capacity,
                   aj_metrics_get(auth_jwt_metrics, AJ_M_PASSWORD_CHECKS),
                   aj_metrics_get(auth_jwt_metrics, AJ_M_PASSWORD_USEC));
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_auth_jwt</h2>\n<table border=\"0\">\n", r);
    for (i = 0; (name = aj_metrics_result_name((aj_metric_e)i)); i++) {
        ap_rprintf(r, "<tr><td>authentication: %s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   name, aj_metrics_get(auth_jwt_metrics, (aj_metric_e)i));
    }
    ap_rprintf(r, "<tr><td>verified-token cache hits / misses</td><td>%" APR_UINT64_T_FMT
                  " / %" APR_UINT64_T_FMT "</td></tr>\n"
                  "<tr><td>Basic cache hits / misses</td><td>%" APR_UINT64_T_FMT
                  " / %" APR_UINT64_T_FMT "</td></tr>\n"
                  "<tr><td>revocation table entries / capacity</td><td>%" APR_UINT64_T_FMT
                  " / %" APR_UINT64_T_FMT "</td></tr>\n"
                  "<tr><td>password checks (seconds)</td><td>%" APR_UINT64_T_FMT
                  " (%" APR_UINT64_T_FMT ".%03" APR_UINT64_T_FMT ")</td></tr>\n</table>\n",
               aj_metrics_get(auth_jwt_metrics, AJ_M_VERIFY_HIT),
               aj_metrics_get(auth_jwt_metrics, AJ_M_VERIFY_MISS),
               aj_metrics_get(auth_jwt_metrics, AJ_M_BASIC_HIT),
               aj_metrics_get(auth_jwt_metrics, AJ_M_BASIC_MISS),
               g.revocation_entries, g.revocation_capacity,
               aj_metrics_get(auth_jwt_metrics, AJ_M_PASSWORD_CHECKS),
               aj_metrics_get(auth_jwt_metrics, AJ_M_PASSWORD_USEC) / 1000000,
               (aj_metrics_get(auth_jwt_metrics, AJ_M_PASSWORD_USEC) / 1000) % 1000);
    return OK;
}

void auth_jwt_metrics_register(apr_pool_t *p)
{
    ap_hook_handler(auth_jwt_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, auth_jwt_metrics_status, NULL, NULL, APR_HOOK_MIDDLE);
}

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
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>
#include <util_filter.h>

#include "auth_jwt_metrics.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_issuers.h"
#include "auth_jwt_revtab.h"
#include "auth_jwt_shm.h"
#include "aj_metrics.h"

#define AUTH_JWT_METRICS_HANDLER "auth-jwt-metrics"
#define AUTH_JWT_METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"
#define AUTH_JWT_METRICS_ALLOW   "GET, HEAD"

/* Counting is not worth refusing to start over; one atomic add per event
 * needs no mutex. */
static const auth_jwt_shm_spec_t auth_jwt_metrics_shm = {
    .what = "counters",
    .tag_create = AJ_LOGNO(150),
    .degraded = "auth-jwt-metrics reports zeros",
};

/* This generation's counters, made in post_config (parent, before the
 * children exist); counters is meaningful only while seg is set. */
static struct {
    auth_jwt_shm_t *seg;
    aj_metrics_t *counters;
} auth_jwt_mx;

/* The counters of this generation, or NULL (aj_metrics_add ignores it). */
static aj_metrics_t *auth_jwt_counters(void)
{
    return auth_jwt_mx.seg ? auth_jwt_mx.counters : NULL;
}

int auth_jwt_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    int rc = auth_jwt_shm_post_config(&auth_jwt_mx.seg, pconf, s, &auth_jwt_metrics_shm,
                                      aj_metrics_size());

    if (rc == OK && auth_jwt_mx.seg) {
        auth_jwt_mx.counters = aj_metrics_format(auth_jwt_mx.seg->base, aj_metrics_size());
    }
    return rc;
}

void auth_jwt_metrics_count(aj_metric_e what)
{
    aj_metrics_add(auth_jwt_counters(), what, 1);
}

void auth_jwt_metrics_password(apr_interval_time_t spent)
{
    aj_metrics_add(auth_jwt_counters(), AJ_M_PASSWORD_CHECKS, 1);
    aj_metrics_add(auth_jwt_counters(), AJ_M_PASSWORD_USEC, spent > 0 ? (apr_uint64_t)spent : 0);
}

static void auth_jwt_metrics_gauges(aj_metrics_gauges_t *g)
{
    memset(g, 0, sizeof(*g));
    auth_jwt_revtab_fill(&g->revocation_entries, &g->revocation_capacity);
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
        text = apr_pstrcat(r->pool, aj_metrics_prometheus(r->pool, auth_jwt_counters(), &g),
                           auth_jwt_issuers_metrics(r->pool), NULL);
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    len = strlen(text);
    ap_set_content_type(r, AUTH_JWT_METRICS_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(
        bb, apr_bucket_pool_create(text, len, r->pool, r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

/* The figures mod_status shows after the outcomes: every counter
 * (aj_metric_e), then the revocation table's gauges. */
enum { AUTH_JWT_FIG_REV_ENTRIES = AJ_M_COUNT, AUTH_JWT_FIG_REV_CAPACITY, AUTH_JWT_FIGURES };

/* How a row of the page shows its two figures. */
typedef enum {
    AUTH_JWT_ROW_PAIR, /* "a / b" */
    AUTH_JWT_ROW_USEC  /* b is microseconds, shown as seconds: "a (s.mmm)" */
} auth_jwt_row_kind;

/* Two figures: two "KEY: value" lines for ?auto, one row of the page. */
typedef struct {
    const char *key_a;
    int a;
    const char *key_b;
    int b;
    const char *label;
    auth_jwt_row_kind kind;
} auth_jwt_status_row;

static const auth_jwt_status_row auth_jwt_status_rows[] = {
    { "AuthJWTVerifyCacheHits", AJ_M_VERIFY_HIT, "AuthJWTVerifyCacheMisses", AJ_M_VERIFY_MISS,
      "verified-token cache hits / misses", AUTH_JWT_ROW_PAIR },
    { "AuthJWTBasicCacheHits", AJ_M_BASIC_HIT, "AuthJWTBasicCacheMisses", AJ_M_BASIC_MISS,
      "Basic cache hits / misses", AUTH_JWT_ROW_PAIR },
    { "AuthJWTRevocationEntries", AUTH_JWT_FIG_REV_ENTRIES, "AuthJWTRevocationCapacity",
      AUTH_JWT_FIG_REV_CAPACITY, "revocation table entries / capacity", AUTH_JWT_ROW_PAIR },
    { "AuthJWTPasswordChecks", AJ_M_PASSWORD_CHECKS, "AuthJWTPasswordCheckMicroseconds",
      AJ_M_PASSWORD_USEC, "password checks (seconds)", AUTH_JWT_ROW_USEC },
};

#define AUTH_JWT_MSEC_PER_SEC  1000
#define AUTH_JWT_USEC_PER_MSEC (APR_USEC_PER_SEC / AUTH_JWT_MSEC_PER_SEC)

static void auth_jwt_status_row_print(request_rec *r, const auth_jwt_status_row *row,
                                      const apr_uint64_t *fig, int is_auto)
{
    apr_uint64_t a = fig[row->a], b = fig[row->b];

    if (is_auto) {
        ap_rprintf(r, "%s: %" APR_UINT64_T_FMT "\n%s: %" APR_UINT64_T_FMT "\n", row->key_a, a,
                   row->key_b, b);
    }
    else if (row->kind == AUTH_JWT_ROW_USEC) {
        ap_rprintf(r,
                   "<tr><td>%s</td><td>%" APR_UINT64_T_FMT " (%" APR_UINT64_T_FMT
                   ".%03" APR_UINT64_T_FMT ")</td></tr>\n",
                   row->label, a, b / APR_USEC_PER_SEC,
                   (b / AUTH_JWT_USEC_PER_MSEC) % AUTH_JWT_MSEC_PER_SEC);
    }
    else {
        ap_rprintf(r,
                   "<tr><td>%s</td><td>%" APR_UINT64_T_FMT " / %" APR_UINT64_T_FMT "</td></tr>\n",
                   row->label, a, b);
    }
}

/* mod_status: a section of its page, or key: value lines for ?auto. */
static int auth_jwt_metrics_status(request_rec *r, int flags)
{
    const aj_metrics_t *m = auth_jwt_counters();
    int is_auto = flags & AP_STATUS_SHORT;
    apr_uint64_t fig[AUTH_JWT_FIGURES];
    aj_metrics_gauges_t g;
    const char *name;
    apr_size_t i;

    if (!m) {
        return OK;
    }
    auth_jwt_metrics_gauges(&g);
    for (i = 0; i < AJ_M_COUNT; i++) {
        fig[i] = aj_metrics_get(m, (aj_metric_e)i);
    }
    fig[AUTH_JWT_FIG_REV_ENTRIES] = g.revocation_entries;
    fig[AUTH_JWT_FIG_REV_CAPACITY] = g.revocation_capacity;

    if (!is_auto) {
        ap_rputs("<hr />\n<h2>mod_auth_jwt</h2>\n<table border=\"0\">\n", r);
    }
    for (i = 0; (name = aj_metrics_result_name((aj_metric_e)i)); i++) {
        ap_rprintf(r,
                   is_auto ? "AuthJWTRequests_%s: %" APR_UINT64_T_FMT "\n"
                           : "<tr><td>authentication: %s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   name, fig[i]);
    }
    for (i = 0; i < sizeof(auth_jwt_status_rows) / sizeof(auth_jwt_status_rows[0]); i++) {
        auth_jwt_status_row_print(r, &auth_jwt_status_rows[i], fig, is_auto);
    }
    if (!is_auto) {
        ap_rputs("</table>\n", r);
    }
    return OK;
}

void auth_jwt_metrics_register(apr_pool_t *p)
{
    ap_hook_handler(auth_jwt_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, auth_jwt_metrics_status, NULL, NULL, APR_HOOK_MIDDLE);
}

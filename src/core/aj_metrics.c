/*
 * aj_metrics.c — counters in one memory block and their Prometheus text
 * (contract: include/aj_metrics.h).
 *
 * Layout: a header line (magic), then one 64-byte line per counter, so two
 * children counting different things never write the same cache line.
 * Every access after aj_metrics_format() is a GCC __atomic builtin.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_metrics.h"

#define AJ_METRICS_MAGIC 0x414a4d54u /* "AJMT" */
#define AJ_METRICS_LINE  64u
#define AJ_METRICS_ALIGN 8u

typedef struct {
    apr_uint64_t value;
    char pad[AJ_METRICS_LINE - sizeof(apr_uint64_t)];
} aj_metrics_line_t;

struct aj_metrics_t {
    apr_uint32_t magic;
    char pad[AJ_METRICS_LINE - sizeof(apr_uint32_t)];
    aj_metrics_line_t counter[AJ_M_COUNT];
};

_Static_assert(sizeof(aj_metrics_line_t) == AJ_METRICS_LINE, "one counter per cache line");

/* In the order of aj_metric_e's outcomes: the `result` label's values. */
static const char *const aj_metrics_result_names[AJ_M_RESULTS] = {
    "ok",      "no_credentials", "invalid_token", "expired",
    "revoked", "wrong_password", "throttled",     "store_unavailable"
};

#define AJ_METRICS_USEC_PER_SEC 1000000

apr_size_t aj_metrics_size(void)
{
    return sizeof(struct aj_metrics_t);
}

aj_metrics_t *aj_metrics_format(void *mem, apr_size_t size)
{
    aj_metrics_t *m = mem;

    if (!mem || size < sizeof(*m) || ((apr_uintptr_t)mem % AJ_METRICS_ALIGN) != 0
        || !__atomic_always_lock_free(sizeof(apr_uint64_t), 0)) {
        return NULL;
    }
    memset(mem, 0, sizeof(*m)); /* nobody uses the block yet */
    __atomic_store_n(&m->magic, AJ_METRICS_MAGIC, __ATOMIC_RELEASE);
    return m;
}

void aj_metrics_add(aj_metrics_t *m, aj_metric_e what, apr_uint64_t n)
{
    if (m && (unsigned)what < AJ_M_COUNT) {
        __atomic_fetch_add(&m->counter[what].value, n, __ATOMIC_RELAXED);
    }
}

apr_uint64_t aj_metrics_get(const aj_metrics_t *m, aj_metric_e what)
{
    return (m && (unsigned)what < AJ_M_COUNT)
               ? __atomic_load_n(&m->counter[what].value, __ATOMIC_RELAXED)
               : 0;
}

const char *aj_metrics_result_name(aj_metric_e result)
{
    return (unsigned)result < AJ_M_RESULTS ? aj_metrics_result_names[result] : NULL;
}

const char *aj_metrics_prometheus(apr_pool_t *p, const aj_metrics_t *m,
                                  const aj_metrics_gauges_t *g)
{
    apr_uint64_t usec = aj_metrics_get(m, AJ_M_PASSWORD_USEC);
    const char *out;
    int i;

    out = "# HELP mod_auth_jwt_requests_total Authentication decisions by outcome.\n"
          "# TYPE mod_auth_jwt_requests_total counter\n";
    for (i = 0; i < AJ_M_RESULTS; i++) {
        out =
            apr_psprintf(p, "%smod_auth_jwt_requests_total{result=\"%s\"} %" APR_UINT64_T_FMT "\n",
                         out, aj_metrics_result_names[i], aj_metrics_get(m, (aj_metric_e)i));
    }
    out = apr_psprintf(
        p,
        "%s"
        "# HELP mod_auth_jwt_cache_total Cache look-ups by cache and result.\n"
        "# TYPE mod_auth_jwt_cache_total counter\n"
        "mod_auth_jwt_cache_total{cache=\"verify\",result=\"hit\"} %" APR_UINT64_T_FMT "\n"
        "mod_auth_jwt_cache_total{cache=\"verify\",result=\"miss\"} %" APR_UINT64_T_FMT "\n"
        "mod_auth_jwt_cache_total{cache=\"basic\",result=\"hit\"} %" APR_UINT64_T_FMT "\n"
        "mod_auth_jwt_cache_total{cache=\"basic\",result=\"miss\"} %" APR_UINT64_T_FMT "\n"
        "# HELP mod_auth_jwt_revocation_entries Occupied slots of the shared revocation table.\n"
        "# TYPE mod_auth_jwt_revocation_entries gauge\n"
        "mod_auth_jwt_revocation_entries %" APR_UINT64_T_FMT "\n"
        "# HELP mod_auth_jwt_revocation_capacity Usable slots of the shared revocation table.\n"
        "# TYPE mod_auth_jwt_revocation_capacity gauge\n"
        "mod_auth_jwt_revocation_capacity %" APR_UINT64_T_FMT "\n"
        "# HELP mod_auth_jwt_password_checks_total Stored password hashes checked.\n"
        "# TYPE mod_auth_jwt_password_checks_total counter\n"
        "mod_auth_jwt_password_checks_total %" APR_UINT64_T_FMT "\n"
        "# HELP mod_auth_jwt_password_check_seconds_total Seconds spent checking password hashes.\n"
        "# TYPE mod_auth_jwt_password_check_seconds_total counter\n"
        "mod_auth_jwt_password_check_seconds_total %" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n",
        out, aj_metrics_get(m, AJ_M_VERIFY_HIT), aj_metrics_get(m, AJ_M_VERIFY_MISS),
        aj_metrics_get(m, AJ_M_BASIC_HIT), aj_metrics_get(m, AJ_M_BASIC_MISS),
        g ? g->revocation_entries : 0, g ? g->revocation_capacity : 0,
        aj_metrics_get(m, AJ_M_PASSWORD_CHECKS), usec / AJ_METRICS_USEC_PER_SEC,
        usec % AJ_METRICS_USEC_PER_SEC);
    return out;
}

/* A label value of the text format: backslash, double quote and line feed
 * escaped. */
static const char *aj_metrics_label(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = v; *s; ++s) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    out = o = apr_palloc(p, n + 1);
    for (s = v; *s; ++s) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

const char *aj_metrics_key_fetches(apr_pool_t *p, const char *issuer, apr_uint64_t ok,
                                   apr_uint64_t failed, int header)
{
    const char *label = aj_metrics_label(p, issuer);

    return apr_psprintf(p,
                        "%s"
                        "mod_auth_jwt_key_fetches_total{issuer=\"%s\",result=\"ok\"} "
                        "%" APR_UINT64_T_FMT "\n"
                        "mod_auth_jwt_key_fetches_total{issuer=\"%s\",result=\"error\"} "
                        "%" APR_UINT64_T_FMT "\n",
                        header ? "# HELP mod_auth_jwt_key_fetches_total Key set fetches of "
                                 "trusted issuers by issuer and result.\n"
                                 "# TYPE mod_auth_jwt_key_fetches_total counter\n"
                               : "",
                        label, ok, label, failed);
}

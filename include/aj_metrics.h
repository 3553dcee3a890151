/*
 * aj_metrics.h — the module's counters, laid out in ONE caller-provided
 * memory block (httpd puts it in shared memory, so the figures are the sum
 * over every child), and their Prometheus text rendering (format 0.0.4).
 *
 * Counting is one relaxed atomic add on a counter of its own cache line
 * (no false sharing between counters, no lock); reading takes a snapshot
 * of every counter, which may mix increments made while it is taken (as
 * any scrape of live counters does).  The block never allocates after
 * aj_metrics_format().
 */
#ifndef AJ_METRICS_H
#define AJ_METRICS_H

#include "aj.h"

typedef struct aj_metrics_t aj_metrics_t;

/* What is counted.  The first group is the outcome of each authentication
 * decision (AuthType JWT and the `jwt` Basic provider; handlers are not
 * counted there); keep the order of aj_metrics_result_names. */
typedef enum {
    AJ_M_RESULT_OK = 0,
    AJ_M_RESULT_NO_CREDENTIALS,
    AJ_M_RESULT_INVALID_TOKEN,
    AJ_M_RESULT_EXPIRED,
    AJ_M_RESULT_REVOKED,
    AJ_M_RESULT_WRONG_PASSWORD,
    AJ_M_RESULT_THROTTLED,
    AJ_M_RESULT_STORE_UNAVAILABLE,
    AJ_M_RESULTS,                   /* the number of outcomes */
    AJ_M_VERIFY_HIT = AJ_M_RESULTS, /* verified-token cache */
    AJ_M_VERIFY_MISS,
    AJ_M_BASIC_HIT, /* Basic password cache */
    AJ_M_BASIC_MISS,
    AJ_M_PASSWORD_CHECKS, /* stored hashes checked (bcrypt or other) */
    AJ_M_PASSWORD_USEC,   /* microseconds those checks took */
    AJ_M_COUNT
} aj_metric_e;

/* Figures read elsewhere at rendering time. */
typedef struct {
    apr_uint64_t revocation_entries;  /* occupied slots of the revocation table */
    apr_uint64_t revocation_capacity; /* usable slots */
} aj_metrics_gauges_t;

/* Bytes needed for the block. */
apr_size_t aj_metrics_size(void);

/* Formats mem (aj_metrics_size() bytes, 8-byte aligned) with every counter
 * at zero; NULL when mem is NULL, misaligned or too small. */
aj_metrics_t *aj_metrics_format(void *mem, apr_size_t size);

/* Adds n to a counter (m may be NULL: nothing happens). */
void aj_metrics_add(aj_metrics_t *m, aj_metric_e what, apr_uint64_t n);

/* A counter's value (0 for NULL or an unknown counter). */
apr_uint64_t aj_metrics_get(const aj_metrics_t *m, aj_metric_e what);

/* The stable name of an outcome ("ok", "no_credentials", ...), NULL past
 * the last one. */
const char *aj_metrics_result_name(aj_metric_e result);

/* The Prometheus text exposition (0.0.4) of the counters and gauges. */
const char *aj_metrics_prometheus(apr_pool_t *p, const aj_metrics_t *m,
                                  const aj_metrics_gauges_t *g);

/* The key fetches of trusted issuers (docs/reference.md §11, §13), one
 * issuer at a time: its Prometheus lines
 *   mod_auth_jwt_key_fetches_total{issuer="ISSUER",result="ok|error"} N
 * with the issuer escaped as the text format requires (\\, \" and \n).
 * header: with the HELP and TYPE lines (for the first issuer). */
const char *aj_metrics_key_fetches(apr_pool_t *p, const char *issuer, apr_uint64_t ok,
                                   apr_uint64_t failed, int header);

#endif /* AJ_METRICS_H */

/*
 * auth_jwt_metrics.h — what the module counts, for the auth-jwt-metrics
 * handler (Prometheus) and mod_status (auth_jwt_metrics.c).
 */
#ifndef AUTH_JWT_METRICS_H
#define AUTH_JWT_METRICS_H

#include <httpd.h>

#include "aj_metrics.h"

/* Creates the shared counters (post_config, each generation). */
int auth_jwt_metrics_post_config(apr_pool_t *pconf, server_rec *s);
/* Registers the handler and the mod_status hook. */
void auth_jwt_metrics_register(apr_pool_t *p);

/* Counts one event (a no-op before post_config). */
void auth_jwt_metrics_count(aj_metric_e what);
/* Counts one stored-hash check that took `spent`. */
void auth_jwt_metrics_password(apr_interval_time_t spent);

#endif /* AUTH_JWT_METRICS_H */

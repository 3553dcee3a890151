/*
 * auth_jwt_issuers.h — trusted issuers' key sets at run time
 * (auth_jwt_issuers.c): fetched in the background, shared by every child,
 * and handed to verification.
 */
#ifndef AUTH_JWT_ISSUERS_H
#define AUTH_JWT_ISSUERS_H

#include <httpd.h>

#include "aj_keyset.h"
#include "auth_jwt_trust.h"

/* How long a client is told to wait (Retry-After) while an issuer's keys
 * are not available: also how often a failed fetch is retried. */
#define AUTH_JWT_ISSUER_RETRY 10

int auth_jwt_issuers_pre_config(apr_pool_t *pconf);
/* The shared slots of the fetched sets and the background fetcher (a
 * mod_watchdog callback); OK or an HTTP status (logged). */
int auth_jwt_issuers_post_config(apr_pool_t *pconf, server_rec *s);
void auth_jwt_issuers_child_init(apr_pool_t *p, server_rec *s);

/* The keys that verify e's tokens now, and *id, which changes whenever the
 * set does (the verified-token cache compares it).  OK; or
 * HTTP_SERVICE_UNAVAILABLE (Retry-After set) before the first good fetch,
 * or once the last good set is older than AuthJWTKeyMaxStale. */
int auth_jwt_issuer_keys(const aj_keyset_t **ks, apr_uint64_t *id, request_rec *r,
                         const auth_jwt_issuer_t *e);

/* A token of e named a kid its set does not have: one fetch now, unless any
 * fetch of e started less than AJ_ISSUER_MIN_REFRESH seconds ago.  1 when
 * the set changed (verify again), else 0. */
int auth_jwt_issuer_refetch(request_rec *r, const auth_jwt_issuer_t *e);

/* The Prometheus lines of the key fetches by issuer and result ("" when no
 * issuer is fetched), for auth-jwt-metrics. */
const char *auth_jwt_issuers_metrics(apr_pool_t *p);

#endif /* AUTH_JWT_ISSUERS_H */

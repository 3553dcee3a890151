/*
 * auth_jwt_fetch.h — one bounded HTTPS GET with libcurl (auth_jwt_fetch.c),
 * for trusted issuers' discovery documents and JWK Sets.
 */
#ifndef AUTH_JWT_FETCH_H
#define AUTH_JWT_FETCH_H

#include <apr_pools.h>

/* How to fetch: the CA bundle (NULL: the system's) and the limit of one
 * fetch, connect and transfer (seconds). */
typedef struct {
    const char *ca_file;
    long timeout;
} auth_jwt_fetch_opts_t;

/* What a fetch brought: the body (NUL-terminated, pool memory) and the
 * response's Cache-Control (NULL when none). */
typedef struct {
    const char *body;
    apr_size_t len;
    const char *cache_control;
} auth_jwt_fetched_t;

/* process start: libcurl's global set-up (not thread-safe: once, in the
 * parent, before any thread).  APR_EGENERAL when libcurl cannot start. */
apr_status_t auth_jwt_fetch_global_init(apr_pool_t *pconf);

/* GETs url (already checked by aj_issuer_url_check) with TLS verification,
 * no redirects (a 3xx fails), at most AJ_ISSUER_DOC_MAX bytes of body, an
 * answer other than 200 failing.  APR_SUCCESS with *out, or an error status
 * with *err: a short text naming what failed, for the log. */
apr_status_t auth_jwt_fetch(auth_jwt_fetched_t *out, const char **err, apr_pool_t *p,
                            const char *url, const auth_jwt_fetch_opts_t *opts);

#endif /* AUTH_JWT_FETCH_H */

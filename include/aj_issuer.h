/*
 * aj_issuer.h — what the core decides about a trusted issuer's published
 * keys (docs/reference.md §11), with no I/O: which URLs may be fetched,
 * the discovery document, a JWK Set document into a key set, and when the
 * next fetch is due.  Fetching itself is the glue's (libcurl).
 */
#ifndef AJ_ISSUER_H
#define AJ_ISSUER_H

#include "aj.h"
#include "aj_keyset.h"

#include <apr_tables.h>

/* Documents over this many bytes are refused (discovery and JWK Sets). */
#define AJ_ISSUER_DOC_MAX        (1024 * 1024)
/* Key sets are never fetched more often than this (seconds). */
#define AJ_ISSUER_MIN_REFRESH    60
/* The path discovery appends to the issuer (OpenID Connect Discovery 1.0 §4). */
#define AJ_ISSUER_DISCOVERY_PATH "/.well-known/openid-configuration"

/* Whether url may be fetched: https:// with a host, or http:// to a literal
 * loopback host (127.0.0.0/8 in dotted decimal, [::1], localhost), decided
 * without DNS.  No user info, no whitespace or control characters, at most
 * AJ_ISSUER_URL_MAX bytes.  APR_EINVAL with *err (fixed text) otherwise. */
#define AJ_ISSUER_URL_MAX 2048
apr_status_t aj_issuer_url_check(const char **err, const char *url);

/* The discovery document's URL for issuer: issuer without one trailing '/'
 * followed by AJ_ISSUER_DISCOVERY_PATH. */
const char *aj_issuer_discovery_url(apr_pool_t *p, const char *issuer);

/* From a discovery document doc[0..len): its "jwks_uri", after checking
 * that its "issuer" is exactly issuer and that the URI passes
 * aj_issuer_url_check.  APR_EINVAL with *err (fixed text) otherwise. */
apr_status_t aj_issuer_jwks_uri(const char **uri, const char **err, apr_pool_t *p, const char *doc,
                                apr_size_t len, const char *issuer);

/* A key set from a JWK Set document doc[0..len) (aj_jwk_set_to_keyset's
 * rules; HMAC "oct" keys only when allow_oct, i.e. from a file).  Entries
 * that fail a rule are skipped with a note in *skipped (may be NULL).
 * APR_EINVAL with *err when the document is not a JWK Set or has no usable
 * key (docs/reference.md §11: a failed fetch). */
apr_status_t aj_issuer_keyset(aj_keyset_t **ks, apr_array_header_t **skipped, const char **err,
                              apr_pool_t *p, const char *doc, apr_size_t len, int allow_oct);

/* Seconds until the next fetch of a set: refresh (AuthJWTKeyRefresh), or
 * the response's Cache-Control max-age when that is shorter, never below
 * AJ_ISSUER_MIN_REFRESH.  cache_control may be NULL; a max-age that does
 * not parse is ignored. */
apr_int64_t aj_issuer_refresh_in(apr_int64_t refresh, const char *cache_control);

#endif /* AJ_ISSUER_H */

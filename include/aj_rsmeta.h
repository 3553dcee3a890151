/*
 * aj_rsmeta.h — OAuth 2.0 Protected Resource Metadata (RFC 9728), the part
 * of docs/reference.md §11 that needs no httpd: the AuthJWTResourceMetadata
 * URL checked once while the configuration is read, the resource identifier
 * it names, and the metadata document the auth-jwt-resource-metadata handler
 * serves.
 */
#ifndef AJ_RSMETA_H
#define AJ_RSMETA_H

#include <apr_tables.h>

#include "aj.h"

/* RFC 9728 §3: the well-known path of the metadata document, inserted
 * between the resource's origin and its path. */
#define AJ_RSMETA_WELL_KNOWN "/.well-known/oauth-protected-resource"

/* Longest AuthJWTResourceMetadata URL (it is sent in every challenge). */
#define AJ_RSMETA_URL_MAX 2048

/* APR_SUCCESS when url may be AuthJWTResourceMetadata: an absolute
 * http:// or https:// URL (scheme in any case) with a host, at most
 * AJ_RSMETA_URL_MAX bytes, made only of printable ASCII other than '"' and
 * '\' (so it goes into resource_metadata="…" as it is, RFC 9110 §5.6.4),
 * without a query or fragment (RFC 9728 §3.1 forms the document's URL from
 * the resource's origin and path).  Else APR_EINVAL with *err a fixed text
 * saying what is wrong. */
apr_status_t aj_rsmeta_url_check(const char **err, const char *url);

/* The resource identifier a checked metadata URL names (RFC 9728 §3.1):
 *   - its path starts with AJ_RSMETA_WELL_KNOWN as a whole segment (the
 *     RFC's form): the URL without that part
 *       https://api.example/.well-known/oauth-protected-resource/v1
 *         -> https://api.example/v1
 *       https://api.example/.well-known/oauth-protected-resource
 *         -> https://api.example
 *   - else its path ends with AJ_RSMETA_WELL_KNOWN (a document mounted
 *     under the resource's own path): the URL without that suffix
 *       https://api.example/v1/.well-known/oauth-protected-resource
 *         -> https://api.example/v1
 *   - else the URL itself, as written. */
const char *aj_rsmeta_resource(apr_pool_t *p, const char *url);

/* The metadata document (compact JSON, no final newline):
 *   {"resource": resource, "authorization_servers": [...],
 *    "bearer_methods_supported": ["header"]}
 * authorization_servers (const char *, in order) is left out when NULL or
 * empty; scopes_supported is never sent.  NULL when out of memory. */
const char *aj_rsmeta_document(apr_pool_t *p, const char *resource,
                               const apr_array_header_t *authorization_servers);

#endif /* AJ_RSMETA_H */

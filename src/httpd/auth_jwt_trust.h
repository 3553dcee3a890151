/*
 * auth_jwt_trust.h — the trusted issuers of the configuration
 * (auth_jwt_trust.c, docs/reference.md §11): AuthJWTTrustedIssuer and the
 * server-wide fetch directives, and the registry of issuers whose key sets
 * the server keeps (auth_jwt_issuers.c fetches and shares them).
 */
#ifndef AUTH_JWT_TRUST_H
#define AUTH_JWT_TRUST_H

#include <httpd.h>
#include <http_config.h>

#include "aj_keyset.h"
#include "auth_jwt_fetch.h"

/* Where an issuer's keys come from. */
typedef enum {
    AUTH_JWT_KEYS_FILE = 0, /* file:PATH, read at (re)start */
    AUTH_JWT_KEYS_URL,      /* a JWK Set URL */
    AUTH_JWT_KEYS_DISCOVERY /* ISSUER/.well-known/openid-configuration's jwks_uri */
} auth_jwt_keys_kind_e;

/* One issuer of one virtual host: every section of that host that names it
 * shares this entry, and so one key set. */
typedef struct {
    int index; /* in the registry; the fetched ones also number the shared slots */
    server_rec *s;
    const char *issuer; /* compared exactly with a token's iss */
    unsigned int hash;  /* apr_hashfunc_default of issuer: compared first */
    auth_jwt_keys_kind_e kind;
    const char *url;              /* the JWK Set's, or the discovery document's */
    const aj_keyset_t *file_keys; /* AUTH_JWT_KEYS_FILE */
    /* the server's settings, resolved in post_config */
    apr_int64_t refresh, max_stale;
    auth_jwt_fetch_opts_t fetch;
} auth_jwt_issuer_t;

/* AuthJWTTrustedIssuer ISSUER KEYS (any context): appends to the section's
 * list, a list of its own (inner sections replace the outer one). */
const char *auth_jwt_trust_cmd(cmd_parms *cmd, void *dconf, const char *issuer, const char *keys);
/* AuthJWTKeyRefresh, AuthJWTKeyMaxStale, AuthJWTFetchTimeout (durations)
 * and AuthJWTFetchCA (a file): server config and virtual host. */
const char *auth_jwt_trust_server_cmd(cmd_parms *cmd, void *dconf, const char *arg);

/* pre_config: forgets the registry of the last configuration. */
void auth_jwt_trust_pre_config(apr_pool_t *pconf);
/* post_config: each issuer gets its server's fetch settings (a virtual
 * host's own, else the main server's, else the defaults). */
void auth_jwt_trust_post_config(server_rec *s);
/* Every issuer of the configuration (auth_jwt_issuer_t *), in order. */
const apr_array_header_t *auth_jwt_trust_registry(void);
/* The issuer named iss in a section's list, NULL when none. */
const auth_jwt_issuer_t *auth_jwt_trust_find(const apr_array_header_t *trusted, const char *iss);

#endif /* AUTH_JWT_TRUST_H */

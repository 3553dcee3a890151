/*
 * auth_jwt_config.h — directives, per-directory and per-server configuration,
 * the values in force (auth_jwt_config.c)
 */
#ifndef AUTH_JWT_CONFIG_H
#define AUTH_JWT_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_keyset.h"
#include "aj_password.h"
#include "aj_user.h"
#include "auth_jwt_scope.h"

/* docs/reference.md §3 defaults */
#define AUTH_JWT_DEFAULT_LIFETIME           600
#define AUTH_JWT_DEFAULT_LEEWAY             0
#define AUTH_JWT_DEFAULT_MAX_SESSION_AGE    86400
/* AuthJWTRefreshLifetime 0: no refresh tokens (docs/reference.md §12) */
#define AUTH_JWT_DEFAULT_REFRESH_LIFETIME   0
#define AUTH_JWT_DEFAULT_PASSWORD_MIN       AJ_PASSWORD_MIN_LEN_DEFAULT
#define AUTH_JWT_DEFAULT_REVOCATION_REFRESH 5
#define AUTH_JWT_DEFAULT_VERIFY_CACHE       4096
#define AUTH_JWT_DEFAULT_BASIC_CACHE_TTL    60
/* Upper bounds on numeric directives (sane, and no overflow in exp = now + x) */
#define AUTH_JWT_MAX_SECONDS                (10 * 365 * 86400)
#define AUTH_JWT_MAX_LEEWAY                 3600
#define AUTH_JWT_MAX_REVOCATION_REFRESH     3600
#define AUTH_JWT_MAX_BASIC_CACHE_TTL        86400
#define AUTH_JWT_MAX_VERIFY_CACHE           1000000
#define AUTH_JWT_MAX_PASSWORD_MIN           AJ_PASSWORD_MAX_LEN
#define AUTH_JWT_MAX_AUDIENCES              16
/* Slots of the shared revocation table (32 bytes each: 4 MiB); 3/4 usable. */
#define AUTH_JWT_DEFAULT_REVOCATION_SLOTS   131072
#define AUTH_JWT_MAX_REVOCATION_SLOTS       (1U << 24)

/* docs/reference.md §10: AuthJWTLoginThrottle ATTEMPTS SECONDS, default 10 60. */
#define AUTH_JWT_DEFAULT_THROTTLE_ATTEMPTS 10
#define AUTH_JWT_DEFAULT_THROTTLE_SECONDS  60
#define AUTH_JWT_MAX_THROTTLE_ATTEMPTS     1000
#define AUTH_JWT_MAX_THROTTLE_SECONDS      86400
/* AuthJWTLoginThrottle Off */
#define AUTH_JWT_THROTTLE_OFF              0

#define AUTH_JWT_UNSET (-1)

/* One AuthJWTClaimHeader CLAIM HEADER (docs/reference.md §11). */
typedef struct {
    const char *claim;
    const char *header;
} auth_jwt_claim_header;

/* Per-directory configuration; every field unset (-1/NULL) until a
 * directive sets it, so inner sections override outer ones field by field. */
typedef struct {
    aj_keyset_t *keys; /* signing and verify keys, in directive order */
    const char *issuer;
    const char *resource_metadata; /* AuthJWTResourceMetadata (aj_rsmeta_url_check) */
    apr_array_header_t *audiences; /* const char * */
    apr_int64_t lifetime;
    apr_int64_t leeway;
    apr_int64_t max_session_age;
    apr_int64_t refresh_lifetime;
    apr_int64_t revocation_refresh;
    apr_int64_t basic_cache_ttl;
    apr_int64_t throttle_seconds; /* AuthJWTLoginThrottle, set with throttle_attempts */
    int throttle_attempts;        /* AUTH_JWT_THROTTLE_OFF: Off */
    int renew_with_token;
    int password_login;
    int registration;
    int password_min_len;
    int bcrypt_cost;
    int revocation;
    int verify_cache;
    int claims_to_env;
    const char *cookie;
    const apr_array_header_t *trusted; /* AuthJWTTrustedIssuer: auth_jwt_issuer_t *; NULL: none */
    const char *user_claim;            /* AuthJWTUserClaim; NULL: "name", else "sub" */
    apr_array_header_t *claim_headers; /* auth_jwt_claim_header; a section naming any
                                        * replaces the outer list */
} auth_jwt_dir_conf;


/* Per server (virtual host) configuration. */
typedef struct {
    apr_uint32_t revocation_slots; /* 0: unset (the main server's counts) */
    auth_jwt_scope_t scope;        /* set in post_config (auth_jwt_scope.c) */
    const char *refresh_path;      /* the refresh handler's <Location>, for its cookie
                                    * (post_config, auth_jwt_refresh.c); NULL: none */
    /* trusted issuers' key sets (auth_jwt_trust.c); 0/NULL: unset here */
    apr_int64_t key_refresh;
    apr_int64_t key_max_stale;
    apr_int64_t fetch_timeout;
    const char *fetch_ca;
} auth_jwt_srv_conf;

void *auth_jwt_create_srv_conf(apr_pool_t *p, server_rec *s);
apr_uint32_t auth_jwt_cfg_revocation_slots(server_rec *s);

/* Configuration getters: the value in force, defaults applied. */
const auth_jwt_dir_conf *auth_jwt_dconf(request_rec *r);
apr_int64_t auth_jwt_cfg_lifetime(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_max_session_age(const auth_jwt_dir_conf *c);
/* AuthJWTRefreshLifetime; 0: refresh tokens are off. */
apr_int64_t auth_jwt_cfg_refresh_lifetime(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_renew_with_token(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_password_login(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_registration(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_password_min_len(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_bcrypt_cost(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_claims_to_env(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_revocation(const auth_jwt_dir_conf *c);
int auth_jwt_cfg_verify_cache(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_basic_cache_ttl(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_revocation_refresh(const auth_jwt_dir_conf *c);
/* AuthJWTLoginThrottle: ATTEMPTS (AUTH_JWT_THROTTLE_OFF when Off), SECONDS. */
int auth_jwt_cfg_throttle_attempts(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_throttle_seconds(const auth_jwt_dir_conf *c);
/* The verification policy of this directory (built per request, cheap). */
void auth_jwt_cfg_policy(aj_policy_t *policy, const auth_jwt_dir_conf *c);
/* Writes the key warnings (docs/reference.md §10: readable secret or private key files)
 * noted while the configuration was read to the error log; post_config. */
void auth_jwt_config_log_key_warnings(apr_pool_t *pconf);

extern const command_rec auth_jwt_cmds[];
void *auth_jwt_create_dir_conf(apr_pool_t *p, char *dir);
void *auth_jwt_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

#endif /* AUTH_JWT_CONFIG_H */

/*
 * auth_jwt.h — the httpd glue's private interface (src/auth_jwt_*.c).
 * Only the glue includes httpd headers; the core (aj_*.h) never does.
 */
#ifndef AUTH_JWT_H
#define AUTH_JWT_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_lib.h>
#include <apr_optional.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_keyset.h"
#include "aj_password.h"
#include "aj_revtab.h"
#include "aj_store.h"
#include "aj_throttle.h"

/* Our own stable log tags, one per call site, never reused (STYLE.md). */
#define AJ_LOGNO(n) "AJ" #n ": "

extern module AP_MODULE_DECLARE_DATA auth_jwt_module;
#if defined(APLOG_USE_MODULE) && !defined(AUTH_JWT_MODULE_RECORD)
APLOG_USE_MODULE(auth_jwt);
#endif

/* docs/reference.md §3 defaults */
#define AUTH_JWT_DEFAULT_LIFETIME         600
#define AUTH_JWT_DEFAULT_LEEWAY           0
#define AUTH_JWT_DEFAULT_MAX_SESSION_AGE  86400
#define AUTH_JWT_DEFAULT_PASSWORD_MIN     8
#define AUTH_JWT_DEFAULT_REVOCATION_REFRESH 5
#define AUTH_JWT_DEFAULT_VERIFY_CACHE     4096
#define AUTH_JWT_DEFAULT_BASIC_CACHE_TTL  60
/* Upper bounds on numeric directives (sane, and no overflow in exp = now + x) */
#define AUTH_JWT_MAX_SECONDS              (10 * 365 * 86400)
#define AUTH_JWT_MAX_LEEWAY               3600
#define AUTH_JWT_MAX_REVOCATION_REFRESH   3600
#define AUTH_JWT_MAX_BASIC_CACHE_TTL      86400
#define AUTH_JWT_MAX_VERIFY_CACHE         1000000
#define AUTH_JWT_MAX_PASSWORD_MIN         AJ_PASSWORD_MAX_LEN
#define AUTH_JWT_MAX_AUDIENCES            16
/* Slots of the shared revocation table (32 bytes each: 4 MiB); 3/4 usable. */
#define AUTH_JWT_DEFAULT_REVOCATION_SLOTS 131072
#define AUTH_JWT_MAX_REVOCATION_SLOTS     (1U << 24)

/* docs/reference.md §10: AuthJWTLoginThrottle ATTEMPTS SECONDS, default 10 60. */
#define AUTH_JWT_DEFAULT_THROTTLE_ATTEMPTS 10
#define AUTH_JWT_DEFAULT_THROTTLE_SECONDS 60
#define AUTH_JWT_MAX_THROTTLE_ATTEMPTS    1000
#define AUTH_JWT_MAX_THROTTLE_SECONDS     86400
/* AuthJWTLoginThrottle Off */
#define AUTH_JWT_THROTTLE_OFF             0

#define AUTH_JWT_UNSET                    (-1)

/* Per-directory configuration; every field unset (-1/NULL) until a
 * directive sets it, so inner sections override outer ones field by field. */
typedef struct {
    aj_keyset_t *keys;                 /* signing and verify keys, in directive order */
    const char *issuer;
    apr_array_header_t *audiences;     /* const char * */
    apr_int64_t lifetime;
    apr_int64_t leeway;
    apr_int64_t max_session_age;
    apr_int64_t revocation_refresh;
    apr_int64_t basic_cache_ttl;
    apr_int64_t throttle_seconds;      /* AuthJWTLoginThrottle, set with throttle_attempts */
    int throttle_attempts;             /* AUTH_JWT_THROTTLE_OFF: Off */
    int renew_with_token;
    int password_login;
    int registration;
    int password_min_len;
    int bcrypt_cost;
    int revocation;
    int verify_cache;
    int claims_to_env;
    const char *cookie;
} auth_jwt_dir_conf;

/* docs/reference.md §9: the store a server (virtual host) uses, as every shared
 * structure names it: its id (driver + DBDParams, aj_store_id_make) and its
 * index among the distinct stores of this configuration (0..count-1), the
 * slot of its per-store state in shared memory. */
typedef struct {
    aj_store_id_t id;
    apr_uint32_t index;
    const char *text;           /* aj_store_describe: no password, for log lines */
    const char *sqlite_file;    /* the database file with DBDriver sqlite3, else NULL */
} auth_jwt_scope_t;

/* Per server (virtual host) configuration. */
typedef struct {
    apr_uint32_t revocation_slots;     /* 0: unset (the main server's counts) */
    auth_jwt_scope_t scope;            /* set in post_config (auth_jwt_scope.c) */
} auth_jwt_srv_conf;

void *auth_jwt_create_srv_conf(apr_pool_t *p, server_rec *s);
apr_uint32_t auth_jwt_cfg_revocation_slots(server_rec *s);

/* Configuration getters: the value in force, defaults applied. */
const auth_jwt_dir_conf *auth_jwt_dconf(request_rec *r);
apr_int64_t auth_jwt_cfg_lifetime(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_leeway(const auth_jwt_dir_conf *c);
apr_int64_t auth_jwt_cfg_max_session_age(const auth_jwt_dir_conf *c);
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

/* ---- which store each server uses (auth_jwt_scope.c) --------------------- */

/* Reads every server's DBDriver/DBDParams from the configuration tree (as
 * mod_dbd merges them: a virtual host without its own inherits the main
 * server's) and gives each server its scope.  Returns the number of
 * distinct stores (at least 1). */
apr_uint32_t auth_jwt_scope_post_config(apr_pool_t *ptemp, server_rec *s);
/* The DBDriver text in force for the server a <VirtualHost> node of the
 * configuration tree defines (NULL: the main server), read as mod_dbd
 * merges it; NULL when none.  Usable as soon as the tree is read. */
const char *auth_jwt_scope_driver(const ap_directive_t *vhost);
/* The scope of the store this server's requests use. */
const auth_jwt_scope_t *auth_jwt_scope(const server_rec *s);
/* This server's store as log lines name it: "sqlite3 database FILE" or
 * "pgsql connection '...'" without any password (aj_store_describe). */
const char *auth_jwt_scope_store_text(const server_rec *s);
/* The number of distinct stores (as the last post_config found). */
apr_uint32_t auth_jwt_scope_count(void);

/* ---- store access through mod_dbd (auth_jwt_dbd.c) ---------------------- */

/* Resolves mod_dbd's optional functions; non-zero when mod_dbd is loaded. */
int auth_jwt_dbd_init(void);
/* The store on this request's mod_dbd connection (schema and statements
 * ready), or NULL after logging one tagged line; the caller answers 503. */
aj_store_t *auth_jwt_store(request_rec *r);
/* Logs a failed store operation once, tagged, and resets the store (below);
 * the caller answers 503. */
void auth_jwt_store_failed(request_rec *r, aj_store_t *st, const char *what, apr_status_t rv);
/* After a failed operation: the connection's next request prepares a fresh
 * store (st stays usable until this request ends). */
void auth_jwt_store_reset(request_rec *r, aj_store_t *st);

/* ---- authentication (auth_jwt_authn.c) ---------------------------------- */

/* The AuthType this module answers (compared without regard to case). */
#define AUTH_JWT_AUTH_TYPE "JWT"

/* How the request authenticated; kept in r->request_config. */
typedef enum {
    AUTH_JWT_VIA_NONE = 0,
    AUTH_JWT_VIA_TOKEN,
    AUTH_JWT_VIA_PASSWORD
} auth_jwt_via_e;

typedef struct {
    auth_jwt_via_e via;
    const aj_claims_t *claims;         /* via token */
    const aj_user_t *user;             /* via password */
    const char *username;              /* what r->user becomes */
} auth_jwt_req_t;

const auth_jwt_req_t *auth_jwt_req_get(request_rec *r);

/* Adds the challenges of a 401 to r->err_headers_out: WWW-Authenticate
 * Bearer (with RFC 6750 error="invalid_token" and the verdict's text when a
 * token was refused, i.e. refused != AJ_OK) and, while password login is
 * on, Basic.  The realm is the AuthName, else the ServerName (a handler
 * such as auth-jwt-login needs no AuthName). */
void auth_jwt_challenge(request_rec *r, aj_verdict_e refused);

void auth_jwt_authn_register(apr_pool_t *p);
/* Creates this child's verified-token cache (AuthJWTVerifyCache). */
void auth_jwt_vcache_child_init(apr_pool_t *p, server_rec *s);

/* Verifies a token with this directory's keys, policy and the revocation
 * table.  Returns OK with *verdict (on AJ_OK *claims is set; any other
 * verdict is logged at info, jti/sub only), or HTTP_SERVICE_UNAVAILABLE
 * when revocations cannot be known. */
int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len);

/* The claims a password login stands for: sub, name and the user's stored
 * claims (reserved names excluded).  Built with their JSON text, so they
 * can be packed (aj_claims_pack). */
const aj_claims_t *auth_jwt_user_claims(request_rec *r, const aj_user_t *user);

/* Checks username/password against the store, under the login throttle.
 * Returns OK (with *user), HTTP_UNAUTHORIZED (unknown user or wrong
 * password: same answer and time either way, audit line logged),
 * HTTP_TOO_MANY_REQUESTS (throttled, nothing checked; Retry-After is set in
 * r->err_headers_out) or HTTP_SERVICE_UNAVAILABLE (store failure, logged). */
int auth_jwt_check_password(const aj_user_t **user, request_rec *r,
                            const auth_jwt_dir_conf *c, const char *username,
                            const char *password);

/* Checks the password of a user already known (the old password of
 * auth-jwt-password) with the login throttle and the failed-check floor.
 * OK; HTTP_UNAUTHORIZED (wrong, logged); HTTP_TOO_MANY_REQUESTS (throttled:
 * Retry-After is set). */
int auth_jwt_check_user_password(request_rec *r, const auth_jwt_dir_conf *c,
                                 const aj_user_t *user, const char *password);

/* ---- login throttle and failed-check timing (auth_jwt_throttle.c) ------- */

int auth_jwt_throttle_pre_config(apr_pool_t *pconf);
int auth_jwt_throttle_post_config(apr_pool_t *pconf, server_rec *s);
void auth_jwt_throttle_child_init(apr_pool_t *p, server_rec *s);

/* One password check as the throttle sees it (on the caller's stack). */
typedef struct {
    aj_throttle_keys_t keys;        /* valid when counted */
    aj_throttle_state_t state;      /* what the check before found */
    const char *username;           /* as sent (audit lines escape it) */
    int counted;                    /* the throttle is on for this check */
} auth_jwt_throttle_t;

/* Before a password check (before the Basic cache and bcrypt): 0 to go on,
 * else the seconds the client must wait (the check is refused without any
 * work; logged at info). */
apr_int64_t auth_jwt_throttle_check(auth_jwt_throttle_t *th, request_rec *r,
                                    const auth_jwt_dir_conf *c, const char *username);
/* A refused check: its audit line (error, tag AJ200), one failure on both
 * counters, and a line (error, AJ201/AJ202) for a counter that reached its
 * limit.  why: "unknown user", "wrong password", ... */
void auth_jwt_throttle_refused(auth_jwt_throttle_t *th, request_rec *r,
                               const auth_jwt_dir_conf *c, const char *why);
/* A successful check: clears its (username, address) counter. */
void auth_jwt_throttle_passed(auth_jwt_throttle_t *th, request_rec *r);

/* Equal time for every failed check (docs/reference.md §10).  Before hashing: the
 * highest bcrypt cost among the store's hashes (queried once per store
 * after a start; learnt from every hash checked), kept in shared memory. */
void auth_jwt_pace_learn_store(request_rec *r, aj_store_t *st);
void auth_jwt_pace_learn_hash(request_rec *r, const char *hash);
/* A bcrypt run of this child at cost that took `took`. */
void auth_jwt_pace_sample(int cost, apr_interval_time_t took);
/* A failed check whose hashing started at `started`: sleeps (wall time,
 * no CPU) until one bcrypt at the highest cost in play would have ended. */
void auth_jwt_pace_pad(request_rec *r, const auth_jwt_dir_conf *c, apr_time_t started);

/* ---- authorization (auth_jwt_authz.c) ----------------------------------- */
void auth_jwt_authz_register(apr_pool_t *p);

/* ---- revocation (auth_jwt_revoke.c) ------------------------------------ */

int auth_jwt_revoke_pre_config(apr_pool_t *pconf);
int auth_jwt_revoke_post_config(apr_pool_t *pconf, server_rec *s, apr_uint32_t slots);
void auth_jwt_revoke_child_init(apr_pool_t *p, server_rec *s);

/* A token's keys in the revocation table (a SHA-256 each, under the store
 * of the request's server), computed once per verified token and kept with
 * it in the verified-token cache. */
typedef struct {
    aj_revtab_key_t jti;        /* valid when has_jti */
    aj_revtab_key_t user;       /* of sub; valid when has_user */
    apr_uint32_t has_jti;
    apr_uint32_t has_user;
    apr_uint32_t store;         /* the scope index the keys were made for */
    apr_uint32_t reserved;
} auth_jwt_revkeys;

/* The keys of the token's jti and sub claims under the request's store; an
 * error status when one could not be computed (nothing may then be
 * trusted). */
apr_status_t auth_jwt_revkeys_make(auth_jwt_revkeys *keys, request_rec *r,
                                   const aj_claims_t *claims);

/* The hot-path check of a verified token (no database unless the table
 * cannot answer for this store).  keys: the token's revocation keys, or
 * NULL to compute them.  OK with *verdict AJ_OK or AJ_REVOKED, or
 * HTTP_SERVICE_UNAVAILABLE while revocations cannot be known. */
int auth_jwt_revoke_check(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                          const aj_claims_t *claims, const auth_jwt_revkeys *keys);
/* Records a logout: the store first (its failure is logged and returned),
 * then the shared table. */
apr_status_t auth_jwt_revoke_token(request_rec *r, aj_store_t *st, const char *jti,
                                   apr_int64_t exp);
/* The tokens_valid_after value that revokes every token issued so far. */
apr_int64_t auth_jwt_revoke_all_value(request_rec *r);
/* Puts a revoke-all already written to the store into the shared table. */
void auth_jwt_revoke_user_recorded(request_rec *r, apr_int64_t id, apr_int64_t valid_after);

/* The table's occupied slots and the entries it takes (0, 0 without it). */
void auth_jwt_revoke_fill(apr_uint64_t *entries, apr_uint64_t *capacity);

/* A user's keys in the revocation table: revoke-all and last change, under
 * the store of the request's server. */
typedef struct {
    aj_revtab_key_t user;
    aj_revtab_key_t changed;
    apr_uint32_t store;
    apr_uint32_t reserved;
} auth_jwt_userkeys;

apr_status_t auth_jwt_userkeys_make(auth_jwt_userkeys *keys, request_rec *r, apr_int64_t id);

/* What the revocation table knows of a user: *valid_after (tokens issued
 * before it are revoked; 0: none) and *stamp (the latest of valid_after and
 * the last password or claims change: anything cached before it is void).
 * 1 when known; 0 when revocations are on but the table cannot answer for
 * this store (then both are APR_INT64_MAX: nothing cached may be trusted). */
int auth_jwt_revoke_user_state(apr_int64_t *valid_after, apr_int64_t *stamp, request_rec *r,
                               const auth_jwt_dir_conf *c, const auth_jwt_userkeys *keys);

/* ---- the Basic credential cache (auth_jwt_bcache.c) --------------------- */

int auth_jwt_bcache_pre_config(apr_pool_t *pconf);
int auth_jwt_bcache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void auth_jwt_bcache_child_init(apr_pool_t *p, server_rec *s);
/* Creates this child's copy of recent verdicts (in front of shmcb). */
void auth_jwt_bcache_child_init_local(apr_pool_t *p, server_rec *s);
/* A cached successful check of username/password: 0 when none; 1 with
 * *user, and with *claims when the claims were cached too (else NULL: build
 * them); 2 the same, but the entry is near its end and this request should
 * check the password against the store again (falling back to *user when
 * the store cannot answer). */
int auth_jwt_bcache_get(const aj_user_t **user, const aj_claims_t **claims, request_rec *r,
                        const auth_jwt_dir_conf *c, const char *username,
                        const char *password);
/* Remembers a successful check for AuthJWTBasicCacheTTL seconds. */
void auth_jwt_bcache_put(request_rec *r, const auth_jwt_dir_conf *c, const char *password,
                         const aj_user_t *user);

/* ---- handlers (auth_jwt_handlers.c) ------------------------------------- */
int auth_jwt_handler(request_rec *r);

/* ---- the JWK Set (auth_jwt_jwks.c) -------------------------------------- */
/* SetHandler auth-jwt-jwks: GET/HEAD the public keys as an RFC 7517 JWK Set. */
int auth_jwt_jwks_handler(request_rec *r);

/* ---- issuing (auth_jwt_issue.c) ----------------------------------------- */

/* Signs a token for user (extra claims from the store row).  auth_time is
 * kept from a renewed token, else now.  With AuthJWTCookie the token carries
 * a random csrf claim, returned in *csrf (else *csrf is NULL).  Logs and returns an error status
 * when no signing key is configured or signing fails. */
apr_status_t auth_jwt_issue(const char **token, apr_int64_t *expires_in, const char **csrf,
                            request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                            apr_int64_t auth_time);

#endif /* AUTH_JWT_H */

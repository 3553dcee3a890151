/*
 * auth_jwt_directives.c — the directives (docs/reference.md §3, §11, §12):
 * their table and setters, which check every value while the
 * configuration is read, so `apachectl configtest` reports a mistake with
 * the line that makes it.  Keys are read and checked here (as root, once
 * per start/restart), and no request ever touches a key file.  Merging
 * and the values in force: auth_jwt_config.c.
 */
#include <errno.h>
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include <apr_lib.h>

#include "auth_jwt_directives.h"
#include "auth_jwt_config.h"
#include "mod_auth_jwt.h"
#include "aj_duration.h"
#include "aj_claims.h"
#include "aj_key.h"
#include "aj_password.h"
#include "aj_alg.h"
#include "aj_keyset.h"
#include "auth_jwt_trust.h"
#include "aj_expose.h"
#include "aj_rsmeta.h"

/* ---- setters ------------------------------------------------------------ */

/* docs/reference.md §10 key warnings (aj_key_warning) found while the configuration is
 * read.  `apachectl configtest` shows them at once (the error log is not
 * open then, so they go to stderr); otherwise they are kept in pconf until
 * auth_jwt_directives_log_key_warnings() writes them to the error log from
 * post_config, once per start or restart. */
#define AUTH_JWT_KEY_WARNINGS "auth_jwt_key_warnings"

typedef struct {
    server_rec *s;
    const char *text;
} auth_jwt_key_warning;

static void note_key_warning(cmd_parms *cmd, const char *warning)
{
    apr_array_header_t *list = NULL;
    auth_jwt_key_warning *w;

    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, AJ_LOGNO(302) "%s: %s",
                     cmd->cmd->name, warning);
        return;
    }
    apr_pool_userdata_get((void **)&list, AUTH_JWT_KEY_WARNINGS, cmd->pool);
    if (!list) {
        list = apr_array_make(cmd->pool, 1, sizeof(auth_jwt_key_warning));
        apr_pool_userdata_setn(list, AUTH_JWT_KEY_WARNINGS, NULL, cmd->pool);
    }
    w = &APR_ARRAY_PUSH(list, auth_jwt_key_warning);
    w->s = cmd->server;
    w->text = apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", warning, NULL);
}

void auth_jwt_directives_log_key_warnings(apr_pool_t *pconf)
{
    apr_array_header_t *list = NULL;
    int i;

    apr_pool_userdata_get((void **)&list, AUTH_JWT_KEY_WARNINGS, pconf);
    for (i = 0; list && i < list->nelts; ++i) {
        const auth_jwt_key_warning *w = &APR_ARRAY_IDX(list, i, auth_jwt_key_warning);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s, AJ_LOGNO(303) "%s", w->text);
    }
}

static const char *set_key(cmd_parms *cmd, void *dconf, const char *alg_name, const char *source,
                           const char *kid_arg, int for_signing)
{
    auth_jwt_dir_conf *c = dconf;
    const char *kid = NULL, *err = NULL;
    aj_key_t *key = NULL;
    aj_alg_e alg;

    alg = aj_alg_from_name(alg_name, strlen(alg_name));
    if (alg == AJ_ALG_UNKNOWN) {
        return apr_psprintf(cmd->pool,
                            "%s: unknown algorithm '%s' (use HS256, HS384, HS512, "
                            "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 "
                            "or EdDSA)",
                            cmd->cmd->name, alg_name);
    }
    if (kid_arg) {
        if (strncmp(kid_arg, "kid=", 4) || !kid_arg[4]) {
            return apr_psprintf(cmd->pool, "%s: third argument must be kid=ID, not '%s'",
                                cmd->cmd->name, kid_arg);
        }
        kid = kid_arg + 4;
    }
    if (for_signing && !ap_find_linked_module("mod_dbd.c")) {
        return apr_psprintf(cmd->pool,
                            "%s: the handlers that issue tokens need the user "
                            "store: load mod_dbd (LoadModule dbd_module) before this line "
                            "and configure DBDriver/DBDParams",
                            cmd->cmd->name);
    }
    if (!strncmp(source, "file:", 5)) {
        const char *path = ap_server_root_relative(cmd->pool, source + 5);
        if (!path || !source[5]) {
            return apr_psprintf(cmd->pool, "%s: invalid key file path '%s'", cmd->cmd->name,
                                source + 5);
        }
        source = apr_pstrcat(cmd->pool, "file:", path, NULL);
    }
    else if (strncmp(source, "env:", 4)) {
        return apr_psprintf(cmd->pool, "%s: SOURCE must be file:PATH or env:VAR, not '%s'",
                            cmd->cmd->name, source);
    }
    if (aj_key_load(&key, &err, cmd->pool, alg, source, for_signing, kid) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err ? err : "cannot load the key");
    }
    /* The kid rule holds within the set in force for a section.  A section
     * that names any key replaces the outer set as a whole (see the merge
     * above), so that set is exactly the keys named in this section, all
     * added here: checking against c->keys is the whole rule. */
    if (aj_keyset_check_kid(&err, cmd->pool, c->keys, key) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    if (aj_key_warning(key)) {
        note_key_warning(cmd, aj_key_warning(key)); /* a warning, not an error */
    }
    if (!c->keys) {
        c->keys = aj_keyset_make(cmd->pool);
    }
    aj_keyset_add(c->keys, key);
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *dconf, const char *alg, const char *source,
                                   const char *kid)
{
    return set_key(cmd, dconf, alg, source, kid, 1);
}

static const char *set_verify_key(cmd_parms *cmd, void *dconf, const char *alg, const char *source,
                                  const char *kid)
{
    return set_key(cmd, dconf, alg, source, kid, 0);
}

static const char *set_issuer(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_dir_conf *c = dconf;

    if (!*arg) {
        return "AuthJWTIssuer: the issuer must not be empty";
    }
    c->issuer = arg;
    return NULL;
}

/* AuthJWTResourceMetadata URL (docs/reference.md §11): it goes unescaped
 * into resource_metadata="URL" of the challenges, so only what may (RFC
 * 9728, aj_rsmeta_url_check). */
static const char *set_resource_metadata(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_dir_conf *c = dconf;
    const char *err = NULL;

    if (aj_rsmeta_url_check(&err, arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s, not '%s'", cmd->cmd->name, err,
                            ap_escape_logitem(cmd->pool, arg));
    }
    c->resource_metadata = arg;
    return NULL;
}

static const char *add_audience(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_dir_conf *c = dconf;

    if (!*arg) {
        return "AuthJWTAudience: an audience must not be empty";
    }
    if (!c->audiences) {
        c->audiences = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    if (c->audiences->nelts >= AUTH_JWT_MAX_AUDIENCES) {
        return "AuthJWTAudience: at most 16 audiences";
    }
    APR_ARRAY_PUSH(c->audiences, const char *) = arg;
    return NULL;
}

/* Parses a decimal integer in [min, max]; the message names the directive. */
static const char *parse_range(apr_int64_t *out, cmd_parms *cmd, const char *arg, apr_int64_t min,
                               apr_int64_t max, const char *what)
{
    char *end = NULL;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || errno || !end || *end || v < min || v > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not %s from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT,
                            cmd->cmd->name, arg, what, min, max);
    }
    *out = v;
    return NULL;
}

/* One setter for every numeric directive: cmd->info is the field offset;
 * the range comes from the table below.  Every field in seconds is an
 * apr_int64_t parsed as a duration. */
typedef enum {
    AUTH_JWT_NUM_INT,    /* int field, a plain decimal number */
    AUTH_JWT_NUM_SECONDS /* apr_int64_t field, a duration */
} auth_jwt_num_kind;

typedef struct {
    const char *name;
    apr_int64_t min, max;
    auth_jwt_num_kind kind;
    const char *what; /* for AUTH_JWT_NUM_INT messages */
} auth_jwt_num_spec;

static const auth_jwt_num_spec auth_jwt_num_specs[] = {
    { "AuthJWTTokenLifetime", 1, AUTH_JWT_MAX_SECONDS, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTLeeway", 0, AUTH_JWT_MAX_LEEWAY, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTMaxSessionAge", 1, AUTH_JWT_MAX_SECONDS, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTRefreshLifetime", 0, AUTH_JWT_MAX_SECONDS, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTRevocationRefresh", 1, AUTH_JWT_MAX_REVOCATION_REFRESH, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTBasicCacheTTL", 0, AUTH_JWT_MAX_BASIC_CACHE_TTL, AUTH_JWT_NUM_SECONDS, NULL },
    { "AuthJWTPasswordMinLength", 1, AUTH_JWT_MAX_PASSWORD_MIN, AUTH_JWT_NUM_INT, "a length" },
    { "AuthJWTBcryptCost", AJ_BCRYPT_COST_MIN, AJ_BCRYPT_COST_MAX, AUTH_JWT_NUM_INT,
      "a bcrypt cost" },
    { "AuthJWTVerifyCache", 0, AUTH_JWT_MAX_VERIFY_CACHE, AUTH_JWT_NUM_INT, "a number of entries" },
};

static const char *set_number(cmd_parms *cmd, void *dconf, const char *arg)
{
    const auth_jwt_num_spec *spec = NULL;
    apr_size_t i;
    apr_int64_t v = 0;
    const char *err;
    char *field = (char *)dconf + (apr_size_t)cmd->info;

    for (i = 0; i < sizeof(auth_jwt_num_specs) / sizeof(auth_jwt_num_specs[0]); ++i) {
        if (!strcasecmp(auth_jwt_num_specs[i].name, cmd->cmd->name)) {
            spec = &auth_jwt_num_specs[i];
        }
    }
    if (!spec) {
        return "mod_auth_jwt: internal error: no range for this directive";
    }
    if (spec->kind == AUTH_JWT_NUM_SECONDS) {
        err = aj_duration_in_range(&v, cmd->pool, cmd->cmd->name, arg, spec->min, spec->max);
        if (!err) {
            *(apr_int64_t *)field = v;
        }
        return err;
    }
    err = parse_range(&v, cmd, arg, spec->min, spec->max, spec->what);
    if (!err) {
        *(int *)field = (int)v;
    }
    return err;
}

static const char *set_flag(cmd_parms *cmd, void *dconf, int on)
{
    *(int *)((char *)dconf + (apr_size_t)cmd->info) = on ? 1 : 0;
    return NULL;
}

static const char *set_cookie(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_dir_conf *c = dconf;
    const char *s;

    /* RFC 6265 cookie-name is an HTTP token */
    for (s = arg; *s; ++s) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            return "AuthJWTCookie: the cookie name must be an HTTP token (letters, digits, "
                   "!#$%&'*+-.^_`|~)";
        }
    }
    if (!*arg) {
        return "AuthJWTCookie: the cookie name must not be empty";
    }
    c->cookie = arg;
    return NULL;
}

static const char *set_user_claim(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!*arg) {
        return "AuthJWTUserClaim: the claim name must not be empty";
    }
    ((auth_jwt_dir_conf *)dconf)->user_claim = arg;
    return NULL;
}

/* AuthJWTClaimHeader CLAIM HEADER (docs/reference.md §11) */
static const char *add_claim_header(cmd_parms *cmd, void *dconf, const char *claim,
                                    const char *header)
{
    auth_jwt_dir_conf *c = dconf;
    const char *problem = aj_expose_header_problem(header);
    auth_jwt_claim_header *h;
    int i;

    if (!*claim) {
        return "AuthJWTClaimHeader: the claim name must not be empty";
    }
    if (problem) {
        return apr_psprintf(cmd->pool, "AuthJWTClaimHeader: '%s': %s", header, problem);
    }
    for (i = 0; c->claim_headers && i < c->claim_headers->nelts; ++i) {
        h = &APR_ARRAY_IDX(c->claim_headers, i, auth_jwt_claim_header);
        if (aj_expose_header_same(h->header, header)) {
            return apr_psprintf(cmd->pool,
                                "AuthJWTClaimHeader: '%s' already carries the claim '%s' here",
                                header, h->claim);
        }
    }
    if (!c->claim_headers) {
        c->claim_headers = apr_array_make(cmd->pool, 2, sizeof(auth_jwt_claim_header));
    }
    h = &APR_ARRAY_PUSH(c->claim_headers, auth_jwt_claim_header);
    h->claim = claim;
    h->header = header;
    return NULL;
}

static const char *set_revocation_slots(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_srv_conf *sc = ap_get_module_config(cmd->server->module_config, &auth_jwt_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t v = 0;

    if (err) {
        return err;
    }
    err = parse_range(&v, cmd, arg, 64, AUTH_JWT_MAX_REVOCATION_SLOTS, "a number of entries");
    if (err) {
        return err;
    }
    sc->revocation_slots = (apr_uint32_t)v;
    return NULL;
}

/* AuthJWTLoginThrottle ATTEMPTS SECONDS | Off */
static const char *set_login_throttle(cmd_parms *cmd, void *dconf, const char *a1, const char *a2)
{
    auth_jwt_dir_conf *c = dconf;
    apr_int64_t attempts = 0, seconds = 0;
    const char *err;

    if (!a2) {
        if (strcasecmp(a1, "Off")) {
            return "AuthJWTLoginThrottle: use ATTEMPTS SECONDS (e.g. 10 60 or 10 1m) or Off";
        }
        c->throttle_attempts = AUTH_JWT_THROTTLE_OFF;
        c->throttle_seconds = AUTH_JWT_DEFAULT_THROTTLE_SECONDS;
        return NULL;
    }
    err =
        parse_range(&attempts, cmd, a1, 1, AUTH_JWT_MAX_THROTTLE_ATTEMPTS, "a number of attempts");
    if (!err) {
        err = aj_duration_in_range(&seconds, cmd->pool, cmd->cmd->name, a2, 1,
                                   AUTH_JWT_MAX_THROTTLE_SECONDS);
    }
    if (err) {
        return err;
    }
    c->throttle_attempts = (int)attempts;
    c->throttle_seconds = seconds;
    return NULL;
}

#define AUTH_JWT_CTX (RSRC_CONF | ACCESS_CONF)
#define OFF(f)       ((void *)APR_OFFSETOF(auth_jwt_dir_conf, f))
/* One row per kind of per-directory directive: the setter finds its field
 * at cmd->info (as httpd's ap_set_int_slot does) and, for a number, its
 * range in auth_jwt_num_specs. */
#define AUTH_JWT_NUMBER(name, field, help) \
    AP_INIT_TAKE1(name, set_number, OFF(field), AUTH_JWT_CTX, help)
#define AUTH_JWT_FLAG(name, field, help) \
    AP_INIT_FLAG(name, set_flag, OFF(field), AUTH_JWT_CTX, help)

const command_rec auth_jwt_cmds[] = {
    AP_INIT_TAKE23("AuthJWTSigningKey", set_signing_key, NULL, AUTH_JWT_CTX,
                   "ALG file:PATH|env:VAR [kid=ID] - key that signs issued tokens (and verifies)"),
    AP_INIT_TAKE23("AuthJWTVerifyKey", set_verify_key, NULL, AUTH_JWT_CTX,
                   "ALG file:PATH|env:VAR [kid=ID] - verify-only key"),
    AP_INIT_TAKE1("AuthJWTIssuer", set_issuer, NULL, AUTH_JWT_CTX,
                  "iss of issued tokens, required on verification"),
    AP_INIT_ITERATE("AuthJWTAudience", add_audience, NULL, AUTH_JWT_CTX,
                    "aud of issued tokens; a token must carry one of them"),
    AP_INIT_TAKE1("AuthJWTResourceMetadata", set_resource_metadata, NULL, AUTH_JWT_CTX,
                  "URL of the RFC 9728 resource metadata, named in every Bearer challenge"),
    AUTH_JWT_NUMBER("AuthJWTTokenLifetime", lifetime,
                    "lifetime of issued tokens, a duration (600, 10m, 1h, 14d; default 600)"),
    AUTH_JWT_NUMBER("AuthJWTLeeway", leeway,
                    "clock skew allowed for exp/nbf/iat, a duration (default 0)"),
    AUTH_JWT_FLAG("AuthJWTRenewWithToken", renew_with_token,
                  "On|Off - a valid token may obtain a fresh one (default On)"),
    AUTH_JWT_NUMBER("AuthJWTMaxSessionAge", max_session_age,
                    "duration after the password login when renewals stop (default 86400, 1d)"),
    AUTH_JWT_NUMBER("AuthJWTRefreshLifetime", refresh_lifetime,
                    "lifetime of refresh tokens from password logins, a duration; 0 = none "
                    "(default 0)"),
    AUTH_JWT_FLAG("AuthJWTPasswordLogin", password_login,
                  "On|Off - accept username/password (default On)"),
    AUTH_JWT_FLAG("AuthJWTRegistration", registration,
                  "On|Off - POST to auth-jwt-users creates users (default Off)"),
    AUTH_JWT_NUMBER("AuthJWTPasswordMinLength", password_min_len,
                    "minimum password length (default 8)"),
    AUTH_JWT_NUMBER("AuthJWTBcryptCost", bcrypt_cost,
                    "bcrypt cost for new hashes, 4-17 (default 10)"),
    AUTH_JWT_FLAG("AuthJWTRevocation", revocation, "On|Off - check revoked tokens (default On)"),
    AUTH_JWT_NUMBER("AuthJWTRevocationRefresh", revocation_refresh,
                    "duration another node's revocations may take (default 5)"),
    AP_INIT_TAKE1("AuthJWTRevocationCacheSize", set_revocation_slots, NULL, RSRC_CONF,
                  "slots of the shared revocation table, server-wide (default 131072)"),
    AUTH_JWT_NUMBER("AuthJWTVerifyCache", verify_cache,
                    "verified tokens kept per process; 0 = off"),
    AUTH_JWT_NUMBER("AuthJWTBasicCacheTTL", basic_cache_ttl,
                    "duration a successful password check is cached; 0 = off (default 60)"),
    AP_INIT_TAKE12("AuthJWTLoginThrottle", set_login_throttle, NULL, AUTH_JWT_CTX,
                   "ATTEMPTS SECONDS | Off - failed password checks allowed per username and "
                   "client address (10x per address) within SECONDS (default 10 60)"),
    AP_INIT_TAKE1("AuthJWTCookie", set_cookie, NULL, AUTH_JWT_CTX,
                  "also accept the token from this cookie"),
    AUTH_JWT_FLAG("AuthJWTClaimsToEnv", claims_to_env, "On|Off - export JWT_CLAIM_* (default On)"),
    AP_INIT_TAKE2(
        "AuthJWTTrustedIssuer", auth_jwt_trust_cmd, NULL, AUTH_JWT_CTX,
        "ISSUER discovery|URL|file:PATH - verify ISSUER's tokens with its published keys"),
    AP_INIT_TAKE1("AuthJWTKeyRefresh", auth_jwt_trust_server_cmd, NULL, RSRC_CONF,
                  "how often fetched key sets are refreshed, a duration (default 3600, 1h)"),
    AP_INIT_TAKE1("AuthJWTKeyMaxStale", auth_jwt_trust_server_cmd, NULL, RSRC_CONF,
                  "how long the last good key set serves while fetching fails (default 1d)"),
    AP_INIT_TAKE1("AuthJWTFetchTimeout", auth_jwt_trust_server_cmd, NULL, RSRC_CONF,
                  "connect + transfer limit of one key set fetch, a duration (default 5)"),
    AP_INIT_TAKE1("AuthJWTFetchCA", auth_jwt_trust_server_cmd, NULL, RSRC_CONF,
                  "CA bundle file for fetching key sets (default: the system's)"),
    AP_INIT_TAKE1("AuthJWTUserClaim", set_user_claim, NULL, AUTH_JWT_CTX,
                  "the token claim that names the user (default name, else sub)"),
    AP_INIT_TAKE2("AuthJWTClaimHeader", add_claim_header, NULL, AUTH_JWT_CTX,
                  "CLAIM HEADER - the request header HEADER carries the token's claim; any "
                  "client-sent HEADER is removed"),
    { NULL }
};

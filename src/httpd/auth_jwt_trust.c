/*
 * auth_jwt_trust.c — AuthJWTTrustedIssuer and the fetch directives
 * (docs/reference.md §11), and the registry of trusted issuers.
 *
 * The registry lists each (virtual host, issuer) once, however many
 * sections of that host name the issuer: they share one key set.  It is
 * built while httpd reads the configuration (in pconf, so a restart builds
 * it afresh) and numbers the issuers; the fetched ones are kept in shared
 * memory slots of the same numbers (auth_jwt_issuers.c).  A file: set is
 * read here, at (re)start, so a bad file fails `apachectl configtest`; a
 * URL is only checked here: configtest never touches the network.
 */
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "auth_jwt_trust.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "aj_duration.h"
#include "aj_issuer.h"

/* docs/reference.md §11 defaults and bounds (seconds) */
#define AUTH_JWT_KEY_REFRESH_DEFAULT   3600
#define AUTH_JWT_KEY_MAX_STALE_DEFAULT 86400
#define AUTH_JWT_FETCH_TIMEOUT_DEFAULT 5
#define AUTH_JWT_FETCH_TIMEOUT_MAX     300
/* An issuer is an identifier of at most this many bytes (an URL in practice). */
#define AUTH_JWT_ISSUER_MAX            AJ_ISSUER_URL_MAX
/* The KEYS word that asks for OpenID Connect discovery. */
#define AUTH_JWT_KEYS_DISCOVERY_WORD   "discovery"
#define AUTH_JWT_KEYS_FILE_PREFIX      "file:"

static apr_array_header_t *auth_jwt_registry; /* auth_jwt_issuer_t * */

void auth_jwt_trust_pre_config(apr_pool_t *pconf)
{
    auth_jwt_registry = apr_array_make(pconf, 4, sizeof(auth_jwt_issuer_t *));
}

const apr_array_header_t *auth_jwt_trust_registry(void)
{
    return auth_jwt_registry;
}

/* Reads a JWK Set file (at most AJ_ISSUER_DOC_MAX bytes) into a key set;
 * NULL, or the directive's error. */
static const char *auth_jwt_trust_read_file(const aj_keyset_t **ks, cmd_parms *cmd,
                                            const char *issuer, const char *path)
{
    apr_array_header_t *skipped = NULL;
    const char *err = NULL;
    aj_keyset_t *set = NULL;
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n = 0;
    char *buf;
    int i;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, cmd->temp_pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "AuthJWTTrustedIssuer %s: cannot read %s", issuer, path);
    }
    if (fi.size > AJ_ISSUER_DOC_MAX) {
        return apr_psprintf(cmd->pool, "AuthJWTTrustedIssuer %s: %s is larger than 1 MiB", issuer,
                            path);
    }
    buf = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    if (fi.size && apr_file_read_full(f, buf, (apr_size_t)fi.size, &n) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "AuthJWTTrustedIssuer %s: cannot read %s", issuer, path);
    }
    apr_file_close(f);
    buf[n] = '\0';
    /* a file is the operator's own: HMAC ("oct") keys are allowed here */
    if (aj_issuer_keyset(&set, &skipped, &err, cmd->pool, buf, n, 1) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "AuthJWTTrustedIssuer %s: %s is not a usable JWK Set: %s",
                            issuer, path, err);
    }
    for (i = 0; skipped && i < skipped->nelts; ++i) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     AJ_LOGNO(080) "AuthJWTTrustedIssuer %s: %s: a key is skipped: %s", issuer,
                     path, APR_ARRAY_IDX(skipped, i, const char *));
    }
    *ks = set;
    return NULL;
}

/* The registry's entry for (server, issuer), a new one when none; the
 * directive's error when the issuer is named with other keys. */
static unsigned int auth_jwt_trust_hash(const char *issuer)
{
    apr_ssize_t len = APR_HASH_KEY_STRING;

    return apr_hashfunc_default(issuer, &len);
}

static const char *auth_jwt_trust_register(auth_jwt_issuer_t **out, cmd_parms *cmd,
                                           const auth_jwt_issuer_t *want)
{
    auth_jwt_issuer_t *e;
    int i;

    for (i = 0; i < auth_jwt_registry->nelts; ++i) {
        e = APR_ARRAY_IDX(auth_jwt_registry, i, auth_jwt_issuer_t *);
        if (e->s != cmd->server || strcmp(e->issuer, want->issuer)) {
            continue;
        }
        if (e->kind != want->kind || strcmp(e->url ? e->url : "", want->url ? want->url : "")) {
            return apr_psprintf(cmd->pool,
                                "AuthJWTTrustedIssuer %s: this server names it already with "
                                "other keys; one issuer has one key set per virtual host",
                                want->issuer);
        }
        *out = e;
        return NULL;
    }
    e = apr_pmemdup(cmd->pool, want, sizeof(*want));
    e->index = auth_jwt_registry->nelts;
    e->s = cmd->server;
    APR_ARRAY_PUSH(auth_jwt_registry, auth_jwt_issuer_t *) = e;
    *out = e;
    return NULL;
}

const char *auth_jwt_trust_cmd(cmd_parms *cmd, void *dconf, const char *issuer, const char *keys)
{
    auth_jwt_dir_conf *c = dconf;
    auth_jwt_issuer_t want, *e = NULL;
    apr_array_header_t *list;
    const char *err = NULL, *s;

    memset(&want, 0, sizeof(want));
    want.issuer = issuer;
    want.hash = auth_jwt_trust_hash(issuer);
    if (!*issuer || strlen(issuer) > AUTH_JWT_ISSUER_MAX) {
        return "AuthJWTTrustedIssuer: the issuer must be 1 to 2048 bytes";
    }
    for (s = issuer; *s; ++s) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return "AuthJWTTrustedIssuer: the issuer must not contain control characters";
        }
    }
    if (!strcasecmp(keys, AUTH_JWT_KEYS_DISCOVERY_WORD)) {
        want.kind = AUTH_JWT_KEYS_DISCOVERY;
        want.url = aj_issuer_discovery_url(cmd->pool, issuer);
        if (aj_issuer_url_check(&err, want.url) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool,
                                "AuthJWTTrustedIssuer %s discovery: the discovery URL %s %s",
                                issuer, want.url, err);
        }
    }
    else if (!strncmp(keys, AUTH_JWT_KEYS_FILE_PREFIX, sizeof(AUTH_JWT_KEYS_FILE_PREFIX) - 1)) {
        want.kind = AUTH_JWT_KEYS_FILE;
        want.url = ap_server_root_relative(cmd->pool, keys + sizeof(AUTH_JWT_KEYS_FILE_PREFIX) - 1);
        if (!want.url) {
            return apr_psprintf(cmd->pool, "AuthJWTTrustedIssuer %s: invalid file path", issuer);
        }
    }
    else {
        want.kind = AUTH_JWT_KEYS_URL;
        want.url = keys;
        if (aj_issuer_url_check(&err, keys) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool,
                                "AuthJWTTrustedIssuer %s: KEYS must be discovery, a JWK Set URL "
                                "or file:PATH; the URL %s",
                                issuer, err);
        }
    }
    err = auth_jwt_trust_register(&e, cmd, &want);
    if (err) {
        return err;
    }
    if (e->kind == AUTH_JWT_KEYS_FILE && !e->file_keys) {
        err = auth_jwt_trust_read_file(&e->file_keys, cmd, issuer, e->url);
        if (err) {
            return err;
        }
    }
    /* this section's own list: a copy of what it named so far, plus this */
    list = c->trusted ? apr_array_copy(cmd->pool, c->trusted)
                      : apr_array_make(cmd->pool, 2, sizeof(auth_jwt_issuer_t *));
    if (!auth_jwt_trust_find(list, issuer)) {
        APR_ARRAY_PUSH(list, auth_jwt_issuer_t *) = e;
    }
    c->trusted = list;
    return NULL;
}

const char *auth_jwt_trust_server_cmd(cmd_parms *cmd, void *dconf, const char *arg)
{
    auth_jwt_srv_conf *sc = ap_get_module_config(cmd->server->module_config, &auth_jwt_module);
    const char *name = cmd->cmd->name, *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    apr_int64_t v = 0, min = 0, max = AUTH_JWT_MAX_SECONDS, *field;

    if (err) {
        return err;
    }
    if (!strcasecmp(name, "AuthJWTFetchCA")) {
        apr_finfo_t fi;
        sc->fetch_ca = ap_server_root_relative(cmd->pool, arg);
        if (!sc->fetch_ca) {
            return "AuthJWTFetchCA: invalid file path";
        }
        /* a missing bundle would only show as failing fetches: say it now */
        if (apr_stat(&fi, sc->fetch_ca, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS
            || fi.filetype != APR_REG) {
            return apr_psprintf(cmd->pool, "AuthJWTFetchCA: %s is not a readable file",
                                sc->fetch_ca);
        }
        return NULL;
    }
    if (!strcasecmp(name, "AuthJWTKeyRefresh")) {
        field = &sc->key_refresh;
        min = AJ_ISSUER_MIN_REFRESH;
    }
    else if (!strcasecmp(name, "AuthJWTKeyMaxStale")) {
        field = &sc->key_max_stale;
    }
    else {
        field = &sc->fetch_timeout;
        min = 1;
        max = AUTH_JWT_FETCH_TIMEOUT_MAX;
    }
    err = aj_duration_in_range(&v, cmd->pool, name, arg, min, max);
    if (err) {
        return err;
    }
    /* 0 means "unset" in the server record: AuthJWTKeyMaxStale 0 is kept
     * as -1 (no grace at all) */
    *field = v ? v : -1;
    return NULL;
}

/* A server's value, else the main server's, else dflt (-1 stands for 0). */
static apr_int64_t auth_jwt_trust_pick(apr_int64_t own, apr_int64_t main_value, apr_int64_t dflt)
{
    apr_int64_t v = own ? own : main_value ? main_value : dflt;

    return v < 0 ? 0 : v;
}

void auth_jwt_trust_post_config(server_rec *s)
{
    const auth_jwt_srv_conf *msc = ap_get_module_config(s->module_config, &auth_jwt_module);
    int i;

    for (i = 0; auth_jwt_registry && i < auth_jwt_registry->nelts; ++i) {
        auth_jwt_issuer_t *e = APR_ARRAY_IDX(auth_jwt_registry, i, auth_jwt_issuer_t *);
        const auth_jwt_srv_conf *sc = ap_get_module_config(e->s->module_config, &auth_jwt_module);

        e->refresh =
            auth_jwt_trust_pick(sc->key_refresh, msc->key_refresh, AUTH_JWT_KEY_REFRESH_DEFAULT);
        e->max_stale = auth_jwt_trust_pick(sc->key_max_stale, msc->key_max_stale,
                                           AUTH_JWT_KEY_MAX_STALE_DEFAULT);
        e->fetch.timeout = (long)auth_jwt_trust_pick(sc->fetch_timeout, msc->fetch_timeout,
                                                     AUTH_JWT_FETCH_TIMEOUT_DEFAULT);
        e->fetch.ca_file = sc->fetch_ca ? sc->fetch_ca : msc->fetch_ca;
    }
}

/* A section's list is short, but issuers often share a long prefix
 * (https://login.example.com/tenant-...): one hash of iss, then an
 * integer compare per entry and strcmp only on a match keeps a fresh
 * token's look-up flat from 1 to 100 issuers (bench/scale issuers). */
const auth_jwt_issuer_t *auth_jwt_trust_find(const apr_array_header_t *trusted, const char *iss)
{
    unsigned int h;
    int i;

    if (!trusted || !iss || !trusted->nelts) {
        return NULL;
    }
    h = auth_jwt_trust_hash(iss);
    for (i = 0; i < trusted->nelts; ++i) {
        const auth_jwt_issuer_t *e = APR_ARRAY_IDX(trusted, i, const auth_jwt_issuer_t *);
        if (e->hash == h && !strcmp(e->issuer, iss)) {
            return e;
        }
    }
    return NULL;
}

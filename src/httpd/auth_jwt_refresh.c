/*
 * auth_jwt_refresh.c — refresh families in the glue (docs/reference.md §12).
 *
 * A password login starts a family when AuthJWTRefreshLifetime is on: the
 * store records it (its user, the login's auth_time, its end at
 * auth_time + AuthJWTMaxSessionAge) with its first refresh token, kept as
 * a hash only.  Every access token of the family carries its id as `sid`,
 * so revoking the family (logout, reuse, revoke-all, password change)
 * refuses all of them at once: the store writes the revocation as a
 * revoked jti "sid:<family>", which this server's table takes at once and
 * other nodes take at their next revocation poll.
 *
 * Cookie mode keeps the refresh token in a second cookie, NAME_refresh,
 * that only the refresh handler's path ever receives: its path is found in
 * the configuration at start-up (the plain <Location PATH> that mounts
 * auth-jwt-refresh in the same server).
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "auth_jwt_refresh.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_logcap.h"
#include "auth_jwt_revtab.h"
#include "aj_cred.h"
#include "aj_refresh.h"
#include "aj_store.h"
#include "aj_store_refresh.h"

/* The handler whose path the refresh cookie is sent to. */
#define AUTH_JWT_REFRESH_HANDLER       "auth-jwt-refresh"
/* The refresh cookie's name: AuthJWTCookie's NAME + this. */
#define AUTH_JWT_REFRESH_COOKIE_SUFFIX "_refresh"

/* ---- a password login starts a family ------------------------------------ */

int auth_jwt_refresh_start(auth_jwt_session_t *session, auth_jwt_refresh_grant_t *grant,
                           request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t lifetime = auth_jwt_cfg_refresh_lifetime(c), expires_at = 0;
    aj_refresh_family_t fam;
    const char *hash = NULL;
    aj_store_t *st;
    apr_status_t rv;

    memset(session, 0, sizeof(*session));
    memset(grant, 0, sizeof(*grant));
    if (user->tokens_valid_after > now && user->tokens_valid_after - now <= 1) {
        /* a revoke-all in this very second: the session starts after it,
         * as its access token does (auth_jwt_issue waits for that second),
         * so a refresh can tell families older than a revoke-all apart */
        now = user->tokens_valid_after;
    }
    session->auth_time = now;
    if (lifetime <= 0) {
        return OK;
    }
    if (aj_refresh_family_new(&fam.family, r->pool) != APR_SUCCESS
        || aj_refresh_token_new(&grant->raw, &hash, r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(060) "cannot start a refresh family: no randomness");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    fam.user_id = user->id;
    fam.auth_time = now;
    fam.expires_at = now + auth_jwt_cfg_max_session_age(c);
    st = auth_jwt_store(r);
    if (!st) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    rv = aj_store_refresh_family_add(st, r->pool, &fam);
    if (rv == APR_SUCCESS) {
        rv = aj_store_refresh_issue(&expires_at, st, r->pool, &fam, hash, lifetime, now);
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "starting a refresh family", rv);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    session->sid = fam.family;
    session->not_after = fam.expires_at;
    grant->expires_in = expires_at - now;
    return OK;
}

/* ---- revoking families --------------------------------------------------- */

/* The longest an access token of a family may still verify after the
 * family's end: none is issued past it (auth_jwt_issue caps exp there), so
 * only the clock skew a verifier allows; the largest AuthJWTLeeway. */
#define AUTH_JWT_REFRESH_AFTER_END AUTH_JWT_MAX_LEEWAY

apr_status_t auth_jwt_refresh_revoke_family(request_rec *r, aj_store_t *st, const char *sid)
{
    apr_int64_t until = 0;
    const char *key = NULL;
    apr_status_t rv;

    rv = aj_store_refresh_revoke_family(&key, &until, st, r->pool, sid, AUTH_JWT_REFRESH_AFTER_END,
                                        apr_time_sec(r->request_time));
    if (rv == APR_NOTFOUND || rv == APR_EINVAL) {
        return APR_SUCCESS; /* no family of this store has that id */
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "revoking a refresh family", rv);
        return rv;
    }
    auth_jwt_revtab_put(r, key, until, NULL, 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(061) "revoked refresh family %s", sid);
    return APR_SUCCESS;
}

static void auth_jwt_refresh_put_sid(void *baton, const char *sid_key, apr_int64_t until)
{
    auth_jwt_revtab_put(baton, sid_key, until, NULL, 0);
}

apr_status_t auth_jwt_refresh_revoke_user(request_rec *r, aj_store_t *st, apr_int64_t id)
{
    int revoked = 0;
    apr_status_t rv;

    rv = aj_store_refresh_revoke_user(&revoked, st, r->pool, id, AUTH_JWT_REFRESH_AFTER_END,
                                      apr_time_sec(r->request_time), auth_jwt_refresh_put_sid, r);
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "revoking a user's refresh families", rv);
        return rv;
    }
    if (revoked) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(062) "revoked %d refresh famil%s of user id %" APR_INT64_T_FMT,
                      revoked, revoked == 1 ? "y" : "ies", id);
    }
    return APR_SUCCESS;
}

/* ---- the refresh cookie's path ------------------------------------------- */

/* The argument of a directive or section without the quotes around it (and,
 * for a section, without its closing '>'). */
static const char *auth_jwt_refresh_arg(apr_pool_t *p, const char *args, int section)
{
    apr_size_t len = strlen(args);

    if (section && len && args[len - 1] == '>') {
        --len;
    }
    while (len && (args[len - 1] == ' ' || args[len - 1] == '\t')) {
        --len;
    }
    if (len >= 2 && (args[0] == '"' || args[0] == '\'') && args[len - 1] == args[0]) {
        return apr_pstrmemdup(p, args + 1, len - 2);
    }
    return apr_pstrmemdup(p, args, len);
}

/* True when a <Location> section's own lines mount the refresh handler. */
static int auth_jwt_refresh_mounts(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "SetHandler")
            && !strcasecmp(auth_jwt_refresh_arg(p, d->args, 0), AUTH_JWT_REFRESH_HANDLER)) {
            return 1;
        }
    }
    return 0;
}

/* The virtual host that <VirtualHost> at file:line made. */
static server_rec *auth_jwt_refresh_vhost(server_rec *s, const ap_directive_t *d)
{
    for (s = s->next; s; s = s->next) {
        if (s->defn_name && !strcmp(s->defn_name, d->filename)
            && s->defn_line_number == (unsigned)d->line_num) {
            return s;
        }
    }
    return NULL;
}

static void auth_jwt_refresh_walk(apr_pool_t *p, server_rec *main_s, server_rec *s,
                                  const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            server_rec *v = auth_jwt_refresh_vhost(main_s, d);
            if (v) {
                auth_jwt_refresh_walk(p, main_s, v, d->first_child);
            }
        }
        else if (!strcasecmp(d->directive, "<Location")) {
            /* a plain path only, as configtest's rule reads it
             * (aj_confcheck.c): a regex or wildcard names no one path */
            const char *path = auth_jwt_refresh_arg(p, d->args, 1);
            auth_jwt_srv_conf *sc = ap_get_module_config(s->module_config, &auth_jwt_module);

            if (*path == '/' && !strpbrk(path, "*?[") && !strstr(path, "//")
                && auth_jwt_refresh_mounts(p, d->first_child)) {
                if (!sc->refresh_path) {
                    sc->refresh_path = path;
                }
                else if (strcmp(sc->refresh_path, path)) {
                    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                                 AJ_LOGNO(063) "%s:%d: auth-jwt-refresh is mounted at %s too; "
                                               "the refresh cookie is sent to %s only",
                                 d->filename, d->line_num, path, sc->refresh_path);
                }
            }
        }
        else if (d->first_child) {
            auth_jwt_refresh_walk(p, main_s, s, d->first_child); /* <IfModule> and the like */
        }
    }
}

void auth_jwt_refresh_post_config(apr_pool_t *pconf, server_rec *s)
{
    const auth_jwt_srv_conf *msc = ap_get_module_config(s->module_config, &auth_jwt_module);
    server_rec *v;

    auth_jwt_refresh_walk(pconf, s, s, ap_conftree);
    /* a <Location> of the main server serves every virtual host too */
    for (v = s->next; v; v = v->next) {
        auth_jwt_srv_conf *sc = ap_get_module_config(v->module_config, &auth_jwt_module);
        if (!sc->refresh_path) {
            sc->refresh_path = msc->refresh_path;
        }
    }
}

/* ---- the refresh cookie -------------------------------------------------- */

int auth_jwt_refresh_set_cookie(request_rec *r, const char *raw, apr_int64_t max_age)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const auth_jwt_srv_conf *sc = ap_get_module_config(r->server->module_config, &auth_jwt_module);

    if (!c->cookie) {
        return 1;
    }
    if (!sc->refresh_path) {
        if (!raw) {
            return 1; /* nothing was ever sent: nothing to clear */
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(064) "no refresh cookie set: no <Location PATH> with SetHandler "
                                    "auth-jwt-refresh in this server names the path to send it to");
        return 0;
    }
    auth_jwt_logcap(r); /* httpd's trace4 dump of the response's headers */
    /* SameSite=Strict and the handler's path: no other request, and no
     * cross-site one, ever carries it; HttpOnly: no script reads it. */
    apr_table_add(r->err_headers_out, "Set-Cookie",
                  apr_psprintf(r->pool,
                               "%s" AUTH_JWT_REFRESH_COOKIE_SUFFIX
                               "=%s; Path=%s; Max-Age=%" APR_INT64_T_FMT
                               "; HttpOnly; Secure; SameSite=Strict",
                               c->cookie, raw ? raw : "", sc->refresh_path, raw ? max_age : 0));
    return 1;
}

apr_status_t auth_jwt_refresh_cookie(const char **raw, request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *header = apr_table_get(r->headers_in, "Cookie"), *problem = NULL;

    *raw = NULL;
    if (!c->cookie || !header) {
        return APR_SUCCESS;
    }
    return aj_cred_cookie(raw, &problem, r->pool, header, strlen(header),
                          apr_pstrcat(r->pool, c->cookie, AUTH_JWT_REFRESH_COOKIE_SUFFIX, NULL));
}

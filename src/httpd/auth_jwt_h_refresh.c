/*
 * auth_jwt_h_refresh.c — auth-jwt-refresh (docs/reference.md §12):
 *
 *   POST {"refresh_token": …}  (cookie mode: the NAME_refresh cookie)
 *     -> 200 with a new access token and the next refresh token
 *
 * Rotation with reuse detection (RFC 9700 §4.14.2).  The presented token
 * is consumed by one conditional UPDATE in the store, so of any number of
 * requests racing with one token exactly one wins; a token that was
 * consumed before means two parties held it, and the whole family is
 * revoked (its refresh tokens, and its access tokens through their sid).
 * The raw token is hashed at once and appears nowhere else: not in the
 * store, not in any log line.
 */
#include <apr_strings.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>

#include "auth_jwt_h_refresh.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_h_token.h"
#include "auth_jwt_http.h"
#include "auth_jwt_issue.h"
#include "auth_jwt_refresh.h"
#include "aj_keyset.h"
#include "aj_refresh.h"
#include "aj_store.h"
#include "aj_store_refresh.h"

/* The body member that carries the token (body mode). */
#define AUTH_JWT_REFRESH_MEMBER      "refresh_token"
/* Cookie mode: a request must show a header a cross-site page cannot send
 * without a CORS preflight (docs/reference.md §12). */
#define AUTH_JWT_REFRESH_CSRF_HEADER "X-CSRF-Token"

/* The 401 texts: fixed, never echoing what was sent. */
#define AUTH_JWT_REFRESH_INVALID "invalid refresh token"
#define AUTH_JWT_REFRESH_EXPIRED "refresh token expired"
#define AUTH_JWT_REFRESH_REUSED  "refresh token reused or its session revoked; log in again"
#define AUTH_JWT_REFRESH_ENDED   "session ended; log in again"
#define AUTH_JWT_REFRESH_STORE   "user store unavailable"

/* A 401: never cached, the challenge of the login handler, and in cookie
 * mode the dead refresh cookie cleared. */
static int auth_jwt_refresh_refuse(request_rec *r, const char *text)
{
    auth_jwt_http_no_store(r);
    auth_jwt_refresh_set_cookie(r, NULL, 0);
    auth_jwt_challenge(r, AJ_OK);
    return auth_jwt_http_send_error(r, HTTP_UNAUTHORIZED, text);
}

/* The presented refresh token: OK with *raw (NULL when none was sent), or,
 * with *answered set, the status of the refusal already sent. */
static int auth_jwt_refresh_presented(const char **raw, request_rec *r, const auth_jwt_dir_conf *c,
                                      int *answered)
{
    const char *csrf;
    json_object *body = NULL;
    int rc;

    *raw = NULL;
    *answered = 0;
    if (!c->cookie) {
        rc = auth_jwt_http_read_json(&body, r, answered);
        if (*answered) {
            return rc;
        }
        *raw = auth_jwt_http_json_string(r, body, AUTH_JWT_REFRESH_MEMBER, answered);
        return *raw ? OK : *answered;
    }
    /* cookie mode: the cookie only, and proof the page is this site's */
    csrf = apr_table_get(r->headers_in, AUTH_JWT_REFRESH_CSRF_HEADER);
    if (!csrf || !*csrf) {
        *answered = 1;
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "the " AUTH_JWT_REFRESH_CSRF_HEADER " header is required");
    }
    if (ap_request_has_body(r)) {
        rc = auth_jwt_http_read_json(&body, r, answered);
        if (*answered) {
            return rc;
        }
        if (json_object_object_get_ex(body, AUTH_JWT_REFRESH_MEMBER, NULL)) {
            *answered = 1;
            return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                            "in cookie mode the refresh token is sent only as "
                                            "its cookie");
        }
    }
    if (auth_jwt_refresh_cookie(raw, r) != APR_SUCCESS) {
        *answered = 1;
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "the refresh cookie is sent twice with different values");
    }
    return OK;
}

/* A consumed token presented again, or one of a revoked family: the family
 * is revoked (again: idempotent) and the client told to log in.  A store
 * that cannot record it answers 503, so the client retries and nothing is
 * lost. */
static int auth_jwt_refresh_reused(request_rec *r, aj_store_t *st, const aj_refresh_family_t *fam)
{
    if (auth_jwt_refresh_revoke_family(r, st, fam->family) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_REFRESH_STORE);
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  AJ_LOGNO(065) "refresh token reused, or its session was revoked: refresh "
                                "family %s of user id %" APR_INT64_T_FMT " revoked",
                  fam->family, fam->user_id);
    return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_REUSED);
}

/* After this request consumed the token, its family was revoked before
 * the next token could be stored: a racing request presented the same
 * token (a reuse) or a logout came in between.  This request still won
 * the token (docs/reference.md §12: of requests racing with one token,
 * exactly one succeeds), so it answers 200 — with tokens born dead: the
 * access token's sid is revoked and the refresh token was never stored.
 * 0 when the family simply ended, or the store cannot tell. */
static int auth_jwt_refresh_raced(request_rec *r, aj_store_t *st, const aj_refresh_family_t *fam)
{
    apr_int64_t revoked_at = 0;
    aj_refresh_family_t *now_fam = NULL;

    if (aj_store_refresh_family_get(&now_fam, &revoked_at, st, r->pool, fam->family) != APR_SUCCESS
        || !revoked_at) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  AJ_LOGNO(069) "refresh family %s was revoked while this request rotated it: "
                                "its new tokens are refused",
                  fam->family);
    return 1;
}

/* The presented token is consumed: the family's next token and a new
 * access token of the same session. */
static int auth_jwt_refresh_rotate(request_rec *r, const auth_jwt_dir_conf *c, aj_store_t *st,
                                   const aj_refresh_family_t *fam)
{
    apr_int64_t now = apr_time_sec(r->request_time), expires_at = 0, expires_in = 0;
    const char *hash = NULL, *token = NULL, *csrf = NULL;
    auth_jwt_refresh_grant_t grant;
    auth_jwt_session_t session;
    aj_user_t *user = NULL;
    apr_status_t rv;

    rv = aj_store_user_by_id(&user, r->pool, st, fam->user_id);
    if (rv == APR_NOTFOUND) {
        /* the user was deleted: the family goes with it */
        (void)auth_jwt_refresh_revoke_family(r, st, fam->family);
        return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_ENDED);
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "reading the user of a refresh family", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_REFRESH_STORE);
    }
    if (user->tokens_valid_after > fam->auth_time) {
        /* a revoke-all or password change after the login: it revokes the
         * user's families itself; this holds should that have failed */
        (void)auth_jwt_refresh_revoke_family(r, st, fam->family);
        return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_ENDED);
    }
    if (aj_refresh_token_new(&grant.raw, &hash, r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(066) "cannot rotate a refresh token: no randomness");
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    rv = aj_store_refresh_issue(&expires_at, st, r->pool, fam, hash,
                                auth_jwt_cfg_refresh_lifetime(c), now);
    if (rv == APR_NOTFOUND && !auth_jwt_refresh_raced(r, st, fam)) {
        return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_ENDED);
    }
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        auth_jwt_store_failed(r, st, "storing a rotated refresh token", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_REFRESH_STORE);
    }
    if (rv != APR_SUCCESS) {
        /* raced: the lifetime it would have had, as every answer of this
         * shape says */
        expires_at = now + auth_jwt_cfg_refresh_lifetime(c);
        expires_at = expires_at < fam->expires_at ? expires_at : fam->expires_at;
    }
    grant.expires_in = expires_at - now;
    session.auth_time = fam->auth_time;
    session.sid = fam->family;
    session.not_after = fam->expires_at;
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, user, &session) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_token_answer(r, token, expires_in, csrf, &grant, AUTH_JWT_TOKEN_LOGIN);
}

int auth_jwt_refresh_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *raw = NULL, *hash = NULL;
    aj_refresh_verdict_e verdict = AJ_REFRESH_UNKNOWN;
    aj_refresh_family_t *fam = NULL;
    aj_store_t *st;
    apr_status_t rv;
    int answered = 0, rc;

    if (r->method_number != M_POST) {
        return auth_jwt_http_method_not_allowed(r, "POST");
    }
    if (auth_jwt_cfg_refresh_lifetime(c) <= 0) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "refresh tokens are off here (AuthJWTRefreshLifetime 0)");
    }
    rc = auth_jwt_refresh_presented(&raw, r, c, &answered);
    if (answered) {
        return rc;
    }
    if (!raw) {
        return auth_jwt_refresh_refuse(r, "no refresh token");
    }
    if (aj_refresh_token_hash(&hash, r->pool, raw) != APR_SUCCESS) {
        return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_INVALID); /* never issued */
    }
    if (!c->keys || !aj_keyset_signing_key(c->keys)) {
        /* found before the token is consumed, so the client keeps it */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(067) "cannot refresh at %s: no AuthJWTSigningKey applies here",
                      r->uri);
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    st = auth_jwt_store(r);
    if (!st) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_REFRESH_STORE);
    }
    rv = aj_store_refresh_consume(&verdict, &fam, st, r->pool, hash, apr_time_sec(r->request_time));
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "consuming a refresh token", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_REFRESH_STORE);
    }
    switch (verdict) {
    case AJ_REFRESH_OK: return auth_jwt_refresh_rotate(r, c, st, fam);
    case AJ_REFRESH_REUSED: return auth_jwt_refresh_reused(r, st, fam);
    case AJ_REFRESH_EXPIRED: return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_EXPIRED);
    default: return auth_jwt_refresh_refuse(r, AUTH_JWT_REFRESH_INVALID);
    }
}

/*
 * auth_jwt_h_token.c — the handlers that hand out tokens (docs/reference.md §4):
 *
 *   auth-jwt-token  authenticated GET/POST -> a fresh token (REST-auth); with
 *                   a token as credential, a renewal that keeps auth_time
 *   auth-jwt-login  POST {"username","password"} -> a token
 *
 * A token answer is never cached and, with AuthJWTCookie, also sets the
 * cookie.  The token itself is minted by auth_jwt_issue.c.
 */
#include <string.h>

#include "auth_jwt_h_token.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_config.h"
#include "auth_jwt_http.h"
#include "auth_jwt_issue.h"
#include "auth_jwt_password.h"
#include "aj_claims.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_refresh.h"
#include "aj_store.h"
#include "aj_store_refresh.h"
#include "aj_json.h"

int auth_jwt_token_answer(request_rec *r, const char *token, apr_int64_t expires_in,
                          const char *csrf, const auth_jwt_refresh_grant_t *grant,
                          auth_jwt_token_shape_e shape)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    auth_jwt_http_no_store(r);
    auth_jwt_http_set_cookie(r, token, expires_in);
    if (csrf) {
        json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
    }
    if (shape == AUTH_JWT_TOKEN_LOGIN) {
        json_object_object_add(o, "status", json_object_new_string("success"));
        json_object_object_add(o, "auth_token", json_object_new_string(token));
        json_object_object_add(o, "token", json_object_new_string(token));
        json_object_object_add(o, "expires_in", json_object_new_int64(expires_in));
    }
    else {
        json_object_object_add(o, "token", json_object_new_string(token));
        json_object_object_add(o, "duration", json_object_new_int64(expires_in));
        json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
        json_object_object_add(o, "expires_in", json_object_new_int64(expires_in));
    }
    if (grant && grant->raw) {
        /* cookie mode: in a cookie no script can read, never in the body */
        if (!c->cookie) {
            json_object_object_add(o, "refresh_token", json_object_new_string(grant->raw));
        }
        if (!c->cookie || auth_jwt_refresh_set_cookie(r, grant->raw, grant->expires_in)) {
            json_object_object_add(o, "refresh_expires_in",
                                   json_object_new_int64(grant->expires_in));
        }
    }
    return auth_jwt_http_send_json(r, HTTP_OK, o);
}

/* ---- auth-jwt-token ----------------------------------------------------- */

/* A renewal of a token of a refresh family stays in the family: the store
 * is the truth (a revocation this server's table has not seen yet refuses
 * it too), and the new token ends with the family. */
static int auth_jwt_renew_family(auth_jwt_session_t *session, request_rec *r, aj_store_t *store,
                                 apr_int64_t user_id)
{
    aj_refresh_family_t *fam = NULL;
    apr_int64_t revoked_at = 0;
    apr_status_t rv;

    rv = aj_store_refresh_family_get(&fam, &revoked_at, store, r->pool, session->sid);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND && rv != APR_EINVAL) {
        auth_jwt_store_failed(r, store, "reading a refresh family", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    if (rv != APR_SUCCESS || revoked_at || fam->user_id != user_id
        || fam->expires_at <= apr_time_sec(r->request_time)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "session ended; log in with the password");
    }
    session->not_after = fam->expires_at;
    return OK;
}

/* A renewal: the token's session must be young enough and its user still
 * there; the new token keeps auth_time. */
static int auth_jwt_renew(request_rec *r, const auth_jwt_dir_conf *c, const auth_jwt_req_t *st)
{
    const aj_claims_t *claims = st->claims;
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t auth_time = 0, expires_in = 0, iat = 0;
    const char *token = NULL, *csrf = NULL;
    auth_jwt_session_t session;
    aj_store_t *store = NULL;
    aj_user_t *user;
    int answered = 0;

    if (!auth_jwt_cfg_renew_with_token(c)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "renewal with a token is disabled; log in with the "
                                        "password");
    }
    if (!aj_claims_get_int(claims, "auth_time", &auth_time)
        && !aj_claims_get_int(claims, "iat", &auth_time)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "token has no auth_time; log in with the password");
    }
    if (now - auth_time >= auth_jwt_cfg_max_session_age(c)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN,
                                        "session too old to renew; log in with the password");
    }
    user = auth_jwt_http_user_by_id(&store, r, auth_jwt_http_user_id(st), HTTP_FORBIDDEN,
                                    "token does not name a user of this site", &answered);
    if (!user) {
        return answered;
    }
    /* The store is the truth: a revoke-all it knows refuses renewal even
     * before this server's table has caught up. */
    if (user->tokens_valid_after
        && (!aj_claims_get_int(claims, "iat", &iat) || iat < user->tokens_valid_after)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN, "token revoked");
    }
    memset(&session, 0, sizeof(session));
    session.auth_time = auth_time;
    session.sid = aj_claims_get_string(claims, "sid");
    if (session.sid) {
        int rc = auth_jwt_renew_family(&session, r, store, user->id);
        if (rc != OK) {
            return rc;
        }
    }
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, user, &session) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_token_answer(r, token, expires_in, csrf, NULL, AUTH_JWT_TOKEN_REST);
}

int auth_jwt_token_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const auth_jwt_req_t *st;
    const char *token = NULL, *csrf = NULL;
    auth_jwt_refresh_grant_t grant;
    auth_jwt_session_t session;
    apr_int64_t expires_in = 0;
    int answered = 0, rc;

    st = auth_jwt_http_need_auth(r, AUTH_JWT_HTTP_GET | AUTH_JWT_HTTP_POST, "GET, HEAD, POST",
                                 &answered);
    if (!st) {
        return answered;
    }
    if (st->via == AUTH_JWT_VIA_TOKEN) {
        return auth_jwt_renew(r, c, st);
    }
    rc = auth_jwt_refresh_start(&session, &grant, r, c, st->user);
    if (rc != OK) {
        return auth_jwt_http_send_error(r, rc,
                                        rc == HTTP_SERVICE_UNAVAILABLE ? "user store unavailable"
                                                                       : "cannot issue a token");
    }
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, st->user, &session) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_token_answer(r, token, expires_in, csrf, &grant, AUTH_JWT_TOKEN_REST);
}

/* ---- auth-jwt-login ----------------------------------------------------- */

/* The login refusal shape: {"status": "fail", "message": message}. */
static int auth_jwt_send_fail(request_rec *r, int status, const char *message)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "status", json_object_new_string("fail"));
    json_object_object_add(o, "message", json_object_new_string(message));
    return auth_jwt_http_send_json(r, status, o);
}

int auth_jwt_login_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *username = NULL, *password = NULL, *token = NULL, *csrf = NULL;
    const aj_user_t *user = NULL;
    auth_jwt_refresh_grant_t grant;
    auth_jwt_session_t session;
    apr_int64_t expires_in = 0;
    int answered = 0, rc;

    if (r->method_number != M_POST) {
        return auth_jwt_http_method_not_allowed(r, "POST");
    }
    if (!auth_jwt_cfg_password_login(c)) {
        return auth_jwt_send_fail(r, HTTP_FORBIDDEN, "password login is disabled");
    }
    rc = auth_jwt_http_read_credentials(&username, &password, r, &answered);
    if (answered) {
        return rc;
    }
    switch (auth_jwt_check_password(&user, r, c, username, password)) {
    case OK: break;
    case HTTP_SERVICE_UNAVAILABLE:
        return auth_jwt_send_fail(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    case HTTP_TOO_MANY_REQUESTS:
        /* Retry-After is set already */
        return auth_jwt_send_fail(r, HTTP_TOO_MANY_REQUESTS, "too many failed logins");
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(053) "login refused: unknown user or wrong password");
        /* a 401 names its schemes (RFC 9110 §11.6.1): the ones AuthType
         * JWT takes, so a client learns the same challenge everywhere */
        auth_jwt_challenge(r, AJ_OK);
        return auth_jwt_send_fail(r, HTTP_UNAUTHORIZED, "invalid username or password");
    }
    rc = auth_jwt_refresh_start(&session, &grant, r, c, user);
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        return auth_jwt_send_fail(r, rc, "user store unavailable");
    }
    if (rc != OK
        || auth_jwt_issue(&token, &expires_in, &csrf, r, c, user, &session) != APR_SUCCESS) {
        return auth_jwt_send_fail(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_token_answer(r, token, expires_in, csrf, &grant, AUTH_JWT_TOKEN_LOGIN);
}

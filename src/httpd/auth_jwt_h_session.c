/*
 * auth_jwt_h_session.c — the handlers of a signed-in session
 * (docs/reference.md §4):
 *
 *   auth-jwt-status  authenticated GET -> who the request is, and its claims
 *   auth-jwt-logout  POST with the token -> that token revoked (by jti),
 *                    and its refresh family (by sid);
 *                    ?all=1 -> every token and family of its user revoked
 *
 * status answers no-store (its body echoes the claims); logout expires the
 * AuthJWTCookie cookies.
 */
#include <string.h>

#include <apr_strings.h>

#include "auth_jwt_h_session.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_http.h"
#include "auth_jwt_refresh.h"
#include "auth_jwt_revoke.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_refresh.h"
#include "aj_store.h"
#include "aj_json.h"

/* ---- auth-jwt-status ---------------------------------------------------- */

int auth_jwt_status_handler(request_rec *r)
{
    const auth_jwt_req_t *st;
    json_object *o, *data;
    const char *sub;
    apr_int64_t id = 0;
    int answered = 0;

    st = auth_jwt_http_need_auth(r, AUTH_JWT_HTTP_GET, "GET, HEAD", &answered);
    if (!st) {
        return answered;
    }
    if (!st->claims) {
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
    }
    data = json_object_new_object();
    /* user_id is a number for this site's users (sub is their id, written
     * as the store writes it); any other sub stays a string */
    sub = aj_claims_get_string(st->claims, "sub");
    if (sub) {
        char *end = NULL;
        id = apr_strtoi64(sub, &end, 10);
    }
    if (sub && id > 0 && !strcmp(sub, apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id))) {
        json_object_object_add(data, "user_id", json_object_new_int64(id));
    }
    else {
        json_object_object_add(data, "user_id", sub ? json_object_new_string(sub) : NULL);
    }
    json_object_object_add(data, "username", json_object_new_string(r->user));
    json_object_object_add(
        data, "auth", json_object_new_string(st->via == AUTH_JWT_VIA_TOKEN ? "token" : "password"));
    json_object_object_add(data, "claims", json_object_get(aj_claims_object(st->claims)));

    o = aj_json_own(r->pool, json_object_new_object());
    json_object_object_add(o, "status", json_object_new_string("success"));
    json_object_object_add(o, "data", data);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return auth_jwt_http_send_json(r, HTTP_OK, o);
}

/* ---- auth-jwt-logout ---------------------------------------------------- */

/* True when the query string asks for every token (all=1 / all=true). */
static int auth_jwt_wants_all(request_rec *r)
{
    const char *args = r->args;

    while (args && *args) {
        const char *pair = ap_getword(r->pool, &args, '&');
        if (!strcmp(pair, "all=1") || !strcmp(pair, "all=true")) {
            return 1;
        }
    }
    return 0;
}

/* Cookie mode: the browser forgets both cookies. */
static void auth_jwt_logout_clear_cookies(request_rec *r)
{
    auth_jwt_http_set_cookie(r, NULL, 0);
    auth_jwt_refresh_set_cookie(r, NULL, 0);
}

/* ?all=1: every token of the request's user, through the store's
 * tokens_valid_after, then this server's revocation table. */
static int auth_jwt_logout_all(request_rec *r, const auth_jwt_req_t *st, aj_store_t *store)
{
    apr_int64_t id = auth_jwt_http_user_id(st), valid_after;
    apr_status_t rv;

    if (!id) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "the token does not name a user of this site");
    }
    valid_after = auth_jwt_revoke_all_value(r);
    rv = aj_store_user_set_valid_after(store, r->pool, id, valid_after);
    if (rv == APR_NOTFOUND) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "the token does not name a user of this site");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, store, "revoking a user's tokens", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the tokens were not revoked");
    }
    auth_jwt_revoke_user_recorded(r, id, valid_after);
    if (auth_jwt_refresh_revoke_user(r, store, id) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the refresh tokens were not "
                                        "revoked");
    }
    auth_jwt_logout_clear_cookies(r);
    return auth_jwt_http_send_success(r);
}

int auth_jwt_logout_handler(request_rec *r)
{
    const auth_jwt_req_t *st;
    const char *jti, *sid;
    apr_int64_t exp = 0;
    aj_store_t *store;
    int answered = 0;

    st = auth_jwt_http_need_auth(r, AUTH_JWT_HTTP_POST, "POST", &answered);
    if (!st) {
        return answered;
    }
    if (st->via != AUTH_JWT_VIA_TOKEN) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "logout needs the token as credential");
    }
    if (st->issuer) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "the token was issued elsewhere: log out at its issuer");
    }
    store = auth_jwt_store(r);
    if (!store) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the token was not revoked");
    }
    if (auth_jwt_wants_all(r)) {
        return auth_jwt_logout_all(r, st, store);
    }
    jti = aj_claims_get_string(st->claims, "jti");
    /* a jti named like a family's revocation (another issuer's token) would
     * revoke that family: never taken */
    if (!jti || !*jti || strlen(jti) > AJ_JTI_MAX_LEN
        || !strncmp(jti, AJ_REFRESH_SID_PREFIX, sizeof(AJ_REFRESH_SID_PREFIX) - 1)) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        "the token has no usable jti; use ?all=1 to revoke "
                                        "every token of the user");
    }
    /* its refresh family first: its refresh tokens and sibling access
     * tokens die with this one (docs/reference.md §12) */
    sid = aj_claims_get_string(st->claims, "sid");
    if (sid && auth_jwt_refresh_revoke_family(r, store, sid) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the token was not revoked");
    }
    (void)aj_claims_get_int(st->claims, "exp", &exp);
    if (auth_jwt_revoke_token(r, store, jti, exp) != APR_SUCCESS) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the token was not revoked");
    }
    auth_jwt_logout_clear_cookies(r);
    return auth_jwt_http_send_success(r);
}

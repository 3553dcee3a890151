/*
 * auth_jwt_h_users.c — the handlers that write a user's password
 * (docs/reference.md §4):
 *
 *   auth-jwt-users     POST {"username","password"} -> 201 + Location;
 *                      GET <base>/<id> -> {"username","id"}
 *   auth-jwt-password  authenticated POST {"old_password","new_password"}:
 *                      the new hash, and every earlier token and refresh
 *                      family revoked
 *
 * Both take a new password under the same rules (AuthJWTPasswordMinLength
 * characters, AJ_PASSWORD_MAX_LEN bytes) and hash it at AuthJWTBcryptCost.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "auth_jwt_h_users.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_http.h"
#include "auth_jwt_refresh.h"
#include "auth_jwt_revoke.h"
#include "auth_jwt_password.h"
#include "aj_password.h"
#include "aj_store.h"
#include "aj_user.h"
#include "aj_json.h"

/* A user id in a URI has at most 18 digits: every such number fits an
 * apr_int64_t (whose maximum has 19), so apr_atoi64 cannot overflow. */
#define AUTH_JWT_USER_ID_MAX_DIGITS 18

/* ---- auth-jwt-users ----------------------------------------------------- */

/* The trailing path segment when it is a user id; 0 with *base set to the
 * URI without trailing slashes when there is none. */
static apr_int64_t auth_jwt_users_id(request_rec *r, const char **base)
{
    const char *uri = r->uri;
    apr_size_t len = strlen(uri);
    const char *seg;
    apr_size_t i, seg_len;

    while (len > 1 && uri[len - 1] == '/') {
        --len;
    }
    *base = apr_pstrmemdup(r->pool, uri, len);
    seg = strrchr(*base, '/');
    seg = seg ? seg + 1 : *base;
    seg_len = strlen(seg);
    if (seg_len == 0 || seg_len > AUTH_JWT_USER_ID_MAX_DIGITS) {
        return 0;
    }
    for (i = 0; i < seg_len; ++i) {
        if (!apr_isdigit(seg[i])) {
            return 0;
        }
    }
    return apr_atoi64(seg);
}

static json_object *auth_jwt_user_json(request_rec *r, const char *username, apr_int64_t id)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "username", json_object_new_string(username));
    json_object_object_add(o, "id", json_object_new_int64(id));
    return o;
}

static int auth_jwt_users_get(request_rec *r, apr_int64_t id)
{
    aj_user_t *user;
    int answered = 0;

    user = auth_jwt_http_user_by_id(NULL, r, id, HTTP_NOT_FOUND, "no such user", &answered);
    if (!user) {
        return answered;
    }
    return auth_jwt_http_send_json(r, HTTP_OK, auth_jwt_user_json(r, user->username, user->id));
}

static int auth_jwt_users_post(request_rec *r, const char *base)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *username = NULL, *password = NULL, *hash = NULL, *problem;
    aj_store_t *st;
    apr_int64_t id = 0;
    apr_status_t rv;
    int answered = 0, rc;

    if (!auth_jwt_cfg_registration(c)) {
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN, "registration is disabled");
    }
    rc = auth_jwt_http_read_credentials(&username, &password, r, &answered);
    if (answered) {
        return rc;
    }
    problem = aj_user_name_problem(username, strlen(username));
    if (problem) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST, problem);
    }
    if (aj_user_password_too_short(password, auth_jwt_cfg_password_min_len(c))) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        apr_psprintf(r->pool,
                                                     "password is shorter than %d characters",
                                                     auth_jwt_cfg_password_min_len(c)));
    }
    if (aj_user_password_too_long(password)) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST, "password is too long");
    }
    st = auth_jwt_store(r);
    if (!st) {
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rv = aj_password_hash(&hash, r->pool, password, auth_jwt_cfg_bcrypt_cost(c));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(050) "hashing a password failed");
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    rv = aj_store_user_add(&id, r->pool, st, username, hash, "{}", apr_time_sec(apr_time_now()));
    if (rv == APR_EEXIST) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST, "username already exists");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "adding a user", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  AJ_LOGNO(051) "registered user id %" APR_INT64_T_FMT, id);
    apr_table_setn(r->headers_out, "Location",
                   apr_psprintf(r->pool, "%s/%" APR_INT64_T_FMT, ap_escape_uri(r->pool, base), id));
    return auth_jwt_http_send_json(r, HTTP_CREATED, auth_jwt_user_json(r, username, id));
}

int auth_jwt_users_handler(request_rec *r)
{
    const char *base = NULL;
    apr_int64_t id = auth_jwt_users_id(r, &base);

    if (id > 0) {
        if (r->method_number != M_GET) {
            return auth_jwt_http_method_not_allowed(r, "GET, HEAD");
        }
        return auth_jwt_users_get(r, id);
    }
    if (r->method_number != M_POST) {
        return auth_jwt_http_method_not_allowed(r, "POST");
    }
    return auth_jwt_users_post(r, base);
}

/* ---- auth-jwt-password -------------------------------------------------- */

int auth_jwt_password_handler(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const auth_jwt_req_t *st;
    json_object *body = NULL;
    const char *old_pw, *new_pw, *hash = NULL;
    aj_store_t *store = NULL;
    aj_user_t *user;
    apr_int64_t id, valid_after;
    apr_status_t rv;
    int answered = 0, rc;

    st = auth_jwt_http_need_auth(r, AUTH_JWT_HTTP_POST, "POST", &answered);
    if (!st) {
        return answered;
    }
    rc = auth_jwt_http_read_json(&body, r, &answered);
    if (answered) {
        return rc;
    }
    old_pw = auth_jwt_http_json_string(r, body, "old_password", &rc);
    if (!old_pw) {
        return rc;
    }
    new_pw = auth_jwt_http_json_string(r, body, "new_password", &rc);
    if (!new_pw) {
        return rc;
    }
    if (aj_user_password_too_short(new_pw, auth_jwt_cfg_password_min_len(c))) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST,
                                        apr_psprintf(r->pool,
                                                     "password is shorter than %d characters",
                                                     auth_jwt_cfg_password_min_len(c)));
    }
    if (aj_user_password_too_long(new_pw) || aj_user_password_too_long(old_pw)) {
        return auth_jwt_http_send_error(r, HTTP_BAD_REQUEST, "password is too long");
    }
    id = auth_jwt_http_user_id(st);
    user = auth_jwt_http_user_by_id(&store, r, id, HTTP_BAD_REQUEST,
                                    "the credential does not name a user of this site", &answered);
    if (!user) {
        return answered;
    }
    rc = auth_jwt_check_user_password(r, c, user, old_pw);
    if (rc == HTTP_TOO_MANY_REQUESTS) {
        /* Retry-After is set already */
        return auth_jwt_http_send_error(r, HTTP_TOO_MANY_REQUESTS, "too many failed logins");
    }
    if (rc != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(054) "password change refused for user id %" APR_INT64_T_FMT
                                    ": old password wrong",
                      id);
        return auth_jwt_http_send_error(r, HTTP_FORBIDDEN, "old password is wrong");
    }
    rv = aj_password_hash(&hash, r->pool, new_pw, auth_jwt_cfg_bcrypt_cost(c));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(055) "hashing a password failed");
        return auth_jwt_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    valid_after = auth_jwt_revoke_all_value(r);
    rv = aj_store_user_set_password(store, r->pool, id, hash, valid_after,
                                    apr_time_sec(r->request_time));
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, store, "changing a password", rv);
        return auth_jwt_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                        "user store unavailable; the password was not changed");
    }
    auth_jwt_revoke_user_recorded(r, id, valid_after);
    /* Its refresh families too.  Should the store fail now (logged), the
     * password has changed all the same: a refresh checks the family's
     * login against the user's revoke-all time and refuses it anyway. */
    (void)auth_jwt_refresh_revoke_user(r, store, id);
    return auth_jwt_http_send_success(r);
}

/*
 * auth_jwt_handlers.c — the JSON endpoints of docs/reference.md §4, mounted with
 * SetHandler at any path:
 *
 *   auth-jwt-users    POST {"username","password"} -> 201;  GET <base>/<id>
 *   auth-jwt-token    authenticated GET/POST -> a fresh token (REST-auth)
 *   auth-jwt-login    POST {"username","password"} -> a token
 *   auth-jwt-status   authenticated GET -> who the token says you are
 *
 * Bodies are taken only as application/json (415 otherwise: a cross-site
 * HTML form cannot send that type), bounded (413 over AJ_BODY_MAX_LEN),
 * parsed with the core's JSON limits, and every refusal is a JSON {"error": ...} with a 4xx; a
 * store failure is a 503.  Responses carrying tokens are never cached.
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include <apr_lib.h>

#include "auth_jwt_handlers.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_issue.h"
#include "auth_jwt_jwks.h"
#include "auth_jwt_password.h"
#include "auth_jwt_revoke.h"
#include "aj_http.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_password.h"
#include "aj_store.h"
#include "aj_user.h"

#define AUTH_JWT_H_USERS  "auth-jwt-users"
#define AUTH_JWT_H_TOKEN  "auth-jwt-token"
#define AUTH_JWT_H_LOGIN  "auth-jwt-login"
#define AUTH_JWT_H_STATUS "auth-jwt-status"
#define AUTH_JWT_H_LOGOUT "auth-jwt-logout"
#define AUTH_JWT_H_PASSWORD "auth-jwt-password"

#define AUTH_JWT_JSON_TYPE AJ_HTTP_JSON_MEDIA_TYPE
#define AUTH_JWT_NOT_JSON_TEXT "request body must be sent as Content-Type: application/json"

/* ---- responses ---------------------------------------------------------- */

static int auth_jwt_send_json(request_rec *r, int status, json_object *body)
{
    const char *text = apr_pstrcat(r->pool, aj_json_dump(r->pool, body), "\n", NULL);
    apr_bucket_brigade *bb;
    apr_status_t rv;

    r->status = status;
    ap_set_content_type(r, AUTH_JWT_JSON_TYPE);
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_write(bb, NULL, NULL, text, strlen(text));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, bb);
    if (rv != APR_SUCCESS) {
        return AP_FILTER_ERROR;
    }
    return OK;
}

static int auth_jwt_send_error(request_rec *r, int status, const char *message)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "error", json_object_new_string(message));
    return auth_jwt_send_json(r, status, o);
}

static int auth_jwt_send_fail(request_rec *r, int status, const char *message)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "status", json_object_new_string("fail"));
    json_object_object_add(o, "message", json_object_new_string(message));
    return auth_jwt_send_json(r, status, o);
}

static int auth_jwt_method_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->err_headers_out, "Allow", allow);
    return auth_jwt_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
}

static void auth_jwt_no_store(request_rec *r)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
}

/* ---- requests ----------------------------------------------------------- */

/* docs/reference.md §10: a request body is taken only as application/json.  An HTML form
 * (text/plain, x-www-form-urlencoded, multipart) is refused before anything
 * reads the body, checks a password or writes to the store.  `need_type`:
 * the handler reads a body, so the type is required even when the body is
 * empty; otherwise only a body that is present is judged. */
static int auth_jwt_body_type_ok(request_rec *r, int need_type)
{
    if (!need_type && !ap_request_has_body(r)) {
        return 1;
    }
    return aj_http_is_json_media_type(apr_table_get(r->headers_in, "Content-Type"));
}

/* Reads the body (at most AJ_BODY_MAX_LEN) and parses it as a JSON object.
 * Returns OK, or an answered status (400/413) in *answered. */
static int auth_jwt_read_json(json_object **out, request_rec *r, int *answered)
{
    char *buf;
    apr_size_t len = 0;
    long n;
    int rc;
    const char *clen = apr_table_get(r->headers_in, "Content-Length");

    *answered = 0;
    if (!auth_jwt_body_type_ok(r, 1)) {
        *answered = 1;
        return auth_jwt_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, AUTH_JWT_NOT_JSON_TEXT);
    }
    if (clen) {
        char *end = NULL;
        apr_int64_t v = apr_strtoi64(clen, &end, 10);
        if (end && !*end && v > AJ_BODY_MAX_LEN) {
            *answered = 1;
            return auth_jwt_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "request body is larger than 16384 bytes");
        }
    }
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        *answered = 1;
        return rc;
    }
    buf = apr_palloc(r->pool, AJ_BODY_MAX_LEN + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, AJ_BODY_MAX_LEN + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > AJ_BODY_MAX_LEN) {
                *answered = 1;
                return auth_jwt_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                           "request body is larger than 16384 bytes");
            }
        }
        if (n < 0) {
            *answered = 1;
            return auth_jwt_send_error(r, HTTP_BAD_REQUEST, "could not read the request body");
        }
    }
    buf[len] = '\0';
    if (aj_json_parse(out, r->pool, buf, len, &aj_json_body_limits) != APR_SUCCESS) {
        *answered = 1;
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   "request body is not a valid JSON object");
    }
    return OK;
}

/* A required string member without NUL bytes; NULL after answering 400. */
static const char *auth_jwt_json_string(request_rec *r, json_object *o, const char *name,
                                        int *answered)
{
    json_object *v = NULL;
    const char *s;

    if (!json_object_object_get_ex(o, name, &v) || !v) {
        *answered = auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                        apr_psprintf(r->pool, "missing field: %s", name));
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        *answered = auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                        apr_psprintf(r->pool, "%s must be a string", name));
        return NULL;
    }
    s = json_object_get_string(v);
    if ((apr_size_t)json_object_get_string_len(v) != strlen(s)) {
        *answered = auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                        apr_psprintf(r->pool, "%s contains a NUL byte", name));
        return NULL;
    }
    return s;
}

/* Reads {"username": string, "password": string}.  OK, or answered. */
static int auth_jwt_read_credentials(const char **user, const char **password, request_rec *r,
                                     int *answered)
{
    json_object *body = NULL;
    int rc = auth_jwt_read_json(&body, r, answered);

    if (*answered) {
        return rc;
    }
    *user = auth_jwt_json_string(r, body, "username", &rc);
    if (!*user) {
        *answered = 1;
        return rc;
    }
    *password = auth_jwt_json_string(r, body, "password", &rc);
    if (!*password) {
        *answered = 1;
        return rc;
    }
    return OK;
}

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
    if (seg_len == 0 || seg_len > 18) {
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
    aj_store_t *st = auth_jwt_store(r);
    aj_user_t *user = NULL;
    apr_status_t rv;

    if (!st) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rv = aj_store_user_by_id(&user, r->pool, st, id);
    if (rv == APR_NOTFOUND) {
        return auth_jwt_send_error(r, HTTP_NOT_FOUND, "no such user");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "reading a user", rv);
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    return auth_jwt_send_json(r, HTTP_OK, auth_jwt_user_json(r, user->username, user->id));
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
        return auth_jwt_send_error(r, HTTP_FORBIDDEN, "registration is disabled");
    }
    rc = auth_jwt_read_credentials(&username, &password, r, &answered);
    if (answered) {
        return rc;
    }
    problem = aj_user_name_problem(username, strlen(username));
    if (problem) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST, problem);
    }
    if (aj_user_password_too_short(password, auth_jwt_cfg_password_min_len(c))) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   apr_psprintf(r->pool, "password is shorter than %d characters",
                                                auth_jwt_cfg_password_min_len(c)));
    }
    if (aj_user_password_too_long(password)) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST, "password is too long");
    }
    st = auth_jwt_store(r);
    if (!st) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rv = aj_password_hash(&hash, r->pool, password, auth_jwt_cfg_bcrypt_cost(c));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(050) "hashing a password failed");
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    rv = aj_store_user_add(&id, r->pool, st, username, hash, "{}", apr_time_sec(apr_time_now()));
    if (rv == APR_EEXIST) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST, "username already exists");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "adding a user", rv);
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(051)
                  "registered user id %" APR_INT64_T_FMT, id);
    apr_table_setn(r->headers_out, "Location",
                   apr_psprintf(r->pool, "%s/%" APR_INT64_T_FMT,
                                ap_escape_uri(r->pool, base), id));
    return auth_jwt_send_json(r, HTTP_CREATED, auth_jwt_user_json(r, username, id));
}

static int auth_jwt_users(request_rec *r)
{
    const char *base = NULL;
    apr_int64_t id = auth_jwt_users_id(r, &base);

    if (id > 0) {
        if (r->method_number != M_GET) {
            return auth_jwt_method_not_allowed(r, "GET, HEAD");
        }
        return auth_jwt_users_get(r, id);
    }
    if (r->method_number != M_POST) {
        return auth_jwt_method_not_allowed(r, "POST");
    }
    return auth_jwt_users_post(r, base);
}

/* ---- tokens ------------------------------------------------------------- */

/* AuthJWTCookie: the cookie that carries (or, with value NULL, clears) the
 * token.  HttpOnly so scripts never read it; SameSite=Lax and the csrf
 * double submit guard state-changing requests. */
static void auth_jwt_set_cookie(request_rec *r, const char *value, apr_int64_t max_age)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);

    if (!c->cookie) {
        return;
    }
    apr_table_add(r->err_headers_out, "Set-Cookie",
                  apr_psprintf(r->pool, "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT
                               "; HttpOnly; Secure; SameSite=Lax", c->cookie,
                               value ? value : "", value ? max_age : 0));
}

static int auth_jwt_send_token(request_rec *r, const char *token, apr_int64_t expires_in,
                               const char *csrf, int login_shape)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    auth_jwt_no_store(r);
    auth_jwt_set_cookie(r, token, expires_in);
    if (csrf) {
        json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
    }
    if (login_shape) {
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
    return auth_jwt_send_json(r, HTTP_OK, o);
}

/* The authentication state; NULL (after logging) when the handler is not
 * behind AuthType JWT / AuthBasicProvider jwt with a Require line. */
static const auth_jwt_req_t *auth_jwt_need_auth(request_rec *r)
{
    const auth_jwt_req_t *st = auth_jwt_req_get(r);

    if (!st || !r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(052)
                      "%s at %s is not behind AuthType JWT (or AuthBasicProvider jwt) "
                      "and a Require line", r->handler, r->uri);
    }
    return st && r->user ? st : NULL;
}

/* A renewal: the token's session must be young enough and its user still
 * there; the new token keeps auth_time. */
static int auth_jwt_renew(request_rec *r, const auth_jwt_dir_conf *c, const aj_claims_t *claims)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t auth_time = 0, id = 0, expires_in = 0;
    const char *sub = aj_claims_get_string(claims, "sub"), *token = NULL, *csrf = NULL;
    aj_store_t *st;
    aj_user_t *user = NULL;
    apr_status_t rv;

    if (!auth_jwt_cfg_renew_with_token(c)) {
        return auth_jwt_send_error(r, HTTP_FORBIDDEN,
                                   "renewal with a token is disabled; log in with the password");
    }
    if (!aj_claims_get_int(claims, "auth_time", &auth_time)
        && !aj_claims_get_int(claims, "iat", &auth_time)) {
        return auth_jwt_send_error(r, HTTP_FORBIDDEN,
                                   "token has no auth_time; log in with the password");
    }
    if (now - auth_time >= auth_jwt_cfg_max_session_age(c)) {
        return auth_jwt_send_error(r, HTTP_FORBIDDEN,
                                   "session too old to renew; log in with the password");
    }
    if (sub) {
        char *end = NULL;
        id = apr_strtoi64(sub, &end, 10);
        if (!end || *end || id <= 0) {
            id = 0;
        }
    }
    if (!id) {
        return auth_jwt_send_error(r, HTTP_FORBIDDEN, "token does not name a user of this site");
    }
    st = auth_jwt_store(r);
    if (!st) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rv = aj_store_user_by_id(&user, r->pool, st, id);
    if (rv == APR_NOTFOUND) {
        return auth_jwt_send_error(r, HTTP_FORBIDDEN, "token does not name a user of this site");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "reading a user", rv);
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    {
        /* The store is the truth: a revoke-all it knows refuses renewal
         * even before this server's table has caught up. */
        apr_int64_t iat = 0;
        if (user->tokens_valid_after
            && (!aj_claims_get_int(claims, "iat", &iat) || iat < user->tokens_valid_after)) {
            return auth_jwt_send_error(r, HTTP_FORBIDDEN, "token revoked");
        }
    }
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, user, auth_time) != APR_SUCCESS) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_send_token(r, token, expires_in, csrf, 0);
}

static int auth_jwt_token(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const auth_jwt_req_t *st;
    const char *token = NULL, *csrf = NULL;
    apr_int64_t expires_in = 0;

    if (r->method_number != M_GET && r->method_number != M_POST) {
        return auth_jwt_method_not_allowed(r, "GET, HEAD, POST");
    }
    st = auth_jwt_need_auth(r);
    if (!st) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
    }
    if (st->via == AUTH_JWT_VIA_TOKEN) {
        return auth_jwt_renew(r, c, st->claims);
    }
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, st->user,
                       apr_time_sec(r->request_time)) != APR_SUCCESS) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_send_token(r, token, expires_in, csrf, 0);
}

static int auth_jwt_login(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *username = NULL, *password = NULL, *token = NULL, *csrf = NULL;
    const aj_user_t *user = NULL;
    apr_int64_t expires_in = 0;
    int answered = 0, rc;

    if (r->method_number != M_POST) {
        return auth_jwt_method_not_allowed(r, "POST");
    }
    if (!auth_jwt_cfg_password_login(c)) {
        return auth_jwt_send_fail(r, HTTP_FORBIDDEN, "password login is disabled");
    }
    rc = auth_jwt_read_credentials(&username, &password, r, &answered);
    if (answered) {
        return rc;
    }
    switch (auth_jwt_check_password(&user, r, c, username, password)) {
    case OK:
        break;
    case HTTP_SERVICE_UNAVAILABLE:
        return auth_jwt_send_fail(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    case HTTP_TOO_MANY_REQUESTS:
        /* Retry-After is set already */
        return auth_jwt_send_fail(r, HTTP_TOO_MANY_REQUESTS, "too many failed logins");
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(053)
                      "login refused: unknown user or wrong password");
        /* a 401 names its schemes (RFC 9110 §11.6.1): the ones AuthType
         * JWT takes, so a client learns the same challenge everywhere */
        auth_jwt_challenge(r, AJ_OK);
        return auth_jwt_send_fail(r, HTTP_UNAUTHORIZED, "invalid username or password");
    }
    if (auth_jwt_issue(&token, &expires_in, &csrf, r, c, user, apr_time_sec(r->request_time))
        != APR_SUCCESS) {
        return auth_jwt_send_fail(r, HTTP_INTERNAL_SERVER_ERROR, "cannot issue a token");
    }
    return auth_jwt_send_token(r, token, expires_in, csrf, 1);
}

/* ---- auth-jwt-status ---------------------------------------------------- */

static int auth_jwt_status(request_rec *r)
{
    const auth_jwt_req_t *st;
    json_object *o, *data;
    const char *sub;
    apr_int64_t id = 0;

    if (r->method_number != M_GET) {
        return auth_jwt_method_not_allowed(r, "GET, HEAD");
    }
    st = auth_jwt_need_auth(r);
    if (!st || !st->claims) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
    }
    data = json_object_new_object();
    /* user_id is a number for this site's users (sub is their id) */
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
    json_object_object_add(data, "auth", json_object_new_string(
                               st->via == AUTH_JWT_VIA_TOKEN ? "token" : "password"));
    json_object_object_add(data, "claims", json_object_get(aj_claims_object(st->claims)));

    o = aj_json_own(r->pool, json_object_new_object());
    json_object_object_add(o, "status", json_object_new_string("success"));
    json_object_object_add(o, "data", data);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return auth_jwt_send_json(r, HTTP_OK, o);
}

/* ---- auth-jwt-logout / auth-jwt-password -------------------------------- */

static int auth_jwt_send_success(request_rec *r)
{
    json_object *o = aj_json_own(r->pool, json_object_new_object());

    json_object_object_add(o, "status", json_object_new_string("success"));
    return auth_jwt_send_json(r, HTTP_OK, o);
}

/* The user id a request authenticated as: the stored row's, or a token's
 * numeric sub; 0 when the token names no user of this site. */
static apr_int64_t auth_jwt_request_user_id(const auth_jwt_req_t *st)
{
    const char *sub;
    char *end = NULL;
    apr_int64_t id;

    if (st->via == AUTH_JWT_VIA_PASSWORD) {
        return st->user->id;
    }
    sub = aj_claims_get_string(st->claims, "sub");
    if (!sub) {
        return 0;
    }
    id = apr_strtoi64(sub, &end, 10);
    return (end && !*end && id > 0) ? id : 0;
}

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

static int auth_jwt_logout(request_rec *r)
{
    const auth_jwt_req_t *st;
    const char *jti;
    apr_int64_t exp = 0, id, valid_after;
    aj_store_t *store;
    apr_status_t rv;

    if (r->method_number != M_POST) {
        return auth_jwt_method_not_allowed(r, "POST");
    }
    st = auth_jwt_need_auth(r);
    if (!st) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
    }
    if (st->via != AUTH_JWT_VIA_TOKEN) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST, "logout needs the token as credential");
    }
    store = auth_jwt_store(r);
    if (!store) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                   "user store unavailable; the token was not revoked");
    }
    if (auth_jwt_wants_all(r)) {
        id = auth_jwt_request_user_id(st);
        if (!id) {
            return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                       "the token does not name a user of this site");
        }
        valid_after = auth_jwt_revoke_all_value(r);
        rv = aj_store_user_set_valid_after(store, r->pool, id, valid_after);
        if (rv == APR_NOTFOUND) {
            return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                       "the token does not name a user of this site");
        }
        if (rv != APR_SUCCESS) {
            auth_jwt_store_failed(r, store, "revoking a user's tokens", rv);
            return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                       "user store unavailable; the tokens were not revoked");
        }
        auth_jwt_revoke_user_recorded(r, id, valid_after);
        auth_jwt_set_cookie(r, NULL, 0);
        return auth_jwt_send_success(r);
    }
    jti = aj_claims_get_string(st->claims, "jti");
    if (!jti || !*jti || strlen(jti) > AJ_JTI_MAX_LEN) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   "the token has no usable jti; use ?all=1 to revoke every "
                                   "token of the user");
    }
    (void)aj_claims_get_int(st->claims, "exp", &exp);
    if (auth_jwt_revoke_token(r, store, jti, exp) != APR_SUCCESS) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                   "user store unavailable; the token was not revoked");
    }
    auth_jwt_set_cookie(r, NULL, 0);
    return auth_jwt_send_success(r);
}

static int auth_jwt_password(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const auth_jwt_req_t *st;
    json_object *body = NULL;
    const char *old_pw, *new_pw, *hash = NULL;
    aj_store_t *store;
    aj_user_t *user = NULL;
    apr_int64_t id, valid_after;
    apr_status_t rv;
    int answered = 0, rc;

    if (r->method_number != M_POST) {
        return auth_jwt_method_not_allowed(r, "POST");
    }
    st = auth_jwt_need_auth(r);
    if (!st) {
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "server misconfigured");
    }
    rc = auth_jwt_read_json(&body, r, &answered);
    if (answered) {
        return rc;
    }
    old_pw = auth_jwt_json_string(r, body, "old_password", &rc);
    if (!old_pw) {
        return rc;
    }
    new_pw = auth_jwt_json_string(r, body, "new_password", &rc);
    if (!new_pw) {
        return rc;
    }
    if (aj_user_password_too_short(new_pw, auth_jwt_cfg_password_min_len(c))) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   apr_psprintf(r->pool, "password is shorter than %d characters",
                                                auth_jwt_cfg_password_min_len(c)));
    }
    if (aj_user_password_too_long(new_pw) || aj_user_password_too_long(old_pw)) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST, "password is too long");
    }
    id = auth_jwt_request_user_id(st);
    if (!id) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   "the credential does not name a user of this site");
    }
    store = auth_jwt_store(r);
    if (!store) {
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rv = aj_store_user_by_id(&user, r->pool, store, id);
    if (rv == APR_NOTFOUND) {
        return auth_jwt_send_error(r, HTTP_BAD_REQUEST,
                                   "the credential does not name a user of this site");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, store, "reading a user", rv);
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE, "user store unavailable");
    }
    rc = auth_jwt_check_user_password(r, c, user, old_pw);
    if (rc == HTTP_TOO_MANY_REQUESTS) {
        /* Retry-After is set already */
        return auth_jwt_send_error(r, HTTP_TOO_MANY_REQUESTS, "too many failed logins");
    }
    if (rc != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(054)
                      "password change refused for user id %" APR_INT64_T_FMT
                      ": old password wrong", id);
        return auth_jwt_send_error(r, HTTP_FORBIDDEN, "old password is wrong");
    }
    rv = aj_password_hash(&hash, r->pool, new_pw, auth_jwt_cfg_bcrypt_cost(c));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(055) "hashing a password failed");
        return auth_jwt_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    valid_after = auth_jwt_revoke_all_value(r);
    rv = aj_store_user_set_password(store, r->pool, id, hash, valid_after,
                                    apr_time_sec(r->request_time));
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, store, "changing a password", rv);
        return auth_jwt_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                   "user store unavailable; the password was not changed");
    }
    auth_jwt_revoke_user_recorded(r, id, valid_after);
    return auth_jwt_send_success(r);
}

/* ---- dispatch ----------------------------------------------------------- */

int auth_jwt_handler(request_rec *r)
{
    if (!r->handler || strncmp(r->handler, "auth-jwt-", 9)) {
        return DECLINED;
    }
    /* Handlers that take no body (token, status, logout, jwks, users GET)
     * refuse one of another type too: nothing a form posts reaches them. */
    if (!auth_jwt_body_type_ok(r, 0)) {
        return auth_jwt_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, AUTH_JWT_NOT_JSON_TEXT);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_USERS)) {
        return auth_jwt_users(r);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_TOKEN)) {
        return auth_jwt_token(r);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_LOGIN)) {
        return auth_jwt_login(r);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_STATUS)) {
        return auth_jwt_status(r);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_LOGOUT)) {
        return auth_jwt_logout(r);
    }
    if (!strcmp(r->handler, AUTH_JWT_H_PASSWORD)) {
        return auth_jwt_password(r);
    }
    if (!strcmp(r->handler, "auth-jwt-jwks")) {
        return auth_jwt_jwks_handler(r);
    }
    return DECLINED;
}

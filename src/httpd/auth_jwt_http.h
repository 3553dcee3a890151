/*
 * auth_jwt_http.h — what every auth-jwt-* handler does to speak JSON over HTTP
 * (auth_jwt_http.c): read a bounded JSON body, refuse a method, answer JSON,
 * keep token responses out of caches, find the user a request names.
 */
#ifndef AUTH_JWT_HTTP_H
#define AUTH_JWT_HTTP_H

#include <httpd.h>

#include "aj_json.h"
#include "aj_store.h"
#include "auth_jwt_authn.h"

/* The 415 text of a body (or a Content-Type) that is not application/json. */
#define AUTH_JWT_HTTP_NOT_JSON_TEXT "request body must be sent as Content-Type: application/json"

/* ---- responses ---------------------------------------------------------- */

/* Answers `status` with `text` (already JSON, with its final newline) as
 * application/json; OK, or AP_FILTER_ERROR when the client went away. */
int auth_jwt_http_send_text(request_rec *r, int status, const char *text);
/* Answers `status` with `body` serialized (one line). */
int auth_jwt_http_send_json(request_rec *r, int status, json_object *body);
/* {"error": message} with a 4xx or 5xx status. */
int auth_jwt_http_send_error(request_rec *r, int status, const char *message);
/* {"status": "success"} with 200. */
int auth_jwt_http_send_success(request_rec *r);
/* 405 with the Allow header `allow` ("GET, HEAD", "POST", ...). */
int auth_jwt_http_method_not_allowed(request_rec *r, const char *allow);
/* Cache-Control: no-store and Pragma: no-cache, for responses that carry a
 * token. */
void auth_jwt_http_no_store(request_rec *r);
/* AuthJWTCookie: sets the cookie that carries `value` for max_age seconds,
 * or clears it when value is NULL; nothing without AuthJWTCookie. */
void auth_jwt_http_set_cookie(request_rec *r, const char *value, apr_int64_t max_age);

/* ---- requests ----------------------------------------------------------- */

/* True when the request's body may be read as JSON: its Content-Type is
 * application/json, or (need_type 0) there is no body at all. */
int auth_jwt_http_body_type_ok(request_rec *r, int need_type);
/* Reads the body (at most AJ_BODY_MAX_LEN bytes) as one JSON object under
 * the core's body limits.  Returns OK with *out set, or, with *answered set,
 * the status of the refusal already sent (400, 413, 415). */
int auth_jwt_http_read_json(json_object **out, request_rec *r, int *answered);
/* The string member `name` of o, without NUL bytes; NULL after answering
 * 400, with *answered the status to return. */
const char *auth_jwt_http_json_string(request_rec *r, json_object *o, const char *name,
                                      int *answered);
/* Reads {"username": string, "password": string}: OK, or *answered set and
 * the status of the refusal already sent. */
int auth_jwt_http_read_credentials(const char **user, const char **password, request_rec *r,
                                   int *answered);

/* ---- who the request is ------------------------------------------------- */

/* The method bits of auth_jwt_http_need_auth (HEAD is M_GET). */
#define AUTH_JWT_HTTP_GET  (AP_METHOD_BIT << M_GET)
#define AUTH_JWT_HTTP_POST (AP_METHOD_BIT << M_POST)

/* The start of a handler that serves an authenticated request: a method
 * not in `methods` is refused (405 with the Allow header `allow`), then the
 * request's authentication is returned.  NULL after answering, with
 * *answered the status to return; a 500 (logged) when the handler is not
 * behind AuthType JWT (or AuthBasicProvider jwt) and a Require line. */
const auth_jwt_req_t *auth_jwt_http_need_auth(request_rec *r, apr_int64_t methods,
                                              const char *allow, int *answered);
/* The user id the request authenticated as: the stored row's, or the
 * token's sub when it is a positive decimal number; 0 when the token names
 * no user of this site (a trusted issuer's token never does). */
apr_int64_t auth_jwt_http_user_id(const auth_jwt_req_t *st);
/* The stored user `id` (and, store not NULL, its store), or NULL after
 * answering: `missing_status` with `missing_text` when id is 0 (the request
 * names no user of this site) or no user has it, 503 when the store is
 * unavailable or fails (logged).  *answered is the status to return when
 * NULL. */
aj_user_t *auth_jwt_http_user_by_id(aj_store_t **store, request_rec *r, apr_int64_t id,
                                    int missing_status, const char *missing_text, int *answered);

#endif /* AUTH_JWT_HTTP_H */

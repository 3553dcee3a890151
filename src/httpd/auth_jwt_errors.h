/*
 * auth_jwt_errors.h — JSON error bodies for JSON clients (auth_jwt_errors.c,
 * docs/reference.md §13).
 */
#ifndef AUTH_JWT_ERRORS_H
#define AUTH_JWT_ERRORS_H

#include <httpd.h>

/* The fixed texts of the module's own refusals (never an echo of input). */
#define AUTH_JWT_ERR_AUTH_REQUIRED  "authentication required"
#define AUTH_JWT_ERR_WRONG_PASSWORD "invalid username or password"
#define AUTH_JWT_ERR_FORBIDDEN      "forbidden"
#define AUTH_JWT_ERR_THROTTLED      "too many failed logins"
#define AUTH_JWT_ERR_STORE_DOWN     "user store unavailable"
#define AUTH_JWT_ERR_STEP_UP        "a more recent password login is required"
#define AUTH_JWT_ERR_SCOPE          "insufficient scope"

/* Records why this module answers `status` (401, 403, 429 or 503; others
 * are ignored) for this request: `text` becomes the "error" of the JSON
 * body should the client want JSON.  text must be one of the fixed texts
 * above or aj_verdict_text()'s, never anything the client sent; it is not
 * copied.  The last call for a status wins. */
void auth_jwt_errors_note(request_rec *r, int status, const char *text);

/* Registers the insert_error_filter hook and its output filter. */
void auth_jwt_errors_register(apr_pool_t *p);

#endif /* AUTH_JWT_ERRORS_H */

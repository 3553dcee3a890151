/*
 * auth_jwt_password.h — the password path: login throttle, Basic
 * credential cache, then the store and bcrypt (auth_jwt_password.c)
 */
#ifndef AUTH_JWT_PASSWORD_H
#define AUTH_JWT_PASSWORD_H

#include <httpd.h>

#include "aj_claims.h"
#include "aj_store.h"
#include "auth_jwt_config.h"

/* The outcome of a password check. */
typedef enum {
    AUTH_JWT_PW_OK,
    AUTH_JWT_PW_UNKNOWN_USER,
    AUTH_JWT_PW_MISMATCH,
    AUTH_JWT_PW_STORE_DOWN,
    AUTH_JWT_PW_THROTTLED /* refused unchecked (docs/reference.md §10): *retry_after */
} auth_jwt_pw_e;

/* How a front end treats a username the store does not know. */
typedef enum {
    AUTH_JWT_UNKNOWN_REFUSED,  /* a refused check: audit line, counted */
    AUTH_JWT_UNKNOWN_PASSED_ON /* AuthBasicProvider jwt: a provider after
                                 * ours may know the name (AuthBasicProvider
                                 * jwt file), and mod_auth_basic logs the
                                 * final "not found" (AH01618); counting it
                                 * would lock out and log that provider's
                                 * users */
} auth_jwt_unknown_e;

/* Checks username/password: the login throttle first, then the Basic
 * credential cache, then the store.  On AUTH_JWT_PW_OK *user is set, and
 * *claims when the cache had the user's claims (else NULL: build them);
 * *retry_after is set on AUTH_JWT_PW_THROTTLED.  A refused check has
 * logged its audit line and taken the failed-check floor. */
auth_jwt_pw_e auth_jwt_password_check(const aj_user_t **user, const aj_claims_t **claims,
                                      apr_int64_t *retry_after, request_rec *r,
                                      const auth_jwt_dir_conf *c, const char *username,
                                      const char *password, auth_jwt_unknown_e unknown);

/* The HTTP status of an outcome for AuthType JWT and the handlers: OK,
 * HTTP_UNAUTHORIZED (unknown user or wrong password), HTTP_SERVICE_UNAVAILABLE
 * (store failure) or HTTP_TOO_MANY_REQUESTS (with Retry-After set in
 * r->err_headers_out and the JSON error text noted). */
int auth_jwt_password_status(request_rec *r, auth_jwt_pw_e outcome, apr_int64_t retry_after);

/* Checks username/password against the store, under the login throttle.
 * Returns OK (with *user), HTTP_UNAUTHORIZED (unknown user or wrong
 * password: same answer and time either way, audit line logged),
 * HTTP_TOO_MANY_REQUESTS (throttled, nothing checked; Retry-After is set in
 * r->err_headers_out) or HTTP_SERVICE_UNAVAILABLE (store failure, logged). */
int auth_jwt_check_password(const aj_user_t **user, request_rec *r, const auth_jwt_dir_conf *c,
                            const char *username, const char *password);

/* Checks the password of a user already known (the old password of
 * auth-jwt-password) with the login throttle and the failed-check floor.
 * OK; HTTP_UNAUTHORIZED (wrong, logged); HTTP_TOO_MANY_REQUESTS (throttled:
 * Retry-After is set). */
int auth_jwt_check_user_password(request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                                 const char *password);

#endif /* AUTH_JWT_PASSWORD_H */

/*
 * auth_jwt_password.c — the password path of every front end (AuthType
 * JWT, AuthBasicProvider jwt, the login and password handlers): the login
 * throttle before anything costs, the Basic credential cache, then the
 * user's row and bcrypt, with the failed-check floor that makes an unknown
 * user, a wrong password and a throttled one take the same time
 * (docs/reference.md §10).  Nothing here logs a password or a hash.
 */
#include <string.h>

#include <apr_strings.h>

#include "auth_jwt_password.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_bcache.h"
#include "auth_jwt_bflight.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_errors.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_throttle.h"
#include "aj_claims.h"
#include "aj_password.h"
#include "aj_store.h"
#include "aj_user.h"

/* What a check of an unknown user hashes, so that it costs what a real
 * check costs (the result is thrown away). */
#define AUTH_JWT_DUMMY_PASSWORD "mod_auth_jwt"

/* A refused check: its audit line and count, then the sleep that makes it
 * end when every other failed check ends (docs/reference.md §10). */
static auth_jwt_pw_e auth_jwt_password_refused(auth_jwt_throttle_t *th, request_rec *r,
                                               const auth_jwt_dir_conf *c, apr_time_t started,
                                               auth_jwt_pw_e outcome, const char *why)
{
    auth_jwt_throttle_refused(th, r, c, why);
    auth_jwt_pace_pad(r, c, started);
    return outcome;
}

/* Verifies password against a stored hash, learning the hash's bcrypt cost
 * and timing the run for the failed-check floor. */
static int auth_jwt_password_matches(request_rec *r, const char *password, const char *hash,
                                     apr_time_t *started)
{
    int cost = aj_password_bcrypt_cost(hash);
    apr_interval_time_t took;
    int ok;

    auth_jwt_pace_learn_hash(r, hash);
    *started = apr_time_now();
    ok = aj_password_verify(password, hash);
    took = apr_time_now() - *started;
    auth_jwt_metrics_password(took);
    if (cost) {
        auth_jwt_pace_sample(cost, took);
    }
    return ok;
}

/* auth_jwt_password_check past a cache miss (refresh: 0) or a cached
 * check due for renewal (refresh: 1). */
static auth_jwt_pw_e auth_jwt_password_check_store(const aj_user_t **user,
                                                   const aj_claims_t **claims,
                                                   auth_jwt_throttle_t *th, request_rec *r,
                                                   const auth_jwt_dir_conf *c, const char *username,
                                                   const char *password, auth_jwt_unknown_e unknown,
                                                   int refresh)
{
    aj_store_t *st;
    aj_user_t *u = NULL;
    const char *ignored = NULL;
    apr_time_t started;
    apr_status_t rv;
    int cost;

    /* a refresh: the entry stands if the store cannot answer, a wrong
     * password or a vanished user does not */
    st = auth_jwt_store(r);
    if (!st) {
        return refresh ? AUTH_JWT_PW_OK : AUTH_JWT_PW_STORE_DOWN;
    }
    auth_jwt_pace_learn_store(r, st);
    if (strlen(username) > AJ_USERNAME_MAX_LEN || strlen(password) > AJ_PASSWORD_MAX_LEN) {
        rv = APR_NOTFOUND;
    }
    else {
        rv = aj_store_user_by_name(&u, r->pool, st, username);
    }
    if (rv == APR_NOTFOUND) {
        /* The work of a real check (and a sample of bcrypt's speed); the
         * floor then hides the cost of the real users' hashes. */
        cost = auth_jwt_cfg_bcrypt_cost(c);
        started = apr_time_now();
        (void)aj_password_hash(&ignored, r->pool, AUTH_JWT_DUMMY_PASSWORD, cost);
        auth_jwt_pace_sample(cost, apr_time_now() - started);
        if (unknown == AUTH_JWT_UNKNOWN_PASSED_ON) {
            auth_jwt_pace_pad(r, c, started);
            return AUTH_JWT_PW_UNKNOWN_USER;
        }
        return auth_jwt_password_refused(th, r, c, started, AUTH_JWT_PW_UNKNOWN_USER,
                                         "unknown user");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "looking up a user", rv);
        return refresh ? AUTH_JWT_PW_OK : AUTH_JWT_PW_STORE_DOWN;
    }
    if (!auth_jwt_password_matches(r, password, u->password_hash, &started)) {
        return auth_jwt_password_refused(th, r, c, started, AUTH_JWT_PW_MISMATCH, "wrong password");
    }
    if (refresh) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(025) "cached password check of user id %" APR_INT64_T_FMT " renewed",
                      u->id);
        *claims = NULL;
    }
    auth_jwt_throttle_passed(th, r);
    auth_jwt_bcache_put(r, c, password, u);
    *user = u;
    return AUTH_JWT_PW_OK;
}

auth_jwt_pw_e auth_jwt_password_check(const aj_user_t **user, const aj_claims_t **claims,
                                      apr_int64_t *retry_after, request_rec *r,
                                      const auth_jwt_dir_conf *c, const char *username,
                                      const char *password, auth_jwt_unknown_e unknown)
{
    auth_jwt_throttle_t th;
    auth_jwt_bflight_t *flight = NULL;
    auth_jwt_bc_e cached;
    auth_jwt_pw_e outcome;

    *claims = NULL;
    /* Before the cache and before bcrypt: a throttled check costs nothing,
     * and a right password does not get through while throttled. */
    *retry_after = auth_jwt_throttle_check(&th, r, c, username);
    if (*retry_after > 0) {
        return AUTH_JWT_PW_THROTTLED;
    }
    /* A miss may have waited for a check of the same credential (a single
     * flight); it found that check's success in the cache, or checks alone
     * here.  A leader lands its flight once its outcome is cached (or known
     * not to be): its waiters then look at the cache again. */
    cached = auth_jwt_bcache_get(user, claims, &flight, r, c, username, password);
    if (cached == AUTH_JWT_BC_HIT) {
        auth_jwt_throttle_passed(&th, r);
        return AUTH_JWT_PW_OK;
    }
    outcome = auth_jwt_password_check_store(user, claims, &th, r, c, username, password, unknown,
                                            cached == AUTH_JWT_BC_DUE);
    auth_jwt_bflight_land(r, flight);
    return outcome;
}

/* docs/reference.md §10: a throttled check under AuthType JWT or a handler is a 429
 * that says when to come back. */
static int auth_jwt_too_many(request_rec *r, apr_int64_t retry_after)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, retry_after));
    auth_jwt_errors_note(r, HTTP_TOO_MANY_REQUESTS, AUTH_JWT_ERR_THROTTLED);
    return HTTP_TOO_MANY_REQUESTS;
}

int auth_jwt_password_status(request_rec *r, auth_jwt_pw_e outcome, apr_int64_t retry_after)
{
    switch (outcome) {
    case AUTH_JWT_PW_OK: return OK;
    case AUTH_JWT_PW_STORE_DOWN: return HTTP_SERVICE_UNAVAILABLE;
    case AUTH_JWT_PW_THROTTLED: return auth_jwt_too_many(r, retry_after);
    default: return HTTP_UNAUTHORIZED;
    }
}

int auth_jwt_check_password(const aj_user_t **user, request_rec *r, const auth_jwt_dir_conf *c,
                            const char *username, const char *password)
{
    const aj_claims_t *claims = NULL;
    apr_int64_t retry_after = 0;
    auth_jwt_pw_e outcome = auth_jwt_password_check(user, &claims, &retry_after, r, c, username,
                                                    password, AUTH_JWT_UNKNOWN_REFUSED);

    return auth_jwt_password_status(r, outcome, retry_after);
}

int auth_jwt_check_user_password(request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                                 const char *password)
{
    auth_jwt_throttle_t th;
    apr_int64_t retry_after = auth_jwt_throttle_check(&th, r, c, user->username);
    apr_time_t started;

    if (retry_after > 0) {
        return auth_jwt_too_many(r, retry_after);
    }
    if (!auth_jwt_password_matches(r, password, user->password_hash, &started)) {
        (void)auth_jwt_password_refused(&th, r, c, started, AUTH_JWT_PW_MISMATCH,
                                        "wrong old password");
        return HTTP_UNAUTHORIZED;
    }
    auth_jwt_throttle_passed(&th, r);
    return OK;
}

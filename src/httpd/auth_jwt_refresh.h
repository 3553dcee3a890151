/*
 * auth_jwt_refresh.h — refresh families in the glue (auth_jwt_refresh.c):
 * starting one at a password login, revoking one (logout, reuse) or every
 * one of a user (revoke-all, password change), and the NAME_refresh cookie
 * of cookie mode.  The handler that rotates tokens: auth_jwt_h_refresh.c.
 */
#ifndef AUTH_JWT_REFRESH_H
#define AUTH_JWT_REFRESH_H

#include <httpd.h>

#include "aj_store.h"
#include "auth_jwt_config.h"
#include "auth_jwt_issue.h"

/* What a password login hands out besides its access token: a refresh
 * token (raw, for the client only) and its lifetime; raw is NULL when
 * refresh tokens are off here. */
typedef struct {
    const char *raw;
    apr_int64_t expires_in;
} auth_jwt_refresh_grant_t;

/* A password login for user: *session is the session its access token
 * belongs to (auth_time now; with AuthJWTRefreshLifetime > 0 a new family,
 * its sid and end) and *grant the family's first refresh token.  OK, or
 * HTTP_SERVICE_UNAVAILABLE / HTTP_INTERNAL_SERVER_ERROR (logged). */
int auth_jwt_refresh_start(auth_jwt_session_t *session, auth_jwt_refresh_grant_t *grant,
                           request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user);

/* Revokes family `sid` in the store, then puts its revocation into the
 * shared table (every access token of it refused at once).  APR_SUCCESS
 * also when the store knows no such family (nothing to revoke); an error
 * status after logging when the store failed. */
apr_status_t auth_jwt_refresh_revoke_family(request_rec *r, aj_store_t *st, const char *sid);

/* Revokes every family of user id (revoke-all, password change) the same
 * way; an error status after logging when the store failed. */
apr_status_t auth_jwt_refresh_revoke_user(request_rec *r, aj_store_t *st, apr_int64_t id);

/* ---- cookie mode (AuthJWTCookie NAME) ------------------------------------ */

/* post_config: finds, per server, the path of the plain <Location PATH>
 * whose SetHandler is auth-jwt-refresh: the NAME_refresh cookie is sent
 * to that path only. */
void auth_jwt_refresh_post_config(apr_pool_t *pconf, server_rec *s);

/* Cookie mode: sets NAME_refresh to raw for max_age seconds, or clears it
 * (raw NULL).  0 when there is nowhere to send it (no refresh handler
 * found: logged); 1 otherwise, and without AuthJWTCookie (nothing set). */
int auth_jwt_refresh_set_cookie(request_rec *r, const char *raw, apr_int64_t max_age);

/* The NAME_refresh cookie of the request: APR_SUCCESS with *raw (NULL when
 * absent), APR_EINVAL when it is sent twice with different values. */
apr_status_t auth_jwt_refresh_cookie(const char **raw, request_rec *r);

#endif /* AUTH_JWT_REFRESH_H */

/*
 * auth_jwt_issue.c — minting tokens for the token and login handlers
 * (docs/reference.md §5: sub, name, iat, nbf, exp, jti, auth_time, iss/aud, stored claims).
 */
#include <string.h>

#include <apr_strings.h>

#include "auth_jwt_issue.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "aj_issue.h"
#include "aj_jws.h"
#include "aj.h"
#include "aj_key.h"
#include "aj_store.h"
#include "aj_keyset.h"

/* Extra wait past a same-second revoke-all (microseconds). */
#define AUTH_JWT_REVOKE_WAIT_SLACK 1000

apr_status_t auth_jwt_issue(const char **token, apr_int64_t *expires_in, const char **csrf,
                            request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                            const auth_jwt_session_t *session)
{
    const aj_key_t *key = c->keys ? aj_keyset_signing_key(c->keys) : NULL;
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t lifetime = auth_jwt_cfg_lifetime(c);
    const char *json = NULL, *tok = NULL, *jti = NULL, *csrf_value = NULL;
    aj_issue_t in;
    apr_status_t rv;

    if (!key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(040) "cannot issue a token at %s: no AuthJWTSigningKey applies here",
                      r->uri);
        rv = APR_ENOENT;
        goto cleanup;
    }
    if (user->tokens_valid_after > now && user->tokens_valid_after - now <= 1) {
        /* A revoke-all in this very second covers every token with this
         * iat; wait for the next second so the new token outlives it. */
        apr_interval_time_t wait = apr_time_from_sec(user->tokens_valid_after) - apr_time_now()
                                   + AUTH_JWT_REVOKE_WAIT_SLACK;
        if (wait > 0) {
            apr_sleep(wait);
        }
        now = apr_time_sec(apr_time_now());
    }
    rv = aj_random_id(&jti, r->pool, AJ_JTI_RANDOM_BYTES);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      AJ_LOGNO(041) "cannot issue a token: no randomness for jti");
        goto cleanup;
    }
    if (c->cookie) {
        rv = aj_random_id(&csrf_value, r->pool, AJ_JTI_RANDOM_BYTES);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          AJ_LOGNO(046) "cannot issue a token: no randomness for csrf");
            goto cleanup;
        }
    }
    memset(&in, 0, sizeof(in));
    in.sub = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, user->id);
    in.name = user->username;
    in.iat = now;
    in.nbf = now;
    if (session->not_after && session->not_after - now < lifetime) {
        /* no token of a family outlives it (AuthJWTMaxSessionAge) */
        lifetime = session->not_after - now;
    }
    if (lifetime <= 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(047) "cannot issue a token: its session has ended");
        rv = APR_EINVAL;
        goto cleanup;
    }
    in.exp = now + lifetime;
    in.auth_time = session->auth_time;
    in.sid = session->sid;
    in.jti = jti;
    in.iss = c->issuer;
    in.aud = c->audiences;
    in.extra_json = user->claims_json;
    in.csrf = csrf_value;

    rv = aj_claims_build(&json, r->pool, &in);
    if (rv == APR_EINVAL) {
        /* Broken stored claims only ever take privileges away: issue
         * without them, and say so. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      AJ_LOGNO(042) "user id %" APR_INT64_T_FMT
                                    ": stored claims are not a JSON object; "
                                    "issuing the token without them",
                      user->id);
        in.extra_json = NULL;
        rv = aj_claims_build(&json, r->pool, &in);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      AJ_LOGNO(043) "cannot issue a token: building the claims failed");
        goto cleanup;
    }
    rv = aj_jws_sign(&tok, r->pool, key, json, strlen(json));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      AJ_LOGNO(044) "cannot issue a token: signing failed");
        goto cleanup;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(045) "issued token jti=%s for sub=%s, expires in %" APR_INT64_T_FMT " s",
                  jti, in.sub, lifetime);
    *token = tok;
    *expires_in = lifetime;
    *csrf = csrf_value;

cleanup:
    return rv;
}

/*
 * auth_jwt_revoke.h — is a token revoked, what the Basic cache may trust of a
 * user, recording a logout or revoke-all (auth_jwt_revoke.c); the table
 * itself: auth_jwt_revtab.h
 */
#ifndef AUTH_JWT_REVOKE_H
#define AUTH_JWT_REVOKE_H

#include <httpd.h>

#include "aj.h"
#include "aj_claims.h"
#include "aj_revtab.h"
#include "aj_store.h"
#include "auth_jwt_config.h"

/* A token's keys in the revocation table (a SHA-256 each, under the store
 * of the request's server), computed once per verified token and kept with
 * it in the verified-token cache. */
typedef struct {
    aj_revtab_key_t jti;  /* valid when has_jti */
    aj_revtab_key_t user; /* of sub; valid when has_user */
    aj_revtab_key_t sid;  /* of its refresh family (aj_refresh_sid_key); valid when has_sid */
    apr_uint32_t has_jti;
    apr_uint32_t has_user;
    apr_uint32_t has_sid;
    apr_uint32_t store; /* the scope index the keys were made for */
} auth_jwt_revkeys;

/* The keys of the token's jti, sub and sid claims under the request's store; an
 * error status when one could not be computed (nothing may then be
 * trusted). */
apr_status_t auth_jwt_revkeys_make(auth_jwt_revkeys *keys, request_rec *r,
                                   const aj_claims_t *claims);

/* The hot-path check of a verified token (no database unless the table
 * cannot answer for this store).  keys: the token's revocation keys, or
 * NULL to compute them.  OK with *verdict AJ_OK or AJ_REVOKED, or
 * HTTP_SERVICE_UNAVAILABLE while revocations cannot be known. */
int auth_jwt_revoke_check(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                          const aj_claims_t *claims, const auth_jwt_revkeys *keys);
/* Records a logout: the store first (its failure is logged and returned),
 * then the shared table. */
apr_status_t auth_jwt_revoke_token(request_rec *r, aj_store_t *st, const char *jti,
                                   apr_int64_t exp);
/* The tokens_valid_after value that revokes every token issued so far. */
apr_int64_t auth_jwt_revoke_all_value(request_rec *r);
/* Puts a revoke-all already written to the store into the shared table. */
void auth_jwt_revoke_user_recorded(request_rec *r, apr_int64_t id, apr_int64_t valid_after);

/* A user's keys in the revocation table: revoke-all and last change, under
 * the store of the request's server. */
typedef struct {
    aj_revtab_key_t user;
    aj_revtab_key_t changed;
    apr_uint32_t store;
    apr_uint32_t reserved;
} auth_jwt_userkeys;

apr_status_t auth_jwt_userkeys_make(auth_jwt_userkeys *keys, request_rec *r, apr_int64_t id);

/* What the revocation table knows of a user: *valid_after (tokens issued
 * before it are revoked; 0: none) and *stamp (the latest of valid_after and
 * the last password or claims change: anything cached before it is void).
 * 1 when known; 0 when revocations are on but the table cannot answer for
 * this store (then both are APR_INT64_MAX: nothing cached may be trusted). */
int auth_jwt_revoke_user_state(apr_int64_t *valid_after, apr_int64_t *stamp, request_rec *r,
                               const auth_jwt_dir_conf *c, const auth_jwt_userkeys *keys);

#endif /* AUTH_JWT_REVOKE_H */

/*
 * aj_store_refresh.h — refresh tokens and their families in the store
 * (docs/reference.md §12; the model is explained at the top of
 * src/store/aj_store_refresh.c).
 *
 * The store never sees a raw refresh token: callers pass the hash that
 * aj_refresh_token_new / aj_refresh_token_hash (aj_refresh.h) make.  Times
 * are epoch seconds; `now` is always the caller's.  Operational failures
 * are APR_EGENERAL (the glue answers 503); aj_store_error has the driver's
 * message.  APR_EINVAL is for what no caller should pass (a hash that is
 * not 64 lowercase hex digits, an empty or over-long family id, a
 * lifetime <= 0), refused before any SQL.
 */
#ifndef AJ_STORE_REFRESH_H
#define AJ_STORE_REFRESH_H

#include "aj_store.h"

/* What a presented refresh token turned out to be. */
typedef enum {
    AJ_REFRESH_OK = 0,  /* consumed now, by this call: rotate (issue the next one) */
    AJ_REFRESH_UNKNOWN, /* no such token (never issued, or pruned after expiry) */
    AJ_REFRESH_EXPIRED, /* unused, but past its own or its family's end */
    AJ_REFRESH_REUSED   /* consumed before, or its family is revoked: the
                         * caller revokes the family (RFC 9700 §4.14.2) */
} aj_refresh_verdict_e;

/* A family: what one password login started. */
typedef struct {
    const char *family;     /* its id (aj_refresh_family_new), the `sid` claim */
    apr_int64_t user_id;    /* users.id */
    apr_int64_t auth_time;  /* of the password login; kept by every rotation */
    apr_int64_t expires_at; /* its end: auth_time + AuthJWTMaxSessionAge */
} aj_refresh_family_t;

/* Records a new family (a password login).  APR_EEXIST when the id is
 * taken (never, with a random id: the caller may treat it as a failure). */
apr_status_t aj_store_refresh_family_add(aj_store_t *st, apr_pool_t *p,
                                         const aj_refresh_family_t *fam);

/* The family with that id, APR_NOTFOUND when none; *revoked_at is 0 while
 * it is not revoked (either out-parameter may be NULL). */
apr_status_t aj_store_refresh_family_get(aj_refresh_family_t **fam, apr_int64_t *revoked_at,
                                         aj_store_t *st, apr_pool_t *p, const char *family);

/* Stores the hash of a new refresh token of fam (the first one after
 * aj_store_refresh_family_add, the next one after an AJ_REFRESH_OK
 * consume).  It expires at now + lifetime or at the family's end, whichever
 * comes first: *expires_at (the glue's refresh_expires_in is *expires_at -
 * now).  APR_NOTFOUND when the family is unknown, revoked or ended (a
 * rotation that raced a logout or a reuse: the caller answers 401 and
 * mints no access token). */
apr_status_t aj_store_refresh_issue(apr_int64_t *expires_at, aj_store_t *st, apr_pool_t *p,
                                    const aj_refresh_family_t *fam, const char *hash,
                                    apr_int64_t lifetime, apr_int64_t now);

/* Consumes the token with that hash: of any number of concurrent calls
 * with one hash (any connections, any nodes), exactly one gets
 * AJ_REFRESH_OK; the others get AJ_REFRESH_REUSED.  *fam is set for every
 * verdict but AJ_REFRESH_UNKNOWN (on AJ_REFRESH_REUSED the caller revokes
 * fam->family).  APR_EGENERAL also when the store cannot tell whether this
 * call consumed the token (pgsql: the connection dropped during the write
 * and the write ran again); the token is then spent either way. */
apr_status_t aj_store_refresh_consume(aj_refresh_verdict_e *verdict, aj_refresh_family_t **fam,
                                      aj_store_t *st, apr_pool_t *p, const char *hash,
                                      apr_int64_t now);

/* Revokes a family: no token of it is consumed or issued any more, and its
 * access tokens are refused through the revocation table.  The store
 * records the revocation of jti *sid_key (aj_refresh_sid_key) until
 * *until = the family's end + access_lifetime: access_lifetime is the
 * longest lifetime of an access token the glue mints from the family
 * (AuthJWTLifetime; 0 when it caps them at the family's end), so the
 * revocation outlives the last of them.  Other nodes learn it through
 * their revocation poll (aj_store_revoked_since); the caller puts
 * *sid_key / *until into its shared revocation table at once, as a
 * logout does with a jti.  Idempotent; APR_NOTFOUND when there is no such
 * family (then nothing is written). */
apr_status_t aj_store_refresh_revoke_family(const char **sid_key, apr_int64_t *until,
                                            aj_store_t *st, apr_pool_t *p, const char *family,
                                            apr_int64_t access_lifetime, apr_int64_t now);

/* Revokes every family of a user (revoke-all, password change, deletion)
 * as aj_store_refresh_revoke_family does, and calls fn with the sid key
 * and `until` of each revoked family of the user whose access tokens may
 * still live (those revoked before included: putting them again is
 * harmless).  *revoked: how many families this call revoked. */
typedef void aj_store_refresh_sid_fn(void *baton, const char *sid_key, apr_int64_t until);
apr_status_t aj_store_refresh_revoke_user(int *revoked, aj_store_t *st, apr_pool_t *p,
                                          apr_int64_t user_id, apr_int64_t access_lifetime,
                                          apr_int64_t now, aj_store_refresh_sid_fn *fn,
                                          void *baton);

/* Deletes expired tokens, then families past their end that have no token
 * left; *pruned rows of both.  (The families' revocation rows in
 * revoked_tokens go with aj_store_revoke_prune, at their own expiry.) */
apr_status_t aj_store_refresh_prune(int *pruned, aj_store_t *st, apr_pool_t *p, apr_int64_t now);

#endif /* AJ_STORE_REFRESH_H */

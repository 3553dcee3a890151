/*
 * aj_refresh.h — refresh tokens as the core sees them (docs/reference.md
 * §12): making one, the hash the store keeps instead of it, family ids, and
 * the revocation key under which a family's access tokens are refused.
 *
 * A refresh token is opaque randomness (never a JWT).  The store sees only
 * its hash, so a copy of the database lets no one refresh; the raw token
 * exists in the response to the client and nowhere else on the server.
 */
#ifndef AJ_REFRESH_H
#define AJ_REFRESH_H

#include "aj.h"

/* docs/reference.md §12: a refresh token carries at least 256 random bits. */
#define AJ_REFRESH_RANDOM_BYTES 32
/* Its text: base64url of AJ_REFRESH_RANDOM_BYTES bytes, no padding. */
#define AJ_REFRESH_TOKEN_LEN    43
/* What the store keeps: SHA-256 of the token's text, lowercase hex. */
#define AJ_REFRESH_HASH_LEN     64
/* A family id (the `sid` claim): unique, not secret; as many bits as a jti. */
#define AJ_REFRESH_FAMILY_BYTES AJ_JTI_RANDOM_BYTES

/* The revocation of a family is recorded as a revoked jti named
 * AJ_REFRESH_SID_PREFIX + family (revoked_tokens, and the shared
 * revocation table through its poll): an access token whose `sid` claim
 * names a revoked family is refused.  The ':' never occurs in a jti this
 * module issues (base64url), so the two kinds of key cannot collide. */
#define AJ_REFRESH_SID_PREFIX "sid:"

/* A new refresh token (*raw, for the client only) and its hash (*hash, for
 * the store), both in p.  APR_EGENERAL when the RNG fails. */
apr_status_t aj_refresh_token_new(const char **raw, const char **hash, apr_pool_t *p);

/* The hash of a presented refresh token, to look it up in the store.
 * APR_EINVAL when raw (NULL-terminated, any length) is not shaped as
 * aj_refresh_token_new makes them (AJ_REFRESH_TOKEN_LEN base64url
 * characters): such a token was never issued, the store need not be asked. */
apr_status_t aj_refresh_token_hash(const char **hash, apr_pool_t *p, const char *raw);

/* A new family id (base64url of AJ_REFRESH_FAMILY_BYTES random bytes). */
apr_status_t aj_refresh_family_new(const char **family, apr_pool_t *p);

/* The revocation key of a family: AJ_REFRESH_SID_PREFIX + family. */
const char *aj_refresh_sid_key(apr_pool_t *p, const char *family);

#endif /* AJ_REFRESH_H */

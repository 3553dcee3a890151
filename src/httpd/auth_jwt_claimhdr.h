/*
 * auth_jwt_claimhdr.h — AuthJWTClaimHeader: client copies removed, claims
 * set after authentication (auth_jwt_claimhdr.c)
 */
#ifndef AUTH_JWT_CLAIMHDR_H
#define AUTH_JWT_CLAIMHDR_H

#include <httpd.h>

#include "aj_claims.h"
#include "auth_jwt_config.h"

/* Sets each AuthJWTClaimHeader header of c from the claims of the
 * identity just accepted (docs/reference.md §11). */
void auth_jwt_claimhdr_set(request_rec *r, const auth_jwt_dir_conf *c, const aj_claims_t *claims);

/* Registers the hook that removes client-sent claim headers. */
void auth_jwt_claimhdr_register(apr_pool_t *p);

#endif /* AUTH_JWT_CLAIMHDR_H */

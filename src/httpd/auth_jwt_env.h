/*
 * auth_jwt_env.h — a verified identity's claims as JWT_CLAIM_* variables
 * (auth_jwt_env.c)
 */
#ifndef AUTH_JWT_ENV_H
#define AUTH_JWT_ENV_H

#include <httpd.h>

#include "aj_claims.h"
#include "auth_jwt_config.h"

/* Sets JWT_CLAIM_<name> in r->subprocess_env for each exportable claim
 * when AuthJWTClaimsToEnv is on (docs/reference.md §2). */
void auth_jwt_export_claims(request_rec *r, const auth_jwt_dir_conf *c, const aj_claims_t *claims);

#endif /* AUTH_JWT_ENV_H */

/*
 * auth_jwt_user_claims.h — the claims a password login stands for
 * (auth_jwt_user_claims.c)
 */
#ifndef AUTH_JWT_USER_CLAIMS_H
#define AUTH_JWT_USER_CLAIMS_H

#include <httpd.h>

#include "aj_claims.h"
#include "aj_store.h"

/* The claims a password login stands for: sub, name and the user's stored
 * claims (reserved names excluded).  Built with their JSON text, so they
 * can be packed (aj_claims_pack). */
const aj_claims_t *auth_jwt_user_claims(request_rec *r, const aj_user_t *user);

#endif /* AUTH_JWT_USER_CLAIMS_H */

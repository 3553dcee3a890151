/*
 * auth_jwt_verify.h — the token path: verification through the
 * verified-token cache, then the revocation check (auth_jwt_verify.c)
 */
#ifndef AUTH_JWT_VERIFY_H
#define AUTH_JWT_VERIFY_H

#include <httpd.h>

#include "aj.h"
#include "aj_claims.h"
#include "auth_jwt_config.h"
#include "auth_jwt_trust.h"

/* r->notes: the verdict name (aj_verdict_name) of a refused token, for the
 * counters of the front ends. */
#define AUTH_JWT_NOTE_VERDICT "auth-jwt-verdict"

/* Creates this child's verified-token cache (AuthJWTVerifyCache). */
void auth_jwt_vcache_child_init(apr_pool_t *p, server_rec *s);

/* Verifies a token with this directory's keys (or its trusted issuer's),
 * policy and the revocation table.  Returns OK with *verdict (on AJ_OK
 * *claims is set, and *issuer is the trusted issuer whose token it is, NULL
 * for a local one; any other verdict is logged at info, jti/sub only, and
 * noted as AUTH_JWT_NOTE_VERDICT), or HTTP_SERVICE_UNAVAILABLE when
 * revocations, or the issuer's keys, cannot be known. */
int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims,
                          const auth_jwt_issuer_t **issuer, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len);

#endif /* AUTH_JWT_VERIFY_H */

/*
 * auth_jwt_issue.h — minting tokens (auth_jwt_issue.c)
 */
#ifndef AUTH_JWT_ISSUE_H
#define AUTH_JWT_ISSUE_H

#include <httpd.h>

#include "aj_store.h"
#include "auth_jwt_config.h"

/* Signs a token for user (extra claims from the store row).  auth_time is
 * kept from a renewed token, else now.  With AuthJWTCookie the token carries
 * a random csrf claim, returned in *csrf (else *csrf is NULL).  Logs and returns an error status
 * when no signing key is configured or signing fails. */
apr_status_t auth_jwt_issue(const char **token, apr_int64_t *expires_in, const char **csrf,
                            request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                            apr_int64_t auth_time);

#endif /* AUTH_JWT_ISSUE_H */

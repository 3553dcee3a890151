/*
 * auth_jwt_issue.h — minting tokens (auth_jwt_issue.c)
 */
#ifndef AUTH_JWT_ISSUE_H
#define AUTH_JWT_ISSUE_H

#include <httpd.h>

#include "aj_store.h"
#include "auth_jwt_config.h"

/* The session an access token belongs to (docs/reference.md §12). */
typedef struct {
    apr_int64_t auth_time; /* of the password login: now, or kept by a renewal or refresh */
    const char *sid;       /* its refresh family (the sid claim); NULL: none */
    apr_int64_t not_after; /* the family's end, which exp never passes; 0: none */
} auth_jwt_session_t;

/* Signs a token for user (extra claims from the store row) in session.
 * With AuthJWTCookie the token carries a random csrf claim, returned in
 * *csrf (else *csrf is NULL).  Logs and returns an error status when no
 * signing key is configured, the session has ended, or signing fails. */
apr_status_t auth_jwt_issue(const char **token, apr_int64_t *expires_in, const char **csrf,
                            request_rec *r, const auth_jwt_dir_conf *c, const aj_user_t *user,
                            const auth_jwt_session_t *session);

#endif /* AUTH_JWT_ISSUE_H */

/*
 * auth_jwt_revtab.h — the shared revocation table of this generation: its
 * set-up, its loading and refresh from each store, and writes to it
 * (auth_jwt_revtab.c).  Token checks: auth_jwt_revoke.h.
 */
#ifndef AUTH_JWT_REVTAB_H
#define AUTH_JWT_REVTAB_H

#include <httpd.h>

#include "aj_revtab.h"
#include "auth_jwt_config.h"

/* auth_jwt_revtab_refresh(): this child cannot use the table; ask the store. */
#define AUTH_JWT_REVTAB_ASK_STORE (-2)

int auth_jwt_revtab_pre_config(apr_pool_t *pconf);
/* Makes the table (slots entries shared by every store of the
 * configuration) and its writers' mutex; OK or an HTTP status (logged). */
int auth_jwt_revtab_post_config(apr_pool_t *pconf, server_rec *s, apr_uint32_t slots);
void auth_jwt_revtab_child_init(apr_pool_t *p, server_rec *s);

/* The table of this generation; NULL before post_config or after it failed. */
aj_revtab_t *auth_jwt_revtab(void);

/* Brings the request's store up to date in the table when a refresh is due
 * (or when the store was never loaded).  OK; or AUTH_JWT_REVTAB_ASK_STORE
 * when the store was never loaded and the table cannot be locked (a child
 * whose generation a graceful restart replaced): the store is then asked
 * per token; or HTTP_SERVICE_UNAVAILABLE when the store was never loaded and
 * cannot be read.  Needs the table (auth_jwt_revtab() not NULL). */
int auth_jwt_revtab_refresh(request_rec *r, const auth_jwt_dir_conf *c, apr_int64_t now);

/* Puts a revocation already written to the request's store into the table:
 * a token's jti (until exp) and/or a user's revoke-all (sub, valid_after;
 * sub NULL: none).  Without the table, or when it cannot be locked, nothing:
 * the next refresh brings it. */
void auth_jwt_revtab_put(request_rec *r, const char *jti, apr_int64_t exp, const char *sub,
                         apr_int64_t valid_after);

/* The table's occupied slots and the entries it takes (0, 0 without it). */
void auth_jwt_revtab_fill(apr_uint64_t *entries, apr_uint64_t *capacity);

#endif /* AUTH_JWT_REVTAB_H */

/*
 * auth_jwt_confcheck.h — configtest failures for mistakes httpd would only
 * meet at run time (docs/reference.md §13); the rules: aj_confcheck.h.
 */
#ifndef AUTH_JWT_CONFCHECK_H
#define AUTH_JWT_CONFCHECK_H

#include <httpd.h>

/* The check_config hook: copies the configuration tree into the model of
 * aj_confcheck.h, logs every certain mistake (emerg, to stderr before the
 * logs are open, so `apachectl configtest` shows it) and returns
 * HTTP_INTERNAL_SERVER_ERROR when there is one, else OK.  It runs on
 * `apachectl configtest` and on every start and restart. */
int auth_jwt_confcheck(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);

#endif /* AUTH_JWT_CONFCHECK_H */

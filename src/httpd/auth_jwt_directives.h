/*
 * auth_jwt_directives.h — the directives and their setters
 * (auth_jwt_directives.c).
 */
#ifndef AUTH_JWT_DIRECTIVES_H
#define AUTH_JWT_DIRECTIVES_H

#include <httpd.h>
#include <http_config.h>

/* The module's directives (the module record's command table). */
extern const command_rec auth_jwt_cmds[];

/* Writes the key warnings (docs/reference.md §10: readable secret or
 * private key files) noted while the configuration was read to the error
 * log; post_config. */
void auth_jwt_directives_log_key_warnings(apr_pool_t *pconf);

#endif /* AUTH_JWT_DIRECTIVES_H */

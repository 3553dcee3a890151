/*
 * auth_jwt_scope.h — which store each server (virtual host) uses (auth_jwt_scope.c)
 */
#ifndef AUTH_JWT_SCOPE_H
#define AUTH_JWT_SCOPE_H

#include <httpd.h>
#include <http_config.h>

#include "aj.h"

/* docs/reference.md §9: the store a server (virtual host) uses, as every shared
 * structure names it: its id (driver + DBDParams, aj_store_id_make) and its
 * index among the distinct stores of this configuration (0..count-1), the
 * slot of its per-store state in shared memory. */
typedef struct {
    aj_store_id_t id;
    apr_uint32_t index;
    const char *text;        /* aj_store_describe: no password, for log lines */
    const char *sqlite_file; /* the database file with DBDriver sqlite3, else NULL */
} auth_jwt_scope_t;

/* Reads every server's DBDriver/DBDParams from the configuration tree (as
 * mod_dbd merges them: a virtual host without its own inherits the main
 * server's) and gives each server its scope.  Returns the number of
 * distinct stores (at least 1). */
apr_uint32_t auth_jwt_scope_post_config(apr_pool_t *ptemp, server_rec *s);
/* The DBDriver text in force for the server a <VirtualHost> node of the
 * configuration tree defines (NULL: the main server), read as mod_dbd
 * merges it; NULL when none.  Usable as soon as the tree is read. */
const char *auth_jwt_scope_driver(const ap_directive_t *vhost);
/* The scope of the store this server's requests use. */
const auth_jwt_scope_t *auth_jwt_scope(const server_rec *s);
/* This server's store as log lines name it: "sqlite3 database FILE" or
 * "pgsql connection '...'" without any password (aj_store_describe). */
const char *auth_jwt_scope_store_text(const server_rec *s);
/* The number of distinct stores (as the last post_config found). */
apr_uint32_t auth_jwt_scope_count(void);

#endif /* AUTH_JWT_SCOPE_H */

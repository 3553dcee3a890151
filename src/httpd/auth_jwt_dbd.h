/*
 * auth_jwt_dbd.h — the store on mod_dbd's connections (auth_jwt_dbd.c)
 */
#ifndef AUTH_JWT_DBD_H
#define AUTH_JWT_DBD_H

#include <httpd.h>

#include "aj_store.h"

/* post_config: resolves mod_dbd's optional functions (an info line when
 * mod_dbd is not loaded: the store is then unavailable). */
void auth_jwt_dbd_post_config(server_rec *s);
/* The store on this request's mod_dbd connection (schema and statements
 * ready), or NULL after logging one tagged line; the caller answers 503. */
aj_store_t *auth_jwt_store(request_rec *r);
/* Logs a failed store operation once, tagged, and resets the store (below);
 * the caller answers 503. */
void auth_jwt_store_failed(request_rec *r, aj_store_t *st, const char *what, apr_status_t rv);
/* After a failed operation: the connection's next request prepares a fresh
 * store (st stays usable until this request ends). */
void auth_jwt_store_reset(request_rec *r, aj_store_t *st);

#endif /* AUTH_JWT_DBD_H */

/*
 * mod_auth_jwt.h — what mod_auth_jwt.c (the module record and its hooks) gives
 * every glue file: the module, for APLOG_USE_MODULE, and the log tag macro.
 * Only the glue (src/httpd) includes httpd headers; the core never does.
 */
#ifndef MOD_AUTH_JWT_H
#define MOD_AUTH_JWT_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

/* Our own stable log tags, one per call site, never reused (STYLE.md). */
#define AJ_LOGNO(n) "AJ" #n ": "

extern module AP_MODULE_DECLARE_DATA auth_jwt_module;
#if defined(APLOG_USE_MODULE) && !defined(AUTH_JWT_MODULE_RECORD)
APLOG_USE_MODULE(auth_jwt);
#endif

#endif /* MOD_AUTH_JWT_H */

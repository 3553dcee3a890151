/*
 * auth_jwt_logcap.c — httpd's HTTP module logs every request header at
 * trace4 ("Headers received from client") before any auth hook runs, and
 * every response header the same way ("Headers sent to client"):
 * Authorization, Cookie, and a Set-Cookie that carries a token or a
 * refresh token.  Tokens and passwords never reach a log
 * (docs/reference.md §2): requests that carry credentials, and responses
 * that set them, have that module's level capped at trace3 for the request.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "auth_jwt_logcap.h"

static int auth_jwt_logcap_index = -1;

void auth_jwt_logcap_init(void)
{
    module *http = ap_find_linked_module("http_core.c");

    auth_jwt_logcap_index = http ? http->module_index : -1;
}

void auth_jwt_logcap(request_rec *r)
{
    struct ap_logconf *l;
    int idx = auth_jwt_logcap_index;

    if (idx < 0 || !APLOG_R_MODULE_IS_LEVEL(r, idx, APLOG_TRACE4)) {
        return;
    }
    l = ap_new_log_config(r->pool, r->log);
    ap_set_module_loglevel(r->pool, l, idx, APLOG_TRACE3);
    r->log = l;
}

/*
 * mod_auth_jwt — token authentication for Apache httpd 2.4.
 *
 * The module record, hook registration and the order in which the start-up
 * hooks reach each part; see src/ for the rest:
 *   src/core/aj_*.c       the pure core (base64url, JSON, keys, JWS, claims,
 *                         passwords, shared tables) — no httpd
 *   src/store/aj_store*.c the store over apr_dbd — no httpd
 *   src/httpd/auth_jwt_*.c  the httpd glue, one concern per file
 */
#include <httpd.h>
#include <http_config.h>
#include <http_main.h>
#include <ap_mmn.h>
#include <http_core.h>

#define AUTH_JWT_MODULE_RECORD /* AP_DECLARE_MODULE declares the log index */
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_authz.h"
#include "auth_jwt_bcache.h"
#include "auth_jwt_claimhdr.h"
#include "auth_jwt_confcheck.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_errors.h"
#include "auth_jwt_handlers.h"
#include "auth_jwt_issuers.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_refresh.h"
#include "auth_jwt_revtab.h"
#include "auth_jwt_scope.h"
#include "auth_jwt_throttle.h"
#include "auth_jwt_trust.h"
#include "auth_jwt_verify.h"

static int auth_jwt_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    int rc = auth_jwt_revtab_pre_config(pconf);

    auth_jwt_trust_pre_config(pconf);
    if (rc == OK) {
        rc = auth_jwt_throttle_pre_config(pconf);
    }
    if (rc == OK) {
        rc = auth_jwt_issuers_pre_config(pconf);
    }
    return rc != OK ? rc : auth_jwt_bcache_pre_config(pconf);
}

static int auth_jwt_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    int rc;

    auth_jwt_dbd_post_config(s);
    if (!auth_jwt_scope_post_config(ptemp, s)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    auth_jwt_refresh_post_config(pconf, s);
    auth_jwt_trust_post_config(s);
    /* The first pass only checks the configuration: no shared memory yet. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    auth_jwt_config_log_key_warnings(pconf);
    rc = auth_jwt_metrics_post_config(pconf, s);
    if (rc != OK) {
        return rc;
    }
    rc = auth_jwt_revtab_post_config(pconf, s, auth_jwt_cfg_revocation_slots(s));
    if (rc == OK) {
        rc = auth_jwt_throttle_post_config(pconf, s);
    }
    if (rc == OK) {
        rc = auth_jwt_issuers_post_config(pconf, s);
    }
    return rc != OK ? rc : auth_jwt_bcache_post_config(pconf, ptemp, s);
}

static void auth_jwt_child_init(apr_pool_t *p, server_rec *s)
{
    auth_jwt_revtab_child_init(p, s);
    auth_jwt_throttle_child_init(p, s);
    auth_jwt_vcache_child_init(p, s);
    auth_jwt_bcache_child_init(p, s);
    auth_jwt_bcache_child_init_local(p, s);
    auth_jwt_issuers_child_init(p, s);
}

static void auth_jwt_register_hooks(apr_pool_t *p)
{
    auth_jwt_authn_register(p);
    auth_jwt_authz_register(p);
    auth_jwt_claimhdr_register(p);
    auth_jwt_metrics_register(p);
    auth_jwt_errors_register(p);
    ap_hook_pre_config(auth_jwt_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* check_config, not post_config: `apachectl configtest` runs only the former */
    ap_hook_check_config(auth_jwt_confcheck, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(auth_jwt_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(auth_jwt_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(auth_jwt_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(auth_jwt) = { STANDARD20_MODULE_STUFF,
                                auth_jwt_create_dir_conf,
                                auth_jwt_merge_dir_conf,
                                auth_jwt_create_srv_conf,
                                NULL,
                                auth_jwt_cmds,
                                auth_jwt_register_hooks,
                                AP_MODULE_FLAG_NONE };

/*
 * auth_jwt_shm.c — the module's shared-memory segments across starts and
 * restarts: the revocation table, the login throttle and the counters.
 *
 * Each lives for one generation of the configuration.  pre_config forgets
 * the last one and registers the mutex type (so a Mutex directive can name
 * it); post_config, in the parent before any child exists, makes an
 * anonymous segment and the global mutex from pconf; every child attaches
 * to the mutex in child_init.  A (graceful) restart clears pconf, which
 * destroys both and clears the owner's pointer, and the next post_config
 * makes new ones: a new generation starts empty.  Children of the old
 * generation keep their mapping until they exit; their mutex may be gone
 * (the owners cope with a failing lock).
 */
#include <util_mutex.h>

#include "auth_jwt_shm.h"
#include "mod_auth_jwt.h"

int auth_jwt_shm_pre_config(auth_jwt_shm_t **home, apr_pool_t *pconf,
                            const auth_jwt_shm_spec_t *spec)
{
    *home = NULL;
    if (!spec->mutex_type) {
        return OK;
    }
    return ap_mutex_register(pconf, spec->mutex_type, NULL, APR_LOCK_DEFAULT, 0);
}

/* pconf cleanup: the generation is over. */
static apr_status_t auth_jwt_shm_ended(void *data)
{
    auth_jwt_shm_t *seg = data;

    *seg->home = NULL;
    return APR_SUCCESS;
}

int auth_jwt_shm_post_config(auth_jwt_shm_t **home, apr_pool_t *pconf, server_rec *s,
                             const auth_jwt_shm_spec_t *spec, apr_size_t size)
{
    auth_jwt_shm_t *seg = apr_pcalloc(pconf, sizeof(*seg));
    apr_status_t rv;

    *home = NULL;
    seg->spec = spec;
    seg->home = home;
    seg->size = size;
    rv = apr_shm_create(&seg->shm, size, NULL, pconf);
    if (rv != APR_SUCCESS && spec->degraded) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "%sno shared memory for the %s: %s",
                     spec->tag_create, spec->what, spec->degraded);
        return OK;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "%scannot create %" APR_SIZE_T_FMT " bytes of shared memory for the %s",
                     spec->tag_create, size, spec->what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    seg->base = apr_shm_baseaddr_get(seg->shm);
    if (spec->mutex_type
        && ap_global_mutex_create(&seg->mutex, &seg->mutex_file, spec->mutex_type, NULL, s, pconf,
                                  0)
               != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR; /* httpd logged why */
    }
    *home = seg;
    apr_pool_cleanup_register(pconf, seg, auth_jwt_shm_ended, apr_pool_cleanup_null);
    return OK;
}

void auth_jwt_shm_child_init(auth_jwt_shm_t *seg, apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (!seg || !seg->mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&seg->mutex, seg->mutex_file, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "%scannot attach the %s mutex in this child",
                     seg->spec->tag_attach, seg->spec->mutex_what);
    }
}

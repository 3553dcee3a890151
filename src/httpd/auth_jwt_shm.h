/*
 * auth_jwt_shm.h — one shared-memory segment per generation of the
 * configuration, and the global mutex of its writers (auth_jwt_shm.c).
 */
#ifndef AUTH_JWT_SHM_H
#define AUTH_JWT_SHM_H

#include <httpd.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>

/* What a segment is, fixed by the file that owns it (a static const).  The
 * tags are the AJ_LOGNO() of the owner's lines, so each line keeps the tag
 * of its concern. */
typedef struct {
    const char *mutex_type; /* its writers' global mutex, as the Mutex
                                 * directive names it; NULL: none */
    const char *what;       /* in "cannot create N bytes of shared memory for the WHAT" */
    const char *tag_create; /* tag of that line */
    const char *degraded;   /* NULL: the server cannot run without the
                                 * segment (emerg, start refused); else what
                                 * works less without it (warning, start goes on) */
    const char *mutex_what; /* in "cannot attach the MUTEX_WHAT mutex in this child" */
    const char *tag_attach; /* tag of that line */
} auth_jwt_shm_spec_t;

/* The spec of a segment the server cannot run without, written by its
 * writers under a global mutex (the revocation table, the throttle). */
#define AUTH_JWT_SHM_SPEC_REQUIRED(what_, tag_create_, mutex_type_, mutex_what_, tag_attach_) \
    { \
        .mutex_type = (mutex_type_), .what = (what_), .tag_create = (tag_create_), \
        .degraded = NULL, .mutex_what = (mutex_what_), .tag_attach = (tag_attach_) \
    }

/* One generation's segment: made in post_config from pconf, so a restart
 * (which clears pconf) ends it; the owner's pointer to it is cleared then. */
typedef struct auth_jwt_shm_t {
    const auth_jwt_shm_spec_t *spec;
    struct auth_jwt_shm_t **home; /* the owner's pointer to this segment */
    apr_shm_t *shm;
    void *base; /* size bytes, zeroed by no one: the owner formats them */
    apr_size_t size;
    apr_global_mutex_t *mutex; /* NULL without spec->mutex_type */
    const char *mutex_file;
} auth_jwt_shm_t;

/* pre_config: forgets the last generation's segment (*home = NULL) and
 * registers the mutex type, so a Mutex directive can name it.  OK or an
 * HTTP status. */
int auth_jwt_shm_pre_config(auth_jwt_shm_t **home, apr_pool_t *pconf,
                            const auth_jwt_shm_spec_t *spec);
/* post_config (parent, before the children exist): size bytes of anonymous
 * shared memory and, with spec->mutex_type, the global mutex, both from
 * pconf; *home points at them until pconf is cleared.  Failures are logged
 * under the spec's tag (the mutex's by httpd).  OK, also when a segment
 * with spec->degraded cannot be made (*home stays NULL); else
 * HTTP_INTERNAL_SERVER_ERROR. */
int auth_jwt_shm_post_config(auth_jwt_shm_t **home, apr_pool_t *pconf, server_rec *s,
                             const auth_jwt_shm_spec_t *spec, apr_size_t size);
/* child_init: attaches this child to the segment's mutex (a crit line under
 * the spec's tag when it cannot).  Nothing to do without a segment or mutex. */
void auth_jwt_shm_child_init(auth_jwt_shm_t *seg, apr_pool_t *p, server_rec *s);

#endif /* AUTH_JWT_SHM_H */

/*
 * auth_jwt_issuers.c — trusted issuers' key sets at run time
 * (docs/reference.md §11).
 *
 * Fetching happens in the background: a mod_watchdog callback that runs in
 * one child at a time (a singleton) fetches each set when it is due, with
 * libcurl (auth_jwt_fetch.c), never while a request waits.  The one
 * exception is a token whose kid its issuer's set lacks (a key the issuer
 * just added): one fetch in the request, at most once per
 * AJ_ISSUER_MIN_REFRESH seconds per issuer counted from its last fetch of
 * any kind.
 *
 * A fetched set that has a usable key is kept, as the document came, in a
 * slot of shared memory (one per issuer, written under a global mutex), so
 * every child sees it; a child parses it once per change of the slot's
 * generation and keeps the key set until the next change.  A set that
 * cannot be fetched, or has no usable key, leaves the slot as it was:
 * its last good set keeps verifying for AuthJWTKeyMaxStale seconds from
 * the first failure, then the issuer's tokens get 503 until a fetch
 * succeeds again.  Before the first good fetch they get 503 too.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_core.h>
#include <mod_watchdog.h>

#include "auth_jwt_issuers.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_errors.h"
#include "auth_jwt_fetch.h"
#include "auth_jwt_shm.h"
#include "auth_jwt_trust.h"
#include "aj_issuer.h"
#include "aj_metrics.h"

/* The Mutex directive's name for the slots' writers. */
#define AUTH_JWT_ISSUERS_MUTEX    "auth-jwt-keys"
/* The watchdog of the fetcher, and how often it looks at what is due. */
#define AUTH_JWT_ISSUERS_WATCHDOG "auth_jwt_keys"
#define AUTH_JWT_ISSUERS_TICK     apr_time_from_sec(1)
/* A failing issuer is logged at most this often (seconds). */
#define AUTH_JWT_ISSUERS_LOG_GAP  60

static const auth_jwt_shm_spec_t auth_jwt_issuers_shm =
    AUTH_JWT_SHM_SPEC_REQUIRED("trusted issuers' key sets", AJ_LOGNO(081), AUTH_JWT_ISSUERS_MUTEX,
                               "trusted issuers' key sets", AJ_LOGNO(082));

/* One issuer's slot.  Times are epoch seconds (they fit 32 bits until 2106)
 * so a reader outside the mutex reads each one whole (apr_atomic_read32). */
typedef struct {
    apr_uint32_t gen;        /* changes with the document (0: none held yet) */
    apr_uint32_t fail_since; /* first failed fetch after the last good one; 0: none */
    apr_uint32_t last_fetch; /* start of the last fetch of any kind */
    apr_uint32_t next_due;   /* the background's next fetch */
    apr_uint32_t last_log;   /* the last failure logged */
    apr_uint32_t doc_len;
    apr_uint32_t fetched_ok; /* fetches by outcome, for auth-jwt-metrics */
    apr_uint32_t fetched_error;
    apr_uint32_t reserved;
    char doc[AJ_ISSUER_DOC_MAX];
} auth_jwt_keyslot_t;

/* A child's parsed copy of one slot (guarded by lock). */
typedef struct {
    apr_thread_mutex_t *lock;
    apr_uint32_t gen;
    const aj_keyset_t *ks;
    apr_pool_t *pool;     /* ks's */
    apr_pool_t *old_pool; /* the set before: a thread may still be verifying with it */
} auth_jwt_keycache_t;

static struct {
    auth_jwt_shm_t *seg;
    auth_jwt_keyslot_t *slots; /* one per registry entry (file: sets leave theirs untouched) */
    int n;
    auth_jwt_keycache_t *cache; /* this child's, one per registry entry */
    server_rec *s;
} auth_jwt_is;

static apr_uint32_t auth_jwt_issuers_now(void)
{
    return (apr_uint32_t)apr_time_sec(apr_time_now());
}

static int auth_jwt_issuers_fetched(const auth_jwt_issuer_t *e)
{
    return e->kind != AUTH_JWT_KEYS_FILE;
}

/* ---- fetching --------------------------------------------------------- */

/* The JWK Set document of e: through discovery, or from its URL. */
static apr_status_t auth_jwt_issuers_get(auth_jwt_fetched_t *set, const char **err, apr_pool_t *p,
                                         const auth_jwt_issuer_t *e)
{
    const char *url = e->url;
    auth_jwt_fetched_t disc;
    apr_status_t rv;

    if (e->kind == AUTH_JWT_KEYS_DISCOVERY) {
        rv = auth_jwt_fetch(&disc, err, p, url, &e->fetch);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "discovery at %s: %s", url, *err);
            return rv;
        }
        rv = aj_issuer_jwks_uri(&url, err, p, disc.body, disc.len, e->issuer);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "discovery at %s: %s", e->url, *err);
            return rv;
        }
    }
    rv = auth_jwt_fetch(set, err, p, url, &e->fetch);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", url, *err);
    }
    return rv;
}

/* Fetches e's set now and records the outcome in its slot. */
static void auth_jwt_issuers_fetch(apr_pool_t *p, const auth_jwt_issuer_t *e)
{
    auth_jwt_keyslot_t *slot = &auth_jwt_is.slots[e->index];
    apr_array_header_t *skipped = NULL;
    auth_jwt_fetched_t set;
    const char *err = NULL;
    aj_keyset_t *ks = NULL;
    apr_uint32_t now, stale_for = 0;
    int changed = 0, log_failure = 0, i;
    apr_status_t rv;

    rv = auth_jwt_issuers_get(&set, &err, p, e);
    if (rv == APR_SUCCESS) {
        /* never from a URL: HMAC secrets are not published */
        rv = aj_issuer_keyset(&ks, &skipped, &err, p, set.body, set.len, 0);
        if (rv != APR_SUCCESS) {
            err = apr_psprintf(p, "the JWK Set is not usable: %s", err);
        }
    }
    now = auth_jwt_issuers_now();
    if (apr_global_mutex_lock(auth_jwt_is.seg->mutex) != APR_SUCCESS) {
        return; /* an old generation's child: the current one fetches */
    }
    if (rv == APR_SUCCESS) {
        if (!slot->gen || slot->doc_len != set.len || memcmp(slot->doc, set.body, set.len)) {
            memcpy(slot->doc, set.body, set.len);
            slot->doc_len = (apr_uint32_t)set.len;
            /* 0 is "none held": skip it when the counter wraps */
            apr_atomic_set32(&slot->gen, slot->gen + 1 ? slot->gen + 1 : 1);
            changed = 1;
        }
        apr_atomic_set32(&slot->fail_since, 0);
        apr_atomic_inc32(&slot->fetched_ok);
        slot->next_due = now + (apr_uint32_t)aj_issuer_refresh_in(e->refresh, set.cache_control);
    }
    else {
        if (!slot->fail_since) {
            apr_atomic_set32(&slot->fail_since, now);
        }
        stale_for = now - slot->fail_since;
        apr_atomic_inc32(&slot->fetched_error);
        slot->next_due = now + AUTH_JWT_ISSUER_RETRY;
        if (now - slot->last_log >= AUTH_JWT_ISSUERS_LOG_GAP) {
            slot->last_log = now;
            log_failure = 1;
        }
    }
    apr_global_mutex_unlock(auth_jwt_is.seg->mutex);

    if (log_failure) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, auth_jwt_is.s,
                     AJ_LOGNO(083) "cannot fetch the keys of trusted issuer %s: %s (%s)", e->issuer,
                     err,
                     !slot->gen ? "its tokens get 503 until a fetch succeeds"
                     : stale_for < e->max_stale
                         ? "its last good keys serve until AuthJWTKeyMaxStale runs out"
                         : "AuthJWTKeyMaxStale has run out: its tokens get 503");
    }
    if (changed) {
        for (i = 0; skipped && i < skipped->nelts; ++i) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, auth_jwt_is.s,
                         AJ_LOGNO(084) "trusted issuer %s: a key of its set is skipped: %s",
                         e->issuer, APR_ARRAY_IDX(skipped, i, const char *));
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, auth_jwt_is.s,
                     AJ_LOGNO(085) "trusted issuer %s: new key set fetched", e->issuer);
    }
}

/* The background: every tick, each set that is due. */
static apr_status_t auth_jwt_issuers_tick(int state, void *data, apr_pool_t *pool)
{
    const apr_array_header_t *reg = auth_jwt_trust_registry();
    int i;

    /* STARTING too: the first fetch as soon as the fetcher runs */
    if (state == AP_WATCHDOG_STATE_STOPPING || !auth_jwt_is.seg) {
        return APR_SUCCESS;
    }
    for (i = 0; i < auth_jwt_is.n; ++i) {
        const auth_jwt_issuer_t *e = APR_ARRAY_IDX(reg, i, const auth_jwt_issuer_t *);
        auth_jwt_keyslot_t *slot = &auth_jwt_is.slots[i];
        apr_uint32_t now = auth_jwt_issuers_now();
        int due = 0;

        if (!auth_jwt_issuers_fetched(e)
            || apr_global_mutex_lock(auth_jwt_is.seg->mutex) != APR_SUCCESS) {
            continue;
        }
        if (now >= slot->next_due) {
            due = 1;
            slot->last_fetch = now;
            slot->next_due = now + AUTH_JWT_ISSUER_RETRY; /* until the outcome says */
        }
        apr_global_mutex_unlock(auth_jwt_is.seg->mutex);
        if (due) {
            auth_jwt_issuers_fetch(pool, e);
            apr_pool_clear(pool);
        }
    }
    return APR_SUCCESS;
}

int auth_jwt_issuer_refetch(request_rec *r, const auth_jwt_issuer_t *e)
{
    auth_jwt_keyslot_t *slot;
    apr_uint32_t now = auth_jwt_issuers_now(), gen;
    int go = 0;

    if (!auth_jwt_is.seg || !auth_jwt_issuers_fetched(e)) {
        return 0;
    }
    slot = &auth_jwt_is.slots[e->index];
    if (apr_global_mutex_lock(auth_jwt_is.seg->mutex) != APR_SUCCESS) {
        return 0;
    }
    gen = slot->gen;
    if (now - slot->last_fetch >= AJ_ISSUER_MIN_REFRESH) {
        slot->last_fetch = now;
        go = 1;
    }
    apr_global_mutex_unlock(auth_jwt_is.seg->mutex);
    if (!go) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(086) "unknown key id for trusted issuer %s: fetching its keys now",
                  e->issuer);
    auth_jwt_issuers_fetch(r->pool, e);
    return apr_atomic_read32(&slot->gen) != gen;
}

/* ---- a child's parsed copy ------------------------------------------------ */

/* Brings the child's copy of slot up to date; APR_SUCCESS, or an error when
 * the slot cannot be read (nothing may then be trusted). */
static apr_status_t auth_jwt_issuers_load(auth_jwt_keycache_t *kc, auth_jwt_keyslot_t *slot,
                                          const auth_jwt_issuer_t *e, apr_uint32_t want)
{
    apr_pool_t *pool = NULL;
    aj_keyset_t *ks = NULL;
    const char *err = NULL;
    apr_uint32_t gen, len;
    char *doc;
    apr_status_t rv;

    if (kc->gen == want) {
        return APR_SUCCESS; /* another thread was first */
    }
    /* a root pool: pools of one parent must not be made by two threads at
     * once, and loads of different issuers run concurrently */
    apr_pool_create(&pool, NULL);
    rv = apr_global_mutex_lock(auth_jwt_is.seg->mutex);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
    gen = slot->gen;
    len = slot->doc_len;
    doc = apr_pmemdup(pool, slot->doc, len);
    apr_global_mutex_unlock(auth_jwt_is.seg->mutex);
    /* the fetcher checked it: it parses */
    rv = aj_issuer_keyset(&ks, NULL, &err, pool, doc, len, 0);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
    if (kc->old_pool) {
        apr_pool_destroy(kc->old_pool); /* two sets ago: at least a minute old */
    }
    kc->old_pool = kc->pool;
    kc->pool = pool;
    kc->ks = ks;
    kc->gen = gen;
    return APR_SUCCESS;
}

int auth_jwt_issuer_keys(const aj_keyset_t **ks, apr_uint64_t *id, request_rec *r,
                         const auth_jwt_issuer_t *e)
{
    auth_jwt_keyslot_t *slot;
    auth_jwt_keycache_t *kc;
    apr_uint32_t gen, fail_since, now;
    apr_status_t rv = APR_SUCCESS;

    *ks = NULL;
    *id = (apr_uint64_t)(e->index + 1) << 32;
    if (!auth_jwt_issuers_fetched(e)) {
        *ks = e->file_keys;
        return OK;
    }
    if (!auth_jwt_is.seg || !auth_jwt_is.cache) {
        goto unavailable;
    }
    slot = &auth_jwt_is.slots[e->index];
    kc = &auth_jwt_is.cache[e->index];
    gen = apr_atomic_read32(&slot->gen);
    fail_since = apr_atomic_read32(&slot->fail_since);
    now = auth_jwt_issuers_now();
    if (!gen) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(087) "no keys of trusted issuer %s fetched yet: 503", e->issuer);
        goto unavailable;
    }
    if (fail_since && now - fail_since > e->max_stale) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(088) "keys of trusted issuer %s are older than AuthJWTKeyMaxStale: "
                                    "503",
                      e->issuer);
        goto unavailable;
    }
    apr_thread_mutex_lock(kc->lock);
    if (kc->gen != gen) {
        rv = auth_jwt_issuers_load(kc, slot, e, gen);
    }
    *ks = kc->ks;
    *id |= kc->gen;
    apr_thread_mutex_unlock(kc->lock);
    if (rv != APR_SUCCESS || !*ks) {
        goto unavailable;
    }
    return OK;

unavailable:
    *ks = NULL;
    auth_jwt_errors_note(r, HTTP_SERVICE_UNAVAILABLE, AUTH_JWT_ERR_ISSUER_KEYS);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%d", AUTH_JWT_ISSUER_RETRY));
    return HTTP_SERVICE_UNAVAILABLE;
}

const char *auth_jwt_issuers_metrics(apr_pool_t *p)
{
    const apr_array_header_t *reg = auth_jwt_trust_registry();
    const char *out = "";
    int i, first = 1;

    for (i = 0; auth_jwt_is.slots && i < auth_jwt_is.n; ++i) {
        const auth_jwt_issuer_t *e = APR_ARRAY_IDX(reg, i, const auth_jwt_issuer_t *);
        auth_jwt_keyslot_t *slot = &auth_jwt_is.slots[i];

        if (!auth_jwt_issuers_fetched(e)) {
            continue;
        }
        out = apr_pstrcat(p, out,
                          aj_metrics_key_fetches(p, e->issuer, apr_atomic_read32(&slot->fetched_ok),
                                                 apr_atomic_read32(&slot->fetched_error), first),
                          NULL);
        first = 0;
    }
    return out;
}

/* ---- across restarts ------------------------------------------------- */

/* A restart makes new slots.  So that tokens of trusted issuers do not get
 * 503 until the new generation's first fetch, the parent keeps each good
 * set of the ending generation and the next generation starts from the set
 * of the same issuer and URL, fetching again at once.  The copies are
 * malloc'd and found through the process pool: a restart clears pconf and
 * reloads the module, statics included. */
#define AUTH_JWT_CARRY_KEY "mod_auth_jwt/issuers-carried"

typedef struct {
    char *key; /* issuer "\n" url */
    char *doc;
    apr_uint32_t len;
} auth_jwt_carry_t;

typedef struct {
    auth_jwt_carry_t *items;
    int n;
} auth_jwt_carried_t;

static auth_jwt_carried_t *auth_jwt_carried(apr_pool_t *pproc)
{
    void *data = NULL;

    apr_pool_userdata_get(&data, AUTH_JWT_CARRY_KEY, pproc);
    return data;
}

static void auth_jwt_carry_free(apr_pool_t *pproc)
{
    auth_jwt_carried_t *c = auth_jwt_carried(pproc);
    int i;

    if (!c) {
        return;
    }
    for (i = 0; i < c->n; ++i) {
        free(c->items[i].key);
        free(c->items[i].doc);
    }
    free(c->items);
    free(c);
    apr_pool_userdata_set(NULL, AUTH_JWT_CARRY_KEY, NULL, pproc);
}

static char *auth_jwt_carry_key(const auth_jwt_issuer_t *e)
{
    apr_size_t a = strlen(e->issuer), b = strlen(e->url);
    char *key = malloc(a + b + 2);

    if (key) {
        memcpy(key, e->issuer, a);
        key[a] = '\n';
        memcpy(key + a + 1, e->url, b + 1);
    }
    return key;
}

/* pconf cleanup, in the parent (data: the process pool): the generation
 * ends; its slots are still mapped (this cleanup was registered after the
 * segment's, so it runs first). */
static apr_status_t auth_jwt_carry_keep(void *data)
{
    const apr_array_header_t *reg = auth_jwt_trust_registry();
    apr_pool_t *pproc = data;
    auth_jwt_carried_t *c;
    int i;

    auth_jwt_carry_free(pproc);
    if (!auth_jwt_is.slots || !reg || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING) {
        return APR_SUCCESS;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->items = calloc((apr_size_t)auth_jwt_is.n, sizeof(*c->items)))) {
        free(c);
        return APR_SUCCESS;
    }
    for (i = 0; i < auth_jwt_is.n; ++i) {
        const auth_jwt_issuer_t *e = APR_ARRAY_IDX(reg, i, const auth_jwt_issuer_t *);
        const auth_jwt_keyslot_t *slot = &auth_jwt_is.slots[i];
        auth_jwt_carry_t *it = &c->items[c->n];

        if (!auth_jwt_issuers_fetched(e) || !slot->gen || !slot->doc_len) {
            continue;
        }
        it->key = auth_jwt_carry_key(e);
        it->doc = malloc(slot->doc_len);
        if (!it->key || !it->doc) {
            free(it->key);
            free(it->doc);
            continue;
        }
        memcpy(it->doc, slot->doc, slot->doc_len);
        it->len = slot->doc_len;
        ++c->n;
    }
    apr_pool_userdata_set(c, AUTH_JWT_CARRY_KEY, NULL, pproc);
    auth_jwt_is.slots = NULL;
    return APR_SUCCESS;
}

/* post_config: a new slot starts from the last generation's set, if any. */
static void auth_jwt_carry_seed(auth_jwt_keyslot_t *slot, const auth_jwt_issuer_t *e,
                                apr_pool_t *pproc)
{
    const auth_jwt_carried_t *c = auth_jwt_carried(pproc);
    char *key = c ? auth_jwt_carry_key(e) : NULL;
    int i;

    for (i = 0; key && i < c->n; ++i) {
        if (!strcmp(c->items[i].key, key)) {
            memcpy(slot->doc, c->items[i].doc, c->items[i].len);
            slot->doc_len = c->items[i].len;
            slot->gen = 1;
            break;
        }
    }
    free(key);
}

/* ---- set-up ----------------------------------------------------------- */

int auth_jwt_issuers_pre_config(apr_pool_t *pconf)
{
    auth_jwt_is.slots = NULL;
    auth_jwt_is.n = 0;
    auth_jwt_is.cache = NULL;
    return auth_jwt_shm_pre_config(&auth_jwt_is.seg, pconf, &auth_jwt_issuers_shm);
}

int auth_jwt_issuers_post_config(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * register_callback;
    const apr_array_header_t *reg = auth_jwt_trust_registry();
    ap_watchdog_t *wd = NULL;
    int i, fetched = 0, rc;
    apr_status_t rv;

    auth_jwt_is.s = s;
    auth_jwt_is.n = reg ? reg->nelts : 0;
    for (i = 0; i < auth_jwt_is.n; ++i) {
        fetched += auth_jwt_issuers_fetched(APR_ARRAY_IDX(reg, i, const auth_jwt_issuer_t *));
    }
    if (!fetched) {
        return OK;
    }
    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(089) "AuthJWTTrustedIssuer with a URL or discovery needs "
                                   "mod_watchdog, which fetches key sets in the background: "
                                   "load it (LoadModule watchdog_module)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = auth_jwt_shm_post_config(&auth_jwt_is.seg, pconf, s, &auth_jwt_issuers_shm,
                                  (apr_size_t)auth_jwt_is.n * sizeof(auth_jwt_keyslot_t));
    if (rc != OK) {
        return rc;
    }
    auth_jwt_is.slots = auth_jwt_is.seg->base;
    for (i = 0; i < auth_jwt_is.n; ++i) {
        /* the header only: a document's pages are touched when one arrives */
        memset(&auth_jwt_is.slots[i], 0, offsetof(auth_jwt_keyslot_t, doc));
        auth_jwt_carry_seed(&auth_jwt_is.slots[i], APR_ARRAY_IDX(reg, i, const auth_jwt_issuer_t *),
                            s->process->pool);
    }
    auth_jwt_carry_free(s->process->pool);
    apr_pool_cleanup_register(pconf, s->process->pool, auth_jwt_carry_keep, apr_pool_cleanup_null);
    if (auth_jwt_fetch_global_init(pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(090) "libcurl cannot start: trusted issuers' keys cannot be "
                                   "fetched");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = get_instance(&wd, AUTH_JWT_ISSUERS_WATCHDOG, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(wd, AUTH_JWT_ISSUERS_TICK, s, auth_jwt_issuers_tick);
    }
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     AJ_LOGNO(091) "cannot start the background fetcher of trusted issuers' "
                                   "keys (mod_watchdog)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void auth_jwt_issuers_child_init(apr_pool_t *p, server_rec *s)
{
    int i;

    if (!auth_jwt_is.seg) {
        return;
    }
    auth_jwt_shm_child_init(auth_jwt_is.seg, p, s);
    auth_jwt_is.cache = apr_pcalloc(p, (apr_size_t)auth_jwt_is.n * sizeof(*auth_jwt_is.cache));
    for (i = 0; i < auth_jwt_is.n; ++i) {
        apr_thread_mutex_create(&auth_jwt_is.cache[i].lock, APR_THREAD_MUTEX_DEFAULT, p);
    }
}

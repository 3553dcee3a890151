/*
 * auth_jwt_bcache.c — the Basic credential cache (AuthJWTBasicCacheTTL).
 *
 * bcrypt at cost 10 costs about 65 ms of CPU; a client that sends its
 * password with every request would pay that every time.  A successful
 * check is kept in shared memory (mod_socache, shmcb) for at most the TTL,
 * under HMAC-SHA256(a random key made at each start, store id || user NUL
 * password): neither the password nor anything that would test a guess
 * offline is stored, and the key dies with the server generation.  The
 * store id (docs/reference.md §9) keeps the sites of one server apart: admin:secret
 * checked against host A's database says nothing about host B's admin.
 * The entry's value names its store too, and is refused under another.
 *
 * Password changes, claims changes and revoke-all "flush" a user's entries
 * without enumerating them: an entry made before the user's
 * tokens_valid_after or last change in the revocation table (which every
 * child sees at once; changes made elsewhere, e.g. by htjwt, arrive with
 * the periodic refresh) is ignored.  An entry counts as made when its
 * request started, before the user's row was read: a password change that
 * commits while the old password is being checked voids the entry that
 * check makes.
 * Trade-off, documented: a user deleted directly in the database (htjwt
 * del) can still log in with a cached password until the TTL runs out.
 *
 * In front of shmcb, each child keeps its own copy of recent verdicts (an
 * aj_vcache keyed by the same HMAC, exact compare): a hit there takes no
 * cross-process lock and carries the user's claims already packed and the
 * user's revocation key, so a repeated Basic login costs one HMAC and a
 * few look-ups.  It obeys the same rules: never past created + TTL, void
 * once the revocation table has a later tokens_valid_after for the user.
 */
#include <string.h>

#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <http_core.h>
#include <util_mutex.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_jwt_bcache.h"
#include "auth_jwt_bflight.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_revoke.h"
#include "auth_jwt_scope.h"
#include "aj_issue.h"
#include "aj_sign.h"
#include "aj_vcache.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_key.h"
#include "aj_store.h"
#include "aj_user.h"

#define AUTH_JWT_BCACHE_MUTEX     "auth-jwt-basic-cache"
#define AUTH_JWT_BCACHE_PROVIDER  "shmcb"
#define AUTH_JWT_BCACHE_NAMESPACE "auth_jwt_basic"
#define AUTH_JWT_BCACHE_KEY_LEN   32
/* An entry: store, created, id, username and claims; longer rows are not
 * cached. */
#define AUTH_JWT_BCACHE_MAX_VALUE (AJ_USERNAME_MAX_LEN + AJ_CLAIMS_MAX_LEN + 128)
/* The store id as hex in an entry's value. */
#define AUTH_JWT_BCACHE_STORE_HEX (2 * AJ_STORE_ID_LEN)

typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex; /* NULL when the provider is MP-safe */
    const char *mutex_file;
    aj_key_t *key; /* HMAC-SHA256 with a random secret */
    server_rec *s;
} auth_jwt_bcache_t;

/* Set in post_config (parent), read-only afterwards. */
static auth_jwt_bcache_t *auth_jwt_bc;

/* The per-child copy: slots of the local cache, and what each holds. */
#define AUTH_JWT_BL1_SLOTS 1024
static aj_vcache_t *auth_jwt_bl1;

/* A local entry: this header, the user's packed claims (8-byte aligned),
 * then the username and the stored claims JSON, each NUL-terminated. */
typedef struct {
    auth_jwt_userkeys user_keys;
    apr_int64_t id;
    apr_int64_t created;
    apr_int64_t expires;      /* created + the TTL it was stored with */
    apr_int64_t refresh_from; /* a refresh may be claimed from then on */
    apr_uint32_t image_len;
    apr_uint32_t text_len; /* username NUL claims NUL */
} auth_jwt_bl1_t;

/* Refresh ahead: in the last quarter of its TTL (at most the last
 * AUTH_JWT_REFRESH_MAX seconds), an entry is still used, and one request per
 * child checks the password against the store again and renews it, so the
 * clients of a busy account do not all pay bcrypt together when it
 * expires.  A refresh that cannot reach the store falls back to the entry;
 * another may be claimed AUTH_JWT_REFRESH_RETRY seconds later. */
#define AUTH_JWT_REFRESH_MAX   10
#define AUTH_JWT_REFRESH_RETRY 2

_Static_assert(sizeof(auth_jwt_bl1_t) % 8 == 0, "the packed claims must stay aligned");

int auth_jwt_bcache_pre_config(apr_pool_t *pconf)
{
    auth_jwt_bc = NULL;
    return ap_mutex_register(pconf, AUTH_JWT_BCACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t auth_jwt_bcache_destroy(void *data)
{
    auth_jwt_bcache_t *bc = data;

    if (bc->inst) {
        bc->provider->destroy(bc->inst, bc->s);
        bc->inst = NULL;
    }
    auth_jwt_bc = NULL; /* the key is cleansed by its pool's cleanup */
    return APR_SUCCESS;
}

int auth_jwt_bcache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    static struct ap_socache_hints hints = { AUTH_JWT_BCACHE_KEY_LEN, 256,
                                             AUTH_JWT_DEFAULT_BASIC_CACHE_TTL };
    auth_jwt_bcache_t *bc = apr_pcalloc(pconf, sizeof(*bc));
    unsigned char secret[AUTH_JWT_BCACHE_KEY_LEN];
    const char *err;
    apr_status_t rv;

    bc->s = s;
    bc->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, AUTH_JWT_BCACHE_PROVIDER,
                                      AP_SOCACHE_PROVIDER_VERSION);
    if (!bc->provider) {
        ap_log_error(
            APLOG_MARK, APLOG_INFO, 0, s,
            AJ_LOGNO(130) "mod_socache_shmcb is not loaded: Basic passwords are checked with "
                          "bcrypt on every request (AuthJWTBasicCacheTTL has no effect)");
        return OK;
    }
    err = bc->provider->create(&bc->inst, NULL, ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(131) "cannot create the Basic credential cache: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (bc->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&bc->mutex, &bc->mutex_file, AUTH_JWT_BCACHE_MUTEX, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = bc->provider->init(bc->inst, AUTH_JWT_BCACHE_NAMESPACE, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     AJ_LOGNO(132) "cannot initialise the Basic credential cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (RAND_bytes(secret, sizeof(secret)) != 1
        || aj_key_hmac_make(&bc->key, &err, pconf, AJ_ALG_HS256, secret, sizeof(secret), NULL)
               != APR_SUCCESS) {
        OPENSSL_cleanse(secret, sizeof(secret));
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     AJ_LOGNO(133) "no HMAC or no randomness for the Basic credential cache key");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    apr_pool_cleanup_register(pconf, bc, auth_jwt_bcache_destroy, apr_pool_cleanup_null);
    auth_jwt_bc = bc;
    return OK;
}

void auth_jwt_bcache_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (!auth_jwt_bc || !auth_jwt_bc->mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&auth_jwt_bc->mutex, auth_jwt_bc->mutex_file, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, rv, s,
            AJ_LOGNO(
                134) "cannot attach the Basic credential cache mutex; cache off in this child");
        auth_jwt_bc = NULL;
    }
}

void auth_jwt_bcache_child_init_local(apr_pool_t *p, server_rec *s)
{
    auth_jwt_bl1 = NULL;
    if (auth_jwt_bc && aj_vcache_make(&auth_jwt_bl1, p, AUTH_JWT_BL1_SLOTS) != APR_SUCCESS) {
        auth_jwt_bl1 = NULL; /* shmcb alone then */
    }
    if (auth_jwt_bc) {
        auth_jwt_bflight_child_init(p, s);
    }
}

/* HMAC-SHA256(secret, store id || user NUL password), through aj_key (a
 * context keyed once, reused by each thread: no digest fetch, no
 * allocation). */
static int auth_jwt_bcache_id(unsigned char *id, request_rec *r, const char *user,
                              const char *password)
{
    const aj_store_id_t *store = &auth_jwt_scope(r->server)->id;
    apr_size_t ulen = strlen(user), plen = strlen(password), n = 0;
    apr_size_t mlen = AJ_STORE_ID_LEN + ulen + 1 + plen;
    unsigned char *msg = apr_palloc(r->pool, mlen), *mac = NULL;
    int ok;

    memcpy(msg, store->b, AJ_STORE_ID_LEN);
    memcpy(msg + AJ_STORE_ID_LEN, user, ulen + 1);
    memcpy(msg + AJ_STORE_ID_LEN + ulen + 1, password, plen);
    ok = aj_key_sign(&mac, &n, r->pool, auth_jwt_bc->key, msg, mlen) == APR_SUCCESS
         && n == AUTH_JWT_BCACHE_KEY_LEN;
    if (ok) {
        memcpy(id, mac, AUTH_JWT_BCACHE_KEY_LEN);
    }
    OPENSSL_cleanse(msg, mlen);
    if (mac) {
        OPENSSL_cleanse(mac, n);
    }
    return ok;
}

/* The request's store id as hex, for entries' values. */
static const char *auth_jwt_bcache_store_hex(request_rec *r)
{
    const aj_store_id_t *store = &auth_jwt_scope(r->server)->id;
    char *hex = apr_palloc(r->pool, AUTH_JWT_BCACHE_STORE_HEX + 1);

    ap_bin2hex(store->b, AJ_STORE_ID_LEN, hex);
    return hex;
}

static int auth_jwt_bcache_usable(request_rec *r, const auth_jwt_dir_conf *c)
{
    return auth_jwt_bc && auth_jwt_cfg_basic_cache_ttl(c) > 0;
}

static void auth_jwt_bcache_lock(void)
{
    if (auth_jwt_bc->mutex) {
        apr_global_mutex_lock(auth_jwt_bc->mutex);
    }
}

static void auth_jwt_bcache_unlock(void)
{
    if (auth_jwt_bc->mutex) {
        apr_global_mutex_unlock(auth_jwt_bc->mutex);
    }
}

/* When an entry made at created, kept for ttl, is due for a refresh. */
static apr_int64_t auth_jwt_refresh_due(apr_int64_t created, apr_int64_t ttl)
{
    apr_int64_t ahead = ttl / 4;

    return created + ttl - (ahead > AUTH_JWT_REFRESH_MAX ? AUTH_JWT_REFRESH_MAX : ahead);
}

/* Copies a verdict into this child's local cache until created + TTL; a
 * refresh may be claimed from refresh_from on.  Returns the user's claims
 * in packed form for this request (NULL when not cached: build them). */
static const aj_claims_t *auth_jwt_bl1_put(request_rec *r, const unsigned char *id,
                                           const aj_user_t *u, apr_int64_t created, apr_int64_t ttl,
                                           apr_int64_t refresh_from)
{
    const aj_claims_t *claims = aj_issue_user_claims(r->pool, u->id, u->username, u->claims_json);
    const char *json = u->claims_json ? u->claims_json : "{}";
    apr_size_t ulen = strlen(u->username), jlen = strlen(json), ilen = 0;
    auth_jwt_bl1_t *e;
    void *image = NULL;
    char *at;

    if (!auth_jwt_bl1 || !claims || aj_claims_pack(&image, &ilen, r->pool, claims) != APR_SUCCESS
        || ilen + ulen + jlen + 2 + sizeof(*e) > AJ_VCACHE_MAX_DATA) {
        return NULL;
    }
    e = apr_palloc(r->pool, sizeof(*e) + ilen + ulen + jlen + 2);
    if (auth_jwt_userkeys_make(&e->user_keys, r, u->id) != APR_SUCCESS) {
        return NULL;
    }
    e->id = u->id;
    e->created = created;
    e->expires = created + ttl;
    e->refresh_from = refresh_from;
    e->image_len = (apr_uint32_t)ilen;
    e->text_len = (apr_uint32_t)(ulen + jlen + 2);
    at = (char *)(e + 1);
    memcpy(at, image, ilen);
    memcpy(at + ilen, u->username, ulen + 1);
    memcpy(at + ilen + ulen + 1, json, jlen + 1);
    aj_vcache_put(auth_jwt_bl1, &auth_jwt_bl1, (const char *)id, AUTH_JWT_BCACHE_KEY_LEN, e,
                  sizeof(*e) + ilen + ulen + jlen + 2, e->expires, apr_time_sec(r->request_time));
    return aj_claims_unpack(r->pool, image, ilen);
}

/* A verdict from this child's local cache, with *user and *claims. */
static auth_jwt_bc_e auth_jwt_bl1_get(const aj_user_t **user, const aj_claims_t **claims,
                                      request_rec *r, const auth_jwt_dir_conf *c,
                                      const unsigned char *id, const char *username)
{
    const auth_jwt_bl1_t *e;
    const void *data = NULL;
    apr_size_t len = 0;
    const char *name, *json;
    aj_claims_t *cl;
    aj_user_t *u;
    apr_int64_t valid_after, stamp, now = apr_time_sec(r->request_time);
    apr_int64_t ttl = auth_jwt_cfg_basic_cache_ttl(c);

    if (!auth_jwt_bl1
        || !aj_vcache_get(&data, &len, auth_jwt_bl1, r->pool, &auth_jwt_bl1, (const char *)id,
                          AUTH_JWT_BCACHE_KEY_LEN, now)) {
        return AUTH_JWT_BC_MISS;
    }
    e = data;
    if (len < sizeof(*e) || (apr_size_t)e->image_len + e->text_len != len - sizeof(*e)
        || e->text_len < 2 || ((const char *)data)[len - 1] != '\0' || e->created + ttl <= now) {
        return AUTH_JWT_BC_MISS;
    }
    cl = aj_claims_unpack(r->pool, e + 1, e->image_len);
    name = (const char *)(e + 1) + e->image_len;
    json = name + strlen(name) + 1;
    if (!cl || json >= (const char *)data + len || strcmp(name, username)) {
        return AUTH_JWT_BC_MISS;
    }
    /* a password or claims change or a revoke-all since then voids the
     * entry (so do keys of another store: never, the id includes it) */
    if (!auth_jwt_revoke_user_state(&valid_after, &stamp, r, c, &e->user_keys)
        || stamp >= e->created) {
        return AUTH_JWT_BC_MISS;
    }
    u = apr_pcalloc(r->pool, sizeof(*u));
    u->id = e->id;
    u->username = name;
    u->claims_json = json;
    u->password_hash = "";
    u->tokens_valid_after = valid_after;
    *user = u;
    *claims = cl;
    if (now < auth_jwt_refresh_due(e->created, e->expires - e->created)
        && now < auth_jwt_refresh_due(e->created, ttl)) {
        return AUTH_JWT_BC_HIT;
    }
    if (now < e->refresh_from) {
        return AUTH_JWT_BC_HIT; /* another request is refreshing it */
    }
    /* claim the refresh: the others keep using the entry meanwhile */
    ((auth_jwt_bl1_t *)(void *)data)->refresh_from = now + AUTH_JWT_REFRESH_RETRY;
    aj_vcache_put(auth_jwt_bl1, &auth_jwt_bl1, (const char *)id, AUTH_JWT_BCACHE_KEY_LEN, data, len,
                  e->expires, now);
    return AUTH_JWT_BC_DUE;
}

/* What the cache holds under id (this child's copy, then shmcb), once the
 * cache is known to be usable. */
static auth_jwt_bc_e auth_jwt_bcache_lookup(const aj_user_t **user, const aj_claims_t **claims,
                                            request_rec *r, const auth_jwt_dir_conf *c,
                                            const unsigned char *id, const char *username)
{
    unsigned char *buf;
    unsigned int len = AUTH_JWT_BCACHE_MAX_VALUE;
    char *value, *last = NULL, *f[5];
    aj_user_t *u;
    auth_jwt_userkeys keys;
    apr_status_t rv;
    apr_int64_t created, stamp, ttl = auth_jwt_cfg_basic_cache_ttl(c);
    apr_int64_t now = apr_time_sec(r->request_time);
    auth_jwt_bc_e found;
    int i;

    found = auth_jwt_bl1_get(user, claims, r, c, id, username);
    if (found != AUTH_JWT_BC_MISS) {
        return found;
    }
    buf = apr_palloc(r->pool, AUTH_JWT_BCACHE_MAX_VALUE + 1);
    auth_jwt_bcache_lock();
    rv = auth_jwt_bc->provider->retrieve(auth_jwt_bc->inst, r->server, id, AUTH_JWT_BCACHE_KEY_LEN,
                                         buf, &len, r->pool);
    auth_jwt_bcache_unlock();
    if (rv != APR_SUCCESS || len > AUTH_JWT_BCACHE_MAX_VALUE) {
        return AUTH_JWT_BC_MISS;
    }
    buf[len] = '\0';
    value = (char *)buf;
    /* store \t created \t id \t username \t claims (the claims may hold
     * tabs: last) */
    for (i = 0; i < 4; ++i) {
        f[i] = apr_strtok(i ? NULL : value, "\t", &last);
        if (!f[i]) {
            return AUTH_JWT_BC_MISS;
        }
    }
    f[4] = last ? last : "{}";
    if (strcmp(f[0], auth_jwt_bcache_store_hex(r))) {
        return AUTH_JWT_BC_MISS; /* another site's store: never */
    }
    created = apr_atoi64(f[1]);
    u = apr_pcalloc(r->pool, sizeof(*u));
    u->id = apr_atoi64(f[2]);
    u->username = f[3];
    u->claims_json = f[4];
    u->password_hash = "";
    /* a password or claims change or a revoke-all since then voids the entry */
    if (auth_jwt_userkeys_make(&keys, r, u->id) != APR_SUCCESS
        || !auth_jwt_revoke_user_state(&u->tokens_valid_after, &stamp, r, c, &keys)
        || stamp >= created || strcmp(u->username, username) || created + ttl <= now) {
        return AUTH_JWT_BC_MISS;
    }
    *user = u;
    if (now < auth_jwt_refresh_due(created, ttl)) {
        *claims = auth_jwt_bl1_put(r, id, u, created, ttl, 0);
        return AUTH_JWT_BC_HIT;
    }
    /* due: this request refreshes; this child's others use the copy */
    *claims = auth_jwt_bl1_put(r, id, u, created, ttl, now + AUTH_JWT_REFRESH_RETRY);
    return AUTH_JWT_BC_DUE;
}

auth_jwt_bc_e auth_jwt_bcache_get(const aj_user_t **user, const aj_claims_t **claims,
                                  auth_jwt_bflight_t **lead, request_rec *r,
                                  const auth_jwt_dir_conf *c, const char *username,
                                  const char *password)
{
    unsigned char id[AUTH_JWT_BCACHE_KEY_LEN];
    auth_jwt_bc_e found;

    *claims = NULL;
    *lead = NULL;
    if (!auth_jwt_bcache_usable(r, c)) {
        return AUTH_JWT_BC_MISS; /* and no flight: only the cache shares */
    }
    if (!auth_jwt_bcache_id(id, r, username, password)) {
        auth_jwt_metrics_count(AJ_M_BASIC_MISS);
        return AUTH_JWT_BC_MISS;
    }
    found = auth_jwt_bcache_lookup(user, claims, r, c, id, username);
    /* A miss joins this credential's flight (auth_jwt_bflight.c): after it
     * the cache is looked at again, and only a success of the same
     * credential can be found there; anything else is checked alone. */
    if (found == AUTH_JWT_BC_MISS && auth_jwt_bflight_join(lead, r, id) != AUTH_JWT_BF_ALONE) {
        found = auth_jwt_bcache_lookup(user, claims, r, c, id, username);
        if (found != AUTH_JWT_BC_MISS) {
            /* a leader: a flight of the same credential landed between the
             * two look-ups; nothing left to check */
            auth_jwt_bflight_land(r, *lead);
            *lead = NULL;
        }
    }
    auth_jwt_metrics_count(found == AUTH_JWT_BC_MISS ? AJ_M_BASIC_MISS : AJ_M_BASIC_HIT);
    return found;
}

void auth_jwt_bcache_put(request_rec *r, const auth_jwt_dir_conf *c, const char *password,
                         const aj_user_t *user)
{
    unsigned char id[AUTH_JWT_BCACHE_KEY_LEN];
    apr_int64_t ttl = auth_jwt_cfg_basic_cache_ttl(c), created, valid_after, stamp;
    auth_jwt_userkeys keys;
    const char *value;

    if (!auth_jwt_bcache_usable(r, c) || !auth_jwt_bcache_id(id, r, user->username, password)) {
        return;
    }
    /* Entries are trusted only against a loaded revocation table: load it
     * now, while the store is known to answer.  An entry counts from when
     * this request started, before the user's row was read (see above);
     * a change stamped in that very second voids it (>= on use), and so
     * it is not worth storing. */
    created = apr_time_sec(r->request_time);
    if (auth_jwt_userkeys_make(&keys, r, user->id) != APR_SUCCESS
        || !auth_jwt_revoke_user_state(&valid_after, &stamp, r, c, &keys) || stamp >= created) {
        return;
    }
    value = apr_psprintf(r->pool, "%s\t%" APR_INT64_T_FMT "\t%" APR_INT64_T_FMT "\t%s\t%s",
                         auth_jwt_bcache_store_hex(r), created, user->id, user->username,
                         user->claims_json ? user->claims_json : "{}");
    if (strlen(value) > AUTH_JWT_BCACHE_MAX_VALUE) {
        return;
    }
    (void)auth_jwt_bl1_put(r, id, user, created, ttl, 0);
    auth_jwt_bcache_lock();
    (void)auth_jwt_bc->provider->store(
        auth_jwt_bc->inst, r->server, id, sizeof(id), apr_time_now() + apr_time_from_sec(ttl),
        (unsigned char *)value, (unsigned int)strlen(value), r->pool);
    auth_jwt_bcache_unlock();
}

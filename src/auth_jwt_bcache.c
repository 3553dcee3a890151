/*
 * auth_jwt_bcache.c — the Basic credential cache (AuthJWTBasicCacheTTL).
 *
 * bcrypt at cost 10 costs about 65 ms of CPU; a client that sends its
 * password with every request would pay that every time.  A successful
 * check is kept in shared memory (mod_socache, shmcb) for at most the TTL,
 * under HMAC-SHA256(a random key made at each start, user NUL password):
 * neither the password nor anything that would test a guess offline is
 * stored, and the key dies with the server generation.
 *
 * Password changes and revoke-all "flush" a user's entries without
 * enumerating them: an entry made before the user's tokens_valid_after in
 * the revocation table (which every child sees at once) is ignored.
 * Trade-off, documented: a user deleted directly in the database (htjwt
 * del) can still log in with a cached password until the TTL runs out.
 */
#include <string.h>

#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <http_core.h>
#include <util_mutex.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_jwt.h"

#define AUTH_JWT_BCACHE_MUTEX     "auth-jwt-basic-cache"
#define AUTH_JWT_BCACHE_PROVIDER  "shmcb"
#define AUTH_JWT_BCACHE_NAMESPACE "auth_jwt_basic"
#define AUTH_JWT_BCACHE_KEY_LEN   32
/* An entry: created, id, username and claims; longer rows are not cached. */
#define AUTH_JWT_BCACHE_MAX_VALUE (AJ_USERNAME_MAX_LEN + AJ_CLAIMS_MAX_LEN + 64)

typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;          /* NULL when the provider is MP-safe */
    const char *mutex_file;
    unsigned char secret[AUTH_JWT_BCACHE_KEY_LEN];
    EVP_MAC *mac;                       /* HMAC, fetched once */
    EVP_MAC_CTX *keyed;                 /* HMAC-SHA256 with secret, duplicated per use */
    server_rec *s;
} auth_jwt_bcache_t;

/* Set in post_config (parent), read-only afterwards. */
static auth_jwt_bcache_t *auth_jwt_bc;

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
    OPENSSL_cleanse(bc->secret, sizeof(bc->secret));
    EVP_MAC_CTX_free(bc->keyed);
    bc->keyed = NULL;
    EVP_MAC_free(bc->mac);
    bc->mac = NULL;
    auth_jwt_bc = NULL;
    return APR_SUCCESS;
}

static OSSL_PARAM auth_jwt_bcache_params[] = {
    OSSL_PARAM_utf8_string("digest", (char *)"SHA256", sizeof("SHA256") - 1),
    OSSL_PARAM_END
};

int auth_jwt_bcache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    static struct ap_socache_hints hints = { AUTH_JWT_BCACHE_KEY_LEN, 256,
                                             AUTH_JWT_DEFAULT_BASIC_CACHE_TTL };
    auth_jwt_bcache_t *bc = apr_pcalloc(pconf, sizeof(*bc));
    const char *err;
    apr_status_t rv;

    bc->s = s;
    bc->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, AUTH_JWT_BCACHE_PROVIDER,
                                      AP_SOCACHE_PROVIDER_VERSION);
    if (!bc->provider) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, AJ_LOGNO(130)
                     "mod_socache_shmcb is not loaded: Basic passwords are checked with "
                     "bcrypt on every request (AuthJWTBasicCacheTTL has no effect)");
        return OK;
    }
    err = bc->provider->create(&bc->inst, NULL, ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(131)
                     "cannot create the Basic credential cache: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (bc->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&bc->mutex, &bc->mutex_file, AUTH_JWT_BCACHE_MUTEX, NULL,
                                    s, pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = bc->provider->init(bc->inst, AUTH_JWT_BCACHE_NAMESPACE, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, AJ_LOGNO(132)
                     "cannot initialise the Basic credential cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    bc->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!bc->mac || RAND_bytes(bc->secret, sizeof(bc->secret)) != 1
        || !(bc->keyed = EVP_MAC_CTX_new(bc->mac))
        || EVP_MAC_init(bc->keyed, bc->secret, sizeof(bc->secret), auth_jwt_bcache_params) != 1) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(133)
                     "no HMAC or no randomness for the Basic credential cache key");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
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
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AJ_LOGNO(134)
                     "cannot attach the Basic credential cache mutex; cache off in this child");
        auth_jwt_bc = NULL;
    }
}

/* HMAC-SHA256(secret, user NUL password), from a context keyed once at
 * startup: EVP_MAC_init() with a digest name would fetch SHA-256 under a
 * lock on every request. */
static int auth_jwt_bcache_id(unsigned char *id, const char *user, const char *password)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(auth_jwt_bc->keyed);
    size_t out = 0;
    int ok = 0;

    if (ctx && EVP_MAC_update(ctx, (const unsigned char *)user, strlen(user) + 1) == 1
        && EVP_MAC_update(ctx, (const unsigned char *)password, strlen(password)) == 1
        && EVP_MAC_final(ctx, id, &out, AUTH_JWT_BCACHE_KEY_LEN) == 1
        && out == AUTH_JWT_BCACHE_KEY_LEN) {
        ok = 1;
    }
    EVP_MAC_CTX_free(ctx);
    return ok;
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

int auth_jwt_bcache_get(const aj_user_t **user, request_rec *r, const auth_jwt_dir_conf *c,
                        const char *username, const char *password)
{
    unsigned char id[AUTH_JWT_BCACHE_KEY_LEN];
    unsigned char *buf;
    unsigned int len = AUTH_JWT_BCACHE_MAX_VALUE;
    char *value, *last = NULL, *f[4];
    aj_user_t *u;
    apr_status_t rv;
    apr_int64_t created;
    int i;

    if (!auth_jwt_bcache_usable(r, c) || !auth_jwt_bcache_id(id, username, password)) {
        return 0;
    }
    buf = apr_palloc(r->pool, AUTH_JWT_BCACHE_MAX_VALUE + 1);
    auth_jwt_bcache_lock();
    rv = auth_jwt_bc->provider->retrieve(auth_jwt_bc->inst, r->server, id, sizeof(id), buf,
                                         &len, r->pool);
    auth_jwt_bcache_unlock();
    if (rv != APR_SUCCESS || len > AUTH_JWT_BCACHE_MAX_VALUE) {
        return 0;
    }
    buf[len] = '\0';
    value = (char *)buf;
    /* created \t id \t username \t claims (the claims may hold tabs: last) */
    for (i = 0; i < 3; ++i) {
        f[i] = apr_strtok(i ? NULL : value, "\t", &last);
        if (!f[i]) {
            return 0;
        }
    }
    f[3] = last ? last : "{}";
    created = apr_atoi64(f[0]);
    u = apr_pcalloc(r->pool, sizeof(*u));
    u->id = apr_atoi64(f[1]);
    u->username = f[2];
    u->claims_json = f[3];
    u->password_hash = "";
    /* a password change or revoke-all since then voids the entry */
    u->tokens_valid_after = auth_jwt_revoke_user_valid_after(r, c, u->id);
    if (u->tokens_valid_after > created || strcmp(u->username, username)) {
        return 0;
    }
    *user = u;
    return 1;
}

void auth_jwt_bcache_put(request_rec *r, const auth_jwt_dir_conf *c, const char *password,
                         const aj_user_t *user)
{
    unsigned char id[AUTH_JWT_BCACHE_KEY_LEN];
    apr_int64_t ttl = auth_jwt_cfg_basic_cache_ttl(c);
    const char *value;

    if (!auth_jwt_bcache_usable(r, c) || !auth_jwt_bcache_id(id, user->username, password)) {
        return;
    }
    /* Entries are trusted only against a loaded revocation table: load it
     * now, while the store is known to answer. */
    if (auth_jwt_revoke_user_valid_after(r, c, user->id) == APR_INT64_MAX) {
        return;
    }
    value = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "\t%" APR_INT64_T_FMT "\t%s\t%s",
                         apr_time_sec(apr_time_now()), user->id, user->username,
                         user->claims_json ? user->claims_json : "{}");
    if (strlen(value) > AUTH_JWT_BCACHE_MAX_VALUE) {
        return;
    }
    auth_jwt_bcache_lock();
    (void)auth_jwt_bc->provider->store(auth_jwt_bc->inst, r->server, id, sizeof(id),
                                       apr_time_now() + apr_time_from_sec(ttl),
                                       (unsigned char *)value, (unsigned int)strlen(value),
                                       r->pool);
    auth_jwt_bcache_unlock();
}

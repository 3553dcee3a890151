/*
 * auth_jwt_verify.c — the token path: a token's signature, header and
 * claims checked with the directory's keys and policy (aj_jws_verify),
 * through this child's verified-token cache (AuthJWTVerifyCache), then
 * against the revocation table.  The front ends (auth_jwt_authn.c) decide
 * what a verdict means for the request; nothing here logs a token.
 */
#include <string.h>

#include <apr_tables.h>

#include "auth_jwt_verify.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_revoke.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_jws.h"
#include "aj_vcache.h"
#include "aj_keyset.h"

/* The verified-token cache of this process (AuthJWTVerifyCache). */
static aj_vcache_t *auth_jwt_vcache;

void auth_jwt_vcache_child_init(apr_pool_t *p, server_rec *s)
{
    const auth_jwt_dir_conf *c = ap_get_module_config(s->lookup_defaults, &auth_jwt_module);
    apr_status_t rv =
        aj_vcache_make(&auth_jwt_vcache, p, (apr_uint32_t)auth_jwt_cfg_verify_cache(c));

    if (rv != APR_SUCCESS) {
        auth_jwt_vcache = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     AJ_LOGNO(015) "no verified-token cache in this child");
    }
}

/* What the verified-token cache keeps for a token: a header with its
 * revocation keys, then its packed claims (aj_claims_pack).  The header's
 * size keeps the image 8-byte aligned. */
typedef struct {
    auth_jwt_revkeys keys;
    apr_uint32_t has_keys; /* keys computed (only where revocation is on) */
    apr_uint32_t reserved;
} auth_jwt_cached_t;

_Static_assert(sizeof(auth_jwt_cached_t) % 8 == 0, "the packed claims must stay aligned");

/* Remembers a token that verified: its keys (when this location checks
 * revocations) and its claims.  Anything that fails just skips caching.
 * *keys is set when the keys were computed; returns the packed claims (the
 * cheaper form for the rest of the request), NULL when nothing was cached. */
static aj_claims_t *auth_jwt_vcache_store(const auth_jwt_revkeys **keys, request_rec *r,
                                          const auth_jwt_dir_conf *c, const char *token,
                                          apr_size_t len, const aj_claims_t *cl, apr_int64_t now)
{
    auth_jwt_cached_t *entry;
    void *image = NULL;
    apr_size_t ilen = 0;
    apr_int64_t exp = 0;

    if (!aj_claims_get_int(cl, "exp", &exp)
        || aj_claims_pack(&image, &ilen, r->pool, cl) != APR_SUCCESS) {
        return NULL;
    }
    entry = apr_pcalloc(r->pool, sizeof(*entry) + ilen);
    if (auth_jwt_cfg_revocation(c) && auth_jwt_revkeys_make(&entry->keys, r, cl) == APR_SUCCESS) {
        entry->has_keys = 1;
        *keys = &entry->keys;
    }
    memcpy(entry + 1, image, ilen);
    aj_vcache_put(auth_jwt_vcache, c->keys, token, len, entry, sizeof(*entry) + ilen, exp, now);
    return aj_claims_unpack(r->pool, image, ilen);
}

/* Signature, header and JSON checks, through the verified-token cache:
 * a hit restores the claims (and the revocation keys) the token had when
 * it verified, and only the claim rules run again. */
static apr_status_t auth_jwt_verify_cached(aj_verdict_e *v, aj_claims_t **cl,
                                           const auth_jwt_revkeys **keys, request_rec *r,
                                           const auth_jwt_dir_conf *c, const char *token,
                                           apr_size_t len, const aj_policy_t *policy,
                                           apr_int64_t now)
{
    const void *data = NULL;
    apr_size_t dlen = 0;
    int cache = auth_jwt_vcache && auth_jwt_cfg_verify_cache(c) > 0;
    apr_status_t rv;

    *keys = NULL;
    if (cache && aj_vcache_get(&data, &dlen, auth_jwt_vcache, r->pool, c->keys, token, len, now)) {
        const auth_jwt_cached_t *entry = data;
        aj_claims_t *claims = dlen > sizeof(*entry)
                                  ? aj_claims_unpack(r->pool, entry + 1, dlen - sizeof(*entry))
                                  : NULL;
        if (claims) {
            /* verified before with these very keys: only the claim rules */
            auth_jwt_metrics_count(AJ_M_VERIFY_HIT);
            *keys = entry->has_keys ? &entry->keys : NULL;
            *cl = claims;
            *v = aj_claims_check(claims, policy, now);
            return APR_SUCCESS;
        }
        /* cannot happen (the image is ours); verify as if it missed */
    }
    if (cache) {
        auth_jwt_metrics_count(AJ_M_VERIFY_MISS);
    }
    rv = aj_jws_verify(v, cl, r->pool, token, len, c->keys, policy, now);
    if (rv == APR_SUCCESS && *v == AJ_OK && cache) {
        aj_claims_t *packed = auth_jwt_vcache_store(keys, r, c, token, len, *cl, now);
        *cl = packed ? packed : *cl;
    }
    return rv;
}

int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len)
{
    aj_verdict_e v = AJ_MALFORMED;
    aj_claims_t *cl = NULL;
    const auth_jwt_revkeys *keys = NULL;
    aj_policy_t policy;
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_status_t rv;
    int rc;

    *verdict = AJ_BAD_ALG;
    if (!c->keys || aj_keyset_count(c->keys) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(010) "no AuthJWTSigningKey or AuthJWTVerifyKey applies to %s; "
                                    "refusing the token",
                      r->uri);
        return OK;
    }
    auth_jwt_cfg_policy(&policy, c);
    rv = auth_jwt_verify_cached(&v, &cl, &keys, r, c, token, len, &policy, now);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      AJ_LOGNO(011) "token verification could not run");
        *verdict = AJ_MALFORMED;
        return OK;
    }
    if (v == AJ_OK) {
        rc = auth_jwt_revoke_check(&v, r, c, cl, keys);
        if (rc != OK) {
            return rc;
        }
    }
    if (v != AJ_OK) {
        apr_table_setn(r->notes, AUTH_JWT_NOTE_VERDICT, aj_verdict_name(v));
        ap_log_rerror(
            APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(012) "token refused: %s%s%s", aj_verdict_name(v),
            (v == AJ_REVOKED && aj_claims_get_string(cl, "jti")) ? " jti=" : "",
            (v == AJ_REVOKED && aj_claims_get_string(cl, "jti")) ? aj_claims_get_string(cl, "jti")
                                                                 : "");
        *verdict = v;
        return OK;
    }
    *verdict = AJ_OK;
    *claims = cl;
    return OK;
}

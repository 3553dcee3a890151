/*
 * auth_jwt_verify.c — the token path: a token's signature, header and
 * claims checked with the directory's keys and policy (aj_jws_verify),
 * through this child's verified-token cache (AuthJWTVerifyCache), then
 * against the revocation table.  In a section with trusted issuers
 * (docs/reference.md §11) a token's iss chooses its keys first.  The front
 * ends (auth_jwt_authn.c) decide what a verdict means for the request;
 * nothing here logs a token.
 */
#include <string.h>

#include <apr_tables.h>

#include "auth_jwt_verify.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_issuers.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_revoke.h"
#include "auth_jwt_trust.h"
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
 * revocation keys and the identity of the key set that verified it, then
 * its packed claims (aj_claims_pack).  The header's size keeps the image
 * 8-byte aligned. */
typedef struct {
    auth_jwt_revkeys keys;
    apr_uint32_t has_keys; /* keys computed (only where revocation is on) */
    apr_uint32_t reserved;
    apr_uint64_t keyid; /* the key set's identity (auth_jwt_source_t) when it verified */
} auth_jwt_cached_t;

_Static_assert(sizeof(auth_jwt_cached_t) % 8 == 0, "the packed claims must stay aligned");

/* Where a token's keys and rules come from (docs/reference.md §11). */
typedef struct {
    const void *scope;               /* the cache's scope: the section's keys or issuers */
    const aj_keyset_t *ks;           /* the keys that verify it */
    apr_uint64_t keyid;              /* changes whenever ks does (a fetched set rotates) */
    const auth_jwt_issuer_t *issuer; /* a trusted issuer's token; NULL: a local one */
    aj_policy_t policy;
} auth_jwt_source_t;

/* The identity of the local keys: their address, with a bit no fetched
 * set's identity has (auth_jwt_issuer_keys: index << 32 | generation). */
#define AUTH_JWT_LOCAL_KEYID(ks) ((apr_uint64_t)(apr_uintptr_t)(ks) | ((apr_uint64_t)1 << 63))

/* A section without trusted issuers: its keys verify every token. */
static void auth_jwt_source_local(auth_jwt_source_t *src, const auth_jwt_dir_conf *c)
{
    memset(src, 0, sizeof(*src));
    src->scope = c->keys;
    src->ks = c->keys;
    src->keyid = AUTH_JWT_LOCAL_KEYID(c->keys);
    auth_jwt_cfg_policy(&src->policy, c);
}

/* A section with trusted issuers: a trusted issuer's keys verify only its
 * own tokens; the local keys only local ones (iss equal to AuthJWTIssuer,
 * or no iss while it is unset); anything else is AJ_UNKNOWN_ISSUER.  OK
 * with *v, or HTTP_SERVICE_UNAVAILABLE when the issuer's keys are not
 * available (auth_jwt_issuer_keys). */
static int auth_jwt_source_for(auth_jwt_source_t *src, aj_verdict_e *v, request_rec *r,
                               const auth_jwt_dir_conf *c, const char *iss)
{
    int local = c->issuer ? iss && !strcmp(iss, c->issuer) : !iss;

    memset(src, 0, sizeof(*src));
    src->scope = c->trusted;
    auth_jwt_cfg_policy(&src->policy, c);
    *v = AJ_OK;
    src->issuer = local ? NULL : auth_jwt_trust_find(c->trusted, iss);
    if (src->issuer) {
        src->policy.issuer = src->issuer->issuer;
        return auth_jwt_issuer_keys(&src->ks, &src->keyid, r, src->issuer);
    }
    if (local && c->keys && aj_keyset_count(c->keys) > 0) {
        src->ks = c->keys;
        src->keyid = AUTH_JWT_LOCAL_KEYID(c->keys);
        return OK;
    }
    *v = AJ_UNKNOWN_ISSUER;
    return OK;
}

/* Remembers a token that verified: its keys (when this location checks
 * revocations), the identity of the set that verified it, and its claims.
 * Anything that fails just skips caching.  *keys is set when the keys were
 * computed; returns the packed claims (the cheaper form for the rest of the
 * request), NULL when nothing was cached. */
static aj_claims_t *auth_jwt_vcache_store(const auth_jwt_revkeys **keys, request_rec *r,
                                          const auth_jwt_dir_conf *c, const auth_jwt_source_t *src,
                                          const char *token, apr_size_t len, const aj_claims_t *cl,
                                          apr_int64_t now)
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
    if (!src->issuer && auth_jwt_cfg_revocation(c)
        && auth_jwt_revkeys_make(&entry->keys, r, cl) == APR_SUCCESS) {
        entry->has_keys = 1;
        *keys = &entry->keys;
    }
    entry->keyid = src->keyid;
    memcpy(entry + 1, image, ilen);
    aj_vcache_put(auth_jwt_vcache, src->scope, token, len, entry, sizeof(*entry) + ilen, exp, now);
    return aj_claims_unpack(r->pool, image, ilen);
}

/* The verified-token cache's entry for the token in scope, NULL on a miss. */
static const auth_jwt_cached_t *auth_jwt_vcache_find(aj_claims_t **cl, request_rec *r,
                                                     const auth_jwt_dir_conf *c, const void *scope,
                                                     const char *token, apr_size_t len,
                                                     apr_int64_t now)
{
    const auth_jwt_cached_t *entry;
    const void *data = NULL;
    apr_size_t dlen = 0;

    if (!auth_jwt_vcache || auth_jwt_cfg_verify_cache(c) <= 0) {
        return NULL;
    }
    if (!aj_vcache_get(&data, &dlen, auth_jwt_vcache, r->pool, scope, token, len, now)) {
        auth_jwt_metrics_count(AJ_M_VERIFY_MISS);
        return NULL;
    }
    entry = data;
    *cl =
        dlen > sizeof(*entry) ? aj_claims_unpack(r->pool, entry + 1, dlen - sizeof(*entry)) : NULL;
    if (!*cl) {
        auth_jwt_metrics_count(AJ_M_VERIFY_MISS); /* cannot happen: the image is ours */
        return NULL;
    }
    return entry;
}

/* Signature, header and JSON checks, through the verified-token cache: a
 * hit restores the claims (and the revocation keys) the token had when it
 * verified with the very same keys, and only the claim rules run again.
 * *src: where its keys come from, decided here in a section with trusted
 * issuers.  OK with *v (an error of the check itself is AJ_MALFORMED,
 * logged), or HTTP_SERVICE_UNAVAILABLE. */
static int auth_jwt_verify_cached(aj_verdict_e *v, aj_claims_t **cl, const auth_jwt_revkeys **keys,
                                  auth_jwt_source_t *src, request_rec *r,
                                  const auth_jwt_dir_conf *c, const char *token, apr_size_t len,
                                  apr_int64_t now)
{
    const auth_jwt_cached_t *entry;
    aj_claims_t *claims = NULL;
    aj_jws_peek_t *peek = NULL;
    json_object *hdr = NULL, *payload = NULL;
    const char *iss = NULL;
    apr_status_t rv;
    int rc = OK;

    *keys = NULL;
    *v = AJ_OK;
    entry = auth_jwt_vcache_find(&claims, r, c, c->trusted ? (const void *)c->trusted : c->keys,
                                 token, len, now);
    if (c->trusted) {
        /* its issuer picks its keys: from the cached claims, else the
         * token's payload, decoded once here for the verification too */
        if (entry) {
            iss = aj_claims_get_string(claims, "iss");
        }
        else if (aj_jws_peek(&peek, r->pool, token, len) != APR_SUCCESS) {
            *v = AJ_MALFORMED;
            return OK;
        }
        else {
            iss = aj_jws_peek_iss(peek);
        }
        rc = auth_jwt_source_for(src, v, r, c, iss);
        if (rc != OK || *v != AJ_OK) {
            /* a token whose header is not JSON is malformed before its
             * issuer is unknown or unavailable: the peek did not read it */
            if (!entry && aj_jws_decode(&hdr, &payload, r->pool, token, len) != APR_SUCCESS) {
                *v = AJ_MALFORMED;
                return OK;
            }
            return rc;
        }
    }
    if (entry && entry->keyid != src->keyid) {
        auth_jwt_metrics_count(AJ_M_VERIFY_MISS); /* verified with keys since replaced */
        entry = NULL;
    }
    if (entry) {
        auth_jwt_metrics_count(AJ_M_VERIFY_HIT);
        *keys = entry->has_keys ? &entry->keys : NULL;
        *cl = claims;
        *v = aj_claims_check(claims, &src->policy, now);
        return OK;
    }
    rv = aj_jws_verify_peeked(v, cl, r->pool, token, len, src->ks, &src->policy, now, peek);
    if (rv == APR_SUCCESS && *v == AJ_UNKNOWN_KID && src->issuer
        && auth_jwt_issuer_refetch(r, src->issuer)) {
        /* a key the issuer just published: its set is fetched again, once */
        rc = auth_jwt_issuer_keys(&src->ks, &src->keyid, r, src->issuer);
        if (rc != OK) {
            return rc;
        }
        rv = aj_jws_verify_peeked(v, cl, r->pool, token, len, src->ks, &src->policy, now, peek);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      AJ_LOGNO(011) "token verification could not run");
        *v = AJ_MALFORMED;
        return OK;
    }
    if (*v == AJ_OK) {
        aj_claims_t *packed = auth_jwt_vcache_store(keys, r, c, src, token, len, *cl, now);
        *cl = packed ? packed : *cl;
    }
    return OK;
}

int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims,
                          const auth_jwt_issuer_t **issuer, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len)
{
    aj_verdict_e v = AJ_MALFORMED;
    aj_claims_t *cl = NULL;
    const auth_jwt_revkeys *keys = NULL;
    auth_jwt_source_t src;
    apr_int64_t now = apr_time_sec(r->request_time);
    int rc;

    *verdict = AJ_BAD_ALG;
    *issuer = NULL;
    if (!c->trusted && (!c->keys || aj_keyset_count(c->keys) == 0)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(010) "no AuthJWTSigningKey or AuthJWTVerifyKey applies to %s; "
                                    "refusing the token",
                      r->uri);
        return OK;
    }
    auth_jwt_source_local(&src, c);
    rc = auth_jwt_verify_cached(&v, &cl, &keys, &src, r, c, token, len, now);
    if (rc != OK) {
        return rc;
    }
    /* Revocation (logout, revoke-all) is of this site's own tokens: a
     * trusted issuer's are revoked at their issuer. */
    if (v == AJ_OK && !src.issuer) {
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
    *issuer = src.issuer;
    return OK;
}

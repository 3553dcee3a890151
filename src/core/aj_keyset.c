/*
 * aj_keyset.c — key sets: configuration order, the kid rule, which keys may
 * verify a token (by its exact alg and its kid), the signing key, and the
 * published JWK Set of the public keys.
 *
 * A set is built at configuration time and then read by every thread.  The
 * one thing that changes afterwards is the verified-header memo of aj_jws.c,
 * which lives in memory of its own (the set itself stays read-only).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "aj_jwk.h"
#include "aj_jws.h" /* the memo's type only: the set holds one */
#include "aj_keyset.h"

#define AJ_KEYSET_INITIAL 2 /* a signing key and its successor */
#define AJ_JWK_SET_OPEN   "{\"keys\":["
#define AJ_JWK_SET_CLOSE  "]}"
#define AJ_JWK_SET_SEP    ','

struct aj_keyset_t {
    apr_array_header_t *keys; /* const aj_key_t *, in configuration order */
    apr_pool_t *pool;
    const char *jwks;    /* aj_jwk_set_json() of keys */
    aj_jws_memo_t *memo; /* see aj_keyset_memo(): written by aj_jws.c */
};

aj_keyset_t *aj_keyset_make(apr_pool_t *p)
{
    aj_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->keys = apr_array_make(p, AJ_KEYSET_INITIAL, sizeof(const aj_key_t *));
    ks->pool = p;
    ks->jwks = AJ_JWK_SET_EMPTY;
    ks->memo = apr_pcalloc(p, sizeof(*ks->memo)); /* zeroed: empty */
    return ks;
}

struct aj_jws_memo_t *aj_keyset_memo(const aj_keyset_t *ks)
{
    return ks ? ks->memo : NULL;
}

void aj_keyset_add(aj_keyset_t *ks, const aj_key_t *key)
{
    const char *jwks = NULL;

    if (ks && key) {
        APR_ARRAY_PUSH(ks->keys, const aj_key_t *) = key;
        /* Configuration time: the published set is rebuilt once per key. */
        if (aj_key_pkey(key)) {
            ks->jwks = aj_jwk_set_json(&jwks, ks->pool, ks) == APR_SUCCESS ? jwks : NULL;
        }
    }
}

int aj_keyset_count(const aj_keyset_t *ks)
{
    return ks ? ks->keys->nelts : 0;
}

const aj_key_t *aj_keyset_get(const aj_keyset_t *ks, int i)
{
    if (!ks || i < 0 || i >= ks->keys->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(ks->keys, i, const aj_key_t *);
}

const aj_key_t *aj_keyset_signing_key(const aj_keyset_t *ks)
{
    int i;

    for (i = 0; i < aj_keyset_count(ks); ++i) {
        const aj_key_t *key = aj_keyset_get(ks, i);
        if (aj_key_can_sign(key)) {
            return key;
        }
    }
    return NULL;
}

/* ---- kids --------------------------------------------------------------- */

/* The first key of ks that carries kid, or NULL. */
static const aj_key_t *aj_keyset_by_kid(const aj_keyset_t *ks, const char *kid)
{
    const char *kkid;
    int i;

    for (i = 0; i < aj_keyset_count(ks); ++i) {
        kkid = aj_key_kid(aj_keyset_get(ks, i));
        if (kkid && !strcmp(kkid, kid)) {
            return aj_keyset_get(ks, i);
        }
    }
    return NULL;
}

int aj_keyset_has_kid(const aj_keyset_t *ks, const char *kid)
{
    return kid && aj_keyset_by_kid(ks, kid) != NULL;
}

/* What kind of key this is, for the kid rule's messages. */
static const char *aj_keyset_kind(const aj_key_t *key)
{
    const aj_alg_info_t *info = aj_alg_info(aj_key_alg(key));

    switch (info ? info->kty : AJ_KTY_HMAC) {
    case AJ_KTY_HMAC: return "an HMAC secret";
    case AJ_KTY_RSA:
    case AJ_KTY_RSA_PSS: return "an RSA key";
    case AJ_KTY_EC: return "an EC key";
    default: return "an Ed25519 key";
    }
}

apr_status_t aj_keyset_check_kid(const char **err, apr_pool_t *p, const aj_keyset_t *ks,
                                 const aj_key_t *key)
{
    const char *kid = aj_key_kid(key);
    const aj_key_t *other;

    if (!kid) {
        return APR_SUCCESS; /* keys without kid: tried by alg, as always */
    }
    other = aj_keyset_by_kid(ks, kid);
    if (!other) {
        return APR_SUCCESS;
    }
    if (strcmp(aj_keyset_kind(other), aj_keyset_kind(key))) {
        *err = apr_psprintf(p,
                            "kid '%s' would name both %s (%s) and %s (%s): one kid "
                            "must name one key, and never a secret and a public key "
                            "together",
                            kid, aj_keyset_kind(other), aj_alg_name(aj_key_alg(other)),
                            aj_keyset_kind(key), aj_alg_name(aj_key_alg(key)));
    }
    else {
        *err = apr_psprintf(p,
                            "kid '%s' is already used by an earlier %s key of this "
                            "section: every kid of a section must be different (a "
                            "token's kid picks exactly one key)",
                            kid, aj_alg_name(aj_key_alg(other)));
    }
    return APR_EINVAL;
}

/* ---- which keys verify a token ------------------------------------------ */

const aj_key_t *aj_keyset_find(const aj_keyset_t *ks, int *next, aj_alg_e alg, const char *kid)
{
    const aj_key_t *key;
    const char *kkid;

    while (*next < aj_keyset_count(ks)) {
        key = aj_keyset_get(ks, (*next)++);
        kkid = aj_key_kid(key);
        if (aj_key_alg(key) == alg && (!kid || (kkid && !strcmp(kkid, kid)))) {
            return key;
        }
    }
    return NULL;
}

/* ---- the published JWK Set ---------------------------------------------- */

apr_status_t aj_jwk_set_json(const char **json, apr_pool_t *p, const aj_keyset_t *ks)
{
    apr_array_header_t *jwks = apr_array_make(p, AJ_KEYSET_INITIAL, sizeof(const char *));
    const char *jwk = NULL;
    int i;
    apr_status_t rv;

    for (i = 0; i < aj_keyset_count(ks); ++i) {
        rv = aj_jwk_text(&jwk, p, aj_keyset_get(ks, i));
        if (rv == APR_ENOENT) {
            continue; /* HMAC: never published */
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(jwks, const char *) = jwk;
    }
    /* The members of RFC 7517 §5, written as aj_json_dump() writes JSON. */
    *json = apr_pstrcat(p, AJ_JWK_SET_OPEN, apr_array_pstrcat(p, jwks, AJ_JWK_SET_SEP),
                        AJ_JWK_SET_CLOSE, NULL);
    return APR_SUCCESS;
}

const char *aj_keyset_jwks(const aj_keyset_t *ks)
{
    return ks ? ks->jwks : AJ_JWK_SET_EMPTY;
}

/*
 * aj_jwks.c — a JWK Set document (RFC 7517 §5) into a key set, under
 * docs/reference.md §11's rules for a set: every JWK on its own (aj_jwk.c),
 * keys that share a kid all left out, secrets and public keys never mixed.
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "aj_jwk.h"
#include "aj_jwks.h"

apr_status_t aj_jwk_set_to_keyset(aj_keyset_t **ks, apr_array_header_t **skipped, const char **err,
                                  apr_pool_t *p, json_object *set, int allow_oct)
{
    json_object *list = NULL, *jwk;
    apr_hash_t *kids = apr_hash_make(p);
    apr_array_header_t *keys = NULL, *usable, *notes;
    const char *kid, *why;
    apr_size_t i, n;
    int j, secrets = 0, publics = 0, *count;
    aj_keyset_t *out;

    if (!json_object_is_type(set, json_type_object)
        || !json_object_object_get_ex(set, "keys", &list)
        || !json_object_is_type(list, json_type_array)) {
        *err = "a JWK Set must be a JSON object with a \"keys\" array";
        return APR_EINVAL;
    }
    n = json_object_array_length(list);
    /* docs/reference.md §11: keys sharing a kid are all unusable (which one a token
     * means is ambiguous), so count every kid first. */
    for (i = 0; i < n; ++i) {
        kid = aj_jwk_kid(json_object_array_get_idx(list, i));
        if (kid) {
            count = apr_hash_get(kids, kid, APR_HASH_KEY_STRING);
            if (!count) {
                count = apr_pcalloc(p, sizeof(*count));
                apr_hash_set(kids, kid, APR_HASH_KEY_STRING, count);
            }
            ++*count;
        }
    }
    usable = apr_array_make(p, (int)n + 1, sizeof(apr_array_header_t *));
    notes = apr_array_make(p, 1, sizeof(const char *));
    for (i = 0; i < n; ++i) {
        jwk = json_object_array_get_idx(list, i);
        kid = aj_jwk_kid(jwk);
        if (kid && *(int *)apr_hash_get(kids, kid, APR_HASH_KEY_STRING) > 1) {
            APR_ARRAY_PUSH(notes, const char *) = apr_psprintf(
                p,
                "key %" APR_SIZE_T_FMT ": kid \"%.*s\" is shared by %d keys "
                "of the set, so none of them is used",
                i, AJ_JWK_NAME_MAX, kid, *(int *)apr_hash_get(kids, kid, APR_HASH_KEY_STRING));
            continue;
        }
        why = NULL;
        if (aj_jwk_to_keys(&keys, &why, p, jwk, allow_oct) != APR_SUCCESS) {
            APR_ARRAY_PUSH(notes, const char *) =
                apr_psprintf(p, "key %" APR_SIZE_T_FMT ": %s", i, why ? why : "unusable");
            continue;
        }
        /* kty oct gives HMAC keys only, every other kty none */
        if (aj_alg_is_hmac(aj_key_alg(APR_ARRAY_IDX(keys, 0, aj_key_t *)))) {
            ++secrets;
        }
        else {
            ++publics;
        }
        APR_ARRAY_PUSH(usable, apr_array_header_t *) = keys;
    }
    if (secrets && publics) {
        /* A JWK Set is either a file of shared secrets or a document of
         * public keys; one that mixes them is a mistake (a secret about to
         * be published, or keys of two purposes in one place), and which
         * key a token may use becomes ambiguous: refused whole. */
        *err = "the JWK Set mixes HMAC secrets (kty oct) with public keys; keep secrets "
               "and public keys in separate sets";
        return APR_EINVAL;
    }
    out = aj_keyset_make(p);
    for (j = 0; j < usable->nelts; ++j) {
        keys = APR_ARRAY_IDX(usable, j, apr_array_header_t *);
        for (i = 0; i < (apr_size_t)keys->nelts; ++i) {
            aj_keyset_add(out, APR_ARRAY_IDX(keys, i, aj_key_t *));
        }
    }
    *ks = out;
    if (skipped) {
        *skipped = notes;
    }
    return APR_SUCCESS;
}

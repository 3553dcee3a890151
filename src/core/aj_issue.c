/*
 * aj_issue.c — the claims an issuer sets: an issued token's claim set
 * (docs/reference.md §5), the claims a password login stands for, the
 * reserved names that stored per-user claims never override, random ids and
 * the revoke-all time.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aj_b64.h"
#include "aj_issue.h"
#include "aj_json.h"

/* aj_random_id() reads at most this many random bytes at once. */
#define AJ_RANDOM_ID_MAX_BYTES 64
/* aj_issue_revoke_all_value(): the revocation covers the current second. */
#define AJ_REVOKE_ALL_AHEAD    1
#define AJ_RESERVED_NAMES_SEP  ", "

/* Claims the issuer sets itself (docs/reference.md §5); stored claims never override them. */
static const char *const aj_reserved_claims[] = {
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "name", "auth_time", "csrf", "sid",
};

#define AJ_RESERVED_COUNT (sizeof(aj_reserved_claims) / sizeof(aj_reserved_claims[0]))

int aj_claims_is_reserved(const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < AJ_RESERVED_COUNT; ++i) {
        if (!strcmp(name, aj_reserved_claims[i])) {
            return 1;
        }
    }
    return 0;
}

const char *aj_claims_reserved_names(apr_pool_t *p)
{
    const char *out = aj_reserved_claims[0];
    apr_size_t i;

    for (i = 1; i < AJ_RESERVED_COUNT; ++i) {
        out = apr_pstrcat(p, out, AJ_RESERVED_NAMES_SEP, aj_reserved_claims[i], NULL);
    }
    return out;
}

/* Adds val (taking its reference) as obj[name]. */
static apr_status_t aj_json_add(json_object *obj, const char *name, json_object *val)
{
    if (!val) {
        return APR_ENOMEM;
    }
    if (json_object_object_add(obj, name, val) != 0) {
        json_object_put(val);
        return APR_ENOMEM;
    }
    return APR_SUCCESS;
}

/* Adds the members of a user's stored claims object that are not reserved. */
static apr_status_t aj_issue_add_stored(json_object *obj, json_object *stored)
{
    apr_status_t rv = APR_SUCCESS;

    json_object_object_foreach(stored, claim, val) {
        if (!aj_claims_is_reserved(claim)) {
            rv = aj_json_add(obj, claim, json_object_get(val));
            if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    return rv;
}

static json_object *aj_json_audience(const apr_array_header_t *aud)
{
    json_object *arr;
    int i;

    if (aud->nelts == 1) {
        return json_object_new_string(APR_ARRAY_IDX(aud, 0, const char *));
    }
    arr = json_object_new_array();
    for (i = 0; arr && i < aud->nelts; ++i) {
        json_object *s = json_object_new_string(APR_ARRAY_IDX(aud, i, const char *));
        if (!s || json_object_array_add(arr, s) != 0) {
            json_object_put(s);
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

/* The registered claims of in, in their documented order. */
static apr_status_t aj_issue_add_registered(json_object *obj, const aj_issue_t *in)
{
    apr_status_t rv;

    if ((rv = aj_json_add(obj, "sub", json_object_new_string(in->sub))) != APR_SUCCESS
        || (in->name
            && (rv = aj_json_add(obj, "name", json_object_new_string(in->name))) != APR_SUCCESS)
        || (rv = aj_json_add(obj, "iat", json_object_new_int64(in->iat))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "nbf", json_object_new_int64(in->nbf))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "exp", json_object_new_int64(in->exp))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "jti", json_object_new_string(in->jti))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "auth_time", json_object_new_int64(in->auth_time))) != APR_SUCCESS
        || (in->iss
            && (rv = aj_json_add(obj, "iss", json_object_new_string(in->iss))) != APR_SUCCESS)
        || (in->aud && in->aud->nelts > 0
            && (rv = aj_json_add(obj, "aud", aj_json_audience(in->aud))) != APR_SUCCESS)
        || (in->csrf
            && (rv = aj_json_add(obj, "csrf", json_object_new_string(in->csrf))) != APR_SUCCESS)
        || (in->sid
            && (rv = aj_json_add(obj, "sid", json_object_new_string(in->sid))) != APR_SUCCESS)) {
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t aj_claims_build(const char **json, apr_pool_t *p, const aj_issue_t *in)
{
    json_object *obj = NULL, *extra = NULL;
    const char *out;
    apr_status_t rv = APR_EINVAL;
    int i;

    if (!in || !in->sub || !in->jti) {
        goto cleanup;
    }
    for (i = 0; in->aud && i < in->aud->nelts; ++i) {
        if (!APR_ARRAY_IDX(in->aud, i, const char *)) {
            goto cleanup;
        }
    }
    if (in->extra_json
        && aj_json_parse(&extra, p, in->extra_json, strlen(in->extra_json), &aj_json_body_limits)
               != APR_SUCCESS) {
        goto cleanup; /* too long, not JSON, not an object: all EINVAL */
    }
    obj = aj_json_own(p, json_object_new_object());
    rv = obj ? aj_issue_add_registered(obj, in) : APR_ENOMEM;
    if (rv == APR_SUCCESS && extra) {
        rv = aj_issue_add_stored(obj, extra);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    out = aj_json_dump(p, obj);
    rv = out ? APR_SUCCESS : APR_ENOMEM;
    if (out) {
        *json = out;
    }

cleanup:
    return rv;
}

const aj_claims_t *aj_issue_user_claims(apr_pool_t *p, apr_int64_t id, const char *username,
                                        const char *claims_json)
{
    json_object *obj, *stored = NULL;
    const char *text;

    /* stored claims that do not parse as one JSON object are left out: the
     * login still stands for sub and name */
    if (!claims_json
        || aj_json_parse(&stored, p, claims_json, strlen(claims_json), &aj_json_body_limits)
               != APR_SUCCESS) {
        stored = NULL;
    }
    obj = aj_json_own(p, json_object_new_object());
    if (!obj || (stored && aj_issue_add_stored(obj, stored) != APR_SUCCESS)
        || aj_json_add(obj, "sub", json_object_new_string(apr_psprintf(p, "%" APR_INT64_T_FMT, id)))
               != APR_SUCCESS
        || aj_json_add(obj, "name", json_object_new_string(username)) != APR_SUCCESS) {
        return NULL;
    }
    text = aj_json_dump(p, obj);
    return text ? aj_claims_wrap_text(p, obj, text, strlen(text)) : aj_claims_wrap(p, obj);
}

apr_status_t aj_random_id(const char **out, apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[AJ_RANDOM_ID_MAX_BYTES];
    apr_status_t rv = APR_EINVAL;

    if (nbytes == 0 || nbytes > sizeof(buf)) {
        goto cleanup;
    }
    if (RAND_bytes(buf, (int)nbytes) != 1) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *out = aj_b64url_encode(p, buf, nbytes);
    rv = APR_SUCCESS;

cleanup:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

apr_int64_t aj_issue_revoke_all_value(apr_int64_t now)
{
    return now + AJ_REVOKE_ALL_AHEAD;
}

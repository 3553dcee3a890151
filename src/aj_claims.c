/*
 * aj_claims.c — a verified claim set: reading it, checking the registered
 * claims (RFC 7519 §4.1 with RFC 8725's rules) and building issued ones
 * (SPEC §5).
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aj_b64.h"
#include "aj_claims.h"
#include "aj_json.h"

/* aj_random_id() reads at most this many random bytes at once. */
#define AJ_RANDOM_ID_MAX_BYTES  64
#define AJ_SCOPE_SEP            ' '     /* RFC 8693 §4.2: space-delimited */

struct aj_claims_t {
    json_object *obj;       /* a JSON object, owned by a pool */
};

/* Claims the issuer sets itself (SPEC §5); stored claims never override them. */
static const char *const aj_reserved_claims[] = {
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "name", "auth_time", "csrf",
};

#define AJ_RESERVED_COUNT (sizeof(aj_reserved_claims) / sizeof(aj_reserved_claims[0]))

aj_claims_t *aj_claims_wrap(apr_pool_t *p, json_object *obj)
{
    aj_claims_t *c;

    if (!obj || !json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    c = apr_palloc(p, sizeof(*c));
    c->obj = obj;
    return c;
}

json_object *aj_claims_object(const aj_claims_t *c)
{
    return c ? c->obj : NULL;
}

static json_object *aj_claims_get(const aj_claims_t *c, const char *name)
{
    json_object *v = NULL;

    if (!c || !name || !json_object_object_get_ex(c->obj, name, &v)) {
        return NULL;
    }
    return v;
}

/* A JSON number as an integer, the fraction truncated and the range
 * saturated (no undefined conversion).  0 when v is not a number. */
static int aj_json_number(json_object *v, apr_int64_t *out)
{
    double d;

    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);        /* saturates too */
        return 1;
    }
    if (!json_object_is_type(v, json_type_double)) {
        return 0;
    }
    d = json_object_get_double(v);
    if (d != d) {
        return 0;                               /* NaN */
    }
    if (d >= (double)APR_INT64_MAX) {
        *out = APR_INT64_MAX;
    }
    else if (d <= (double)APR_INT64_MIN) {
        *out = APR_INT64_MIN;
    }
    else {
        *out = (apr_int64_t)d;
    }
    return 1;
}

/* 1 with *out set, 0 when absent, -1 when present but not a number. */
static int aj_claims_number(const aj_claims_t *c, const char *name, apr_int64_t *out)
{
    json_object *v = NULL;

    /* json-c's null is a NULL value of a present member: not a number. */
    if (!c || !name || !json_object_object_get_ex(c->obj, name, &v)) {
        return 0;
    }
    return aj_json_number(v, out) ? 1 : -1;
}

static apr_int64_t aj_sat_add(apr_int64_t a, apr_int64_t b)
{
    if (b > 0 && a > APR_INT64_MAX - b) {
        return APR_INT64_MAX;
    }
    if (b < 0 && a < APR_INT64_MIN - b) {
        return APR_INT64_MIN;
    }
    return a + b;
}

static int aj_json_string_is(json_object *v, const char *s)
{
    return json_object_is_type(v, json_type_string) && s
           && (apr_size_t)json_object_get_string_len(v) == strlen(s)
           && !memcmp(json_object_get_string(v), s, strlen(s));
}

static int aj_audience_configured(json_object *v, const apr_array_header_t *audiences)
{
    int i;

    for (i = 0; i < audiences->nelts; ++i) {
        if (aj_json_string_is(v, APR_ARRAY_IDX(audiences, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* aud is a string or an array of strings (RFC 7519 §4.1.3) naming one of
 * the configured audiences. */
static int aj_claims_aud_ok(const aj_claims_t *c, const apr_array_header_t *audiences)
{
    json_object *aud = aj_claims_get(c, "aud");
    apr_size_t i, n;
    int found = 0;

    if (!aud) {
        return 0;
    }
    if (json_object_is_type(aud, json_type_string)) {
        return aj_audience_configured(aud, audiences);
    }
    if (!json_object_is_type(aud, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(aud);
    for (i = 0; i < n; ++i) {
        json_object *e = json_object_array_get_idx(aud, i);
        if (!json_object_is_type(e, json_type_string)) {
            return 0;
        }
        found = found || aj_audience_configured(e, audiences);
    }
    return found;
}

aj_verdict_e aj_claims_check(const aj_claims_t *c, const aj_policy_t *policy, apr_int64_t now)
{
    apr_int64_t leeway = (policy && policy->leeway > 0) ? policy->leeway : 0;
    apr_int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp, has_nbf, has_iat;

    if (!c) {
        return AJ_MALFORMED;
    }
    has_exp = aj_claims_number(c, "exp", &exp);
    has_nbf = aj_claims_number(c, "nbf", &nbf);
    has_iat = aj_claims_number(c, "iat", &iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0) {
        return AJ_MALFORMED;
    }
    if (!has_exp) {
        return AJ_MISSING_EXP;
    }
    if (now >= aj_sat_add(exp, leeway)) {
        return AJ_EXPIRED;
    }
    if (has_nbf && now < aj_sat_add(nbf, -leeway)) {
        return AJ_NOT_YET_VALID;
    }
    if (has_iat && iat > aj_sat_add(now, leeway)) {
        return AJ_BAD_IAT;
    }
    if (policy && policy->issuer && !aj_json_string_is(aj_claims_get(c, "iss"), policy->issuer)) {
        return AJ_BAD_ISS;
    }
    if (policy && policy->audiences && policy->audiences->nelts > 0
        && !aj_claims_aud_ok(c, policy->audiences)) {
        return AJ_BAD_AUD;
    }
    return AJ_OK;
}

const char *aj_claims_get_string(const aj_claims_t *c, const char *name)
{
    json_object *v = aj_claims_get(c, name);

    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int aj_claims_get_int(const aj_claims_t *c, const char *name, apr_int64_t *out)
{
    return aj_claims_number(c, name, out) == 1;
}

/* The text form of a scalar (string as is; number, boolean as JSON), or
 * NULL for null, objects and arrays.  Points into v (valid while v is). */
static const char *aj_json_scalar_text(json_object *v, apr_size_t *len)
{
    const char *s;

    switch (json_object_get_type(v)) {
    case json_type_string:
        *len = (apr_size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (s) {
            *len = strlen(s);
        }
        return s;
    default:
        return NULL;
    }
}

static int aj_json_scalar_is(json_object *v, const char *value)
{
    apr_size_t len = 0;
    const char *s = aj_json_scalar_text(v, &len);

    return s && len == strlen(value) && !memcmp(s, value, len);
}

int aj_claims_match(const aj_claims_t *c, const char *name, const char *value)
{
    json_object *v = aj_claims_get(c, name);
    apr_size_t i, n;

    if (!v || !value) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_array)) {
        return aj_json_scalar_is(v, value);
    }
    n = json_object_array_length(v);
    for (i = 0; i < n; ++i) {
        if (aj_json_scalar_is(json_object_array_get_idx(v, i), value)) {
            return 1;
        }
    }
    return 0;
}

/* Non-zero when the space-separated words s[0..len) include scope. */
static int aj_words_include(const char *s, apr_size_t len, const char *scope)
{
    apr_size_t slen = strlen(scope), i = 0, start;

    while (i < len) {
        while (i < len && s[i] == AJ_SCOPE_SEP) {
            ++i;
        }
        start = i;
        while (i < len && s[i] != AJ_SCOPE_SEP) {
            ++i;
        }
        if (i > start && i - start == slen && !memcmp(s + start, scope, slen)) {
            return 1;
        }
    }
    return 0;
}

/* scope in the claim v: a space-separated string or an array of strings. */
static int aj_scope_claim_has(json_object *v, const char *scope)
{
    apr_size_t i, n;

    if (json_object_is_type(v, json_type_string)) {
        return aj_words_include(json_object_get_string(v),
                                (apr_size_t)json_object_get_string_len(v), scope);
    }
    if (json_object_is_type(v, json_type_array)) {
        n = json_object_array_length(v);
        for (i = 0; i < n; ++i) {
            if (aj_json_string_is(json_object_array_get_idx(v, i), scope)) {
                return 1;
            }
        }
    }
    return 0;
}

int aj_claims_has_scopes(const aj_claims_t *c, const apr_array_header_t *scopes)
{
    json_object *scope = aj_claims_get(c, "scope"), *scp = aj_claims_get(c, "scp");
    int i;

    if (!scopes || scopes->nelts == 0) {
        return 0;
    }
    for (i = 0; i < scopes->nelts; ++i) {
        const char *want = APR_ARRAY_IDX(scopes, i, const char *);
        if (!want || !*want
            || !(aj_scope_claim_has(scope, want) || aj_scope_claim_has(scp, want))) {
            return 0;
        }
    }
    return 1;
}

/* An array of scalars as one string joined by spaces; NULL when an element
 * is not a scalar. */
static const char *aj_json_array_text(apr_pool_t *p, json_object *arr)
{
    apr_size_t i, n = json_object_array_length(arr), len = 0;
    const char *s, *out = "";

    for (i = 0; i < n; ++i) {
        s = aj_json_scalar_text(json_object_array_get_idx(arr, i), &len);
        if (!s) {
            return NULL;
        }
        out = i ? apr_pstrcat(p, out, " ", apr_pstrmemdup(p, s, len), NULL)
                : apr_pstrmemdup(p, s, len);
    }
    return out;
}

void aj_claims_visit(const aj_claims_t *c, apr_pool_t *p, aj_claims_visit_fn *fn, void *baton)
{
    const char *text;
    apr_size_t len = 0;

    if (!c || !fn) {
        return;
    }
    json_object_object_foreach(c->obj, claim, val) {
        /* the common scalars without json-c's printbuf (hot path: JWT_CLAIM_*) */
        switch (json_object_get_type(val)) {
        case json_type_string:
            text = apr_pstrmemdup(p, json_object_get_string(val),
                                  (apr_size_t)json_object_get_string_len(val));
            break;
        case json_type_int:
            text = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_object_get_int64(val));
            break;
        case json_type_boolean:
            text = json_object_get_boolean(val) ? "true" : "false";
            break;
        case json_type_array:
            text = aj_json_array_text(p, val);
            break;
        default:
            text = aj_json_scalar_text(val, &len);
            text = text ? apr_pstrmemdup(p, text, len) : NULL;
            break;
        }
        if (text && fn(baton, claim, text)) {
            return;
        }
    }
}

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

apr_status_t aj_claims_build(const char **json, apr_pool_t *p, const aj_issue_t *in)
{
    json_object *obj = NULL, *extra = NULL;
    const char *out;
    apr_status_t rv = APR_EINVAL;
    int i;

    if (!in || !in->sub || !in->jti) {
        goto cleanup;
    }
    if (in->aud) {
        for (i = 0; i < in->aud->nelts; ++i) {
            if (!APR_ARRAY_IDX(in->aud, i, const char *)) {
                goto cleanup;
            }
        }
    }
    if (in->extra_json
        && aj_json_parse(&extra, p, in->extra_json, strlen(in->extra_json),
                         &aj_json_body_limits) != APR_SUCCESS) {
        goto cleanup;       /* too long, not JSON, not an object: all EINVAL */
    }
    obj = aj_json_own(p, json_object_new_object());
    if (!obj) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    if ((rv = aj_json_add(obj, "sub", json_object_new_string(in->sub))) != APR_SUCCESS
        || (in->name
            && (rv = aj_json_add(obj, "name", json_object_new_string(in->name))) != APR_SUCCESS)
        || (rv = aj_json_add(obj, "iat", json_object_new_int64(in->iat))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "nbf", json_object_new_int64(in->nbf))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "exp", json_object_new_int64(in->exp))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "jti", json_object_new_string(in->jti))) != APR_SUCCESS
        || (rv = aj_json_add(obj, "auth_time", json_object_new_int64(in->auth_time)))
               != APR_SUCCESS
        || (in->iss
            && (rv = aj_json_add(obj, "iss", json_object_new_string(in->iss))) != APR_SUCCESS)
        || (in->aud && in->aud->nelts > 0
            && (rv = aj_json_add(obj, "aud", aj_json_audience(in->aud))) != APR_SUCCESS)
        || (in->csrf
            && (rv = aj_json_add(obj, "csrf", json_object_new_string(in->csrf))) != APR_SUCCESS)) {
        goto cleanup;
    }
    if (extra) {
        json_object_object_foreach(extra, claim, val) {
            if (aj_claims_is_reserved(claim)) {
                continue;
            }
            rv = aj_json_add(obj, claim, json_object_get(val));
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
        }
    }
    out = aj_json_dump(p, obj);
    if (!out) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    *json = out;
    rv = APR_SUCCESS;

cleanup:
    return rv;
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

/*
 * aj_claims.c — a verified claim set: reading it and checking the
 * registered claims (RFC 7519 §4.1 with RFC 8725's rules).
 *
 * A claim set is either a parsed JSON object (aj_claims_wrap) or a packed
 * image restored from a cache (aj_claims_unpack, aj_claims_pack.h).  Every
 * question below is answered from the image when it can be, without json-c;
 * the rest parse the image's payload text once, on demand.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_claims.h"
#include "aj_claims_pack.h"
#include "aj_json.h"

#define AJ_SCOPE_SEP ' ' /* RFC 8693 §4.2: space-delimited */

struct aj_claims_t {
    json_object *obj; /* a JSON object owned by `pool`; NULL until needed
                             * when restored from an image */
    apr_pool_t *pool;
    const aj_claims_image_t *img; /* NULL: wrapped around obj */
    const char *text;             /* the payload text obj was parsed from, or NULL */
    apr_size_t text_len;
};

aj_claims_t *aj_claims_wrap(apr_pool_t *p, json_object *obj)
{
    aj_claims_t *c;

    if (!obj || !json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->obj = obj;
    c->pool = p;
    return c;
}

aj_claims_t *aj_claims_wrap_text(apr_pool_t *p, json_object *obj, const char *text, apr_size_t len)
{
    aj_claims_t *c = aj_claims_wrap(p, obj);

    if (c) {
        c->text = text;
        c->text_len = len;
    }
    return c;
}

/* The JSON object; a claim set restored from an image parses its payload
 * text here, once, into its pool (NULL if that fails: nothing matches). */
static json_object *aj_claims_json(const aj_claims_t *c)
{
    aj_claims_t *m = (aj_claims_t *)c; /* a memo of c's own payload */
    json_object *obj = NULL;
    const char *payload;
    apr_size_t len = 0;

    if (!c) {
        return NULL;
    }
    if (!c->obj && c->img) {
        payload = aj_claims_image_payload(c->img, &len);
        if (aj_json_reparse(&obj, c->pool, payload, len, &aj_json_token_limits) == APR_SUCCESS
            && json_object_is_type(obj, json_type_object)) {
            m->obj = obj;
        }
    }
    return c->obj;
}

json_object *aj_claims_object(const aj_claims_t *c)
{
    return aj_claims_json(c);
}

static json_object *aj_claims_get(const aj_claims_t *c, const char *name)
{
    json_object *obj = aj_claims_json(c), *v = NULL;

    if (!obj || !name || !json_object_object_get_ex(obj, name, &v)) {
        return NULL;
    }
    return v;
}

/* 1 with *out set, 0 when absent, -1 when present but not a number. */
static int aj_claims_number(const aj_claims_t *c, const char *name, apr_int64_t *out)
{
    int has = 0;

    if (c && c->img && name && aj_claims_image_time(c->img, name, &has, out)) {
        return has;
    }
    /* json-c's null is a NULL value of a present member: not a number. */
    return aj_claims_member_number(aj_claims_json(c), name, out);
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

/* An image entry's JSON text equals s (strings: the unescaped bytes). */
static int aj_entry_text_is(const aj_claims_entry_t *e, const char *s, apr_size_t len)
{
    return e->match && e->match_len == len && !memcmp(e->match, s, len);
}

/* The claim is a string equal to s. */
static int aj_claims_string_is(const aj_claims_t *c, const char *name, const char *s)
{
    aj_claims_entry_t e;

    if (c->img) {
        return aj_claims_image_find(&e, c->img, name) && e.kind == AJ_CLAIM_STRING
               && aj_entry_text_is(&e, s, strlen(s));
    }
    return aj_json_string_is(aj_claims_get(c, name), s);
}

/* aud is a string or an array of strings (RFC 7519 §4.1.3) naming one of
 * the configured audiences. */
static int aj_claims_aud_ok(const aj_claims_t *c, const apr_array_header_t *audiences)
{
    json_object *aud;
    apr_size_t i, n;
    int found = 0;

    if (c->img) {
        aj_claims_entry_t e;
        if (!aj_claims_image_find(&e, c->img, "aud")) {
            return 0;
        }
        if (e.kind == AJ_CLAIM_STRING) {
            for (i = 0; i < (apr_size_t)audiences->nelts; ++i) {
                const char *want = APR_ARRAY_IDX(audiences, i, const char *);
                if (want && aj_entry_text_is(&e, want, strlen(want))) {
                    return 1;
                }
            }
            return 0;
        }
        if (e.kind != AJ_CLAIM_ARRAY) {
            return 0;
        }
        /* an array: parsed below */
    }
    aud = aj_claims_get(c, "aud");

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
    if (policy && policy->issuer && !aj_claims_string_is(c, "iss", policy->issuer)) {
        return AJ_BAD_ISS;
    }
    if (policy && policy->audiences && policy->audiences->nelts > 0
        && !aj_claims_aud_ok(c, policy->audiences)) {
        return AJ_BAD_AUD;
    }
    return AJ_OK;
}

int aj_claims_fresh(const aj_claims_t *c, const aj_policy_t *policy, apr_int64_t max_age,
                    apr_int64_t now)
{
    apr_int64_t leeway = (policy && policy->leeway > 0) ? policy->leeway : 0;
    apr_int64_t auth_time = 0;

    if (max_age < 0 || aj_claims_number(c, "auth_time", &auth_time) != 1) {
        return 0;
    }
    /* A login in the future, past the skew the leeway allows, is no
     * evidence of a recent one: the issuer's clock or the token is wrong. */
    if (auth_time > aj_sat_add(now, leeway)) {
        return 0;
    }
    return now <= aj_sat_add(aj_sat_add(auth_time, max_age), leeway);
}

const char *aj_claims_get_string(const aj_claims_t *c, const char *name)
{
    json_object *v;

    if (c && c->img && name) {
        aj_claims_entry_t e;
        return (aj_claims_image_find(&e, c->img, name) && e.kind == AJ_CLAIM_STRING) ? e.match
                                                                                     : NULL;
    }
    v = aj_claims_get(c, name);

    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int aj_claims_get_int(const aj_claims_t *c, const char *name, apr_int64_t *out)
{
    return aj_claims_number(c, name, out) == 1;
}

static int aj_json_scalar_is(json_object *v, const char *value)
{
    apr_size_t len = 0;
    const char *s = aj_claims_scalar_text(v, &len);

    return s && len == strlen(value) && !memcmp(s, value, len);
}

int aj_claims_match(const aj_claims_t *c, const char *name, const char *value)
{
    json_object *v;
    apr_size_t i, n;

    if (!c || !name || !value) {
        return 0;
    }
    if (c->img) {
        aj_claims_entry_t e;
        if (!aj_claims_image_find(&e, c->img, name)) {
            return 0;
        }
        if (e.kind != AJ_CLAIM_ARRAY) {
            return aj_entry_text_is(&e, value, strlen(value));
        }
    }
    v = aj_claims_get(c, name);
    if (!v) {
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

/* scope in claim `name` (see aj_scope_claim_has); an image answers for a
 * string claim without parsing. */
static int aj_claims_scope_in(const aj_claims_t *c, const char *name, const char *scope)
{
    if (c->img) {
        aj_claims_entry_t e;
        if (!aj_claims_image_find(&e, c->img, name)
            || (e.kind != AJ_CLAIM_STRING && e.kind != AJ_CLAIM_ARRAY)) {
            return 0;
        }
        if (e.kind == AJ_CLAIM_STRING) {
            return aj_words_include(e.match, e.match_len, scope);
        }
    }
    return aj_scope_claim_has(aj_claims_get(c, name), scope);
}

int aj_claims_has_scopes(const aj_claims_t *c, const apr_array_header_t *scopes)
{
    int i;

    if (!c || !scopes || scopes->nelts == 0) {
        return 0;
    }
    for (i = 0; i < scopes->nelts; ++i) {
        const char *want = APR_ARRAY_IDX(scopes, i, const char *);
        if (!want || !*want
            || !(aj_claims_scope_in(c, "scope", want) || aj_claims_scope_in(c, "scp", want))) {
            return 0;
        }
    }
    return 1;
}

/* RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E */
#define AJ_SCOPE_CHAR_MIN 0x21
#define AJ_SCOPE_CHAR_MAX 0x7E

int aj_claims_scope_token_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (!u || !*u) {
        return 0;
    }
    for (; *u; ++u) {
        if (*u < AJ_SCOPE_CHAR_MIN || *u > AJ_SCOPE_CHAR_MAX || *u == '"' || *u == '\\') {
            return 0;
        }
    }
    return 1;
}

void aj_claims_visit(const aj_claims_t *c, apr_pool_t *p, aj_claims_visit_fn *fn, void *baton)
{
    aj_claims_entry_t e;
    json_object *obj;
    const char *text;
    apr_size_t i, n;

    if (!c || !fn) {
        return;
    }
    if (c->img) {
        /* the texts were made once, by aj_claims_pack */
        n = aj_claims_image_count(c->img);
        for (i = 0; i < n; ++i) {
            aj_claims_image_entry(&e, c->img, i);
            if (!e.text) {
                continue;
            }
            if (fn(baton, e.name, p == c->pool ? e.text : apr_pstrdup(p, e.text))) {
                return;
            }
        }
        return;
    }
    obj = aj_claims_json(c);
    if (!obj) {
        return;
    }
    json_object_object_foreach(obj, claim, val) {
        text = aj_claims_value_text(p, val);
        if (text && fn(baton, claim, text)) {
            return;
        }
    }
}

apr_status_t aj_claims_pack(void **image, apr_size_t *len, apr_pool_t *p, const aj_claims_t *c)
{
    if (!c || c->img || !c->text) {
        return APR_EINVAL; /* a packed set is packed already */
    }
    return aj_claims_image_build(image, len, p, aj_claims_json(c), c->text, c->text_len);
}

aj_claims_t *aj_claims_unpack(apr_pool_t *p, const void *image, apr_size_t len)
{
    const aj_claims_image_t *img = aj_claims_image_open(image, len);
    aj_claims_t *c;

    if (!img) {
        return NULL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->pool = p;
    c->img = img;
    return c;
}

/*
 * aj_claims.c — a verified claim set: reading it, checking the registered
 * claims (RFC 7519 §4.1 with RFC 8725's rules) and building issued ones
 * (docs/reference.md §5).
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

/* The packed image (aj_claims_pack): a header, `count` entries, then the
 * bytes every offset points into (payload text and claim texts, each
 * NUL-terminated).  Host byte order; it never leaves the process. */
#define AJ_CLAIMS_IMAGE_MAGIC   0x616a4331u        /* "ajC1" */
#define AJ_CLAIMS_NO_TEXT       APR_UINT32_MAX
/* Longest image aj_claims_pack() builds (larger claim sets are not packed). */
#define AJ_CLAIMS_IMAGE_MAX     (64 * 1024)

typedef enum {
    AJ_CLAIM_STRING = 1,
    AJ_CLAIM_INT,
    AJ_CLAIM_SCALAR,        /* double, boolean */
    AJ_CLAIM_ARRAY          /* match/scopes/aud parse the payload text */
} aj_claim_kind_e;

typedef struct {
    apr_uint32_t name_off;
    apr_uint32_t kind;
    apr_uint32_t text_off;  /* aj_claims_visit's text, or AJ_CLAIMS_NO_TEXT */
    apr_uint32_t match_off; /* the JSON text aj_claims_match compares, or NO_TEXT */
    apr_uint32_t match_len;
} aj_claims_entry_t;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t count;     /* entries: the scalar and array claims, in order */
    apr_uint32_t size;      /* of the whole image */
    apr_uint32_t payload_off;
    apr_uint32_t payload_len;
    apr_int32_t has_exp, has_nbf, has_iat;   /* as aj_claims_number() */
    apr_int64_t exp, nbf, iat;
} aj_claims_image_t;

struct aj_claims_t {
    json_object *obj;       /* a JSON object owned by `pool`; NULL until needed
                             * when restored from an image */
    apr_pool_t *pool;
    const aj_claims_image_t *img;   /* NULL: wrapped around obj */
    const aj_claims_entry_t *entries;
    const char *bytes;      /* img as bytes (offsets are from here) */
    const char *text;       /* the payload text obj was parsed from, or NULL */
    apr_size_t text_len;
};

/* Claims the issuer sets itself (docs/reference.md §5); stored claims never override them. */
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
    c = apr_pcalloc(p, sizeof(*c));
    c->obj = obj;
    c->pool = p;
    return c;
}

aj_claims_t *aj_claims_wrap_text(apr_pool_t *p, json_object *obj, const char *text,
                                 apr_size_t len)
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
    aj_claims_t *m = (aj_claims_t *)c;     /* a memo of c's own payload */
    json_object *obj = NULL;

    if (!c) {
        return NULL;
    }
    if (!c->obj && c->img
        && aj_json_reparse(&obj, c->pool, c->bytes + c->img->payload_off,
                           c->img->payload_len, &aj_json_token_limits) == APR_SUCCESS
        && json_object_is_type(obj, json_type_object)) {
        m->obj = obj;
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

/* The packed entry for name, NULL when the claim is absent or is an object
 * or null. */
static const aj_claims_entry_t *aj_claims_entry(const aj_claims_t *c, const char *name)
{
    apr_uint32_t i;

    for (i = 0; i < c->img->count; ++i) {
        if (!strcmp(c->bytes + c->entries[i].name_off, name)) {
            return &c->entries[i];
        }
    }
    return NULL;
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
    json_object *obj, *v = NULL;
    int has = 0;

    if (c && c->img && name) {
        const aj_claims_image_t *img = c->img;
        if (!strcmp(name, "exp")) {
            has = img->has_exp;
            *out = has > 0 ? img->exp : *out;
            return has;
        }
        if (!strcmp(name, "nbf")) {
            has = img->has_nbf;
            *out = has > 0 ? img->nbf : *out;
            return has;
        }
        if (!strcmp(name, "iat")) {
            has = img->has_iat;
            *out = has > 0 ? img->iat : *out;
            return has;
        }
    }
    obj = aj_claims_json(c);
    /* json-c's null is a NULL value of a present member: not a number. */
    if (!obj || !name || !json_object_object_get_ex(obj, name, &v)) {
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
/* An image entry's JSON text equals s (strings: the unescaped bytes). */
static int aj_entry_text_is(const aj_claims_t *c, const aj_claims_entry_t *e, const char *s,
                            apr_size_t len)
{
    return e->match_off != AJ_CLAIMS_NO_TEXT && e->match_len == len
           && !memcmp(c->bytes + e->match_off, s, len);
}

/* The claim is a string equal to s. */
static int aj_claims_string_is(const aj_claims_t *c, const char *name, const char *s)
{
    const aj_claims_entry_t *e;

    if (c->img) {
        e = aj_claims_entry(c, name);
        return e && e->kind == AJ_CLAIM_STRING && aj_entry_text_is(c, e, s, strlen(s));
    }
    return aj_json_string_is(aj_claims_get(c, name), s);
}

static int aj_claims_aud_ok(const aj_claims_t *c, const apr_array_header_t *audiences)
{
    json_object *aud;
    apr_size_t i, n;
    int found = 0;

    if (c->img) {
        const aj_claims_entry_t *e = aj_claims_entry(c, "aud");
        if (!e) {
            return 0;
        }
        if (e->kind == AJ_CLAIM_STRING) {
            for (i = 0; i < (apr_size_t)audiences->nelts; ++i) {
                const char *want = APR_ARRAY_IDX(audiences, i, const char *);
                if (want && aj_entry_text_is(c, e, want, strlen(want))) {
                    return 1;
                }
            }
            return 0;
        }
        if (e->kind != AJ_CLAIM_ARRAY) {
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

const char *aj_claims_get_string(const aj_claims_t *c, const char *name)
{
    json_object *v;

    if (c && c->img && name) {
        const aj_claims_entry_t *e = aj_claims_entry(c, name);
        return (e && e->kind == AJ_CLAIM_STRING) ? c->bytes + e->match_off : NULL;
    }
    v = aj_claims_get(c, name);

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
    json_object *v;
    apr_size_t i, n;

    if (!c || !name || !value) {
        return 0;
    }
    if (c->img) {
        const aj_claims_entry_t *e = aj_claims_entry(c, name);
        if (!e) {
            return 0;
        }
        if (e->kind != AJ_CLAIM_ARRAY) {
            return aj_entry_text_is(c, e, value, strlen(value));
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
        const aj_claims_entry_t *e = aj_claims_entry(c, name);
        if (!e || (e->kind != AJ_CLAIM_STRING && e->kind != AJ_CLAIM_ARRAY)) {
            return 0;
        }
        if (e->kind == AJ_CLAIM_STRING) {
            return aj_words_include(c->bytes + e->match_off, e->match_len, scope);
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

/* aj_claims_visit's text of one claim value, in p; NULL when it has none. */
static const char *aj_json_visit_text(apr_pool_t *p, json_object *val)
{
    const char *text;
    apr_size_t len = 0;

    switch (json_object_get_type(val)) {
    case json_type_string:
        return apr_pstrmemdup(p, json_object_get_string(val),
                              (apr_size_t)json_object_get_string_len(val));
    case json_type_int:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_object_get_int64(val));
    case json_type_boolean:
        return json_object_get_boolean(val) ? "true" : "false";
    case json_type_array:
        return aj_json_array_text(p, val);
    default:
        text = aj_json_scalar_text(val, &len);
        return text ? apr_pstrmemdup(p, text, len) : NULL;
    }
}

void aj_claims_visit(const aj_claims_t *c, apr_pool_t *p, aj_claims_visit_fn *fn, void *baton)
{
    json_object *obj;
    const char *text;
    apr_uint32_t i;

    if (!c || !fn) {
        return;
    }
    if (c->img) {
        /* the texts were made once, by aj_claims_pack */
        for (i = 0; i < c->img->count; ++i) {
            const aj_claims_entry_t *e = &c->entries[i];
            if (e->text_off == AJ_CLAIMS_NO_TEXT) {
                continue;
            }
            text = c->bytes + e->text_off;
            if (fn(baton, c->bytes + e->name_off, p == c->pool ? text : apr_pstrdup(p, text))) {
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
        text = aj_json_visit_text(p, val);
        if (text && fn(baton, claim, text)) {
            return;
        }
    }
}

/* ---- the packed image ---------------------------------------------------- */

/* One claim on its way into an image. */
typedef struct {
    const char *name;
    apr_uint32_t kind;
    const char *text;       /* visit text, NULL: none */
    apr_size_t text_len;
    const char *match;      /* match text, NULL: none; may equal text */
    apr_size_t match_len;
} aj_claims_pending_t;

/* Appends len bytes and a NUL at *at; returns their offset. */
static apr_uint32_t aj_image_put(char *img, apr_size_t *at, const char *s, apr_size_t len)
{
    apr_uint32_t off = (apr_uint32_t)*at;

    memcpy(img + *at, s, len);
    img[*at + len] = '\0';
    *at += len + 1;
    return off;
}

apr_status_t aj_claims_pack(void **image, apr_size_t *image_len, apr_pool_t *p,
                            const aj_claims_t *c)
{
    apr_array_header_t *pending;
    aj_claims_pending_t *e;
    aj_claims_image_t *hdr;
    aj_claims_entry_t *entries;
    json_object *obj = c ? aj_claims_json(c) : NULL;
    apr_size_t size, at;
    char *img;
    int i;

    if (!obj || !c->text || c->img) {
        return APR_EINVAL;
    }
    pending = apr_array_make(p, 16, sizeof(aj_claims_pending_t));
    size = sizeof(aj_claims_image_t) + c->text_len + 1;
    json_object_object_foreach(obj, claim, val) {
        json_type type = json_object_get_type(val);
        apr_size_t len = 0;
        if (type == json_type_null || type == json_type_object) {
            continue;       /* invisible to every question asked of a packed set */
        }
        e = apr_array_push(pending);
        e->name = claim;
        e->match = NULL;
        e->match_len = 0;
        switch (type) {
        case json_type_string:
            /* all the bytes (a \u0000 included); the visit text is their C
             * string, as aj_claims_visit gives it */
            e->kind = AJ_CLAIM_STRING;
            e->text = e->match = json_object_get_string(val);
            e->text_len = e->match_len = (apr_size_t)json_object_get_string_len(val);
            break;
        case json_type_array:
            e->kind = AJ_CLAIM_ARRAY;
            e->text = aj_json_array_text(p, val);
            e->text_len = e->text ? strlen(e->text) : 0;
            break;
        default:
            e->kind = type == json_type_int ? AJ_CLAIM_INT : AJ_CLAIM_SCALAR;
            e->text = aj_json_visit_text(p, val);
            e->text_len = e->text ? strlen(e->text) : 0;
            if (type == json_type_int && json_object_get_int64(val) != APR_INT64_MAX
                && json_object_get_int64(val) != APR_INT64_MIN) {
                /* json-c prints an int64 as "%lld" too: no printbuf needed
                 * (only a saturated value may stand for other text) */
                e->match = e->text;
                e->match_len = e->text_len;
                break;
            }
            e->match = aj_json_scalar_text(val, &len);
            e->match_len = len;
            if (e->match && e->text && e->match_len == e->text_len
                && !memcmp(e->match, e->text, len)) {
                e->match = e->text;
            }
            break;
        }
        size += sizeof(aj_claims_entry_t) + strlen(claim) + 1
                + (e->text ? e->text_len + 1 : 0)
                + (e->match && e->match != e->text ? e->match_len + 1 : 0);
        if (size > AJ_CLAIMS_IMAGE_MAX) {
            return AJ_E2BIG;
        }
    }
    if (size > AJ_CLAIMS_IMAGE_MAX) {
        return AJ_E2BIG;
    }
    img = apr_palloc(p, size);
    hdr = (aj_claims_image_t *)(void *)img;
    entries = (aj_claims_entry_t *)(void *)(img + sizeof(*hdr));
    memset(hdr, 0, sizeof(*hdr));
    hdr->magic = AJ_CLAIMS_IMAGE_MAGIC;
    hdr->count = (apr_uint32_t)pending->nelts;
    hdr->size = (apr_uint32_t)size;
    hdr->has_exp = aj_claims_number(c, "exp", &hdr->exp);
    hdr->has_nbf = aj_claims_number(c, "nbf", &hdr->nbf);
    hdr->has_iat = aj_claims_number(c, "iat", &hdr->iat);
    at = sizeof(*hdr) + sizeof(aj_claims_entry_t) * (apr_size_t)pending->nelts;
    hdr->payload_len = (apr_uint32_t)c->text_len;
    hdr->payload_off = aj_image_put(img, &at, c->text, c->text_len);
    for (i = 0; i < pending->nelts; ++i) {
        e = &APR_ARRAY_IDX(pending, i, aj_claims_pending_t);
        entries[i].kind = e->kind;
        entries[i].name_off = aj_image_put(img, &at, e->name, strlen(e->name));
        entries[i].text_off = e->text ? aj_image_put(img, &at, e->text, e->text_len)
                                      : AJ_CLAIMS_NO_TEXT;
        entries[i].match_len = (apr_uint32_t)e->match_len;
        if (!e->match) {
            entries[i].match_off = AJ_CLAIMS_NO_TEXT;
        }
        else if (e->match == e->text) {
            entries[i].match_off = entries[i].text_off;
        }
        else {
            entries[i].match_off = aj_image_put(img, &at, e->match, e->match_len);
        }
    }
    *image = img;
    *image_len = size;
    return APR_SUCCESS;
}

/* Every offset inside the image, with room for its text's NUL. */
static int aj_image_off_ok(apr_uint32_t off, apr_size_t len, apr_size_t size, int optional)
{
    if (off == AJ_CLAIMS_NO_TEXT) {
        return optional;
    }
    return off < size && len < size - off;
}

aj_claims_t *aj_claims_unpack(apr_pool_t *p, const void *image, apr_size_t len)
{
    const aj_claims_image_t *hdr = image;
    const aj_claims_entry_t *entries;
    const char *bytes = image;
    aj_claims_t *c;
    apr_uint32_t i;

    if (!image || len < sizeof(*hdr) || ((apr_uintptr_t)image % sizeof(apr_int64_t)) != 0
        || hdr->magic != AJ_CLAIMS_IMAGE_MAGIC || hdr->size != len
        || hdr->count > (len - sizeof(*hdr)) / sizeof(aj_claims_entry_t)
        || bytes[len - 1] != '\0'
        || !aj_image_off_ok(hdr->payload_off, hdr->payload_len, len, 0)) {
        return NULL;
    }
    entries = (const aj_claims_entry_t *)(const void *)(bytes + sizeof(*hdr));
    for (i = 0; i < hdr->count; ++i) {
        if (!aj_image_off_ok(entries[i].name_off, 0, len, 0)
            || !aj_image_off_ok(entries[i].text_off, 0, len, 1)
            || !aj_image_off_ok(entries[i].match_off, entries[i].match_len, len, 1)) {
            return NULL;
        }
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->pool = p;
    c->img = hdr;
    c->entries = entries;
    c->bytes = bytes;
    return c;
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

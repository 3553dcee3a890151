/*
 * aj_claims_pack.c — the packed image of a claim set (aj_claims_pack.h) and
 * the text forms of claim values that it stores.
 *
 * Layout: a header, `count` entries, then the bytes every offset points
 * into (the payload text and the claim texts, each NUL-terminated).  Host
 * byte order; an image never leaves the process.  aj_claims_image_open()
 * checks every offset before anything reads through it, so a damaged image
 * is refused rather than read out of bounds.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "aj_claims_pack.h"

#define AJ_CLAIMS_IMAGE_MAGIC  0x616a4331u /* "ajC1" */
#define AJ_CLAIMS_NO_TEXT      APR_UINT32_MAX
/* Claims most tokens carry: the first allocation of the pending list. */
#define AJ_CLAIMS_PENDING_HINT 16
#define AJ_CLAIMS_LIST_SEP     " " /* joins the elements of an array's text */

typedef struct {
    apr_uint32_t name_off;
    apr_uint32_t kind;
    apr_uint32_t text_off;  /* the value text, or AJ_CLAIMS_NO_TEXT */
    apr_uint32_t match_off; /* the JSON text aj_claims_match compares, or NO_TEXT */
    apr_uint32_t match_len;
} aj_claims_slot_t;

struct aj_claims_image_t {
    apr_uint32_t magic;
    apr_uint32_t count; /* slots: the scalar and array claims, in order */
    apr_uint32_t size;  /* of the whole image */
    apr_uint32_t payload_off;
    apr_uint32_t payload_len;
    apr_int32_t has_exp, has_nbf, has_iat; /* as aj_claims_member_number() */
    apr_int64_t exp, nbf, iat;
};

/* One claim on its way into an image. */
typedef struct {
    const char *name;
    apr_uint32_t kind;
    const char *text; /* value text, NULL: none */
    apr_size_t text_len;
    const char *match; /* match text, NULL: none; may equal text */
    apr_size_t match_len;
} aj_claims_pending_t;

/* ---- text forms --------------------------------------------------------- */

/* A JSON number as an integer, the fraction truncated and the range
 * saturated (no undefined conversion).  0 when v is not a number. */
static int aj_claims_json_number(json_object *v, apr_int64_t *out)
{
    double d;

    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v); /* saturates too */
        return 1;
    }
    if (!json_object_is_type(v, json_type_double)) {
        return 0;
    }
    d = json_object_get_double(v);
    if (d != d) {
        return 0; /* NaN */
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

int aj_claims_member_number(json_object *obj, const char *name, apr_int64_t *out)
{
    json_object *v = NULL;

    if (!obj || !name || !json_object_object_get_ex(obj, name, &v)) {
        return 0;
    }
    return aj_claims_json_number(v, out) ? 1 : -1;
}

const char *aj_claims_scalar_text(json_object *v, apr_size_t *len)
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
    default: return NULL;
    }
}

/* An array of scalars as one string joined by spaces; NULL when an element
 * is not a scalar. */
static const char *aj_claims_array_text(apr_pool_t *p, json_object *arr)
{
    apr_size_t i, n = json_object_array_length(arr), len = 0;
    const char *s, *out = "";

    for (i = 0; i < n; ++i) {
        s = aj_claims_scalar_text(json_object_array_get_idx(arr, i), &len);
        if (!s) {
            return NULL;
        }
        out = i ? apr_pstrcat(p, out, AJ_CLAIMS_LIST_SEP, apr_pstrmemdup(p, s, len), NULL)
                : apr_pstrmemdup(p, s, len);
    }
    return out;
}

/* Decimal digits of the largest int64 magnitude (9223372036854775808), a
 * sign and the NUL. */
#define AJ_CLAIMS_INT_TEXT_MAX 21
#define AJ_DECIMAL_BASE        10

/* v in decimal, as "%" APR_INT64_T_FMT prints it, in p: written by hand
 * because apr_psprintf's formatter was a third of packing a claim set
 * (exp, nbf and iat are ints in every token). */
static const char *aj_claims_int_text(apr_pool_t *p, apr_int64_t v)
{
    char buf[AJ_CLAIMS_INT_TEXT_MAX];
    char *at = buf + sizeof(buf);
    /* the magnitude in unsigned arithmetic: -INT64_MIN does not fit */
    apr_uint64_t u = v < 0 ? (apr_uint64_t)0 - (apr_uint64_t)v : (apr_uint64_t)v;

    do {
        *--at = (char)('0' + (int)(u % AJ_DECIMAL_BASE));
        u /= AJ_DECIMAL_BASE;
    } while (u);
    if (v < 0) {
        *--at = '-';
    }
    return apr_pstrmemdup(p, at, (apr_size_t)(buf + sizeof(buf) - at));
}

const char *aj_claims_value_text(apr_pool_t *p, json_object *val)
{
    const char *text;
    apr_size_t len = 0;

    switch (json_object_get_type(val)) {
    case json_type_string:
        return apr_pstrmemdup(p, json_object_get_string(val),
                              (apr_size_t)json_object_get_string_len(val));
    case json_type_int: return aj_claims_int_text(p, (apr_int64_t)json_object_get_int64(val));
    case json_type_boolean: return json_object_get_boolean(val) ? "true" : "false";
    case json_type_array: return aj_claims_array_text(p, val);
    default:
        text = aj_claims_scalar_text(val, &len);
        return text ? apr_pstrmemdup(p, text, len) : NULL;
    }
}

/* ---- building ----------------------------------------------------------- */

/* The texts of one claim value into e (name and kind set by the caller). */
static void aj_claims_pending_texts(aj_claims_pending_t *e, apr_pool_t *p, json_object *val,
                                    json_type type)
{
    apr_size_t len = 0;

    e->match = NULL;
    e->match_len = 0;
    switch (type) {
    case json_type_string:
        /* all the bytes (a \u0000 included); the value text is their C
         * string, as aj_claims_visit gives it */
        e->kind = AJ_CLAIM_STRING;
        e->text = e->match = json_object_get_string(val);
        e->text_len = e->match_len = (apr_size_t)json_object_get_string_len(val);
        return;
    case json_type_array:
        e->kind = AJ_CLAIM_ARRAY;
        e->text = aj_claims_array_text(p, val);
        e->text_len = e->text ? strlen(e->text) : 0;
        return;
    default:
        e->kind = type == json_type_int ? AJ_CLAIM_INT : AJ_CLAIM_SCALAR;
        e->text = aj_claims_value_text(p, val);
        e->text_len = e->text ? strlen(e->text) : 0;
        if (type == json_type_int && json_object_get_int64(val) != APR_INT64_MAX
            && json_object_get_int64(val) != APR_INT64_MIN) {
            /* json-c prints an int64 as "%lld" too: no printbuf needed
             * (only a saturated value may stand for other text) */
            e->match = e->text;
            e->match_len = e->text_len;
            return;
        }
        e->match = aj_claims_scalar_text(val, &len);
        e->match_len = len;
        if (e->match && e->text && e->match_len == e->text_len && !memcmp(e->match, e->text, len)) {
            e->match = e->text;
        }
        return;
    }
}

/* Appends len bytes and a NUL at *at; returns their offset. */
static apr_uint32_t aj_image_put(char *img, apr_size_t *at, const char *s, apr_size_t len)
{
    apr_uint32_t off = (apr_uint32_t)*at;

    memcpy(img + *at, s, len);
    img[*at + len] = '\0';
    *at += len + 1;
    return off;
}

/* Writes the pending claims as the slots and texts of img from *at on. */
static void aj_image_put_slots(char *img, apr_size_t *at, const apr_array_header_t *pending)
{
    aj_claims_slot_t *slots = (aj_claims_slot_t *)(void *)(img + sizeof(aj_claims_image_t));
    const aj_claims_pending_t *e;
    int i;

    for (i = 0; i < pending->nelts; ++i) {
        e = &APR_ARRAY_IDX(pending, i, aj_claims_pending_t);
        slots[i].kind = e->kind;
        slots[i].name_off = aj_image_put(img, at, e->name, strlen(e->name));
        slots[i].text_off =
            e->text ? aj_image_put(img, at, e->text, e->text_len) : AJ_CLAIMS_NO_TEXT;
        slots[i].match_len = (apr_uint32_t)e->match_len;
        if (!e->match) {
            slots[i].match_off = AJ_CLAIMS_NO_TEXT;
        }
        else if (e->match == e->text) {
            slots[i].match_off = slots[i].text_off;
        }
        else {
            slots[i].match_off = aj_image_put(img, at, e->match, e->match_len);
        }
    }
}

apr_status_t aj_claims_image_build(void **image, apr_size_t *image_len, apr_pool_t *p,
                                   json_object *obj, const char *text, apr_size_t text_len)
{
    apr_array_header_t *pending;
    aj_claims_pending_t *e;
    aj_claims_image_t *hdr;
    apr_size_t size, at;
    apr_int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp = 0, has_nbf = 0, has_iat = 0;
    char *img;

    if (!obj || !text) {
        return APR_EINVAL;
    }
    pending = apr_array_make(p, AJ_CLAIMS_PENDING_HINT, sizeof(aj_claims_pending_t));
    size = sizeof(aj_claims_image_t) + text_len + 1;
    json_object_object_foreach(obj, claim, val) {
        json_type type = json_object_get_type(val);
        /* the times, as aj_claims_member_number() answers for them (null
         * and objects included: present, not a number); names are unique */
        if (claim[0] == 'e' && !strcmp(claim, "exp")) {
            has_exp = aj_claims_json_number(val, &exp) ? 1 : -1;
        }
        else if (claim[0] == 'n' && !strcmp(claim, "nbf")) {
            has_nbf = aj_claims_json_number(val, &nbf) ? 1 : -1;
        }
        else if (claim[0] == 'i' && !strcmp(claim, "iat")) {
            has_iat = aj_claims_json_number(val, &iat) ? 1 : -1;
        }
        if (type == json_type_null || type == json_type_object) {
            continue; /* invisible to every question asked of a packed set */
        }
        e = apr_array_push(pending);
        e->name = claim;
        aj_claims_pending_texts(e, p, val, type);
        size += sizeof(aj_claims_slot_t) + strlen(claim) + 1 + (e->text ? e->text_len + 1 : 0)
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
    memset(hdr, 0, sizeof(*hdr));
    hdr->magic = AJ_CLAIMS_IMAGE_MAGIC;
    hdr->count = (apr_uint32_t)pending->nelts;
    hdr->size = (apr_uint32_t)size;
    hdr->has_exp = has_exp;
    hdr->has_nbf = has_nbf;
    hdr->has_iat = has_iat;
    hdr->exp = has_exp > 0 ? exp : 0;
    hdr->nbf = has_nbf > 0 ? nbf : 0;
    hdr->iat = has_iat > 0 ? iat : 0;
    at = sizeof(*hdr) + sizeof(aj_claims_slot_t) * (apr_size_t)pending->nelts;
    hdr->payload_len = (apr_uint32_t)text_len;
    hdr->payload_off = aj_image_put(img, &at, text, text_len);
    aj_image_put_slots(img, &at, pending);
    *image = img;
    *image_len = size;
    return APR_SUCCESS;
}

/* ---- reading ------------------------------------------------------------ */

/* Every offset inside the image, with room for its text's NUL. */
static int aj_image_off_ok(apr_uint32_t off, apr_size_t len, apr_size_t size, int optional)
{
    if (off == AJ_CLAIMS_NO_TEXT) {
        return optional;
    }
    return off < size && len < size - off;
}

static const aj_claims_slot_t *aj_image_slots(const aj_claims_image_t *img)
{
    return (const aj_claims_slot_t *)(const void *)((const char *)img + sizeof(*img));
}

const aj_claims_image_t *aj_claims_image_open(const void *image, apr_size_t len)
{
    const aj_claims_image_t *hdr = image;
    const aj_claims_slot_t *slots;
    const char *bytes = image;
    apr_uint32_t i;

    if (!image || len < sizeof(*hdr) || ((apr_uintptr_t)image % sizeof(apr_int64_t)) != 0
        || hdr->magic != AJ_CLAIMS_IMAGE_MAGIC || hdr->size != len
        || hdr->count > (len - sizeof(*hdr)) / sizeof(aj_claims_slot_t) || bytes[len - 1] != '\0'
        || !aj_image_off_ok(hdr->payload_off, hdr->payload_len, len, 0)) {
        return NULL;
    }
    slots = aj_image_slots(hdr);
    for (i = 0; i < hdr->count; ++i) {
        if (!aj_image_off_ok(slots[i].name_off, 0, len, 0)
            || !aj_image_off_ok(slots[i].text_off, 0, len, 1)
            || !aj_image_off_ok(slots[i].match_off, slots[i].match_len, len, 1)) {
            return NULL;
        }
    }
    return hdr;
}

const char *aj_claims_image_payload(const aj_claims_image_t *img, apr_size_t *len)
{
    *len = img->payload_len;
    return (const char *)img + img->payload_off;
}

int aj_claims_image_time(const aj_claims_image_t *img, const char *name, int *has, apr_int64_t *out)
{
    const apr_int32_t *has_it;
    const apr_int64_t *value;

    if (!strcmp(name, "exp")) {
        has_it = &img->has_exp;
        value = &img->exp;
    }
    else if (!strcmp(name, "nbf")) {
        has_it = &img->has_nbf;
        value = &img->nbf;
    }
    else if (!strcmp(name, "iat")) {
        has_it = &img->has_iat;
        value = &img->iat;
    }
    else {
        return 0;
    }
    *has = *has_it;
    if (*has > 0) {
        *out = *value;
    }
    return 1;
}

apr_size_t aj_claims_image_count(const aj_claims_image_t *img)
{
    return img->count;
}

void aj_claims_image_entry(aj_claims_entry_t *e, const aj_claims_image_t *img, apr_size_t i)
{
    const aj_claims_slot_t *s = &aj_image_slots(img)[i];
    const char *bytes = (const char *)img;

    e->name = bytes + s->name_off;
    e->kind = (aj_claim_kind_e)s->kind;
    e->text = s->text_off == AJ_CLAIMS_NO_TEXT ? NULL : bytes + s->text_off;
    e->match = s->match_off == AJ_CLAIMS_NO_TEXT ? NULL : bytes + s->match_off;
    e->match_len = s->match_len;
}

int aj_claims_image_find(aj_claims_entry_t *e, const aj_claims_image_t *img, const char *name)
{
    const aj_claims_slot_t *slots = aj_image_slots(img);
    const char *bytes = (const char *)img;
    apr_uint32_t i;

    for (i = 0; i < img->count; ++i) {
        if (!strcmp(bytes + slots[i].name_off, name)) {
            aj_claims_image_entry(e, img, i);
            return 1;
        }
    }
    return 0;
}

/*
 * aj_claims_pack.h — the packed image of a claim set, and the text forms of
 * claim values it stores.
 *
 * An image is a claim set digested once so that it can be reused without
 * json-c (the verified-token and Basic caches keep it): one flat,
 * position-free block in host byte order that never leaves the process,
 * holding the payload text, exp/nbf/iat, and every top-level claim's name,
 * shape and text forms.  aj_claims.c reads claim sets through it
 * (aj_claims_pack, aj_claims_unpack); nothing here knows aj_claims_t.
 */
#ifndef AJ_CLAIMS_PACK_H
#define AJ_CLAIMS_PACK_H

#include "aj.h"
#include <json-c/json.h>

/* Longest image aj_claims_image_build() makes (larger claim sets are not packed). */
#define AJ_CLAIMS_IMAGE_MAX (64 * 1024)

/* A claim's shape, as an image records it (objects and null are left out). */
typedef enum {
    AJ_CLAIM_STRING = 1,
    AJ_CLAIM_INT,
    AJ_CLAIM_SCALAR, /* double, boolean */
    AJ_CLAIM_ARRAY   /* match/scopes/aud parse the payload text */
} aj_claim_kind_e;

/* One claim of an image; the texts point into the image. */
typedef struct {
    const char *name;
    aj_claim_kind_e kind;
    const char *text;  /* aj_claims_value_text() of the value, NULL: none */
    const char *match; /* the JSON text aj_claims_match compares (a string:
                             * its bytes, NUL-terminated), NULL: none */
    apr_size_t match_len;
} aj_claims_entry_t;

typedef struct aj_claims_image_t aj_claims_image_t;

/* The image of obj, the claims object parsed from text[0..text_len), made
 * in p.  AJ_E2BIG over AJ_CLAIMS_IMAGE_MAX. */
apr_status_t aj_claims_image_build(void **image, apr_size_t *len, apr_pool_t *p, json_object *obj,
                                   const char *text, apr_size_t text_len);

/* image (len bytes, 8-byte aligned) as an image; NULL when it is not a
 * consistent one (every offset inside it, every text terminated). */
const aj_claims_image_t *aj_claims_image_open(const void *image, apr_size_t len);

/* The payload text the image was made from (NUL-terminated), *len its length. */
const char *aj_claims_image_payload(const aj_claims_image_t *img, apr_size_t *len);

/* For "exp", "nbf" and "iat" (recorded in the image): 1 with *has as
 * aj_claims_member_number() answered it and *out set when *has is 1.
 * 0 for any other name. */
int aj_claims_image_time(const aj_claims_image_t *img, const char *name, int *has,
                         apr_int64_t *out);

/* The claims of the image, in payload order. */
apr_size_t aj_claims_image_count(const aj_claims_image_t *img);
void aj_claims_image_entry(aj_claims_entry_t *e, const aj_claims_image_t *img, apr_size_t i);

/* The claim called name: 1 with *e set, 0 when it is absent (or an object
 * or null). */
int aj_claims_image_find(aj_claims_entry_t *e, const aj_claims_image_t *img, const char *name);

/* ---- text forms of claim values (the image stores them; aj_claims.c
 *      computes the same ones for a claim set that is not packed) ---- */

/* Member name of obj as an integer, the fraction truncated and the range
 * saturated: 1 with *out set, 0 when absent, -1 when present but not a
 * number (json-c's null included). */
int aj_claims_member_number(json_object *obj, const char *name, apr_int64_t *out);

/* The text form of a scalar (string as is; number, boolean as JSON), or
 * NULL for null, objects and arrays.  Points into v (valid while v is). */
const char *aj_claims_scalar_text(json_object *v, apr_size_t *len);

/* aj_claims_visit's text of a value, in p: strings as is, numbers and
 * booleans as JSON text, arrays of scalars joined by single spaces; NULL
 * for objects, null and arrays holding anything else. */
const char *aj_claims_value_text(apr_pool_t *p, json_object *val);

#endif /* AJ_CLAIMS_PACK_H */

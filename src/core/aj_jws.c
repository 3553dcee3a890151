/*
 * aj_jws.c — compact JWS (RFC 7515 §7.1) with RFC 8725's rules.
 *
 * Verification order (each step only after the previous one passed):
 *  1. size (AJ_TOKEN_MAX_LEN) — before anything proportional to the input;
 *  2. exactly three segments, each strict base64url, header and payload
 *     non-empty;
 *  3. the header: a JSON object within aj_json_token_limits; "alg" a string
 *     naming a known algorithm (exact case; "none" is not one); "kid", when
 *     present, a string; "typ", when present, a string naming JWT or
 *     at+jwt (aj_jws_typ_ok); "crit" refused (we implement no extension);
 *     "jku", "x5u", "jwk", "x5c" ignored, never used to find a key;
 *  4. the candidate keys: the configured ones with the token's kid (when it
 *     has one) and exactly the token's alg; when there is none, a kid that
 *     no configured key carries is AJ_UNKNOWN_KID (a retired or foreign
 *     key: the operator's fix differs from a wrong alg), else AJ_BAD_ALG;
 *  5. the signature against each candidate;
 *  6. only then the payload (a JSON object) and its registered claims.
 * aj_jws_verify_signature() stops after step 5 (the JWS layer alone).
 */
#include <string.h>

#include <apr_cstr.h>
#include <apr_strings.h>

#include "aj_b64.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj_sign.h"

#define AJ_JWS_SEP        '.'
#define AJ_JWS_SEGMENTS   3
#define AJ_JWS_TYP        "JWT" /* RFC 7519 §5.1 */
/* docs/reference.md §5: the typ values a token may carry (RFC 7519 §5.1,
 * RFC 9068 §2.1), compared case-insensitively, each also with the media
 * type prefix that RFC 7515 §4.1.9 lets a sender omit. */
#define AJ_JWS_TYP_AT     "at+jwt"
#define AJ_JWS_TYP_PREFIX "application/"
/* aj_jws_looks_like_jwt() decodes the header one base64url group (4
 * characters, 3 bytes) at a time into a buffer of this size. */
#define AJ_JWS_PEEK_CHARS 4
#define AJ_JWS_PEEK_BYTES 3

/* The three segments of a compact JWS. */
typedef struct {
    const char *seg[AJ_JWS_SEGMENTS];
    apr_size_t len[AJ_JWS_SEGMENTS];
} aj_jws_parts_t;

enum { AJ_JWS_HEADER = 0, AJ_JWS_PAYLOAD = 1, AJ_JWS_SIGNATURE = 2 };

/* Splits at exactly two '.' and checks every segment is strict base64url
 * with a non-empty header and payload.  Allocates nothing.  The dots are
 * found with memchr; a third one lands in the signature segment, where
 * aj_b64url_valid refuses it ('.' is not base64url). */
static int aj_jws_split(aj_jws_parts_t *parts, const char *s, apr_size_t len)
{
    const char *at, *end, *dot;
    int n;

    if (!s || len > AJ_TOKEN_MAX_LEN) {
        return 0;
    }
    at = s;
    end = s + len;
    for (n = 0; n < AJ_JWS_SEGMENTS; ++n) {
        dot = (n < AJ_JWS_SEGMENTS - 1) ? memchr(at, AJ_JWS_SEP, (apr_size_t)(end - at)) : end;
        if (!dot) {
            return 0;
        }
        parts->seg[n] = at;
        parts->len[n] = (apr_size_t)(dot - at);
        if (!aj_b64url_valid(at, parts->len[n])) {
            return 0;
        }
        at = dot + 1;
    }
    return parts->len[AJ_JWS_HEADER] > 0 && parts->len[AJ_JWS_PAYLOAD] > 0;
}

/* Decodes and parses one segment as a JSON object. */
static apr_status_t aj_jws_segment_json(json_object **out, apr_pool_t *p, const char *seg,
                                        apr_size_t len)
{
    unsigned char *raw = NULL;
    apr_size_t rawlen = 0;
    apr_status_t rv;

    rv = aj_b64url_decode(&raw, &rawlen, p, seg, len);
    if (rv == APR_SUCCESS) {
        rv = aj_json_parse(out, p, (const char *)raw, rawlen, &aj_json_token_limits);
    }
    return rv;
}

/* Non-zero when typ[0..len) is JWT or at+jwt, in any letter case, with or
 * without "application/".  The length is the JSON string's, so a typ
 * holding \u0000 (which aj_json.c refuses anyway) could not match on its
 * first bytes. */
static int aj_jws_typ_ok(const char *typ, apr_size_t len)
{
    static const char *const accepted[] = { AJ_JWS_TYP, AJ_JWS_TYP_AT };
    const apr_size_t plen = sizeof(AJ_JWS_TYP_PREFIX) - 1;
    apr_size_t i;

    if (len > plen && !apr_cstr_casecmpn(typ, AJ_JWS_TYP_PREFIX, plen)) {
        typ += plen;
        len -= plen;
    }
    for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); ++i) {
        if (len == strlen(accepted[i]) && !apr_cstr_casecmpn(typ, accepted[i], len)) {
            return 1;
        }
    }
    return 0;
}

/* The JOSE header rules of step 3.  AJ_OK with *alg and *kid set. */
static aj_verdict_e aj_jws_check_header(aj_alg_e *alg, const char **kid, json_object *hdr)
{
    json_object *v = NULL;
    aj_alg_e a;

    if (!json_object_object_get_ex(hdr, "alg", &v) || !json_object_is_type(v, json_type_string)) {
        return AJ_MALFORMED;
    }
    a = aj_alg_from_name(json_object_get_string(v), (apr_size_t)json_object_get_string_len(v));
    if (a == AJ_ALG_UNKNOWN) {
        return AJ_BAD_ALG;
    }
    *kid = NULL;
    if (json_object_object_get_ex(hdr, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            return AJ_MALFORMED;
        }
        *kid = json_object_get_string(v);
    }
    if (json_object_object_get_ex(hdr, "typ", &v)) {
        /* RFC 7515 §4.1.9: a string; any other JSON type is a malformed header */
        if (!json_object_is_type(v, json_type_string)) {
            return AJ_MALFORMED;
        }
        if (!aj_jws_typ_ok(json_object_get_string(v), (apr_size_t)json_object_get_string_len(v))) {
            return AJ_BAD_TYP;
        }
    }
    if (json_object_object_get_ex(hdr, "crit", &v)) {
        /* RFC 7515 §4.1.11: a non-empty array of names.  We understand no
         * extension, so a well-formed crit is unsupported; anything else
         * is a malformed header. */
        apr_size_t i, n;
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
            return AJ_MALFORMED;
        }
        n = json_object_array_length(v);
        for (i = 0; i < n; ++i) {
            if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string)) {
                return AJ_MALFORMED;
            }
        }
        return AJ_BAD_CRIT;
    }
    *alg = a;
    return AJ_OK;
}

/* ---- verified headers (aj_jws_memo_t, aj_jws.h) ------------------------- */

static const aj_jws_memo_entry_t *aj_jws_memo_find(const aj_keyset_t *keys, const char *seg,
                                                   apr_size_t len)
{
    const aj_jws_memo_t *memo = aj_keyset_memo(keys);
    const aj_jws_memo_entry_t *m;
    int i;

    for (i = 0; memo && i < AJ_JWS_MEMO_SLOTS; ++i) {
        m = __atomic_load_n(&memo->slot[i], __ATOMIC_ACQUIRE);
        if (!m) {
            return NULL; /* slots fill in order */
        }
        if (m->len == len && !memcmp(m->seg, seg, len)) {
            return m;
        }
    }
    return NULL;
}

static void aj_jws_memo_add(const aj_keyset_t *keys, const char *seg, apr_size_t len, aj_alg_e alg,
                            const char *kid)
{
    aj_jws_memo_t *memo = aj_keyset_memo(keys);
    apr_size_t klen = kid ? strlen(kid) : 0;
    const aj_jws_memo_entry_t *cur;
    aj_jws_memo_entry_t *m;
    int i;

    if (!memo || len > AJ_JWS_MEMO_MAX_SEG || klen > AJ_JWS_MEMO_MAX_SEG) {
        return;
    }
    for (i = 0; i < AJ_JWS_MEMO_SLOTS; ++i) {
        cur = __atomic_load_n(&memo->slot[i], __ATOMIC_ACQUIRE);
        if (cur) {
            if (cur->len == len && !memcmp(cur->seg, seg, len)) {
                return; /* another thread was first */
            }
            continue;
        }
        if (__atomic_exchange_n(&memo->claimed[i], 1, __ATOMIC_ACQ_REL)) {
            continue; /* another thread is writing this one */
        }
        m = &memo->entry[i];
        m->alg = alg;
        m->len = len;
        memcpy(m->seg, seg, len);
        m->seg[len] = '\0';
        m->kid = NULL;
        if (kid) {
            memcpy(m->kid_buf, kid, klen + 1);
            m->kid = m->kid_buf;
        }
        __atomic_store_n(&memo->slot[i], m, __ATOMIC_RELEASE);
        return;
    }
}

/* Steps 1 to 5: *parts is set and *verdict is AJ_OK when the signature
 * verified with one of keys.  An error status only when the check itself
 * could not run. */
static apr_status_t aj_jws_check_signature(aj_verdict_e *verdict, aj_jws_parts_t *parts,
                                           apr_pool_t *p, const char *token, apr_size_t len,
                                           const aj_keyset_t *keys)
{
    json_object *hdr = NULL;
    aj_verdict_e v = AJ_MALFORMED;
    aj_alg_e alg = AJ_ALG_UNKNOWN;
    const char *kid = NULL;
    const aj_jws_memo_entry_t *memo = NULL;
    const aj_key_t *key;
    unsigned char *sig = NULL;
    apr_size_t siglen = 0, input_len;
    int next = 0, candidates = 0, match = 0;
    apr_status_t rv = APR_SUCCESS;

    /* Steps 1 and 2: no allocation before these. */
    if (!aj_jws_split(parts, token, len)) {
        goto cleanup;
    }
    /* Step 3 (or what it said of these very bytes before). */
    memo = aj_jws_memo_find(keys, parts->seg[AJ_JWS_HEADER], parts->len[AJ_JWS_HEADER]);
    if (memo) {
        alg = memo->alg;
        kid = memo->kid;
    }
    else {
        if (aj_jws_segment_json(&hdr, p, parts->seg[AJ_JWS_HEADER], parts->len[AJ_JWS_HEADER])
            != APR_SUCCESS) {
            goto cleanup;
        }
        v = aj_jws_check_header(&alg, &kid, hdr);
        if (v != AJ_OK) {
            goto cleanup;
        }
    }
    /* Steps 4 and 5: the signing input is "header.payload" as sent. */
    v = AJ_BAD_ALG;
    if (aj_b64url_decode(&sig, &siglen, p, parts->seg[AJ_JWS_SIGNATURE],
                         parts->len[AJ_JWS_SIGNATURE])
        != APR_SUCCESS) {
        v = AJ_MALFORMED; /* cannot happen: split checked it */
        goto cleanup;
    }
    input_len = parts->len[AJ_JWS_HEADER] + 1 + parts->len[AJ_JWS_PAYLOAD];
    while (!match && (key = aj_keyset_find(keys, &next, alg, kid))) {
        ++candidates;
        rv = aj_key_verify(&match, p, key, (const unsigned char *)token, input_len, sig, siglen);
        if (rv != APR_SUCCESS) {
            goto cleanup; /* the check could not run: no verdict */
        }
    }
    if (!candidates) {
        v = (kid && !aj_keyset_has_kid(keys, kid)) ? AJ_UNKNOWN_KID : AJ_BAD_ALG;
        goto cleanup;
    }
    if (!match) {
        v = AJ_BAD_SIG;
        goto cleanup;
    }
    v = AJ_OK;
    if (!memo) {
        /* the signature verified: this header may skip step 3 from now on */
        aj_jws_memo_add(keys, parts->seg[AJ_JWS_HEADER], parts->len[AJ_JWS_HEADER], alg, kid);
    }

cleanup:
    if (rv == APR_SUCCESS) {
        *verdict = v;
    }
    return rv;
}

apr_status_t aj_jws_verify_signature(aj_verdict_e *verdict, const unsigned char **payload,
                                     apr_size_t *plen, apr_pool_t *p, const char *token,
                                     apr_size_t len, const aj_keyset_t *keys)
{
    aj_jws_parts_t parts;
    aj_verdict_e v = AJ_MALFORMED;
    unsigned char *raw = NULL;
    apr_size_t rawlen = 0;
    apr_status_t rv;

    rv = aj_jws_check_signature(&v, &parts, p, token, len, keys);
    if (rv != APR_SUCCESS || v != AJ_OK) {
        goto cleanup;
    }
    if (aj_b64url_decode(&raw, &rawlen, p, parts.seg[AJ_JWS_PAYLOAD], parts.len[AJ_JWS_PAYLOAD])
        != APR_SUCCESS) {
        v = AJ_MALFORMED; /* cannot happen: split checked it */
        goto cleanup;
    }

cleanup:
    if (rv == APR_SUCCESS) {
        *verdict = v;
        if (v == AJ_OK) {
            *payload = raw;
            *plen = rawlen;
        }
    }
    return rv;
}

/* A payload decoded and parsed before the signature check (aj_jws.h). */
struct aj_jws_peek_t {
    const char *token; /* the token it was made from, and its length */
    apr_size_t len;
    json_object *payload; /* a JSON object, owned by the pool */
    const char *text;     /* the decoded payload */
    apr_size_t text_len;
};

/* Step 6's input: the payload segment decoded and parsed as a JSON object
 * within aj_json_token_limits.  AJ_MALFORMED when it is not one. */
static aj_verdict_e aj_jws_parse_payload(json_object **payload, const char **text, apr_size_t *tlen,
                                         apr_pool_t *p, const char *seg, apr_size_t len)
{
    unsigned char *raw = NULL;
    apr_size_t rawlen = 0;

    if (aj_b64url_decode(&raw, &rawlen, p, seg, len) != APR_SUCCESS
        || aj_json_parse(payload, p, (const char *)raw, rawlen, &aj_json_token_limits)
               != APR_SUCCESS) {
        return AJ_MALFORMED;
    }
    *text = (const char *)raw;
    *tlen = rawlen;
    return AJ_OK;
}

apr_status_t aj_jws_peek(aj_jws_peek_t **peek, apr_pool_t *p, const char *token, apr_size_t len)
{
    aj_jws_parts_t parts;
    aj_jws_peek_t *pk;

    if (!aj_jws_split(&parts, token, len)) {
        return APR_EINVAL;
    }
    pk = apr_palloc(p, sizeof(*pk));
    if (aj_jws_parse_payload(&pk->payload, &pk->text, &pk->text_len, p, parts.seg[AJ_JWS_PAYLOAD],
                             parts.len[AJ_JWS_PAYLOAD])
        != AJ_OK) {
        return APR_EINVAL;
    }
    pk->token = token;
    pk->len = len;
    *peek = pk;
    return APR_SUCCESS;
}

const char *aj_jws_peek_iss(const aj_jws_peek_t *peek)
{
    json_object *v = NULL;

    if (peek && json_object_object_get_ex(peek->payload, "iss", &v)
        && json_object_is_type(v, json_type_string)) {
        return json_object_get_string(v);
    }
    return NULL;
}

apr_status_t aj_jws_verify_peeked(aj_verdict_e *verdict, aj_claims_t **claims, apr_pool_t *p,
                                  const char *token, apr_size_t len, const aj_keyset_t *keys,
                                  const aj_policy_t *policy, apr_int64_t now,
                                  const aj_jws_peek_t *peek)
{
    aj_jws_parts_t parts;
    json_object *payload = NULL;
    const char *text = NULL;
    apr_size_t tlen = 0;
    aj_claims_t *cl = NULL;
    aj_verdict_e v = AJ_MALFORMED;
    apr_status_t rv;

    /* Steps 1 to 5, then step 6 on the payload's bytes (decoded now, or by
     * the peek of this very token: the same bytes). */
    rv = aj_jws_check_signature(&v, &parts, p, token, len, keys);
    if (rv != APR_SUCCESS || v != AJ_OK) {
        goto cleanup;
    }
    if (peek && peek->token == token && peek->len == len) {
        payload = peek->payload;
        text = peek->text;
        tlen = peek->text_len;
    }
    else {
        v = aj_jws_parse_payload(&payload, &text, &tlen, p, parts.seg[AJ_JWS_PAYLOAD],
                                 parts.len[AJ_JWS_PAYLOAD]);
        if (v != AJ_OK) {
            goto cleanup;
        }
    }
    cl = aj_claims_wrap_text(p, payload, text, tlen);
    v = aj_claims_check(cl, policy, now);

cleanup:
    if (rv == APR_SUCCESS) {
        *verdict = v;
        if (v == AJ_OK) {
            *claims = cl;
        }
    }
    return rv;
}

apr_status_t aj_jws_verify(aj_verdict_e *verdict, aj_claims_t **claims, apr_pool_t *p,
                           const char *token, apr_size_t len, const aj_keyset_t *keys,
                           const aj_policy_t *policy, apr_int64_t now)
{
    return aj_jws_verify_peeked(verdict, claims, p, token, len, keys, policy, now, NULL);
}

/* obj[name] = value; 0 when out of memory. */
static int aj_jws_add_string(json_object *obj, const char *name, const char *value)
{
    json_object *v = json_object_new_string(value);

    if (!v || json_object_object_add(obj, name, v) != 0) {
        json_object_put(v);
        return 0;
    }
    return 1;
}

apr_status_t aj_jws_sign(const char **token, apr_pool_t *p, const aj_key_t *key,
                         const char *payload_json, apr_size_t len)
{
    json_object *hdr = NULL;
    const char *hdr_json, *h64, *p64, *input;
    unsigned char *sig = NULL;
    apr_size_t siglen = 0;
    apr_status_t rv;

    if (!key || !payload_json || !len) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (!aj_key_can_sign(key)) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    hdr = aj_json_own(p, json_object_new_object());
    if (!hdr || !aj_jws_add_string(hdr, "alg", aj_alg_name(aj_key_alg(key)))
        || !aj_jws_add_string(hdr, "typ", AJ_JWS_TYP)
        || (aj_key_kid(key) && !aj_jws_add_string(hdr, "kid", aj_key_kid(key)))
        || !(hdr_json = aj_json_dump(p, hdr))) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    h64 = aj_b64url_encode(p, (const unsigned char *)hdr_json, strlen(hdr_json));
    p64 = aj_b64url_encode(p, (const unsigned char *)payload_json, len);
    input = apr_pstrcat(p, h64, ".", p64, NULL);
    rv = aj_key_sign(&sig, &siglen, p, key, (const unsigned char *)input, strlen(input));
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    input = apr_pstrcat(p, input, ".", aj_b64url_encode(p, sig, siglen), NULL);
    /* Never mint a token that aj_jws_verify() would refuse for its size. */
    if (strlen(input) > AJ_TOKEN_MAX_LEN) {
        rv = AJ_E2BIG;
        goto cleanup;
    }
    *token = input;

cleanup:
    return rv;
}

int aj_jws_looks_like_jwt(const char *s, apr_size_t len)
{
    aj_jws_parts_t parts;
    unsigned char buf[AJ_JWS_PEEK_BYTES];
    apr_size_t i, k, n = 0, chunk;

    if (!aj_jws_split(&parts, s, len) || parts.len[AJ_JWS_SIGNATURE] == 0) {
        return 0;
    }
    /* The header's first non-whitespace byte must be '{'. */
    for (i = 0; i < parts.len[AJ_JWS_HEADER]; i += chunk) {
        chunk = parts.len[AJ_JWS_HEADER] - i;
        if (chunk > AJ_JWS_PEEK_CHARS) {
            chunk = AJ_JWS_PEEK_CHARS;
        }
        if (aj_b64url_decode_buf(buf, sizeof(buf), &n, parts.seg[AJ_JWS_HEADER] + i, chunk)
            != APR_SUCCESS) {
            return 0;
        }
        for (k = 0; k < n; ++k) {
            if (buf[k] != ' ' && buf[k] != '\t' && buf[k] != '\n' && buf[k] != '\r') {
                return buf[k] == '{';
            }
        }
    }
    return 0;
}

apr_status_t aj_jws_decode(json_object **header, json_object **payload, apr_pool_t *p,
                           const char *token, apr_size_t len)
{
    aj_jws_parts_t parts;
    json_object *h = NULL, *b = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!aj_jws_split(&parts, token, len)) {
        goto cleanup;
    }
    if (aj_jws_segment_json(&h, p, parts.seg[AJ_JWS_HEADER], parts.len[AJ_JWS_HEADER])
            != APR_SUCCESS
        || aj_jws_segment_json(&b, p, parts.seg[AJ_JWS_PAYLOAD], parts.len[AJ_JWS_PAYLOAD])
               != APR_SUCCESS) {
        goto cleanup;
    }
    *header = h;
    *payload = b;
    rv = APR_SUCCESS;

cleanup:
    return rv;
}

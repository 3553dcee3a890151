/*
 * aj_json.c — bounded JSON parsing over json-c.
 *
 * aj_json_parse() first checks the length, then runs ONE scan over the text
 * in fixed (stack) memory that validates the JSON grammar (RFC 8259) and
 * refuses, before json-c allocates anything:
 *  - nesting deeper than the limit (objects and arrays both count);
 *  - a member name repeated within one object, compared after unescaping
 *    ("a\u0062" repeats "ab");
 *  - more than AJ_JSON_MAX_MEMBERS member names in the document;
 *  - NUL bytes (raw, or escaped as \u0000: claims are read as C strings),
 *    invalid UTF-8, lone surrogate escapes, NaN/Infinity.
 * Only then json-c parses the text in strict mode.
 *
 * Duplicate detection keeps, for each open object, its members' (offset,
 * length, unescaped length, hash) in one fixed array; a new name is compared
 * against the names of its own object only, and fully only when the hash and
 * unescaped length agree.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <apr_errno.h>
#include <apr_strings.h>

#include "aj_json.h"
#include "aj_utf8.h"

const aj_json_limits_t aj_json_token_limits = { AJ_TOKEN_MAX_LEN, AJ_JSON_MAX_DEPTH, 1 };
const aj_json_limits_t aj_json_body_limits = { AJ_BODY_MAX_LEN, AJ_JSON_MAX_DEPTH, 1 };

/* The scan's fixed arrays hold this many nested containers; a caller's
 * larger max_depth is capped to it. */
#define AJ_JSON_SCAN_DEPTH      AJ_JSON_MAX_DEPTH
/* Offsets are stored in 32 bits and json-c takes an int length. */
#define AJ_JSON_SCAN_MAX_LEN    ((apr_size_t)APR_INT32_MAX)
/* FNV-1a (32 bit) over the unescaped name bytes. */
#define AJ_JSON_FNV_BASIS       2166136261u
#define AJ_JSON_FNV_PRIME       16777619u
/* \uXXXX */
#define AJ_JSON_UESC_DIGITS     4
#define AJ_JSON_CTRL_LIMIT      0x20 /* below: must be escaped */
#define AJ_JSON_ASCII_MAX       0x7F /* above: a UTF-8 sequence, checked */
#define AJ_UTF16_HI_FIRST       0xD800
#define AJ_UTF16_HI_LAST        0xDBFF
#define AJ_UTF16_LO_FIRST       0xDC00
#define AJ_UTF16_LO_LAST        0xDFFF
#define AJ_UTF16_SURROGATE_BITS 10
#define AJ_UNICODE_PLANE1       0x10000
#define AJ_HEX_LETTER_VALUE     10
#define AJ_HEX_DIGIT_BITS       4
#define AJ_JSON_UESC_PREFIX     2 /* the backslash-u before a low surrogate */

typedef struct {
    apr_uint32_t off;    /* first byte after the opening quote */
    apr_uint32_t rawlen; /* bytes up to the closing quote */
    apr_uint32_t ulen;   /* length once unescaped */
    apr_uint32_t hash;   /* FNV-1a of the unescaped bytes */
} aj_json_name_t;

typedef struct {
    const unsigned char *s;
    apr_size_t len;
    apr_size_t pos;
    int max_depth;
    int depth;                                /* open containers */
    int nnames;                               /* names of the open objects */
    int total;                                /* names in the document */
    unsigned char closer[AJ_JSON_SCAN_DEPTH]; /* '}' or ']' per container */
    int first[AJ_JSON_SCAN_DEPTH];            /* an object's first name */
    aj_json_name_t names[AJ_JSON_MAX_MEMBERS];
} aj_json_scan_t;

static int aj_json_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void aj_json_skip_ws(aj_json_scan_t *sc)
{
    while (sc->pos < sc->len && aj_json_is_ws(sc->s[sc->pos])) {
        sc->pos++;
    }
}

static int aj_json_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + AJ_HEX_LETTER_VALUE;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + AJ_HEX_LETTER_VALUE;
    }
    return -1;
}

/* Reads "XXXX" at s[*pos]; -1 when not four hex digits. */
static long aj_json_hex4(const unsigned char *s, apr_size_t end, apr_size_t *pos)
{
    long v = 0;
    int i, d;

    if (end - *pos < AJ_JSON_UESC_DIGITS) {
        return -1;
    }
    for (i = 0; i < AJ_JSON_UESC_DIGITS; ++i) {
        d = aj_json_hex(s[*pos + i]);
        if (d < 0) {
            return -1;
        }
        v = (v << AJ_HEX_DIGIT_BITS) | d;
    }
    *pos += AJ_JSON_UESC_DIGITS;
    return v;
}

/* The byte each one-letter escape of RFC 8259 §7 stands for; 0: not an
 * escape (\u is decoded apart). */
static const unsigned char aj_json_unescaped[UCHAR_MAX + 1] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t',
};

/* Decodes one character of a JSON string body at s[*pos] (end is the end
 * of the input) into out[0..*nout).  Returns 1 for a character, 0 at the
 * closing quote (not consumed), -1 for anything invalid. */
static int aj_json_str_unit(const unsigned char *s, apr_size_t end, apr_size_t *pos,
                            unsigned char *out, int *nout)
{
    unsigned char c;
    long cp, lo;
    int n;

    if (*pos >= end) {
        return -1;
    }
    c = s[*pos];
    if (c == '"') {
        return 0;
    }
    if (c < AJ_JSON_CTRL_LIMIT) {
        return -1; /* raw control characters, NUL included */
    }
    if (c != '\\') {
        n = (int)aj_utf8_seq_len(s + *pos, end - *pos);
        if (!n) {
            return -1;
        }
        memcpy(out, s + *pos, (apr_size_t)n);
        *pos += (apr_size_t)n;
        *nout = n;
        return 1;
    }
    if (++*pos >= end) {
        return -1;
    }
    c = s[(*pos)++];
    if (c != 'u') {
        if (!aj_json_unescaped[c]) {
            return -1;
        }
        out[0] = aj_json_unescaped[c];
        *nout = 1;
        return 1;
    }
    cp = aj_json_hex4(s, end, pos);
    if (cp <= 0 || (cp >= AJ_UTF16_LO_FIRST && cp <= AJ_UTF16_LO_LAST)) {
        return -1; /* not hex, \u0000, or a lone low surrogate */
    }
    if (cp >= AJ_UTF16_HI_FIRST && cp <= AJ_UTF16_HI_LAST) {
        if (end - *pos < AJ_JSON_UESC_PREFIX || s[*pos] != '\\' || s[*pos + 1] != 'u') {
            return -1;
        }
        *pos += AJ_JSON_UESC_PREFIX;
        lo = aj_json_hex4(s, end, pos);
        if (lo < AJ_UTF16_LO_FIRST || lo > AJ_UTF16_LO_LAST) {
            return -1;
        }
        cp = AJ_UNICODE_PLANE1 + ((cp - AJ_UTF16_HI_FIRST) << AJ_UTF16_SURROGATE_BITS)
             + (lo - AJ_UTF16_LO_FIRST);
    }
    *nout = (int)aj_utf8_encode(out, (apr_uint32_t)cp);
    return 1;
}

/* Non-zero for the bytes that stand for themselves inside a JSON string
 * with no further check: ASCII from 0x20 (below it: a control) up, but
 * '"' and '\\'.  Every other byte goes through aj_json_str_unit. */
static int aj_json_plain(unsigned char c)
{
    return c >= AJ_JSON_CTRL_LIMIT && c <= AJ_JSON_ASCII_MAX && c != '"' && c != '\\';
}

/* Validates the string at the opening quote sc->s[sc->pos], leaving pos
 * after the closing quote; fills name when given. */
static apr_status_t aj_json_scan_string(aj_json_scan_t *sc, aj_json_name_t *name)
{
    unsigned char buf[AJ_UTF8_MAX_SEQ];
    apr_uint32_t hash = AJ_JSON_FNV_BASIS, ulen = 0;
    apr_size_t start = ++sc->pos;
    int r, n = 0, i;

    for (;;) {
        /* The common case inline: printable ASCII other than '"' and '\\'
         * stands for itself (one byte, valid UTF-8, no escape). */
        while (sc->pos < sc->len && aj_json_plain(sc->s[sc->pos])) {
            hash = (hash ^ sc->s[sc->pos++]) * AJ_JSON_FNV_PRIME;
            ++ulen;
        }
        /* anything else (the quote, an escape, UTF-8, a control, the end) */
        r = aj_json_str_unit(sc->s, sc->len, &sc->pos, buf, &n);
        if (r <= 0) {
            break;
        }
        for (i = 0; i < n; ++i) {
            hash = (hash ^ buf[i]) * AJ_JSON_FNV_PRIME;
        }
        ulen += (apr_uint32_t)n;
    }
    if (r < 0) {
        return APR_EINVAL;
    }
    if (name) {
        name->off = (apr_uint32_t)start;
        name->rawlen = (apr_uint32_t)(sc->pos - start);
        name->ulen = ulen;
        name->hash = hash;
    }
    sc->pos++; /* the closing quote */
    return APR_SUCCESS;
}

/* Both names were validated; compares their unescaped bytes. */
static int aj_json_names_equal(const unsigned char *s, const aj_json_name_t *a,
                               const aj_json_name_t *b)
{
    unsigned char ba[AJ_UTF8_MAX_SEQ], bb[AJ_UTF8_MAX_SEQ];
    apr_size_t pa = a->off, pb = b->off;
    apr_size_t ea = (apr_size_t)a->off + a->rawlen, eb = (apr_size_t)b->off + b->rawlen;
    int na = 0, nb = 0, ia = 0, ib = 0;

    for (;;) {
        if (ia == na) {
            ia = 0;
            na = (pa < ea && aj_json_str_unit(s, ea, &pa, ba, &na) > 0) ? na : 0;
        }
        if (ib == nb) {
            ib = 0;
            nb = (pb < eb && aj_json_str_unit(s, eb, &pb, bb, &nb) > 0) ? nb : 0;
        }
        if (!na || !nb) {
            return !na && !nb;
        }
        if (ba[ia++] != bb[ib++]) {
            return 0;
        }
    }
}

/* A member name and its ':' at sc->pos (after '{' or ','). */
static apr_status_t aj_json_scan_member(aj_json_scan_t *sc)
{
    aj_json_name_t name;
    int i;

    aj_json_skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
        return APR_EINVAL;
    }
    if (++sc->total > AJ_JSON_MAX_MEMBERS) {
        return APR_EINVAL;
    }
    if (aj_json_scan_string(sc, &name) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    for (i = sc->first[sc->depth - 1]; i < sc->nnames; ++i) {
        const aj_json_name_t *o = &sc->names[i];
        if (o->hash == name.hash && o->ulen == name.ulen && aj_json_names_equal(sc->s, o, &name)) {
            return APR_EINVAL;
        }
    }
    sc->names[sc->nnames++] = name; /* nnames <= total <= AJ_JSON_MAX_MEMBERS */
    aj_json_skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
        return APR_EINVAL;
    }
    sc->pos++;
    return APR_SUCCESS;
}

static int aj_json_scan_digits(aj_json_scan_t *sc)
{
    apr_size_t start = sc->pos;

    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9') {
        sc->pos++;
    }
    return sc->pos > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static apr_status_t aj_json_scan_number(aj_json_scan_t *sc)
{
    if (sc->s[sc->pos] == '-') {
        sc->pos++;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == '0') {
        sc->pos++;
    }
    else if (!aj_json_scan_digits(sc)) {
        return APR_EINVAL;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!aj_json_scan_digits(sc)) {
            return APR_EINVAL;
        }
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-')) {
            sc->pos++;
        }
        if (!aj_json_scan_digits(sc)) {
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t aj_json_scan_literal(aj_json_scan_t *sc)
{
    static const char *const literals[] = { "true", "false", "null" };
    apr_size_t i, n;

    for (i = 0; i < sizeof(literals) / sizeof(literals[0]); ++i) {
        n = strlen(literals[i]);
        if (sc->len - sc->pos >= n && !memcmp(sc->s + sc->pos, literals[i], n)) {
            sc->pos += n;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

/* The whole document: one value, then only whitespace. */
static apr_status_t aj_json_scan(aj_json_scan_t *sc)
{
    apr_status_t rv;
    unsigned char c;
    int want_value = 1;

    for (;;) {
        aj_json_skip_ws(sc);
        if (want_value) {
            if (sc->pos >= sc->len) {
                return APR_EINVAL;
            }
            c = sc->s[sc->pos];
            if (c == '{' || c == '[') {
                if (sc->depth >= sc->max_depth) {
                    return APR_EINVAL;
                }
                sc->closer[sc->depth] = (c == '{') ? '}' : ']';
                sc->first[sc->depth] = sc->nnames;
                sc->depth++;
                sc->pos++;
                aj_json_skip_ws(sc);
                if (sc->pos < sc->len && sc->s[sc->pos] == sc->closer[sc->depth - 1]) {
                    want_value = 0; /* empty; the closer is read below */
                    continue;
                }
                if (c == '{' && (rv = aj_json_scan_member(sc)) != APR_SUCCESS) {
                    return rv;
                }
                continue;
            }
            if (c == '"') {
                rv = aj_json_scan_string(sc, NULL);
            }
            else if (c == '-' || (c >= '0' && c <= '9')) {
                rv = aj_json_scan_number(sc);
            }
            else {
                rv = aj_json_scan_literal(sc);
            }
            if (rv != APR_SUCCESS) {
                return rv;
            }
            want_value = 0;
            continue;
        }
        /* After a value: the end, a separator or a closer. */
        if (sc->depth == 0) {
            return sc->pos == sc->len ? APR_SUCCESS : APR_EINVAL;
        }
        if (sc->pos >= sc->len) {
            return APR_EINVAL;
        }
        c = sc->s[sc->pos++];
        if (c == sc->closer[sc->depth - 1]) {
            sc->depth--;
            sc->nnames = sc->first[sc->depth]; /* forget its names */
        }
        else if (c == ',') {
            if (sc->closer[sc->depth - 1] == '}' && (rv = aj_json_scan_member(sc)) != APR_SUCCESS) {
                return rv;
            }
            want_value = 1;
        }
        else {
            return APR_EINVAL;
        }
    }
}

/* ---- json-c's tokener, one per thread ------------------------------------
 * A tokener costs allocations (itself, its stack of max_depth + 1 frames, a
 * print buffer) that every token's parse paid again.  Each thread keeps one
 * for the depth of aj_json_token_limits and aj_json_body_limits (the only
 * depth anyone asks for), reset before each use: json_tokener_reset clears
 * the parse state, its stack and its buffer; the flags are set again by the
 * caller.  Any other depth gets a tokener of its own for the call. */
#define AJ_JSON_TOK_DEPTH (AJ_JSON_MAX_DEPTH + 1)

static pthread_once_t aj_json_tok_once = PTHREAD_ONCE_INIT;
static pthread_key_t aj_json_tok_key;
static int aj_json_have_tok_key;

static void aj_json_tok_free(void *tok)
{
    json_tokener_free(tok);
}

static void aj_json_tok_key_make(void)
{
    aj_json_have_tok_key = pthread_key_create(&aj_json_tok_key, aj_json_tok_free) == 0;
}

/* httpd unloads the module at each restart and loads a fresh copy, which
 * makes a thread key of its own: this one is given back (as in aj_digest.c). */
__attribute__((destructor)) static void aj_json_tok_unload(void)
{
    if (aj_json_have_tok_key) {
        (void)pthread_key_delete(aj_json_tok_key);
        aj_json_have_tok_key = 0;
    }
}

/* A reset tokener of depth; *own is set when the caller must free it (not
 * this thread's).  NULL when out of memory. */
static struct json_tokener *aj_json_tokener(int depth, struct json_tokener **own)
{
    struct json_tokener *tok;

    *own = NULL;
    if (depth == AJ_JSON_TOK_DEPTH && pthread_once(&aj_json_tok_once, aj_json_tok_key_make) == 0
        && aj_json_have_tok_key) {
        tok = pthread_getspecific(aj_json_tok_key);
        if (tok) {
            json_tokener_reset(tok);
            return tok;
        }
        tok = json_tokener_new_ex(depth);
        if (tok && pthread_setspecific(aj_json_tok_key, tok) == 0) {
            return tok;
        }
        json_tokener_free(tok);
    }
    return *own = json_tokener_new_ex(depth);
}

static apr_status_t aj_json_cleanup(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

json_object *aj_json_own(apr_pool_t *p, json_object *obj)
{
    if (obj) {
        apr_pool_cleanup_register(p, obj, aj_json_cleanup, apr_pool_cleanup_null);
    }
    return obj;
}

/* The pre-scan (when scan) and json-c; see aj_json_parse/aj_json_reparse. */
static apr_status_t aj_json_parse_impl(json_object **out, apr_pool_t *p, const char *text,
                                       apr_size_t len, const aj_json_limits_t *limits, int scan)
{
    aj_json_scan_t sc;
    struct json_tokener *tok = NULL, *own = NULL;
    json_object *obj = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (len > limits->max_len || len > AJ_JSON_SCAN_MAX_LEN) {
        rv = AJ_E2BIG;
        goto cleanup;
    }
    if (!text || limits->max_depth < 1) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    /* Only the scalars: the arrays are written before they are read. */
    sc.s = (const unsigned char *)text;
    sc.len = len;
    sc.pos = 0;
    sc.max_depth = limits->max_depth < AJ_JSON_SCAN_DEPTH ? limits->max_depth : AJ_JSON_SCAN_DEPTH;
    sc.depth = sc.nnames = sc.total = 0;
    if (scan) {
        rv = aj_json_scan(&sc);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }

    /* json-c's depth also counts the value inside the innermost container:
     * max_depth + 1 lets every document the scan accepted through. */
    tok = aj_json_tokener(sc.max_depth + 1, &own);
    if (!tok) {
        rv = APR_ENOMEM;
        goto cleanup;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
        /* A top-level scalar ends only at the end of the input. */
        obj = json_tokener_parse_ex(tok, "", 1);
    }
    if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (limits->require_object && !json_object_is_type(obj, json_type_object)) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    *out = aj_json_own(p, obj);
    obj = NULL;
    rv = APR_SUCCESS;

cleanup:
    if (obj) {
        json_object_put(obj);
    }
    if (own) {
        json_tokener_free(own);
    }
    return rv;
}

apr_status_t aj_json_parse(json_object **out, apr_pool_t *p, const char *text, apr_size_t len,
                           const aj_json_limits_t *limits)
{
    return aj_json_parse_impl(out, p, text, len, limits, 1);
}

apr_status_t aj_json_reparse(json_object **out, apr_pool_t *p, const char *text, apr_size_t len,
                             const aj_json_limits_t *limits)
{
    return aj_json_parse_impl(out, p, text, len, limits, 0);
}

const char *aj_json_dump(apr_pool_t *p, json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE);

    return s ? apr_pstrdup(p, s) : NULL;
}

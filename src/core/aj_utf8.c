/*
 * aj_utf8.c — well-formed UTF-8 sequences, code points, character counts.
 *
 * Validation follows Unicode 15 table 3-7 ("Well-Formed UTF-8 Byte
 * Sequences") row by row: the lead byte picks the row, the row bounds the
 * second byte (which is what refuses overlong forms, surrogates and code
 * points past U+10FFFF), and every later byte is a plain continuation byte.
 */
#include "aj_utf8.h"

#define AJ_UTF8_1BYTE_MAX     0x7F
#define AJ_UTF8_2BYTE_MAX     0x7FF
#define AJ_UTF8_3BYTE_MAX     0xFFFF
#define AJ_UTF8_CONT          0x80 /* 10xxxxxx */
#define AJ_UTF8_CONT_TAG_MASK 0xC0 /* the two bits that say "continuation" */
#define AJ_UTF8_CONT_MASK     0x3F /* its six payload bits */
#define AJ_UTF8_CONT_BITS     6
#define AJ_UTF8_CONT_LO       0x80
#define AJ_UTF8_CONT_HI       0xBF
#define AJ_UTF8_LEAD2         0xC0 /* 110xxxxx */
#define AJ_UTF8_LEAD3         0xE0 /* 1110xxxx */
#define AJ_UTF8_LEAD4         0xF0 /* 11110xxx */

typedef struct {
    unsigned char first, last; /* lead byte range */
    unsigned char lo, hi;      /* second byte range */
    unsigned char trail;       /* continuation bytes */
    unsigned char lead_mask;   /* payload bits of the lead byte */
} aj_utf8_row_t;

static const aj_utf8_row_t aj_utf8_rows[] = {
    { 0xC2, 0xDF, 0x80, 0xBF, 1, 0x1F },
    { 0xE0, 0xE0, 0xA0, 0xBF, 2, 0x0F }, /* no overlong 3-byte forms */
    { 0xE1, 0xEC, 0x80, 0xBF, 2, 0x0F },
    { 0xED, 0xED, 0x80, 0x9F, 2, 0x0F }, /* no surrogates */
    { 0xEE, 0xEF, 0x80, 0xBF, 2, 0x0F },
    { 0xF0, 0xF0, 0x90, 0xBF, 3, 0x07 }, /* no overlong 4-byte forms */
    { 0xF1, 0xF3, 0x80, 0xBF, 3, 0x07 },
    { 0xF4, 0xF4, 0x80, 0x8F, 3, 0x07 }, /* nothing past U+10FFFF */
};

#define AJ_UTF8_ROWS (sizeof(aj_utf8_rows) / sizeof(aj_utf8_rows[0]))

/* The row of a multi-byte sequence that s[0..n) starts, NULL when the
 * bytes are not one. */
static const aj_utf8_row_t *aj_utf8_row(const unsigned char *s, apr_size_t n)
{
    const aj_utf8_row_t *row = NULL;
    apr_size_t r, i;

    for (r = 0; r < AJ_UTF8_ROWS; ++r) {
        if (s[0] >= aj_utf8_rows[r].first && s[0] <= aj_utf8_rows[r].last) {
            row = &aj_utf8_rows[r];
            break;
        }
    }
    if (!row || n < (apr_size_t)row->trail + 1 || s[1] < row->lo || s[1] > row->hi) {
        return NULL;
    }
    for (i = 2; i <= row->trail; ++i) {
        if (s[i] < AJ_UTF8_CONT_LO || s[i] > AJ_UTF8_CONT_HI) {
            return NULL;
        }
    }
    return row;
}

apr_size_t aj_utf8_seq_len(const unsigned char *s, apr_size_t n)
{
    const aj_utf8_row_t *row;

    if (s[0] <= AJ_UTF8_1BYTE_MAX) {
        return 1;
    }
    row = aj_utf8_row(s, n);
    return row ? (apr_size_t)row->trail + 1 : 0;
}

apr_size_t aj_utf8_decode(apr_uint32_t *cp, const unsigned char *s, apr_size_t n)
{
    const aj_utf8_row_t *row;
    apr_uint32_t v;
    apr_size_t i;

    if (s[0] <= AJ_UTF8_1BYTE_MAX) {
        *cp = s[0];
        return 1;
    }
    row = aj_utf8_row(s, n);
    if (!row) {
        return 0;
    }
    v = s[0] & row->lead_mask;
    for (i = 1; i <= row->trail; ++i) {
        v = (v << AJ_UTF8_CONT_BITS) | (s[i] & AJ_UTF8_CONT_MASK);
    }
    *cp = v;
    return (apr_size_t)row->trail + 1;
}

apr_size_t aj_utf8_encode(unsigned char *out, apr_uint32_t cp)
{
    if (cp <= AJ_UTF8_1BYTE_MAX) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp <= AJ_UTF8_2BYTE_MAX) {
        out[0] = (unsigned char)(AJ_UTF8_LEAD2 | (cp >> AJ_UTF8_CONT_BITS));
        out[1] = (unsigned char)(AJ_UTF8_CONT | (cp & AJ_UTF8_CONT_MASK));
        return 2;
    }
    if (cp <= AJ_UTF8_3BYTE_MAX) {
        out[0] = (unsigned char)(AJ_UTF8_LEAD3 | (cp >> (2 * AJ_UTF8_CONT_BITS)));
        out[1] = (unsigned char)(AJ_UTF8_CONT | ((cp >> AJ_UTF8_CONT_BITS) & AJ_UTF8_CONT_MASK));
        out[2] = (unsigned char)(AJ_UTF8_CONT | (cp & AJ_UTF8_CONT_MASK));
        return 3;
    }
    out[0] = (unsigned char)(AJ_UTF8_LEAD4 | (cp >> (3 * AJ_UTF8_CONT_BITS)));
    out[1] = (unsigned char)(AJ_UTF8_CONT | ((cp >> (2 * AJ_UTF8_CONT_BITS)) & AJ_UTF8_CONT_MASK));
    out[2] = (unsigned char)(AJ_UTF8_CONT | ((cp >> AJ_UTF8_CONT_BITS) & AJ_UTF8_CONT_MASK));
    out[3] = (unsigned char)(AJ_UTF8_CONT | (cp & AJ_UTF8_CONT_MASK));
    return 4;
}

apr_size_t aj_utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; ++s) {
        if (((unsigned char)*s & AJ_UTF8_CONT_TAG_MASK) != AJ_UTF8_CONT) {
            ++n;
        }
    }
    return n;
}

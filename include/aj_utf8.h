/*
 * aj_utf8.h — UTF-8 (RFC 3629; Unicode 15 §3.9 table 3-7): the one place
 * the core, the glue and htjwt decide what a well-formed sequence is and
 * how many characters a string has.
 */
#ifndef AJ_UTF8_H
#define AJ_UTF8_H

#include <apr.h>

/* Longest sequence: one character is at most four bytes (U+10FFFF). */
#define AJ_UTF8_MAX_SEQ 4

/* Length (1..4) of the well-formed sequence that starts s[0..n), 0 when
 * there is none: an overlong form, a surrogate (U+D800..U+DFFF), a code
 * point past U+10FFFF, a stray continuation byte, or a sequence that n cuts
 * short.  n must be at least 1. */
apr_size_t aj_utf8_seq_len(const unsigned char *s, apr_size_t n);

/* As aj_utf8_seq_len, and *cp is the code point (set only when the length
 * is not 0). */
apr_size_t aj_utf8_decode(apr_uint32_t *cp, const unsigned char *s, apr_size_t n);

/* Writes code point cp (at most U+10FFFF, not a surrogate: the caller
 * checked) into out[0..AJ_UTF8_MAX_SEQ); returns the bytes written. */
apr_size_t aj_utf8_encode(unsigned char *out, apr_uint32_t cp);

/* Characters of the NUL-terminated s, counted by the bytes that start one
 * (every byte but a continuation byte 10xxxxxx): the code points of valid
 * UTF-8, and never more than strlen(s) of anything else.  Password minimum
 * lengths (AuthJWTPasswordMinLength, htjwt -m) count these. */
apr_size_t aj_utf8_chars(const char *s);

#endif /* AJ_UTF8_H */

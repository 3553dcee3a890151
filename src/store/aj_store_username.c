/*
 * aj_store_username.c — what a username may be (docs/reference.md §4),
 * checked before a user is registered.
 */
#include "aj_store.h"
#include "aj_jws.h"

/* Length of the UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static apr_size_t aj_utf8_seq_len(const unsigned char *s, apr_size_t n)
{
    apr_size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80) {
        return 1;
    }
    else if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    }
    else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    }
    else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return 0;
    }
    /* C1 control characters U+0080..U+009F */
    if (cp >= 0x80 && cp <= 0x9F) {
        return 0;
    }
    return len;
}

const char *aj_store_username_problem(const char *username, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)username;
    apr_size_t i = 0;

    if (len == 0) {
        return "username is empty";
    }
    if (len > AJ_USERNAME_MAX_LEN) {
        return "username is longer than 64 bytes";
    }
    while (i < len) {
        apr_size_t n;
        if (s[i] < 0x20 || s[i] == 0x7F) {
            return "username contains a control character";
        }
        if (s[i] == ':') {
            return "username contains ':'";
        }
        n = aj_utf8_seq_len(s + i, len - i);
        if (n == 0) {
            return "username is not valid UTF-8 or contains a control character";
        }
        i += n;
    }
    if (aj_jws_looks_like_jwt(username, len)) {
        return "username is shaped like a token";
    }
    return NULL;
}

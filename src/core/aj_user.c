/*
 * aj_user.c — username and password rules (docs/reference.md §4).
 */
#include <string.h>

#include "aj_jws.h"
#include "aj_user.h"
#include "aj_utf8.h"

#define AJ_USER_CTRL_LIMIT 0x20 /* C0 controls are below */
#define AJ_USER_DEL        0x7F
#define AJ_USER_C1_FIRST   0x80 /* C1 controls, U+0080..U+009F */
#define AJ_USER_C1_LAST    0x9F
#define AJ_USER_SEPARATOR  ':' /* Basic's user:password separator */
#define AJ_USER_STR_(x)    #x
#define AJ_USER_STR(x)     AJ_USER_STR_(x)

const char *aj_user_name_problem(const char *username, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)username;
    apr_uint32_t cp = 0;
    apr_size_t i = 0;

    if (len == 0) {
        return "username is empty";
    }
    if (len > AJ_USERNAME_MAX_LEN) {
        return "username is longer than " AJ_USER_STR(AJ_USERNAME_MAX_LEN) " bytes";
    }
    while (i < len) {
        apr_size_t n;
        if (s[i] < AJ_USER_CTRL_LIMIT || s[i] == AJ_USER_DEL) {
            return "username contains a control character";
        }
        if (s[i] == AJ_USER_SEPARATOR) {
            return "username contains ':'";
        }
        n = aj_utf8_decode(&cp, s + i, len - i);
        if (n == 0 || (cp >= AJ_USER_C1_FIRST && cp <= AJ_USER_C1_LAST)) {
            return "username is not valid UTF-8 or contains a control character";
        }
        i += n;
    }
    if (aj_jws_looks_like_jwt(username, len)) {
        return "username is shaped like a token";
    }
    return NULL;
}

int aj_user_password_too_short(const char *password, int min_chars)
{
    return aj_utf8_chars(password) < (apr_size_t)min_chars;
}

int aj_user_password_too_long(const char *password)
{
    return strlen(password) > AJ_PASSWORD_MAX_LEN;
}

/*
 * aj_user.h — the rules a username and a password must meet
 * (docs/reference.md §4), the same for the registration and password
 * endpoints and for htjwt.
 */
#ifndef AJ_USER_H
#define AJ_USER_H

#include "aj.h"
#include "aj_password.h" /* AJ_PASSWORD_MAX_LEN: the longest password, in bytes */

/* docs/reference.md §4: names over 64 bytes refused */
#define AJ_USERNAME_MAX_LEN         64
/* Shortest password, in characters, unless configured otherwise
 * (AuthJWTPasswordMinLength, htjwt -m). */
#define AJ_PASSWORD_MIN_LEN_DEFAULT 8

/* Validates a username for registration: non-empty, at most
 * AJ_USERNAME_MAX_LEN bytes, well-formed UTF-8, no ':' and no control
 * characters (C0, DEL, C1), and not shaped like a JWT (a Basic credential
 * whose user part looks like a token is taken for one).  Returns NULL when
 * fine, else a short reason fit for a client. */
const char *aj_user_name_problem(const char *username, apr_size_t len);

/* Non-zero when password has fewer than min_chars characters
 * (aj_utf8_chars: a minimum counts characters, not bytes). */
int aj_user_password_too_short(const char *password, int min_chars);

/* Non-zero when password is longer than AJ_PASSWORD_MAX_LEN bytes. */
int aj_user_password_too_long(const char *password);

#endif /* AJ_USER_H */

/*
 * aj_basic.h — the credentials of `Authorization: Basic <value>` (RFC 7617),
 * decoded strictly, with no httpd in sight (aj_cred.c finds the scheme in
 * the Authorization header; this decodes the value).
 */
#ifndef AJ_BASIC_H
#define AJ_BASIC_H

#include "aj.h"

/* Decodes value[0..len), the part after "Basic ": standard base64 (RFC 4648
 * §4; '=' padding optional but only at the end, at most two, no whitespace),
 * whose decoded text holds no NUL byte and has a ':' between the user-id and
 * the password (the first ':' splits; the password may contain more).
 * On success *user and *password are NUL-terminated pool strings (either may
 * be empty).  Otherwise APR_EINVAL with *problem a short fixed text (never
 * echoing input); out-parameters other than *problem are then untouched. */
apr_status_t aj_basic_decode(const char **user, const char **password, const char **problem,
                             apr_pool_t *p, const char *value, apr_size_t len);

#endif /* AJ_BASIC_H */

/*
 * aj_audit.c — the username as audit lines show it (contract: include/aj_audit.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_audit.h"

/* "\xNN" */
#define AJ_AUDIT_ESCAPE_LEN 4
/* Marks a name cut to AJ_AUDIT_USER_MAX. */
#define AJ_AUDIT_CUT        "..."
#define AJ_AUDIT_CUT_LEN    (sizeof(AJ_AUDIT_CUT) - 1)
/* Two dots: the shape of a JWS compact serialization. */
#define AJ_AUDIT_TOKEN_DOTS 2

static int aj_audit_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static apr_size_t aj_audit_width(unsigned char c)
{
    return aj_audit_plain(c) ? 1 : AJ_AUDIT_ESCAPE_LEN;
}

const char *aj_audit_username(apr_pool_t *p, const char *username)
{
    static const char hex[] = "0123456789abcdef";
    char out[AJ_AUDIT_USER_MAX + 1];
    const unsigned char *s;
    apr_size_t len = 0, dots = 0, full = 0, room = AJ_AUDIT_USER_MAX;
    const char *d;

    if (!username) {
        return "";
    }
    for (d = username; (d = strchr(d, '.')) != NULL; d++) {
        if (++dots >= AJ_AUDIT_TOKEN_DOTS) {
            return AJ_AUDIT_TOKEN_NAME;
        }
    }
    for (s = (const unsigned char *)username; *s; s++) {
        full += aj_audit_width(*s);
    }
    if (full > AJ_AUDIT_USER_MAX) {
        room = AJ_AUDIT_USER_MAX - AJ_AUDIT_CUT_LEN; /* keep room for the mark */
    }
    for (s = (const unsigned char *)username; *s && len + aj_audit_width(*s) <= room; s++) {
        if (aj_audit_plain(*s)) {
            out[len++] = (char)*s;
        }
        else {
            out[len++] = '\\';
            out[len++] = 'x';
            out[len++] = hex[*s >> 4];
            out[len++] = hex[*s & 0x0f];
        }
    }
    if (full > AJ_AUDIT_USER_MAX) {
        memcpy(out + len, AJ_AUDIT_CUT, AJ_AUDIT_CUT_LEN);
        len += AJ_AUDIT_CUT_LEN;
    }
    out[len] = '\0';
    return apr_pstrmemdup(p, out, len);
}

/*
 * aj_duration.c — durations of directives and htjwt (docs/reference.md §13).
 *
 * One function, so `AuthJWTTokenLifetime 10m` and `htjwt sign -l 10m` can
 * never disagree again.  Overflow is checked before each step, never
 * after: no value wraps into a small (or negative) lifetime.
 */
#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_duration.h"

#define AJ_DURATION_MINUTE ((apr_int64_t)60)
#define AJ_DURATION_HOUR   ((apr_int64_t)3600)
#define AJ_DURATION_DAY    ((apr_int64_t)86400)
#define AJ_DURATION_BASE   10

/* The seconds one unit letter stands for; 0 for an unknown letter. */
static apr_int64_t aj_duration_unit(char c)
{
    switch (c) {
    case 's': return 1;
    case 'm': return AJ_DURATION_MINUTE;
    case 'h': return AJ_DURATION_HOUR;
    case 'd': return AJ_DURATION_DAY;
    default: return 0;
    }
}

apr_status_t aj_duration_parse(apr_int64_t *seconds, const char *text)
{
    apr_int64_t v = 0, unit = 1;
    const char *s = text;
    apr_status_t rv = APR_EINVAL;

    if (!s || !apr_isdigit(*s)) {
        goto cleanup;
    }
    for (; apr_isdigit(*s); ++s) {
        apr_int64_t digit = *s - '0';
        if (v > (APR_INT64_MAX - digit) / AJ_DURATION_BASE) {
            rv = APR_ERANGE;
            goto cleanup;
        }
        v = v * AJ_DURATION_BASE + digit;
    }
    if (*s) {
        unit = aj_duration_unit(*s);
        if (!unit || s[1]) {
            goto cleanup;
        }
    }
    if (v > APR_INT64_MAX / unit) {
        rv = APR_ERANGE;
        goto cleanup;
    }
    *seconds = v * unit;
    rv = APR_SUCCESS;
cleanup:
    return rv;
}

const char *aj_duration_in_range(apr_int64_t *seconds, apr_pool_t *p, const char *name,
                                 const char *text, apr_int64_t min, apr_int64_t max)
{
    apr_int64_t v = 0;

    if (aj_duration_parse(&v, text) != APR_SUCCESS || v < min || v > max) {
        return apr_psprintf(p,
                            "%s: '%s' is not a duration from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT " seconds (write " AJ_DURATION_FORMS ")",
                            name, text ? text : "", min, max);
    }
    *seconds = v;
    return NULL;
}

/*
 * aj_duration.h — the one rule for durations (docs/reference.md §13): every
 * directive that takes seconds and htjwt's -l accept a plain number of
 * seconds or a number with a unit, the same way.
 */
#ifndef AJ_DURATION_H
#define AJ_DURATION_H

#include "aj.h"

/* What the messages of directives and htjwt say is accepted. */
#define AJ_DURATION_FORMS "seconds, or a number with s, m, h or d (600, 10m, 1h, 14d)"

/* Parses `text` as a duration in seconds: one or more ASCII digits,
 * optionally followed by exactly one unit letter: s (seconds), m (minutes),
 * h (hours), d (days).  "0" is zero.  Nothing else is allowed: no sign, no
 * spaces, no decimal point, no upper-case or longer unit ("10min").
 * On success sets *seconds and returns APR_SUCCESS.  APR_EINVAL when the
 * text does not have that shape (NULL and "" included); APR_ERANGE when the
 * value does not fit in apr_int64_t.  The caller checks its own range. */
apr_status_t aj_duration_parse(apr_int64_t *seconds, const char *text);

/* aj_duration_parse with the range [min, max] checked: NULL and *seconds
 * set when text is such a duration; otherwise the message every directive
 * gives, naming `name` (the directive), the text, the range and the forms
 * accepted, in pool memory of p. */
const char *aj_duration_in_range(apr_int64_t *seconds, apr_pool_t *p, const char *name,
                                 const char *text, apr_int64_t min, apr_int64_t max);

#endif /* AJ_DURATION_H */

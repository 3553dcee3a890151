/*
 * aj_json.h — bounded JSON parsing over json-c.
 *
 * Before json-c sees a byte, aj_json_parse() checks the length, the nesting
 * depth and duplicate member names (compared after unescaping) with a single
 * scan in fixed memory; json-c then parses in strict mode.  The resulting
 * object belongs to the pool (json_object_put runs in a pool cleanup).
 */
#ifndef AJ_JSON_H
#define AJ_JSON_H

#include "aj.h"
#include <json-c/json.h>

typedef struct {
    apr_size_t max_len; /* refuse longer input */
    int max_depth;      /* refuse deeper nesting (objects + arrays) */
    int require_object; /* top level must be an object */
} aj_json_limits_t;

/* Limits for JOSE headers and claim sets (docs/reference.md §5). */
extern const aj_json_limits_t aj_json_token_limits;
/* Limits for handler request bodies (docs/reference.md §4). */
extern const aj_json_limits_t aj_json_body_limits;

/* Parses text[0..len).  APR_EINVAL for invalid JSON, a duplicate name, too
 * deep or not an object when required; AJ_E2BIG over max_len.  *out set
 * only on success; the object is released when p is cleared. */
apr_status_t aj_json_parse(json_object **out, apr_pool_t *p, const char *text, apr_size_t len,
                           const aj_json_limits_t *limits);

/* Parses text that aj_json_parse() accepted before (same limits), e.g. a
 * payload kept by the verified-token cache: the pre-scan is skipped, json-c
 * still parses strictly within the length and depth limits. */
apr_status_t aj_json_reparse(json_object **out, apr_pool_t *p, const char *text, apr_size_t len,
                             const aj_json_limits_t *limits);

/* Ties obj's lifetime to p (json_object_put on cleanup); returns obj. */
json_object *aj_json_own(apr_pool_t *p, json_object *obj);

/* Serializes compactly into pool memory (no escaped slashes). */
const char *aj_json_dump(apr_pool_t *p, json_object *obj);

#endif /* AJ_JSON_H */

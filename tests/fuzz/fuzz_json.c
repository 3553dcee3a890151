/*
 * fuzz_json.c — the input is a handler's JSON request body (docs/reference.md §4).
 *
 * The handlers' field extraction is static in src/httpd/auth_jwt_http.c, so
 * this drives what it is built on: aj_json_parse with aj_json_body_limits
 * (and, for contrast, the token limits), the string members the handlers
 * read ("username", "password", "old_password", "new_password") through
 * aj_user_name_problem, and aj_claims_build with the body as a user's
 * stored extra claims.  Invariants: whatever parses serializes to JSON that
 * parses again under the same limits; a built claim set parses as a token
 * payload and never lets a stored claim override a reserved one.
 */
#include "fuzz_common.h"
#include "aj_issue.h"
#include "aj_json.h"
#include "aj_user.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_apr_init();
    return 0;
}

static void fuzz_fields(json_object *obj)
{
    static const char *const names[] = { "username", "password", "old_password", "new_password" };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        json_object *v = NULL;
        if (json_object_object_get_ex(obj, names[i], &v) && v
            && json_object_is_type(v, json_type_string)) {
            const char *s = json_object_get_string(v);
            apr_size_t len = (apr_size_t)json_object_get_string_len(v);
            /* the handlers refuse embedded NULs first; the username check
             * must cope with both views of the string */
            (void)aj_user_name_problem(s, strlen(s));
            (void)aj_user_name_problem(s, len);
        }
    }
}

static void fuzz_build(apr_pool_t *p, const char *extra)
{
    aj_issue_t in;
    const char *json = NULL;
    json_object *back = NULL, *v = NULL;
    static const char *const aud[] = { "a1", "a2" };
    apr_array_header_t *auds = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(auds, const char *) = aud[0];
    APR_ARRAY_PUSH(auds, const char *) = aud[1];
    memset(&in, 0, sizeof(in));
    in.sub = "42";
    in.name = "fuzz";
    in.iat = in.nbf = in.auth_time = 1700000000;
    in.exp = 1700000600;
    in.jti = "jti-fuzz";
    in.iss = "https://fuzz.example";
    in.aud = auds;
    in.extra_json = extra;
    in.csrf = "csrf-fuzz";
    if (aj_claims_build(&json, p, &in) != APR_SUCCESS) {
        return;
    }
    FUZZ_ASSERT(aj_json_parse(&back, p, json, strlen(json), &aj_json_token_limits) == APR_SUCCESS
                || strlen(json) > aj_json_token_limits.max_len);
    if (back) {
        FUZZ_ASSERT(json_object_object_get_ex(back, "sub", &v)
                    && !strcmp(json_object_get_string(v), "42"));
        FUZZ_ASSERT(json_object_object_get_ex(back, "jti", &v)
                    && !strcmp(json_object_get_string(v), "jti-fuzz"));
        FUZZ_ASSERT(json_object_object_get_ex(back, "exp", &v)
                    && json_object_get_int64(v) == 1700000600);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *text = fuzz_text(p, data, size);
    json_object *obj = NULL, *again = NULL, *tok = NULL;

    if (aj_json_parse(&obj, p, text, size, &aj_json_body_limits) == APR_SUCCESS) {
        const char *dump = aj_json_dump(p, obj);
        FUZZ_ASSERT(obj != NULL && json_object_is_type(obj, json_type_object));
        FUZZ_ASSERT(dump != NULL);
        /* what we accepted, re-serialized, is accepted again */
        FUZZ_ASSERT(aj_json_parse(&again, p, dump, strlen(dump), &aj_json_body_limits)
                        == APR_SUCCESS
                    || strlen(dump) > aj_json_body_limits.max_len);
        fuzz_fields(obj);
    }
    (void)aj_json_parse(&tok, p, text, size, &aj_json_token_limits);
    /* the stored claims column is NUL-terminated text: only the first part counts */
    fuzz_build(p, text);
    apr_pool_destroy(p);
    return 0;
}

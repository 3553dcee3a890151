/*
 * fuzz_basic.c — the input is the value of `Authorization: Basic <value>`.
 * aj_basic_decode is what src/core/aj_cred.c calls; a user-id that
 * decodes is then tested the way aj_cred tests it (a REST-auth token sent
 * as the username?).  Invariants: on success the user-id has no ':' and
 * user ":" password is exactly the base64 decoding, with no NUL.
 */
#include <apr_base64.h>

#include "fuzz_common.h"
#include "aj_basic.h"
#include "aj_jws.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_apr_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    /* a private copy of exactly size bytes: ASan sees any read past it */
    char *value = malloc(size ? size : 1);
    const char *user = NULL, *password = NULL, *problem = NULL;

    FUZZ_ASSERT(value != NULL);
    memcpy(value, data, size);
    if (aj_basic_decode(&user, &password, &problem, p, value, size) == APR_SUCCESS) {
        const char *in = apr_pstrmemdup(p, value, size);
        char *plain = apr_palloc(p, (apr_size_t)apr_base64_decode_len(in) + 1);
        int n = apr_base64_decode(plain, in);
        const char *joined = apr_pstrcat(p, user, ":", password, NULL);

        FUZZ_ASSERT(strchr(user, ':') == NULL);
        FUZZ_ASSERT(n >= 0 && (size_t)n == strlen(joined) && !memcmp(plain, joined, (size_t)n));
        (void)aj_jws_looks_like_jwt(user, strlen(user));
    }
    else {
        FUZZ_ASSERT(problem != NULL && user == NULL && password == NULL);
    }
    free(value);
    apr_pool_destroy(p);
    return 0;
}

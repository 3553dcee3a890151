/*
 * fuzz_common.h — what every libFuzzer harness of the core shares: APR set
 * up once, a fresh pool per input (destroyed after it, so its cleanups run
 * and LeakSanitizer sees anything a cleanup forgot).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "aj.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *fuzz_root;

/* At exit, before LeakSanitizer looks (it registered its check earlier, so
 * it runs later): the root pool's cleanups free what the harness set up
 * once (keys), which is not a leak. */
static void fuzz_apr_done(void)
{
    apr_pool_destroy(fuzz_root);
    apr_terminate();
}

/* apr_initialize() once per process; the root pool lives as long. */
static void fuzz_apr_init(void)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
        abort();
    }
    atexit(fuzz_apr_done);
}

static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    return p;
}

/* The input as a NUL-terminated pool string (it may contain NULs too). */
static const char *fuzz_text(apr_pool_t *p, const uint8_t *data, size_t size)
{
    return apr_pstrmemdup(p, (const char *)data, size);
}

/* Crashes (so libFuzzer reports it) when an invariant does not hold. */
#define FUZZ_ASSERT(cond) \
    do { \
        if (!(cond)) { \
            __builtin_trap(); \
        } \
    } while (0)

#endif /* FUZZ_COMMON_H */

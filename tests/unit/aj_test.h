/*
 * aj_test.h — what every unit test of the core includes: cmocka, APR, the
 * core headers, and a fresh APR pool per test (cmocka's state).
 *
 *     static void test_x(void **state) { apr_pool_t *p = AJ_POOL(state); ... }
 *     static const struct CMUnitTest tests[] = { AJ_TEST(test_x), };
 *     AJ_TEST_MAIN("aj_area", tests)
 */
#ifndef AJ_TEST_H
#define AJ_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "aj.h"

/* A pool for one test, destroyed after it (its cleanups run: json-c
 * objects are put, secrets cleansed), whether the test passed or not. */
static inline int aj_test_setup(void **state)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static inline int aj_test_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

#define AJ_POOL(state) ((apr_pool_t *)*(state))
#define AJ_TEST(fn)    cmocka_unit_test_setup_teardown(fn, aj_test_setup, aj_test_teardown)

/* apr_initialize() once per binary, around the whole group. */
#define AJ_TEST_MAIN(name, tests) \
    int main(void) \
    { \
        int rc; \
        if (apr_initialize() != APR_SUCCESS) { \
            return 1; \
        } \
        rc = cmocka_run_group_tests_name(name, tests, NULL, NULL); \
        apr_terminate(); \
        return rc; \
    }

/* An array of C strings, for policies and issue requests. */
static inline apr_array_header_t *aj_test_strings(apr_pool_t *p, const char *const *s, int n)
{
    apr_array_header_t *a = apr_array_make(p, n > 0 ? n : 1, sizeof(const char *));
    int i;

    for (i = 0; i < n; ++i) {
        APR_ARRAY_PUSH(a, const char *) = s[i];
    }
    return a;
}

#endif /* AJ_TEST_H */

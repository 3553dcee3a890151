/*
 * revtab.h — unit-test fixture for the revocation table (aj_revtab): the
 * shared vocabulary of test_revtab.c (format, keys, readers),
 * test_revtab_write.c (writers, compaction, recovery) and
 * test_revtab_stores.c (per-store bookkeeping): the times the tests work
 * at, the table sizes, two stores, and tables and jtis made from them.
 * Tables live in the pool they are made in (the per-test pool of
 * aj_test.h); every helper fails the running test when its step fails.
 */
#ifndef AJ_TEST_SUPPORT_REVTAB_H
#define AJ_TEST_SUPPORT_REVTAB_H

#include <apr_pools.h>

#include "aj_revtab.h"

/* An arbitrary "now" (seconds); every test works relative to it. */
#define T_NOW       1700000000
#define T_LATER     (T_NOW + 1000)
#define T_FAR       (T_NOW + 100000)
/* The smallest table and how many entries it takes (3/4 of its slots). */
#define T_SMALL_CAP 64
#define T_SMALL_MAX 48
#define T_NAME_LEN  64

/* Two stores: most tests use store 0 (T_S); store 1 proves isolation. */
#define T_S       0
#define T_NSTORES 2

/* The ids of the T_NSTORES stores every table of the tests serves. */
extern const aj_store_id_t aj_test_revtab_ids[T_NSTORES];

/* A table of that capacity for the T_NSTORES stores, formatted over
 * memory that is not zeroed (the format must not rely on it); NULL when
 * aj_revtab_format() refuses. */
aj_revtab_t *aj_test_revtab_new(apr_pool_t *p, apr_uint32_t capacity);

/* The smallest table (T_SMALL_CAP); never NULL. */
aj_revtab_t *aj_test_revtab_small(apr_pool_t *p);

/* "prefix-i" written to buf (T_NAME_LEN bytes); buf. */
const char *aj_test_revtab_name(char *buf, const char *prefix, unsigned i);

/* Puts the jtis prefix0 .. prefix(n-1) into store s; each put must succeed. */
void aj_test_revtab_put_jtis(aj_revtab_t *t, int s, const char *prefix, unsigned n, apr_int64_t exp,
                             apr_int64_t now);

#endif /* AJ_TEST_SUPPORT_REVTAB_H */

/*
 * revtab.c — tables and jtis for the revocation table tests (see revtab.h).
 */
#include "aj_test.h"
#include "revtab.h"

/* Filler written over a table's memory before it is formatted. */
#define AJ_TEST_REVTAB_JUNK 0xa5

const aj_store_id_t aj_test_revtab_ids[T_NSTORES] = { { { 'A' } }, { { 'B' } } };

aj_revtab_t *aj_test_revtab_new(apr_pool_t *p, apr_uint32_t capacity)
{
    apr_size_t size = aj_revtab_size(capacity, T_NSTORES);
    void *mem = apr_palloc(p, size);

    assert_non_null(mem);
    memset(mem, AJ_TEST_REVTAB_JUNK, size); /* format must not rely on zeroed memory */
    return aj_revtab_format(mem, size, capacity, aj_test_revtab_ids, T_NSTORES);
}

aj_revtab_t *aj_test_revtab_small(apr_pool_t *p)
{
    aj_revtab_t *t = aj_test_revtab_new(p, T_SMALL_CAP);

    assert_non_null(t);
    return t;
}

const char *aj_test_revtab_name(char *buf, const char *prefix, unsigned i)
{
    snprintf(buf, T_NAME_LEN, "%s-%u", prefix, i);
    return buf;
}

void aj_test_revtab_put_jtis(aj_revtab_t *t, int s, const char *prefix, unsigned n, apr_int64_t exp,
                             apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_int_equal(aj_revtab_put_jti(t, s, aj_test_revtab_name(buf, prefix, i), exp, now),
                         APR_SUCCESS);
    }
}

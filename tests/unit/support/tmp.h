/*
 * tmp.h — unit-test fixture: a private temporary directory per test.
 *
 * The directory lives as long as the pool it was made in (the per-test pool
 * of aj_test.h): a pool cleanup removes it and every file in it, whether the
 * test passed or failed, so no test leaves anything in $TMPDIR.
 */
#ifndef AJ_TEST_SUPPORT_TMP_H
#define AJ_TEST_SUPPORT_TMP_H

#include <apr_pools.h>

/* A new empty directory under the system's temporary directory, removed
 * with its files when p is cleared or destroyed.  Fails the test when it
 * cannot be made. */
const char *aj_test_tmp_dir(apr_pool_t *p);

/* dir/name, for a file in a directory made by aj_test_tmp_dir. */
const char *aj_test_tmp_path(apr_pool_t *p, const char *dir, const char *name);

/* Writes len bytes of data to path (created or truncated).  Fails the test
 * on any error. */
void aj_test_write_file(apr_pool_t *p, const char *path, const void *data, apr_size_t len);

#endif /* AJ_TEST_SUPPORT_TMP_H */

/*
 * tmp.c — a private temporary directory per test (see tmp.h).
 */
#include "aj_test.h"
#include "tmp.h"

#include <apr_file_info.h>
#include <apr_file_io.h>

/* The directory is flat (tests put files in it, not folders), so removing
 * its entries and then itself is the whole clean-up. */
static apr_status_t aj_test_tmp_dir_remove(void *data)
{
    const char *dir = data;
    apr_pool_t *sub = NULL;
    apr_dir_t *d = NULL;
    apr_finfo_t fi;

    if (apr_pool_create(&sub, NULL) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    if (apr_dir_open(&d, dir, sub) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
            if (fi.filetype != APR_DIR) {
                (void)apr_file_remove(apr_pstrcat(sub, dir, "/", fi.name, NULL), sub);
            }
        }
        (void)apr_dir_close(d);
    }
    (void)apr_dir_remove(dir, sub);
    apr_pool_destroy(sub);
    return APR_SUCCESS;
}

const char *aj_test_tmp_dir(apr_pool_t *p)
{
    const char *base = NULL;
    char *dir;

    assert_int_equal(apr_temp_dir_get(&base, p), APR_SUCCESS);
    dir = apr_pstrcat(p, base, "/aj_unit_XXXXXX", NULL);
    if (!mkdtemp(dir)) {
        fail_msg("mkdtemp(%s) failed", dir);
    }
    apr_pool_cleanup_register(p, dir, aj_test_tmp_dir_remove, apr_pool_cleanup_null);
    return dir;
}

const char *aj_test_tmp_path(apr_pool_t *p, const char *dir, const char *name)
{
    return apr_pstrcat(p, dir, "/", name, NULL);
}

void aj_test_write_file(apr_pool_t *p, const char *path, const void *data, apr_size_t len)
{
    apr_file_t *f = NULL;
    apr_size_t written = 0;

    assert_int_equal(apr_file_open(&f, path,
                                   APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE,
                                   APR_FPROT_UREAD | APR_FPROT_UWRITE, p),
                     APR_SUCCESS);
    assert_int_equal(apr_file_write_full(f, data, len, &written), APR_SUCCESS);
    assert_int_equal(written, len);
    assert_int_equal(apr_file_close(f), APR_SUCCESS);
}

/*
 * aj_store_revoke.c — revocations in the store (docs/reference.md §6, §9):
 * the revoked_tokens table, and the poll that the shared revocation table
 * is refreshed from (new revocations; users whose revoke-all time or last
 * change is new).  The revoke-all time itself is written by
 * aj_store_user_set_valid_after (aj_store_users.c), a write of the user's row.
 */
#include <apr_strings.h>

#include "aj_store_int.h"

apr_status_t aj_store_revoke_get(apr_int64_t *expires_at, aj_store_t *st, apr_pool_t *p,
                                 const char *jti)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_int64_t exp = 0;
    int found = 0;

    if (aj_store_select(st, p, &res, AJ_SQL_REVOKE_GET, 1, &jti) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!found) {
            exp = aj_store_col_int(st->driver, row, 0);
            found = 1;
        }
    }
    if (!found) {
        return APR_NOTFOUND;
    }
    *expires_at = exp;
    return APR_SUCCESS;
}

apr_status_t aj_store_revoke_add(aj_store_t *st, apr_pool_t *p, const char *jti,
                                 apr_int64_t expires_at, apr_int64_t now)
{
    apr_int64_t known = 0;
    const char *args[4];
    int nrows = 0, retried = 0;

    args[0] = jti;
    args[1] = aj_store_i64(p, expires_at);
    args[2] = aj_store_i64(p, now);
    args[3] = jti;
    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REVOKE_ADD, 4, args) != 0) {
        /* A concurrent logout of the same token may have hit the key first. */
        return aj_store_revoke_get(&known, st, p, jti) == APR_SUCCESS ? APR_SUCCESS : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* A full load starts again from its first page at most this often when the
 * schema changes under it (aj_store_revoked_all). */
#define AJ_STORE_LOAD_ATTEMPTS 3

/* One page of the full load: the rows after *last (NULL: from the first),
 * each passed to fn; *rows is how many the page had, *last becomes the key
 * of its last row (a copy in `keep`).  The rows live in `page`, which the
 * caller clears after each page. */
static apr_status_t aj_store_revoke_page(int *rows, const char **last, aj_store_t *st,
                                         apr_pool_t *page, apr_pool_t *keep, const char *now_s,
                                         const char *limit_s, aj_store_revoked_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[3], *key = NULL, *jti;
    int n = 0, nargs = 0;

    if (*last) {
        args[nargs++] = *last;
    }
    args[nargs++] = now_s;
    args[nargs++] = limit_s;
    if (aj_store_select(st, page, &res, *last ? AJ_SQL_REVOKE_PAGE_NEXT : AJ_SQL_REVOKE_PAGE_FIRST,
                        nargs, args)
        != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, page, res, &row, -1) == 0) {
        ++n;
        key = apr_dbd_get_entry(st->driver, row, 0);
        jti = apr_dbd_get_entry(st->driver, row, 1);
        if (jti) {
            fn(baton, jti, aj_store_col_int(st->driver, row, 2));
        }
    }
    if (n > 0) {
        if (!key) { /* a rowid or primary key is never NULL */
            apr_cpystrn(st->last_error, "a revocation page ended in a row without a key",
                        sizeof(st->last_error));
            return APR_EGENERAL;
        }
        apr_pool_clear(keep); /* the previous key, bound above, is no longer needed */
        *last = apr_pstrdup(keep, key);
    }
    *rows = n;
    return APR_SUCCESS;
}

/*
 * sqlite3: every unexpired revocation, read in pages of st->revoke_page_rows
 * in the order of the table's rowid (aj_store.c), each page after the last
 * key of the one before.  One query for all would hold every row in memory
 * at once: apr_dbd's sqlite3 driver copies the whole result into the pool
 * before returning the first row (in sequential mode too; 1,000,000 rows:
 * about 130 MiB that the loading child keeps).  Each page's rows live in a
 * subpool cleared after it, so the memory is one page's whatever the
 * table's size.  (pgsql reads them in one query, aj_store_revoked_since:
 * its result is one PGresult too, but paging by its key costs more time
 * than that memory is worth, aj_store.c.)
 *
 * Pages are separate statements, not one snapshot.  What that changes:
 *  - A row deleted between pages (expired, pruned) is gone either way.
 *  - A row inserted between pages is read by a later page when its key is
 *    after the last one read (on sqlite3 almost always: a new row takes the
 *    highest rowid + 1), and otherwise missed -- exactly like a row
 *    committed just after a single query had read the table.  Either is a
 *    revocation recorded after the load started; the caller's next refresh
 *    reads it (auth_jwt_revtab.c: the load's watermark is the time taken
 *    before its first page, and refreshes re-read from 60 s before it).
 *  - A row that existed before the load is never skipped while keys stay
 *    what they are: jti never changes, and a rowid changes only when the
 *    table is rebuilt (VACUUM, the upgrade of an old schema), which changes
 *    the schema version.  The store's statements fail after such a change
 *    and it prepares them again, noting the new version
 *    (aj_store_reprepared); when the version moved during the load, the
 *    load starts again from the first page (the rows already passed to fn
 *    are passed again: fn must be idempotent), at most
 *    AJ_STORE_LOAD_ATTEMPTS times, and then fails.
 * Any failed page fails the whole load (the rows passed so far were real
 * revocations; the caller does not count the load as done).
 */
static apr_status_t aj_store_revoked_all(aj_store_t *st, apr_pool_t *p, apr_int64_t now,
                                         aj_store_revoked_fn *fn, void *baton)
{
    apr_pool_t *page = NULL, *keep = NULL;
    const char *now_s = aj_store_i64(p, now), *limit_s, *last;
    apr_int64_t version;
    apr_status_t rv = APR_EGENERAL;
    int attempt, rows = 0;

    if (st->revoke_page_rows < 1) {
        goto cleanup;
    }
    limit_s = aj_store_i64(p, st->revoke_page_rows);
    if (apr_pool_create(&page, p) != APR_SUCCESS || apr_pool_create(&keep, p) != APR_SUCCESS) {
        goto cleanup;
    }
    for (attempt = 0; attempt < AJ_STORE_LOAD_ATTEMPTS; ++attempt) {
        version = st->schema_version;
        last = NULL;
        do {
            rv = aj_store_revoke_page(&rows, &last, st, page, keep, now_s, limit_s, fn, baton);
            apr_pool_clear(page);
        } while (rv == APR_SUCCESS && rows == st->revoke_page_rows
                 && st->schema_version == version);
        if (rv != APR_SUCCESS || st->schema_version == version) {
            goto cleanup;
        }
    }
    apr_cpystrn(st->last_error, "the schema kept changing while the revocations were read",
                sizeof(st->last_error));
    rv = APR_EGENERAL;

cleanup:
    if (keep) {
        apr_pool_destroy(keep);
    }
    if (page) {
        apr_pool_destroy(page);
    }
    return rv;
}

apr_status_t aj_store_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                    apr_int64_t now, aj_store_revoked_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    if (since <= 0 && st->is_sqlite3) {
        return aj_store_revoked_all(st, p, now, fn, baton);
    }
    /* a refresh: few rows, found by the revoked_at index; or pgsql's full
     * load in one query (one sequential scan: paging by its key reads the
     * heap at random, aj_store.c) */
    args[0] = aj_store_i64(p, since);
    args[1] = aj_store_i64(p, now);
    if (aj_store_select(st, p, &res, AJ_SQL_REVOKE_SINCE, 2, args) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        const char *jti = apr_dbd_get_entry(st->driver, row, 0);
        if (jti) {
            fn(baton, jti, aj_store_col_int(st->driver, row, 1));
        }
    }
    return APR_SUCCESS;
}

void aj_store_set_revoke_page_rows(aj_store_t *st, int rows)
{
    st->revoke_page_rows = rows > 0 ? rows : AJ_STORE_REVOKE_PAGE_ROWS;
}

apr_status_t aj_store_users_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                          aj_store_valid_after_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

    args[0] = aj_store_i64(p, since);
    args[1] = args[0];
    if (aj_store_select(st, p, &res, AJ_SQL_USERS_REVOKED_SINCE, 2, args) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        fn(baton, aj_store_col_int(st->driver, row, 0), aj_store_col_int(st->driver, row, 1),
           aj_store_col_int(st->driver, row, 2));
    }
    return APR_SUCCESS;
}

apr_status_t aj_store_revoke_prune(int *pruned, aj_store_t *st, apr_pool_t *p, apr_int64_t now)
{
    const char *now_s = aj_store_i64(p, now);
    int nrows = 0, retried = 0;

    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REVOKE_PRUNE, 1, &now_s) != 0) {
        return APR_EGENERAL;
    }
    *pruned = nrows;
    return APR_SUCCESS;
}

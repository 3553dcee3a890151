/*
 * aj_store_revoke.c — revocations in the store (docs/reference.md §6, §9):
 * the revoked_tokens table, and the poll that the shared revocation table
 * is refreshed from (new revocations; users whose revoke-all time or last
 * change is new).  The revoke-all time itself is written by
 * aj_store_user_set_valid_after (aj_store_users.c), a write of the user's row.
 */
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

apr_status_t aj_store_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                    apr_int64_t now, aj_store_revoked_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[2];

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

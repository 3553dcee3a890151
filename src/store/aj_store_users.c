/*
 * aj_store_users.c — the users table (docs/reference.md §6): look-ups,
 * insert, the writes that change one user's row, the listing, and the
 * highest stored bcrypt cost.
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_store_int.h"
#include "aj_password.h"

static void aj_store_read_user(aj_user_t *u, const aj_store_t *st, apr_dbd_row_t *row,
                               apr_pool_t *p)
{
    u->id = aj_store_col_int(st->driver, row, 0);
    u->username = aj_store_col_str(st->driver, row, 1, p, "");
    u->password_hash = aj_store_col_str(st->driver, row, 2, p, "");
    u->claims_json = aj_store_col_str(st->driver, row, 3, p, "{}");
    u->tokens_valid_after = aj_store_col_int(st->driver, row, 4);
    u->created_at = aj_store_col_int(st->driver, row, 5);
    u->changed_at = aj_store_col_int(st->driver, row, 6);
}

/* Runs a one-parameter user SELECT; drains every row. */
static apr_status_t aj_store_user_select(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                         aj_sql_e which, const char *arg)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    aj_user_t *u = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (aj_store_select(st, p, &res, which, 1, &arg) != 0) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!u) {
            u = apr_pcalloc(p, sizeof(*u));
            aj_store_read_user(u, st, row, p);
        }
    }
    if (!u) {
        rv = APR_NOTFOUND;
        goto cleanup;
    }
    *user = u;

cleanup:
    return rv;
}

apr_status_t aj_store_user_by_name(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                   const char *username)
{
    return aj_store_user_select(user, p, st, AJ_SQL_USER_BY_NAME, username);
}

apr_status_t aj_store_user_by_id(aj_user_t **user, apr_pool_t *p, aj_store_t *st, apr_int64_t id)
{
    return aj_store_user_select(user, p, st, AJ_SQL_USER_BY_ID,
                                apr_psprintf(p, "%" APR_INT64_T_FMT, id));
}

apr_status_t aj_store_user_add(apr_int64_t *id, apr_pool_t *p, aj_store_t *st, const char *username,
                               const char *password_hash, const char *claims_json, apr_int64_t now)
{
    aj_user_t *u = NULL;
    apr_status_t rv;
    const char *args[5];
    int nrows = 0, retried = 0;
    int ret;

    args[0] = username;
    args[1] = password_hash;
    args[2] = claims_json ? claims_json : "{}";
    args[3] = apr_psprintf(p, "%" APR_INT64_T_FMT, now);
    args[4] = username;
    ret = aj_store_exec(st, p, &nrows, &retried, AJ_SQL_USER_INSERT, 5, args);
    if (ret != 0 || nrows != 1) {
        /* Zero rows: the name exists.  An error: maybe a concurrent insert of
         * the same name hit the UNIQUE constraint (pgsql); tell the two apart
         * by looking.  After a retry the row may be our own first attempt,
         * committed just before its connection dropped: a bcrypt hash is
         * salted, so the same hash means the same insert. */
        rv = aj_store_user_by_name(&u, p, st, username);
        if (rv == APR_SUCCESS && retried && ret == 0 && !strcmp(u->password_hash, password_hash)) {
            *id = u->id;
            goto cleanup;
        }
        if (rv == APR_SUCCESS) {
            rv = APR_EEXIST;
        }
        else if (rv == APR_NOTFOUND) {
            rv = APR_EGENERAL;
        }
        goto cleanup;
    }
    rv = aj_store_user_by_name(&u, p, st, username);
    if (rv == APR_NOTFOUND) {
        rv = APR_EGENERAL; /* inserted and gone: deleted concurrently */
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *id = u->id;

cleanup:
    return rv;
}

/* Runs an UPDATE/DELETE that must touch exactly the one row of user id;
 * its arguments are a1 and those of a2..a4 up to the first NULL. */
#define AJ_USER_WRITE_MAX_ARGS 4
static apr_status_t aj_store_user_write(aj_store_t *st, apr_pool_t *p, aj_sql_e which,
                                        const char *a1, const char *a2, const char *a3,
                                        const char *a4)
{
    const char *args[AJ_USER_WRITE_MAX_ARGS];
    int nargs = 0, nrows = 0, retried = 0;

    args[nargs++] = a1;
    if (a2) {
        args[nargs++] = a2;
        if (a3) {
            args[nargs++] = a3;
            if (a4) {
                args[nargs++] = a4;
            }
        }
    }
    if (aj_store_exec(st, p, &nrows, &retried, which, nargs, args) != 0) {
        return APR_EGENERAL;
    }
    return nrows == 1 ? APR_SUCCESS : APR_NOTFOUND;
}

apr_status_t aj_store_user_set_password(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                        const char *password_hash, apr_int64_t valid_after,
                                        apr_int64_t now)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_PASSWORD, password_hash,
                               aj_store_i64(p, valid_after), aj_store_i64(p, now),
                               aj_store_i64(p, id));
}

apr_status_t aj_store_user_set_claims(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                      const char *claims_json, apr_int64_t now)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_CLAIMS, claims_json, aj_store_i64(p, now),
                               aj_store_i64(p, id), NULL);
}

apr_status_t aj_store_user_set_valid_after(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                           apr_int64_t valid_after)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_SET_VALID_AFTER, aj_store_i64(p, valid_after),
                               aj_store_i64(p, id), NULL, NULL);
}

apr_status_t aj_store_user_delete(aj_store_t *st, apr_pool_t *p, apr_int64_t id)
{
    return aj_store_user_write(st, p, AJ_SQL_USER_DELETE, aj_store_i64(p, id), NULL, NULL, NULL);
}

apr_status_t aj_store_user_each(aj_store_t *st, apr_pool_t *p, aj_store_user_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int stop = 0;

    if (aj_store_select(st, p, &res, AJ_SQL_USER_LIST, 0, NULL) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (!stop) {
            aj_user_t u;
            aj_store_read_user(&u, st, row, p);
            stop = fn(baton, &u);
        }
    }
    return APR_SUCCESS;
}

/* ---- password hashes ------------------------------------------------------ */

apr_status_t aj_store_max_bcrypt_cost(int *cost, aj_store_t *st, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int max = 0, c;

    if (aj_store_select(st, p, &res, AJ_SQL_BCRYPT_PREFIXES, 0, NULL) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        c = aj_password_bcrypt_cost(apr_dbd_get_entry(st->driver, row, 0));
        if (c > max) {
            max = c;
        }
    }
    *cost = max;
    return APR_SUCCESS;
}

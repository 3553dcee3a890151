/*
 * aj_store_refresh.c — refresh tokens and their families in the store
 * (docs/reference.md §12; API in include/aj_store_refresh.h, SQL in the
 * statement table of aj_store.c, tables in aj_store_schema.c).
 *
 * The model (OAuth 2.0 Security BCP, RFC 9700 §4.14.2, rotation with
 * reuse detection):
 *  - A password login starts a family: an id (the `sid` claim of every
 *    access token minted from it), the user, the login's auth_time, and an
 *    end (auth_time + AuthJWTMaxSessionAge) that no token of the family
 *    outlives.  The login gets the family's first refresh token.
 *  - Rotation: presenting a refresh token consumes it and yields the next
 *    one of the same family (and a new access token).  Each token is good
 *    for one use; only its SHA-256 is stored.
 *  - Reuse: a consumed token presented again means two parties held it,
 *    and the server cannot tell which is the thief, so the whole family is
 *    revoked: its unused tokens are spent and its access tokens refused
 *    (a revoked_tokens row keyed AJ_REFRESH_SID_PREFIX + family, which the
 *    revocation poll carries to every node).  The user logs in again.
 *  - Races: the consume is ONE conditional UPDATE (unused, unexpired, the
 *    family live) whose affected-row count is the verdict.  The database
 *    serialises writes to one row, so of concurrent consumers of one token
 *    exactly one sees 1 row; the others see 0 and, reading the row after,
 *    find it used: to them it is a reuse, as the BCP says it must be (two
 *    presentations of one token), and their caller revokes the family.
 *    Nothing is decided on a read made before the write.
 *  - Logout (or reuse) racing a rotation: revoking writes the family's
 *    revoked_at first; a consume that ran before it is followed by an
 *    issue that inserts only into a live family, so the rotation fails
 *    (401) or, when it finished first, its access token dies with the
 *    family's sid.  Revoking also marks every unused token used, so the
 *    table shows the family spent to anyone reading it.
 *
 * Each write is one autocommitted statement, as everywhere in the store:
 * a pgsql connection that dropped is reset and the statement run once more
 * (aj_store_exec), which is why the inserts skip rows that exist and why a
 * consume that was run twice and found nothing to update cannot tell who
 * consumed the token (APR_EGENERAL, see aj_store_refresh_consume).
 */
#include <string.h>

#include <apr_strings.h>

#include "aj_refresh.h"
#include "aj_store_int.h"
#include "aj_store_refresh.h"

/* Columns of AJ_SQL_REFRESH_GET. */
enum {
    AJ_TOKEN_COL_FAMILY,
    AJ_TOKEN_COL_USER_ID,
    AJ_TOKEN_COL_EXPIRES_AT,
    AJ_TOKEN_COL_USED, /* 1 when used_at is set */
    AJ_TOKEN_COL_AUTH_TIME,
    AJ_TOKEN_COL_FAMILY_END,
    AJ_TOKEN_COL_FAMILY_FOUND, /* 1 when the family's row exists (a LEFT JOIN) */
    AJ_TOKEN_COL_REVOKED       /* 1 when the family is revoked */
};

/* Columns of AJ_SQL_REFRESH_FAMILY_GET. */
enum { AJ_FAMILY_COL_USER_ID, AJ_FAMILY_COL_AUTH_TIME, AJ_FAMILY_COL_END, AJ_FAMILY_COL_REVOKED };

/* The longest family id: its sid key must fit a jti of the revocation
 * table (AJ_JTI_MAX_LEN). */
#define AJ_FAMILY_MAX_LEN (AJ_JTI_MAX_LEN - (sizeof(AJ_REFRESH_SID_PREFIX) - 1))

/* A token's row as AJ_SQL_REFRESH_GET reads it. */
typedef struct {
    aj_refresh_family_t fam;
    apr_int64_t expires_at;
    int used;         /* used_at is set */
    int family_found; /* the family's row exists */
    int family_revoked;
} aj_refresh_row_t;

/* Non-zero for what aj_refresh_token_hash makes (64 lowercase hex digits):
 * anything else, a raw token above all, is refused before it reaches SQL. */
static int aj_refresh_hash_ok(const char *hash)
{
    return hash && strlen(hash) == AJ_REFRESH_HASH_LEN
           && strspn(hash, "0123456789abcdef") == AJ_REFRESH_HASH_LEN;
}

static int aj_refresh_family_ok(const char *family)
{
    return family && *family && strlen(family) <= AJ_FAMILY_MAX_LEN;
}

/* The row of a token by its hash; *found 0 when there is none. */
static apr_status_t aj_refresh_row(aj_refresh_row_t *out, int *found, aj_store_t *st, apr_pool_t *p,
                                   const char *hash)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    aj_refresh_row_t r;
    const apr_dbd_driver_t *d = st->driver;
    int n = 0;

    memset(&r, 0, sizeof(r));
    if (aj_store_select(st, p, &res, AJ_SQL_REFRESH_GET, 1, &hash) != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(d, p, res, &row, -1) == 0) {
        if (n++ > 0) {
            continue; /* hash is the primary key: one row at most */
        }
        r.fam.family = aj_store_col_str(d, row, AJ_TOKEN_COL_FAMILY, p, "");
        r.fam.user_id = aj_store_col_int(d, row, AJ_TOKEN_COL_USER_ID);
        r.expires_at = aj_store_col_int(d, row, AJ_TOKEN_COL_EXPIRES_AT);
        r.used = aj_store_col_int(d, row, AJ_TOKEN_COL_USED) != 0;
        r.fam.auth_time = aj_store_col_int(d, row, AJ_TOKEN_COL_AUTH_TIME);
        r.fam.expires_at = aj_store_col_int(d, row, AJ_TOKEN_COL_FAMILY_END);
        r.family_found = aj_store_col_int(d, row, AJ_TOKEN_COL_FAMILY_FOUND) != 0;
        r.family_revoked = aj_store_col_int(d, row, AJ_TOKEN_COL_REVOKED) != 0;
    }
    *out = r;
    *found = n > 0;
    return APR_SUCCESS;
}

apr_status_t aj_store_refresh_family_add(aj_store_t *st, apr_pool_t *p,
                                         const aj_refresh_family_t *fam)
{
    const char *args[5];
    int nrows = 0, retried = 0;
    apr_status_t rv = APR_EINVAL;

    if (!fam || !aj_refresh_family_ok(fam->family)) {
        goto cleanup;
    }
    args[0] = fam->family;
    args[1] = aj_store_i64(p, fam->user_id);
    args[2] = aj_store_i64(p, fam->auth_time);
    args[3] = aj_store_i64(p, fam->expires_at);
    args[4] = fam->family;
    rv = APR_EGENERAL;
    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REFRESH_FAMILY_ADD, 5, args) != 0) {
        goto cleanup;
    }
    rv = APR_SUCCESS;
    if (nrows == 0) {
        /* after a reconnect, the first attempt may be the one that wrote it */
        rv = retried && aj_store_refresh_family_get(NULL, NULL, st, p, fam->family) == APR_SUCCESS
                 ? APR_SUCCESS
                 : APR_EEXIST;
    }

cleanup:
    return rv;
}

apr_status_t aj_store_refresh_family_get(aj_refresh_family_t **fam, apr_int64_t *revoked_at,
                                         aj_store_t *st, apr_pool_t *p, const char *family)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    aj_refresh_family_t *f = NULL;
    apr_int64_t revoked = 0;
    apr_status_t rv = APR_EINVAL;

    if (!aj_refresh_family_ok(family)) {
        goto cleanup;
    }
    rv = APR_EGENERAL;
    if (aj_store_select(st, p, &res, AJ_SQL_REFRESH_FAMILY_GET, 1, &family) != 0) {
        goto cleanup;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        if (f) {
            continue; /* family is the primary key: one row at most */
        }
        f = apr_pcalloc(p, sizeof(*f));
        f->family = apr_pstrdup(p, family);
        f->user_id = aj_store_col_int(st->driver, row, AJ_FAMILY_COL_USER_ID);
        f->auth_time = aj_store_col_int(st->driver, row, AJ_FAMILY_COL_AUTH_TIME);
        f->expires_at = aj_store_col_int(st->driver, row, AJ_FAMILY_COL_END);
        revoked = aj_store_col_int(st->driver, row, AJ_FAMILY_COL_REVOKED);
    }
    rv = f ? APR_SUCCESS : APR_NOTFOUND;
    if (f && fam) {
        *fam = f;
    }
    if (f && revoked_at) {
        *revoked_at = revoked;
    }

cleanup:
    return rv;
}

apr_status_t aj_store_refresh_issue(apr_int64_t *expires_at, aj_store_t *st, apr_pool_t *p,
                                    const aj_refresh_family_t *fam, const char *hash,
                                    apr_int64_t lifetime, apr_int64_t now)
{
    aj_refresh_row_t row;
    apr_int64_t exp;
    const char *args[5];
    int nrows = 0, retried = 0, found = 0;
    apr_status_t rv = APR_EINVAL;

    if (!fam || !aj_refresh_family_ok(fam->family) || !aj_refresh_hash_ok(hash) || lifetime <= 0) {
        goto cleanup;
    }
    /* never past the family's end (docs/reference.md §12: refresh_expires_in never
     * reaches past AuthJWTMaxSessionAge) */
    exp = lifetime < fam->expires_at - now ? now + lifetime : fam->expires_at;
    args[0] = hash;
    args[1] = aj_store_i64(p, exp);
    args[2] = fam->family;
    args[3] = aj_store_i64(p, now);
    args[4] = hash;
    rv = APR_EGENERAL;
    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REFRESH_ISSUE, 5, args) != 0) {
        goto cleanup;
    }
    if (nrows == 0 && retried) {
        /* the first attempt may have inserted it before the connection dropped */
        if (aj_refresh_row(&row, &found, st, p, hash) != APR_SUCCESS) {
            goto cleanup;
        }
        nrows = found && !strcmp(row.fam.family, fam->family);
    }
    rv = nrows ? APR_SUCCESS : APR_NOTFOUND;
    if (rv == APR_SUCCESS) {
        *expires_at = exp;
    }

cleanup:
    return rv;
}

/* The verdict on a token that this call did not consume, from its row read
 * after the write; -1 when the row explains nothing (it changed since). */
static int aj_refresh_refusal(const aj_refresh_row_t *row, int found, apr_int64_t now)
{
    if (!found || !row->family_found) {
        return AJ_REFRESH_UNKNOWN;
    }
    if (row->used || row->family_revoked) {
        return AJ_REFRESH_REUSED;
    }
    if (row->expires_at <= now || row->fam.expires_at <= now) {
        return AJ_REFRESH_EXPIRED;
    }
    return -1;
}

apr_status_t aj_store_refresh_consume(aj_refresh_verdict_e *verdict, aj_refresh_family_t **fam,
                                      aj_store_t *st, apr_pool_t *p, const char *hash,
                                      apr_int64_t now)
{
    aj_refresh_row_t row;
    const char *args[4];
    int nrows = 0, retried = 0, found = 0, v;
    apr_status_t rv = APR_EINVAL;

    if (!aj_refresh_hash_ok(hash)) {
        goto cleanup;
    }
    args[0] = aj_store_i64(p, now);
    args[1] = hash;
    args[2] = args[0];
    args[3] = args[0];
    rv = APR_EGENERAL;
    /* The decision: one conditional write, judged by its row count. */
    if (aj_store_exec(st, p, &nrows, &retried, AJ_SQL_REFRESH_CONSUME, 4, args) != 0) {
        goto cleanup;
    }
    if (nrows == 0 && retried) {
        goto cleanup; /* the first attempt may have been ours: unknowable */
    }
    /* What the write decided, explained (and the family told) by the row. */
    if (aj_refresh_row(&row, &found, st, p, hash) != APR_SUCCESS) {
        goto cleanup;
    }
    if (nrows > 0) {
        v = found && row.family_found ? AJ_REFRESH_OK : -1;
    }
    else {
        v = aj_refresh_refusal(&row, found, now);
    }
    if (v < 0) {
        goto cleanup; /* changed between the write and the read: 503, not a guess */
    }
    rv = APR_SUCCESS;
    *verdict = (aj_refresh_verdict_e)v;
    if (v != AJ_REFRESH_UNKNOWN) {
        *fam = apr_pmemdup(p, &row.fam, sizeof(row.fam));
    }

cleanup:
    return rv;
}

/* The writes of a revocation, for one family or for every family of a
 * user: the statements, each bound with the same key (family id or user
 * id) at the same place. */
typedef struct {
    aj_sql_e revoke; /* families: revoked_at = now */
    aj_sql_e use;    /* their unused tokens: used_at = now */
    aj_sql_e sid;    /* their sids into revoked_tokens */
} aj_refresh_revocation_t;

static const aj_refresh_revocation_t aj_refresh_by_family = { AJ_SQL_REFRESH_REVOKE_FAMILY,
                                                              AJ_SQL_REFRESH_USE_FAMILY,
                                                              AJ_SQL_REFRESH_SID_FAMILY };
static const aj_refresh_revocation_t aj_refresh_by_user = { AJ_SQL_REFRESH_REVOKE_USER,
                                                            AJ_SQL_REFRESH_USE_USER,
                                                            AJ_SQL_REFRESH_SID_USER };

/* Runs the writes of a revocation in their order: the families first (from
 * then on no consume and no issue succeeds), then their tokens, then the
 * rows the revocation poll carries to other nodes.  *families: how many
 * families this call revoked. */
static apr_status_t aj_refresh_revoke(int *families, aj_store_t *st, apr_pool_t *p,
                                      const aj_refresh_revocation_t *by, const char *key,
                                      apr_int64_t access_lifetime, apr_int64_t now)
{
    const char *now_s = aj_store_i64(p, now), *lifetime_s = aj_store_i64(p, access_lifetime);
    const char *mark[2], *sid[5];
    int revoked = 0, nrows = 0, retried = 0;

    mark[0] = now_s;
    mark[1] = key;
    sid[0] = lifetime_s;
    sid[1] = now_s;
    sid[2] = key;
    sid[3] = lifetime_s;
    sid[4] = now_s;
    if (aj_store_exec(st, p, &revoked, &retried, by->revoke, 2, mark) != 0
        || aj_store_exec(st, p, &nrows, &retried, by->use, 2, mark) != 0
        || aj_store_exec(st, p, &nrows, &retried, by->sid, 5, sid) != 0) {
        return APR_EGENERAL;
    }
    *families = revoked;
    return APR_SUCCESS;
}

apr_status_t aj_store_refresh_revoke_family(const char **sid_key, apr_int64_t *until,
                                            aj_store_t *st, apr_pool_t *p, const char *family,
                                            apr_int64_t access_lifetime, apr_int64_t now)
{
    aj_refresh_family_t *fam = NULL;
    int revoked = 0;
    apr_status_t rv;

    rv = aj_store_refresh_family_get(&fam, NULL, st, p, family);
    if (rv == APR_SUCCESS) {
        rv =
            aj_refresh_revoke(&revoked, st, p, &aj_refresh_by_family, family, access_lifetime, now);
    }
    if (rv == APR_SUCCESS) {
        *sid_key = aj_refresh_sid_key(p, fam->family);
        *until = fam->expires_at + access_lifetime;
    }
    return rv;
}

apr_status_t aj_store_refresh_revoke_user(int *revoked, aj_store_t *st, apr_pool_t *p,
                                          apr_int64_t user_id, apr_int64_t access_lifetime,
                                          apr_int64_t now, aj_store_refresh_sid_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *uid_s = aj_store_i64(p, user_id);
    const char *live[4];
    int families = 0;
    apr_status_t rv;

    rv = aj_refresh_revoke(&families, st, p, &aj_refresh_by_user, uid_s, access_lifetime, now);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    live[0] = aj_store_i64(p, access_lifetime);
    live[1] = uid_s;
    live[2] = live[0];
    live[3] = aj_store_i64(p, now);
    if (aj_store_select(st, p, &res, AJ_SQL_REFRESH_REVOKED_OF_USER, 4, live) != 0) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    while (apr_dbd_get_row(st->driver, p, res, &row, -1) == 0) {
        const char *family = apr_dbd_get_entry(st->driver, row, 0);
        if (family && *family && fn) {
            fn(baton, aj_refresh_sid_key(p, family), aj_store_col_int(st->driver, row, 1));
        }
    }
    *revoked = families;

cleanup:
    return rv;
}

apr_status_t aj_store_refresh_prune(int *pruned, aj_store_t *st, apr_pool_t *p, apr_int64_t now)
{
    const char *now_s = aj_store_i64(p, now);
    int tokens = 0, families = 0, retried = 0;
    apr_status_t rv = APR_EGENERAL;

    /* tokens first: a family is pruned only once it has none left */
    if (aj_store_exec(st, p, &tokens, &retried, AJ_SQL_REFRESH_PRUNE_TOKENS, 1, &now_s) != 0
        || aj_store_exec(st, p, &families, &retried, AJ_SQL_REFRESH_PRUNE_FAMILIES, 1, &now_s)
               != 0) {
        goto cleanup;
    }
    rv = APR_SUCCESS;
    *pruned = tokens + families;

cleanup:
    return rv;
}

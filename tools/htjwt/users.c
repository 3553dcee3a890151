/*
 * htjwt: the DB commands (add, passwd, del, list, claims, revoke-all) and the
 * database helpers that sign -u uses too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include "aj_issue.h"
#include "aj_json.h"
#include "aj_password.h"
#include "aj_store.h"
#include "aj_store_refresh.h"
#include "aj_user.h"
#include "htjwt.h"
#include "aj.h"

/* ---- the database ------------------------------------------------------- */

static int htjwt_is_sqlite(const char *driver)
{
    return !strcmp(driver, "sqlite3");
}

/* Opens the store.  may_create: a missing SQLite file is created (add);
 * every other command refuses a missing file, so a typo in DB does not
 * quietly make an empty database. */
int htjwt_db_open(htjwt_db_t *db, apr_pool_t *p, const char *driver, const char *params,
                  int may_create)
{
    const char *what = htjwt_is_sqlite(driver) ? apr_psprintf(p, "database %s", params)
                                               : apr_psprintf(p, "the %s database", driver);
    const char *err = NULL;
    struct stat sb;
    apr_status_t rv;

    memset(db, 0, sizeof(*db));
    rv = apr_dbd_init(p);
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "cannot initialise apr_dbd");
    }
    rv = apr_dbd_get_driver(p, driver, &db->driver);
    if (rv == APR_ENOTIMPL || rv == APR_EDSOOPEN) {
        return htjwt_err(HTJWT_EFILE,
                         "the apr_dbd driver '%s' is not installed "
                         "(Debian: libaprutil1-dbd-%s)",
                         driver, driver);
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "cannot load the apr_dbd driver '%s'", driver);
    }
    if (htjwt_is_sqlite(driver)) {
        char *dir = apr_pstrdup(p, params), *slash = strrchr(dir, '/');

        db->path = params;
        if (!*params) {
            return htjwt_syntax("DB must name a file");
        }
        if (stat(params, &sb) == 0) {
            if (!S_ISREG(sb.st_mode)) {
                return htjwt_err(HTJWT_EINVALID, "%s is not a regular file", params);
            }
            db->existed = 1;
            db->uid = sb.st_uid;
            db->gid = sb.st_gid;
        }
        else if (errno != ENOENT) {
            return htjwt_err(HTJWT_EFILE, "cannot use %s: %s", params, strerror(errno));
        }
        else if (!may_create) {
            return htjwt_err(HTJWT_EFILE, "%s does not exist (add creates it)", params);
        }
        else {
            /* A new file belongs to whoever owns its directory (the user
             * httpd runs as, when the directory was prepared for it). */
            if (slash) {
                *(slash == dir ? slash + 1 : slash) = '\0';
            }
            if (stat(slash ? dir : ".", &sb) != 0) {
                return htjwt_err(HTJWT_EFILE, "cannot use the directory of %s: %s", params,
                                 strerror(errno));
            }
            db->uid = sb.st_uid;
            db->gid = sb.st_gid;
        }
    }
    rv = apr_dbd_open_ex(db->driver, p, params, &db->handle, &err);
    if (rv != APR_SUCCESS || !db->handle) {
        db->handle = NULL;
        return htjwt_err(HTJWT_EFILE, "cannot open %s: %s", what, err ? err : "failed");
    }
    rv = aj_store_open(&db->st, &err, p, db->driver, db->handle);
    if (rv != APR_SUCCESS) {
        int code = (err && strstr(err, "not a database")) ? HTJWT_EINVALID : HTJWT_EFILE;
        return htjwt_err(code, "cannot use %s: %s", what, err ? err : "failed");
    }
    return HTJWT_OK;
}

/* Closes the connection; as root, keeps the SQLite files owned by the
 * database's owner (SQLite creates -wal/-shm as whoever opens it first). */
void htjwt_db_close(htjwt_db_t *db, apr_pool_t *p)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    apr_size_t i;
    struct stat sb;

    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    if (!db->path || geteuid() != 0) {
        return;
    }
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); ++i) {
        const char *f = apr_pstrcat(p, db->path, suffixes[i], NULL);
        if (lstat(f, &sb) == 0 && S_ISREG(sb.st_mode)
            && (sb.st_uid != db->uid || sb.st_gid != db->gid)) {
            if (chown(f, db->uid, db->gid) != 0) {
                htjwt_err(HTJWT_EFILE, "warning: cannot give %s to uid %ld: %s", f, (long)db->uid,
                          strerror(errno));
            }
        }
    }
}

/* The stored user; HTJWT_EUSER when there is none. */
static int htjwt_find_user(aj_user_t **user, apr_pool_t *p, htjwt_db_t *db, const char *name)
{
    apr_status_t rv;

    if (strlen(name) > AJ_USERNAME_MAX_LEN) {
        return htjwt_err(HTJWT_EUSER, "user %s not found", name);
    }
    rv = aj_store_user_by_name(user, p, db->st, name);
    if (rv == APR_NOTFOUND) {
        return htjwt_err(HTJWT_EUSER, "user %s not found", name);
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "reading user %s failed: %s", name,
                         aj_store_error(db->st, (int)rv));
    }
    return HTJWT_OK;
}

int htjwt_open_user(htjwt_db_t *db, aj_user_t **user, htjwt_ctx_t *cx, const char *params,
                    const char *name)
{
    int rc = htjwt_db_open(db, cx->pool, cx->driver, params, 0);

    if (rc == HTJWT_OK) {
        rc = htjwt_find_user(user, cx->pool, db, name);
    }
    return rc;
}

/* The exit code of a store write on user `name`: not found (EUSER), a
 * database failure (EFILE, saying what was being done), or OK after
 * telling the operator what was `done` (a line on stderr). */
static int htjwt_written(htjwt_db_t *db, apr_status_t rv, const char *name, const char *doing,
                         const char *done)
{
    if (rv == APR_NOTFOUND) {
        return htjwt_err(HTJWT_EUSER, "user %s not found", name);
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "%s failed: %s", doing, aj_store_error(db->st, (int)rv));
    }
    fputs(done, stderr);
    return HTJWT_OK;
}

/* What a DB command does to the stored user it names (`name`), the
 * database open; `value` is the command's own (claims: the new JSON). */
typedef int htjwt_user_fn(htjwt_ctx_t *cx, htjwt_db_t *db, const aj_user_t *user, const char *name,
                          const char *value);

/* The frame of the DB commands on one existing user (passwd, del, claims,
 * revoke-all): opens DB, finds USER (the first argument), runs fn, closes. */
static int htjwt_on_user(htjwt_ctx_t *cx, htjwt_user_fn *fn, const char *value)
{
    const char *name = htjwt_arg(cx, 0);
    aj_user_t *user = NULL;
    htjwt_db_t db;
    int rc = htjwt_open_user(&db, &user, cx, cx->db, name);

    if (rc == HTJWT_OK) {
        rc = fn(cx, &db, user, name, value);
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

/* The value of tokens_valid_after that revokes every token issued so far:
 * the server's rule. */
static apr_int64_t htjwt_revoke_all_value(void)
{
    return aj_issue_revoke_all_value(htjwt_now());
}

/* How long past a family's end one of its access tokens may still verify,
 * as aj_store_refresh_revoke_user takes it (its access_lifetime): the
 * family's revocation row in revoked_tokens lasts until the family's end
 * plus this.  The module caps the exp of every access token that carries
 * a family's sid at the family's end (docs/reference.md §12), so what is
 * left is the clock skew a verifier allows, at most the largest
 * AuthJWTLeeway: the value the module passes when it revokes a family. */
#define HTJWT_FAMILY_AFTER_END HTJWT_MAX_LEEWAY

/* Revokes every refresh-token family of the user (revoke-all, passwd, del:
 * docs/reference.md §12): its refresh tokens are refused, and so are the
 * access tokens minted from them (their sid).  Runs before the user's own
 * row changes, so that when it fails nothing was written.  *families: how
 * many were live until now. */
static int htjwt_revoke_families(int *families, htjwt_ctx_t *cx, htjwt_db_t *db,
                                 const aj_user_t *user, const char *name)
{
    apr_status_t rv = aj_store_refresh_revoke_user(families, db->st, cx->pool, user->id,
                                                   HTJWT_FAMILY_AFTER_END, htjwt_now(), NULL, NULL);

    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "revoking the refresh tokens of user %s failed: %s", name,
                         aj_store_error(db->st, (int)rv));
    }
    return HTJWT_OK;
}

/* "1 refresh token family", "2 refresh token families" */
static const char *htjwt_families_text(apr_pool_t *p, int n)
{
    return apr_psprintf(p, "%d refresh token %s", n, n == 1 ? "family" : "families");
}

/* ---- claims ------------------------------------------------------------- */

/* Validates a claims object given on the command line: a JSON object within
 * the body limits and AJ_CLAIMS_MAX_LEN, no reserved claim names.  *obj is
 * the parsed object. */
int htjwt_check_claims(json_object **obj, apr_pool_t *p, const char *json)
{
    apr_size_t len = strlen(json);
    json_object *o = NULL;
    apr_status_t rv;

    if (len > AJ_CLAIMS_MAX_LEN) {
        return htjwt_err(HTJWT_ETOOLONG, "claims are longer than %d bytes", AJ_CLAIMS_MAX_LEN);
    }
    rv = aj_json_parse(&o, p, json, len, &aj_json_body_limits);
    if (rv == AJ_E2BIG) {
        return htjwt_err(HTJWT_ETOOLONG, "claims are too long");
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EILLEGAL,
                         "claims must be one JSON object (valid JSON, no "
                         "duplicate names, nested at most %d deep), e.g. "
                         "'{\"role\":\"admin\",\"scope\":\"read write\"}'",
                         AJ_JSON_MAX_DEPTH);
    }
    { json_object_object_foreach(o, name, val){ (void)val;
    if (aj_claims_is_reserved(name)) {
        return htjwt_err(HTJWT_EILLEGAL,
                         "claim \"%s\" is reserved: the issuer sets "
                         "it (reserved: %s)",
                         name, aj_claims_reserved_names(p));
    }
}
}
*obj = o;
return HTJWT_OK;
}

/* ---- DB commands -------------------------------------------------------- */

static int htjwt_check_username(const char *name)
{
    const char *problem;

    if (strlen(name) > AJ_USERNAME_MAX_LEN) {
        return htjwt_err(HTJWT_ETOOLONG, "the username is longer than %d bytes",
                         AJ_USERNAME_MAX_LEN);
    }
    problem = aj_user_name_problem(name, strlen(name));
    if (problem) {
        return htjwt_err(HTJWT_EILLEGAL, "%s", problem);
    }
    return HTJWT_OK;
}

int htjwt_cmd_add(htjwt_ctx_t *cx)
{
    const char *name = htjwt_arg(cx, 0), *pw = NULL, *hash = NULL;
    htjwt_db_t db;
    apr_int64_t id = 0;
    apr_status_t rv;
    int rc;

    if ((rc = htjwt_check_username(name)) != HTJWT_OK
        || (rc = htjwt_get_password(&pw, cx, htjwt_arg(cx, 1))) != HTJWT_OK) {
        return rc;
    }
    rv = aj_password_hash(&hash, cx->pool, pw, cx->cost);
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "hashing the password failed");
    }
    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 1);
    if (rc == HTJWT_OK) {
        rv = aj_store_user_add(&id, cx->pool, db.st, name, hash, "{}", htjwt_now());
        if (rv == APR_EEXIST) {
            rc = htjwt_err(HTJWT_EUSER, "user %s exists (passwd changes the password)", name);
        }
        else if (rv != APR_SUCCESS) {
            rc = htjwt_err(HTJWT_EFILE, "adding user %s failed: %s", name,
                           aj_store_error(db.st, (int)rv));
        }
        else {
            fprintf(stderr, "Adding user %s (id %" APR_INT64_T_FMT ")\n", name, id);
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

/* passwd: asks for the password only once the user is known. */
static int htjwt_set_password(htjwt_ctx_t *cx, htjwt_db_t *db, const aj_user_t *user,
                              const char *name, const char *value)
{
    const char *pw = NULL, *hash = NULL;
    apr_status_t rv;
    int families = 0;
    int rc = htjwt_get_password(&pw, cx, htjwt_arg(cx, 1));

    if (rc != HTJWT_OK) {
        return rc;
    }
    if (aj_password_hash(&hash, cx->pool, pw, cx->cost) != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "hashing the password failed");
    }
    /* Like the server's password change: earlier tokens and every
     * refresh token family are revoked. */
    if ((rc = htjwt_revoke_families(&families, cx, db, user, name)) != HTJWT_OK) {
        return rc;
    }
    rv = aj_store_user_set_password(db->st, cx->pool, user->id, hash, htjwt_revoke_all_value(),
                                    htjwt_now());
    return htjwt_written(db, rv, name, apr_psprintf(cx->pool, "updating user %s", name),
                         apr_psprintf(cx->pool,
                                      "Updating password for user %s; tokens issued "
                                      "before now and %s are revoked\n",
                                      name, htjwt_families_text(cx->pool, families)));
}

int htjwt_cmd_passwd(htjwt_ctx_t *cx)
{
    return htjwt_on_user(cx, htjwt_set_password, NULL);
}

static int htjwt_delete(htjwt_ctx_t *cx, htjwt_db_t *db, const aj_user_t *user, const char *name,
                        const char *value)
{
    apr_status_t rv;
    int families = 0;
    int rc = htjwt_revoke_families(&families, cx, db, user, name);

    if (rc != HTJWT_OK) {
        return rc;
    }
    rv = aj_store_user_delete(db->st, cx->pool, user->id);
    return htjwt_written(db, rv, name, apr_psprintf(cx->pool, "deleting user %s", name),
                         apr_psprintf(cx->pool,
                                      "Deleting user %s (id %" APR_INT64_T_FMT
                                      ") and revoking %s; other tokens already "
                                      "issued stay valid until they expire\n",
                                      name, user->id, htjwt_families_text(cx->pool, families)));
}

int htjwt_cmd_del(htjwt_ctx_t *cx)
{
    return htjwt_on_user(cx, htjwt_delete, NULL);
}

static int htjwt_list_one(void *baton, const aj_user_t *u)
{
    char created[HTJWT_TIME_BUF], after[HTJWT_TIME_BUF];

    (void)baton;
    printf("%" APR_INT64_T_FMT "\t%s\t%s\t%s\t%s\n", u->id, u->username,
           htjwt_iso_time(created, sizeof(created), u->created_at),
           u->tokens_valid_after ? htjwt_iso_time(after, sizeof(after), u->tokens_valid_after)
                                 : "-",
           u->claims_json);
    return 0;
}

int htjwt_cmd_list(htjwt_ctx_t *cx)
{
    htjwt_db_t db;
    apr_status_t rv;
    int rc;

    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rv = aj_store_user_each(db.st, cx->pool, htjwt_list_one, NULL);
        if (rv != APR_SUCCESS) {
            rc = htjwt_err(HTJWT_EFILE, "listing users failed: %s", aj_store_error(db.st, (int)rv));
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

/* claims: prints them, or (value: the new JSON, compact) stores them. */
static int htjwt_claims(htjwt_ctx_t *cx, htjwt_db_t *db, const aj_user_t *user, const char *name,
                        const char *value)
{
    apr_status_t rv;

    if (!value) {
        printf("%s\n", user->claims_json);
        return HTJWT_OK;
    }
    rv = aj_store_user_set_claims(db->st, cx->pool, user->id, value, htjwt_now());
    return htjwt_written(db, rv, name, apr_psprintf(cx->pool, "updating user %s", name),
                         apr_psprintf(cx->pool,
                                      "Setting claims of user %s; tokens issued "
                                      "from now on carry them\n",
                                      name));
}

int htjwt_cmd_claims(htjwt_ctx_t *cx)
{
    const char *json = htjwt_arg(cx, 1), *compact = NULL;
    json_object *obj = NULL;
    int rc;

    if (json) {
        rc = htjwt_check_claims(&obj, cx->pool, json);
        if (rc != HTJWT_OK) {
            return rc;
        }
        compact = aj_json_dump(cx->pool, obj);
        if (!compact) {
            return htjwt_err(HTJWT_EGENERAL, "out of memory");
        }
    }
    return htjwt_on_user(cx, htjwt_claims, compact);
}

static int htjwt_revoke_all(htjwt_ctx_t *cx, htjwt_db_t *db, const aj_user_t *user,
                            const char *name, const char *value)
{
    apr_status_t rv;
    int families = 0;
    int rc = htjwt_revoke_families(&families, cx, db, user, name);

    if (rc != HTJWT_OK) {
        return rc;
    }
    rv = aj_store_user_set_valid_after(db->st, cx->pool, user->id, htjwt_revoke_all_value());
    return htjwt_written(db, rv, name,
                         apr_psprintf(cx->pool, "revoking the tokens of user %s", name),
                         apr_psprintf(cx->pool,
                                      "Revoking every token of user %s issued so "
                                      "far and %s; running servers refuse them within "
                                      "AuthJWTRevocationRefresh seconds\n",
                                      name, htjwt_families_text(cx->pool, families)));
}

int htjwt_cmd_revoke_all(htjwt_ctx_t *cx)
{
    return htjwt_on_user(cx, htjwt_revoke_all, NULL);
}

/*
 * aj_store.h — the user store over apr_dbd (docs/reference.md §6).
 *
 * Prepared statements only; the same DML runs on the sqlite3 and pgsql
 * drivers (integers travel as text and are CAST in SQL).  The schema is
 * created on first use of an empty database: aj_store_open() runs the
 * idempotent DDL, then prepares every statement on that connection.
 *
 * The store does not know httpd: the glue hands it a connection that
 * mod_dbd owns; htjwt opens one with apr_dbd directly.  On pgsql a
 * statement that fails because the server dropped the connection is run
 * once more after apr_dbd_check_conn() has reset it, so a database that
 * came back is used at once (a failure still returns APR_EGENERAL).  On
 * sqlite3 a statement that fails because another connection changed the
 * schema since it was prepared (an operator's CREATE INDEX, ANALYZE) is
 * prepared again, with the rest of the store's statements, and run once
 * more.
 */
#ifndef AJ_STORE_H
#define AJ_STORE_H

#include "aj.h"
#include "aj_user.h" /* AJ_USERNAME_MAX_LEN */
#include <apr_dbd.h>

#define AJ_CLAIMS_MAX_LEN 4096 /* stored per-user claims JSON */

typedef struct aj_store_t aj_store_t;

typedef struct {
    apr_int64_t id;
    const char *username;
    const char *password_hash;
    const char *claims_json;        /* a JSON object, "{}" when none */
    apr_int64_t tokens_valid_after; /* tokens with iat < this are revoked */
    apr_int64_t created_at;
    apr_int64_t changed_at; /* last password or claims change, 0: none */
} aj_user_t;

/* Creates the schema if missing (SQLite: WAL mode and a busy timeout on this
 * connection), upgrades one made by an earlier version (users.changed_at
 * added; defaults for the time columns), and prepares every statement in
 * p, which must live as long as the connection.  *err describes a failure
 * (driver text, no parameters). */
apr_status_t aj_store_open(aj_store_t **st, const char **err, apr_pool_t *p,
                           const apr_dbd_driver_t *driver, apr_dbd_t *handle);

/* The driver's message for the last failure on this connection. */
const char *aj_store_error(const aj_store_t *st, int rv);

/* ---- what a log line may say about a store (docs/reference.md §13) ----- */

/* The driver mod_dbd and htjwt name SQLite with; its DBDParams is the file. */
#define AJ_STORE_SQLITE_DRIVER "sqlite3"

/* The store as an operator recognises it, safe for any log line:
 * "sqlite3 database /var/lib/x/users.db", or for a server database
 * "pgsql connection 'host=db dbname=auth user=web'" with every password
 * left out (a key containing "pass" in the key=value form: password=,
 * pass=, passwd=, quoted values included; the password of a URI's
 * user:password@ and a password= query parameter).  Parameters that do
 * not parse are not shown at all.  NULL driver or params: "the store". */
const char *aj_store_describe(apr_pool_t *p, const char *driver, const char *params);

/* Non-zero when a store failure (the driver's message and status) is the
 * operating system refusing the process access: SQLite's "unable to open
 * database file", "attempt to write a readonly database", "readonly
 * database", "Permission denied", or an EACCES/EPERM status.  The log line
 * then names the user that needs access. */
int aj_store_error_is_permission(const char *msg, apr_status_t rv);

/* APR_NOTFOUND when there is no such user. */
apr_status_t aj_store_user_by_name(aj_user_t **user, apr_pool_t *p, aj_store_t *st,
                                   const char *username);
apr_status_t aj_store_user_by_id(aj_user_t **user, apr_pool_t *p, aj_store_t *st, apr_int64_t id);

/* Inserts a user; APR_EEXIST when the name is taken (also under a race). */
apr_status_t aj_store_user_add(apr_int64_t *id, apr_pool_t *p, aj_store_t *st, const char *username,
                               const char *password_hash, const char *claims_json, apr_int64_t now);

/* APR_NOTFOUND when there is no such user.  Both record `now` (epoch
 * seconds) in users.changed_at, which aj_store_users_revoked_since reports,
 * so that what is cached from the old password or claims can be dropped. */
apr_status_t aj_store_user_set_password(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                        const char *password_hash, apr_int64_t valid_after,
                                        apr_int64_t now);
apr_status_t aj_store_user_set_claims(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                      const char *claims_json, apr_int64_t now);
apr_status_t aj_store_user_set_valid_after(aj_store_t *st, apr_pool_t *p, apr_int64_t id,
                                           apr_int64_t valid_after);
apr_status_t aj_store_user_delete(aj_store_t *st, apr_pool_t *p, apr_int64_t id);

/* Calls fn for every user in id order; stops when fn returns non-zero. */
typedef int aj_store_user_fn(void *baton, const aj_user_t *user);
apr_status_t aj_store_user_each(aj_store_t *st, apr_pool_t *p, aj_store_user_fn *fn, void *baton);

/* ---- revocations (table revoked_tokens; users.tokens_valid_after) ------ */

/* Records that token jti is revoked until expires_at (idempotent). */
apr_status_t aj_store_revoke_add(aj_store_t *st, apr_pool_t *p, const char *jti,
                                 apr_int64_t expires_at, apr_int64_t now);

/* The revocation of jti, APR_NOTFOUND when none. */
apr_status_t aj_store_revoke_get(apr_int64_t *expires_at, aj_store_t *st, apr_pool_t *p,
                                 const char *jti);

/* Revocations recorded at or after `since` and not yet expired at now.
 * since <= 0 reads every unexpired one; on sqlite3 in pages (bounded
 * memory; see aj_store_revoke.c for what a row inserted meanwhile means);
 * fn may then be called more than once for a row, so it must be idempotent.  A failure
 * of any page fails the whole call, after fn saw the pages before it. */
typedef void aj_store_revoked_fn(void *baton, const char *jti, apr_int64_t expires_at);
apr_status_t aj_store_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                    apr_int64_t now, aj_store_revoked_fn *fn, void *baton);

/* Rows per page of that full read (default 10,000; <= 0 restores it): for
 * tests, which page by a few rows. */
void aj_store_set_revoke_page_rows(aj_store_t *st, int rows);

/* Users whose tokens_valid_after (revoke-all) or changed_at (password or
 * claims changed) is at or after `since`, with both values; either may be
 * older than `since` (or 0) when only the other one is new. */
typedef void aj_store_valid_after_fn(void *baton, apr_int64_t id, apr_int64_t valid_after,
                                     apr_int64_t changed_at);
apr_status_t aj_store_users_revoked_since(aj_store_t *st, apr_pool_t *p, apr_int64_t since,
                                          aj_store_valid_after_fn *fn, void *baton);

/* Deletes revocations of tokens that have expired; *pruned rows. */
apr_status_t aj_store_revoke_prune(int *pruned, aj_store_t *st, apr_pool_t *p, apr_int64_t now);

/* The highest cost among the stored bcrypt hashes, 0 when there are none
 * (the floor of failed checks, docs/reference.md §10: an unknown user must take as long
 * as the slowest real one). */
apr_status_t aj_store_max_bcrypt_cost(int *cost, aj_store_t *st, apr_pool_t *p);

#endif /* AJ_STORE_H */

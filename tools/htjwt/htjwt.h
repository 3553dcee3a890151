/*
 * htjwt: what the files of tools/htjwt/ share (private to htjwt).
 *
 * main.c parses the arguments into an htjwt_ctx_t and calls one htjwt_cmd_*;
 * the commands report through htjwt_err/htjwt_syntax and return an exit code.
 * Everything used by one file only stays static in that file.
 */
#ifndef HTJWT_H
#define HTJWT_H

#include <sys/types.h>

#include <apr_dbd.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "aj_json.h"
#include "aj_key.h"
#include "aj_store.h"

/* ---- exit codes (htpasswd's where they mean the same) ------------------- */

#define HTJWT_OK          0   /* success */
#define HTJWT_EFILE       1   /* database or file problem; verify: token refused */
#define HTJWT_ESYNTAX     2   /* usage error */
#define HTJWT_EPASSWORD   3   /* the two passwords differ, or shorter than the minimum */
#define HTJWT_EINTR       4   /* interrupted (Ctrl-C, end of input at a prompt) */
#define HTJWT_ETOOLONG    5   /* a value is too long */
#define HTJWT_EILLEGAL    6   /* a value has illegal characters or is not allowed */
#define HTJWT_EINVALID    7   /* not a valid key file, database file or token */
#define HTJWT_EUSER       8   /* no such user (or, for add, the user exists) */
#define HTJWT_EGENERAL    9   /* out of memory, no randomness, crypto failure */
#define HTJWT_EALG        10  /* algorithm not supported by this build */

#define HTJWT_TIME_BUF          32

/* ---- options ------------------------------------------------------------ */

enum {
    HTJWT_O_BATCH, HTJWT_O_COST, HTJWT_O_MIN, HTJWT_O_DRIVER, HTJWT_O_KEY, HTJWT_O_ALG,
    HTJWT_O_KID, HTJWT_O_LIFETIME, HTJWT_O_ISS, HTJWT_O_AUD, HTJWT_O_LEEWAY, HTJWT_O_USER,
    HTJWT_O_DB, HTJWT_O_SUBJECT, HTJWT_O_NAME, HTJWT_O_CLAIMS, HTJWT_O_OUT, HTJWT_O_PUB,
    HTJWT_O_FORCE, HTJWT_O_HELP, HTJWT_O_COUNT
};

#define HTJWT_BIT(o) (1u << (o))

typedef struct {
    apr_pool_t *pool;
    unsigned seen;                          /* HTJWT_BIT(option) when given */
    const char *val[HTJWT_O_COUNT];         /* option arguments */
    apr_array_header_t *aud;                /* const char *, every --aud */
    const char *db;                         /* DB commands: the database */
    const char *cmd;
    apr_array_header_t *args;               /* const char *, after the command */
    /* converted */
    int cost, min_len;
    apr_int64_t lifetime, leeway;
    const char *driver;
} htjwt_ctx_t;


/* ---- the database (users.c) --------------------------------------------- */

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    aj_store_t *st;
    const char *path;               /* sqlite3: the file */
    int existed;                    /* sqlite3: the file was there before */
    uid_t uid;                      /* owner the sqlite3 files should keep */
    gid_t gid;
} htjwt_db_t;

/* ---- main.c: messages and small helpers --------------------------------- */

int htjwt_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int htjwt_syntax(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
apr_int64_t htjwt_now(void);
const char *htjwt_iso_time(char *buf, apr_size_t len, apr_int64_t t);
const char *htjwt_arg(htjwt_ctx_t *cx, int i);

/* ---- prompt.c ----------------------------------------------------------- */

long htjwt_read_line(int fd, char *buf, apr_size_t cap);
int htjwt_get_password(const char **out, htjwt_ctx_t *cx, const char *arg);

/* ---- users.c ------------------------------------------------------------ */

int htjwt_db_open(htjwt_db_t *db, apr_pool_t *p, const char *driver, const char *params,
                  int may_create);
void htjwt_db_close(htjwt_db_t *db, apr_pool_t *p);
int htjwt_find_user(aj_user_t **user, apr_pool_t *p, htjwt_db_t *db, const char *name);
int htjwt_check_claims(json_object **obj, apr_pool_t *p, const char *json);
int htjwt_cmd_add(htjwt_ctx_t *cx);
int htjwt_cmd_passwd(htjwt_ctx_t *cx);
int htjwt_cmd_del(htjwt_ctx_t *cx);
int htjwt_cmd_list(htjwt_ctx_t *cx);
int htjwt_cmd_claims(htjwt_ctx_t *cx);
int htjwt_cmd_revoke_all(htjwt_ctx_t *cx);

/* ---- keys.c ------------------------------------------------------------- */

int htjwt_load_key(aj_key_t **key, htjwt_ctx_t *cx, int for_signing, const char *kid);
int htjwt_cmd_keygen(htjwt_ctx_t *cx);

/* ---- tokens.c ----------------------------------------------------------- */

int htjwt_cmd_sign(htjwt_ctx_t *cx);
int htjwt_cmd_verify(htjwt_ctx_t *cx);
int htjwt_cmd_decode(htjwt_ctx_t *cx);

#endif /* HTJWT_H */

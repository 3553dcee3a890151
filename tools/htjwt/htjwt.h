/*
 * htjwt: what the files of tools/htjwt/ share (private to htjwt).
 *
 * main.c parses the arguments into an htjwt_ctx_t and calls one htjwt_cmd_*;
 * the commands report through htjwt_err/htjwt_syntax and return an exit code.
 * Everything used by one file only stays static in that file.
 */
#ifndef HTJWT_H
#define HTJWT_H

#include <stdio.h>
#include <sys/types.h>

#include <apr_dbd.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "aj_json.h"
#include "aj_key.h"
#include "aj_store.h"

/* ---- exit codes (htpasswd's where they mean the same) ------------------- */

#define HTJWT_OK        0  /* success */
#define HTJWT_EFILE     1  /* database or file problem; verify: token refused */
#define HTJWT_ESYNTAX   2  /* usage error */
#define HTJWT_EPASSWORD 3  /* the two passwords differ, or shorter than the minimum */
#define HTJWT_EINTR     4  /* interrupted (Ctrl-C, end of input at a prompt) */
#define HTJWT_ETOOLONG  5  /* a value is too long */
#define HTJWT_EILLEGAL  6  /* a value has illegal characters or is not allowed */
#define HTJWT_EINVALID  7  /* not a valid key file, database file or token */
#define HTJWT_EUSER     8  /* no such user (or, for add, the user exists) */
#define HTJWT_EGENERAL  9  /* out of memory, no randomness, crypto failure */
#define HTJWT_EALG      10 /* algorithm not supported by this build */

#define HTJWT_TIME_BUF 32

/* The module's largest AuthJWTLeeway (--leeway's bound too): how long past
 * its exp a token may still verify somewhere. */
#define HTJWT_MAX_LEEWAY 3600

/* ---- options ------------------------------------------------------------ */

/* Every option, once: X(ID, short letter or 0 for the long form only, long
 * name, takes a value), grouped by the commands that take them.  The
 * HTJWT_O_<ID> enum below and main.c's option table are both made from it,
 * so they cannot disagree.  Written by hand, a group a line or two (the
 * formatter would run the whole list together). */
/* clang-format off */
#define HTJWT_OPTIONS(X) \
    /* the DB commands */ \
    X(BATCH, 'b', "batch", 0) X(COST, 'c', "cost", 1) X(MIN, 'm', "min-length", 1) \
    X(DRIVER, 'd', "driver", 1) \
    /* the key of sign, verify and decode */ \
    X(KEY, 'k', "key", 1) X(ALG, 'a', "alg", 1) X(KID, 'i', "kid", 1) \
    /* the claims sign writes and verify checks */ \
    X(LIFETIME, 'l', "lifetime", 1) X(ISS, 0, "iss", 1) X(AUD, 0, "aud", 1) \
    X(LEEWAY, 0, "leeway", 1) \
    /* whom sign signs for */ \
    X(USER, 'u', "user", 1) X(DB, 'D', "db", 1) X(SUBJECT, 's', "subject", 1) \
    X(NAME, 'n', "name", 1) X(CLAIMS, 'C', "claims", 1) \
    /* keygen's files */ \
    X(OUT, 'o', "out", 1) X(PUB, 'p', "public", 1) X(FORCE, 'f', "force", 0) \
    /* any command */ \
    X(HELP, 'h', "help", 0)
/* clang-format on */

#define HTJWT_OPTION_ID(id, short_name, long_name, takes_arg) HTJWT_O_##id,
enum { HTJWT_OPTIONS(HTJWT_OPTION_ID) HTJWT_O_COUNT };
#undef HTJWT_OPTION_ID

#define HTJWT_BIT(o) (1u << (o))

typedef struct {
    apr_pool_t *pool;
    unsigned seen;                  /* HTJWT_BIT(option) when given */
    const char *val[HTJWT_O_COUNT]; /* option arguments */
    apr_array_header_t *aud;        /* const char *, every --aud */
    const char *db;                 /* DB commands: the database */
    const char *cmd;
    apr_array_header_t *args; /* const char *, after the command */
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
    const char *path; /* sqlite3: the file */
    int existed;      /* sqlite3: the file was there before */
    uid_t uid;        /* owner the sqlite3 files should keep */
    gid_t gid;
} htjwt_db_t;

/* ---- report.c: messages and small helpers -------------------------------- */

/* The usage lines (the synopsis of every command). */
void htjwt_print_usage(FILE *out);
int htjwt_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int htjwt_syntax(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
apr_int64_t htjwt_now(void);
const char *htjwt_iso_time(char *buf, apr_size_t len, apr_int64_t t);
const char *htjwt_arg(htjwt_ctx_t *cx, int i);

/* ---- prompt.c ----------------------------------------------------------- */

/* What htjwt_read_line returns instead of a length. */
#define HTJWT_LINE_EOF      (-1) /* end of input, nothing read */
#define HTJWT_LINE_TOO_LONG (-2) /* longer than the buffer (the rest drained) */
#define HTJWT_LINE_NUL      (-3) /* it contains a NUL byte */

long htjwt_read_line(int fd, char *buf, apr_size_t cap);
int htjwt_get_password(const char **out, htjwt_ctx_t *cx, const char *arg);

/* ---- users.c ------------------------------------------------------------ */

int htjwt_db_open(htjwt_db_t *db, apr_pool_t *p, const char *driver, const char *params,
                  int may_create);
void htjwt_db_close(htjwt_db_t *db, apr_pool_t *p);
/* Opens the database `params` (never creating it) and finds user `name` in
 * it: the start of every command on a stored user (passwd, del, claims,
 * revoke-all, sign -u).  The caller closes db whatever the result. */
int htjwt_open_user(htjwt_db_t *db, aj_user_t **user, htjwt_ctx_t *cx, const char *params,
                    const char *name);
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

/*
 * htjwt — the command-line companion of mod_auth_jwt (docs/reference.md §7), in the
 * spirit of htpasswd.
 *
 *   htjwt [-b] [-c COST] [-m MIN] [-d DRIVER] DB add|passwd USER [PASSWORD]
 *   htjwt [-d DRIVER] DB del|list|claims|revoke-all ...
 *   htjwt keygen ALG [-o FILE [-f]] [-p FILE]
 *   htjwt sign | verify | decode ...
 *
 * It links the module's core and store (src/core, src/store) and nothing of httpd:
 * the database is opened with apr_dbd directly and reached through the same
 * prepared statements as the server (aj_store.h); tokens are signed and
 * verified by the same code (aj_key.h, aj_jws.h, aj_claims.h), so whatever
 * algorithms the module supports, htjwt supports.
 *
 * It never prints a password, a hash or a secret, except the key that
 * `keygen` was asked to produce.  Exit codes (in the manner of htpasswd)
 * are the HTJWT_E* values of htjwt.h, documented in htjwt.1 and docs/htjwt.md.
 *
 * This file: the arguments and the dispatch to the commands; report.c the
 * messages and small helpers every command uses, prompt.c reads passwords,
 * users.c holds the DB commands, keys.c keygen and the key files, tokens.c
 * sign, verify and decode (htjwt.h: what they share).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "aj_duration.h"
#include "aj_password.h"
#include "htjwt.h"
#include "aj_user.h"

/* ---- defaults and limits ------------------------------------------------ */

#define HTJWT_DEFAULT_DRIVER   "sqlite3"
/* docs/reference.md §3 defaults of AuthJWTPasswordMinLength and AuthJWTTokenLifetime. */
#define HTJWT_DEFAULT_MIN_LEN  AJ_PASSWORD_MIN_LEN_DEFAULT
#define HTJWT_DEFAULT_LIFETIME 600
/* The module's upper bound on lifetimes (10 years: no overflow in exp). */
#define HTJWT_MAX_SECONDS      (10 * 365 * 86400)
/* htjwt_parse_args: --help was asked for (not an exit code: it prints the
 * help and exits 0). */
#define HTJWT_HELP_ASKED       (-1)

/* ---- messages ----------------------------------------------------------- */

static const char *htjwt_help_text =
    "DB is the SQLite file of DBDParams (or, with -d pgsql, the connection string).\n"
    "Options of the DB commands come before DB; use -- before an argument that\n"
    "starts with '-'.  TOKEN '-' reads the token from standard input.\n"
    "\n"
    "  -b          batch mode: take the password from the command line (it shows\n"
    "              in the process list and the shell history; avoid it)\n"
    "  -c COST     bcrypt cost of new hashes, 4-17 (default 10)\n"
    "  -m MIN      minimum password length in characters (default 8)\n"
    "  -d DRIVER   apr_dbd driver (default sqlite3; pgsql takes a conninfo string)\n"
    "  -k KEY      key file (PATH, file:PATH or env:VAR)\n"
    "  -a ALG      HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512\n"
    "              ES256 ES384 ES512 EdDSA\n"
    "  -i KID      key id (put in the token header; selects the key)\n"
    "  -l LIFETIME token lifetime: seconds, or a number with s, m, h or d (default 600)\n"
    "  --iss ISS   issuer (put in the token; required when verifying)\n"
    "  --aud AUD   audience (repeatable; put in the token; one required when verifying)\n"
    "  --leeway S  clock skew allowed when verifying, a duration like -l (default 0)\n"
    "  -u USER     sign for this stored user (sub = id, name = USER, stored claims)\n"
    "  -D DB       the database of -u\n"
    "  -s SUBJECT  sign for a service account (sub = SUBJECT, not all digits)\n"
    "  -n NAME     the name claim of a service account\n"
    "  -C JSON     extra claims (a JSON object; reserved names refused)\n"
    "  -o FILE     write the generated key to FILE (mode 0600)\n"
    "  -p FILE     write the public key to FILE (mode 0644)\n"
    "  -f          overwrite existing files\n"
    "  -h, --help  this text\n"
    "\n"
    "Exit status: 0 ok, 1 database/file problem (verify: token refused), 2 usage,\n"
    "3 passwords differ or too short, 4 interrupted, 5 value too long, 6 illegal\n"
    "value, 7 not a valid file or token, 8 no such user (add: user exists),\n"
    "9 internal error, 10 algorithm not supported by this build.\n";

/* ---- options ------------------------------------------------------------ */


typedef struct {
    int id;
    char short_name; /* 0: long form only */
    const char *long_name;
    int takes_arg;
} htjwt_optdef_t;

#define HTJWT_OPTDEF(id, short_name, long_name, takes_arg) \
    { HTJWT_O_##id, short_name, long_name, takes_arg },
static const htjwt_optdef_t htjwt_optdefs[] = { HTJWT_OPTIONS(HTJWT_OPTDEF) };
#undef HTJWT_OPTDEF

#define HTJWT_NOPTS (sizeof(htjwt_optdefs) / sizeof(htjwt_optdefs[0]))

typedef int htjwt_cmd_fn(htjwt_ctx_t *cx);

typedef struct {
    const char *name;
    int db; /* takes the DB argument first */
    int min_args, max_args;
    unsigned opts; /* options it accepts */
    htjwt_cmd_fn *fn;
} htjwt_cmd_t;

static const htjwt_optdef_t *htjwt_find_opt(const char *arg, const char **value)
{
    apr_size_t i, n;

    *value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        n = eq ? (apr_size_t)(eq - name) : strlen(name);
        for (i = 0; i < HTJWT_NOPTS; ++i) {
            if (strlen(htjwt_optdefs[i].long_name) == n
                && !strncmp(htjwt_optdefs[i].long_name, name, n)) {
                *value = eq ? eq + 1 : NULL;
                return &htjwt_optdefs[i];
            }
        }
        return NULL;
    }
    for (i = 0; i < HTJWT_NOPTS; ++i) {
        if (htjwt_optdefs[i].short_name && htjwt_optdefs[i].short_name == arg[1]) {
            *value = arg[2] ? arg + 2 : NULL;
            return &htjwt_optdefs[i];
        }
    }
    return NULL;
}

static const char *htjwt_opt_label(int id)
{
    apr_size_t i;

    for (i = 0; i < HTJWT_NOPTS; ++i) {
        if (htjwt_optdefs[i].id == id) {
            return htjwt_optdefs[i].long_name;
        }
    }
    return "?";
}

/* Decimal integer in [min, max]; 0 when it is not one. */
static int htjwt_parse_int(apr_int64_t *out, const char *s, apr_int64_t min, apr_int64_t max)
{
    char *end = NULL;
    apr_int64_t v;

    if (!s || !*s || !apr_isdigit(*s)) {
        return 0;
    }
    errno = 0;
    v = apr_strtoi64(s, &end, 10);
    if (errno || !end || *end || v < min || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

/* A duration in [min, max] seconds, by the module's own rule
 * (aj_duration_parse: 600, 10m, 1h, 14d), so -l and AuthJWTTokenLifetime
 * accept the same text. */
static int htjwt_parse_duration(apr_int64_t *out, const char *s, apr_int64_t min, apr_int64_t max)
{
    apr_int64_t v = 0;

    if (aj_duration_parse(&v, s) != APR_SUCCESS || v < min || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

/* ---- dispatch ----------------------------------------------------------- */

#define HTJWT_DB_OPTS \
    (HTJWT_BIT(HTJWT_O_BATCH) | HTJWT_BIT(HTJWT_O_COST) | HTJWT_BIT(HTJWT_O_MIN) \
     | HTJWT_BIT(HTJWT_O_DRIVER))
#define HTJWT_VERIFY_OPTS \
    (HTJWT_BIT(HTJWT_O_KEY) | HTJWT_BIT(HTJWT_O_ALG) | HTJWT_BIT(HTJWT_O_KID) \
     | HTJWT_BIT(HTJWT_O_ISS) | HTJWT_BIT(HTJWT_O_AUD) | HTJWT_BIT(HTJWT_O_LEEWAY))

static const htjwt_cmd_t htjwt_cmds[] = {
    { "add", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_add },
    { "passwd", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_passwd },
    { "del", 1, 1, 1, HTJWT_DB_OPTS, htjwt_cmd_del },
    { "list", 1, 0, 0, HTJWT_DB_OPTS, htjwt_cmd_list },
    { "claims", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_claims },
    { "revoke-all", 1, 1, 1, HTJWT_DB_OPTS, htjwt_cmd_revoke_all },
    { "keygen", 0, 1, 1, HTJWT_BIT(HTJWT_O_OUT) | HTJWT_BIT(HTJWT_O_PUB) | HTJWT_BIT(HTJWT_O_FORCE),
      htjwt_cmd_keygen },
    { "sign", 0, 0, 0,
      HTJWT_BIT(HTJWT_O_KEY) | HTJWT_BIT(HTJWT_O_ALG) | HTJWT_BIT(HTJWT_O_KID)
          | HTJWT_BIT(HTJWT_O_LIFETIME) | HTJWT_BIT(HTJWT_O_ISS) | HTJWT_BIT(HTJWT_O_AUD)
          | HTJWT_BIT(HTJWT_O_USER) | HTJWT_BIT(HTJWT_O_DB) | HTJWT_BIT(HTJWT_O_DRIVER)
          | HTJWT_BIT(HTJWT_O_SUBJECT) | HTJWT_BIT(HTJWT_O_NAME) | HTJWT_BIT(HTJWT_O_CLAIMS),
      htjwt_cmd_sign },
    { "verify", 0, 1, 1, HTJWT_VERIFY_OPTS, htjwt_cmd_verify },
    { "decode", 0, 1, 1, HTJWT_VERIFY_OPTS, htjwt_cmd_decode },
};

#define HTJWT_NCMDS (sizeof(htjwt_cmds) / sizeof(htjwt_cmds[0]))

static const htjwt_cmd_t *htjwt_find_cmd(const char *name, int db)
{
    apr_size_t i;

    for (i = 0; i < HTJWT_NCMDS; ++i) {
        if (htjwt_cmds[i].db == db && !strcmp(htjwt_cmds[i].name, name)) {
            return &htjwt_cmds[i];
        }
    }
    return NULL;
}

/* Parses argv.  Options come before DB for the DB commands (as with
 * htpasswd), anywhere for keygen/sign/verify/decode; "--" ends them.
 * Returns HTJWT_OK with *cmd set, HTJWT_HELP_ASKED, or an exit code. */
static int htjwt_parse_args(const htjwt_cmd_t **cmd, htjwt_ctx_t *cx, int argc,
                            const char *const *argv)
{
    apr_array_header_t *pos = apr_array_make(cx->pool, 4, sizeof(const char *));
    int i, dashdash = 0, db_mode = 0, first;
    unsigned extra;
    apr_int64_t v = 0;

    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *value = NULL;
        const htjwt_optdef_t *def;

        if (dashdash || a[0] != '-' || !a[1]) {
            if (pos->nelts == 0) {
                db_mode = !htjwt_find_cmd(a, 0);
            }
            APR_ARRAY_PUSH(pos, const char *) = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = 1;
            continue;
        }
        if (db_mode && pos->nelts > 0) {
            return htjwt_syntax("'%s': options go before DB (use -- before an argument that "
                                "starts with '-')",
                                a);
        }
        def = htjwt_find_opt(a, &value);
        if (!def) {
            return htjwt_syntax("unknown option '%s'", a);
        }
        if (def->id == HTJWT_O_HELP) {
            return HTJWT_HELP_ASKED;
        }
        if (!def->takes_arg && value) {
            return htjwt_syntax("option %s takes no value", a);
        }
        if (def->takes_arg && !value) {
            if (i + 1 >= argc) {
                return htjwt_syntax("option %s needs a value", a);
            }
            value = argv[++i];
        }
        if (def->id == HTJWT_O_AUD) {
            APR_ARRAY_PUSH(cx->aud, const char *) = value;
        }
        else if (cx->seen & HTJWT_BIT(def->id)) {
            return htjwt_syntax("option --%s given twice", def->long_name);
        }
        cx->seen |= HTJWT_BIT(def->id);
        cx->val[def->id] = value;
    }
    if (pos->nelts == 0) {
        return htjwt_syntax("no command");
    }
    first = db_mode ? 2 : 1;
    if (db_mode) {
        if (pos->nelts < 2) {
            return htjwt_syntax("no command after DB '%s'", APR_ARRAY_IDX(pos, 0, const char *));
        }
        cx->db = APR_ARRAY_IDX(pos, 0, const char *);
    }
    cx->cmd = APR_ARRAY_IDX(pos, first - 1, const char *);
    *cmd = htjwt_find_cmd(cx->cmd, db_mode);
    if (!*cmd) {
        return htjwt_syntax("unknown command '%s'", cx->cmd);
    }
    for (i = first; i < pos->nelts; ++i) {
        APR_ARRAY_PUSH(cx->args, const char *) = APR_ARRAY_IDX(pos, i, const char *);
    }
    if (cx->args->nelts < (*cmd)->min_args || cx->args->nelts > (*cmd)->max_args) {
        return htjwt_syntax("wrong number of arguments for %s", cx->cmd);
    }
    extra = cx->seen & ~(*cmd)->opts;
    if (extra) {
        for (i = 0; i < HTJWT_O_COUNT; ++i) {
            if (extra & HTJWT_BIT(i)) {
                return htjwt_syntax("option --%s does not apply to %s", htjwt_opt_label(i),
                                    cx->cmd);
            }
        }
    }
    /* conversions */
    cx->driver = cx->val[HTJWT_O_DRIVER] ? cx->val[HTJWT_O_DRIVER] : HTJWT_DEFAULT_DRIVER;
    cx->cost = AJ_BCRYPT_COST_DEFAULT;
    if (cx->val[HTJWT_O_COST]) {
        if (!htjwt_parse_int(&v, cx->val[HTJWT_O_COST], AJ_BCRYPT_COST_MIN, AJ_BCRYPT_COST_MAX)) {
            return htjwt_syntax("-c: the bcrypt cost must be a number from %d to %d",
                                AJ_BCRYPT_COST_MIN, AJ_BCRYPT_COST_MAX);
        }
        cx->cost = (int)v;
    }
    cx->min_len = HTJWT_DEFAULT_MIN_LEN;
    if (cx->val[HTJWT_O_MIN]) {
        if (!htjwt_parse_int(&v, cx->val[HTJWT_O_MIN], 1, AJ_PASSWORD_MAX_LEN)) {
            return htjwt_syntax("-m: the minimum length must be a number from 1 to %d",
                                AJ_PASSWORD_MAX_LEN);
        }
        cx->min_len = (int)v;
    }
    cx->lifetime = HTJWT_DEFAULT_LIFETIME;
    if (cx->val[HTJWT_O_LIFETIME]
        && !htjwt_parse_duration(&cx->lifetime, cx->val[HTJWT_O_LIFETIME], 1, HTJWT_MAX_SECONDS)) {
        return htjwt_syntax(
            "-l: the lifetime must be a duration from 1 second to 10 years: " AJ_DURATION_FORMS);
    }
    cx->leeway = 0;
    if (cx->val[HTJWT_O_LEEWAY]) {
        if (!htjwt_parse_duration(&v, cx->val[HTJWT_O_LEEWAY], 0, HTJWT_MAX_LEEWAY)) {
            return htjwt_syntax("--leeway: a duration from 0 to %d seconds: " AJ_DURATION_FORMS,
                                HTJWT_MAX_LEEWAY);
        }
        cx->leeway = v;
    }
    if (cx->val[HTJWT_O_ISS] && !*cx->val[HTJWT_O_ISS]) {
        return htjwt_syntax("--iss must not be empty");
    }
    for (i = 0; i < cx->aud->nelts; ++i) {
        if (!*APR_ARRAY_IDX(cx->aud, i, const char *)) {
            return htjwt_syntax("--aud must not be empty");
        }
    }
    if (cx->val[HTJWT_O_KID] && !*cx->val[HTJWT_O_KID]) {
        return htjwt_syntax("-i must not be empty");
    }
    return HTJWT_OK;
}

int main(int argc, const char *const *argv)
{
    const htjwt_cmd_t *cmd = NULL;
    htjwt_ctx_t cx;
    apr_pool_t *pool = NULL;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "htjwt: cannot initialise APR\n");
        return HTJWT_EGENERAL;
    }
    memset(&cx, 0, sizeof(cx));
    cx.pool = pool;
    cx.aud = apr_array_make(pool, 2, sizeof(const char *));
    cx.args = apr_array_make(pool, 2, sizeof(const char *));

    rc = htjwt_parse_args(&cmd, &cx, argc, argv);
    if (rc == HTJWT_HELP_ASKED) {
        htjwt_print_usage(stdout);
        fputs(htjwt_help_text, stdout);
        rc = HTJWT_OK;
    }
    else if (rc == HTJWT_OK) {
        rc = cmd->fn(&cx);
    }
    if (fflush(stdout) != 0 && rc == HTJWT_OK) {
        rc = htjwt_err(HTJWT_EFILE, "cannot write to standard output");
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}

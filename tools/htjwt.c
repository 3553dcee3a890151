/*
 * htjwt — the command-line companion of mod_auth_jwt (docs/reference.md §7), in the
 * spirit of htpasswd.
 *
 *   htjwt [-b] [-c COST] [-m MIN] [-d DRIVER] DB add|passwd USER [PASSWORD]
 *   htjwt [-d DRIVER] DB del|list|claims|revoke-all ...
 *   htjwt keygen ALG [-o FILE [-f]] [-p FILE]
 *   htjwt sign | verify | decode ...
 *
 * It links the module's core and store (src/aj_*.c) and nothing of httpd:
 * the database is opened with apr_dbd directly and reached through the same
 * prepared statements as the server (aj_store.h); tokens are signed and
 * verified by the same code (aj_key.h, aj_jws.h, aj_claims.h), so whatever
 * algorithms the module supports, htjwt supports.
 *
 * It never prints a password, a hash or a secret, except the key that
 * `keygen` was asked to produce.  Exit codes (in the manner of htpasswd)
 * are the HTJWT_E* values below, documented in htjwt.1 and docs/htjwt.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "aj.h"
#include "aj_b64.h"
#include "aj_claims.h"
#include "aj_duration.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj_key.h"
#include "aj_password.h"
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

/* ---- defaults and limits ------------------------------------------------ */

#define HTJWT_DEFAULT_DRIVER    "sqlite3"
/* docs/reference.md §3 defaults of AuthJWTPasswordMinLength and AuthJWTTokenLifetime. */
#define HTJWT_DEFAULT_MIN_LEN   8
#define HTJWT_DEFAULT_LIFETIME  600
/* The module's upper bound on lifetimes (10 years: no overflow in exp). */
#define HTJWT_MAX_SECONDS       (10 * 365 * 86400)
#define HTJWT_MAX_LEEWAY        3600
/* RS and PS keys: RSA 3072 (NIST SP 800-57: 128-bit security). */
#define HTJWT_RSA_BITS          3072
/* HMAC secrets: random bytes, base64url-encoded into url-safe characters
 * (6 bits each).  HS256: 48 bytes -> 64 characters; HS384: 48 bytes -> 64
 * characters (384 bits, at least the hash length); HS512: 66 bytes -> 88
 * characters (528 bits). */
#define HTJWT_HS256_RANDOM      48
#define HTJWT_HS384_RANDOM      48
#define HTJWT_HS512_RANDOM      66
#define HTJWT_SECRET_MAX_RANDOM 66
#define HTJWT_MODE_PRIVATE      0600
#define HTJWT_MODE_PUBLIC       0644
/* A token read from standard input ("-"): the module's limit and a newline. */
#define HTJWT_LINE_MAX          (AJ_TOKEN_MAX_LEN + 2)
#define HTJWT_TIME_BUF          32
#define HTJWT_SIGNING_WAIT_SLACK 1000   /* microseconds past a revoke-all */

/* ---- messages ----------------------------------------------------------- */

static const char *htjwt_usage_text =
    "Usage:\n"
    "  htjwt [-b] [-c COST] [-m MIN] [-d DRIVER] DB add USER [PASSWORD]\n"
    "  htjwt [-b] [-c COST] [-m MIN] [-d DRIVER] DB passwd USER [PASSWORD]\n"
    "  htjwt [-d DRIVER] DB del USER\n"
    "  htjwt [-d DRIVER] DB list\n"
    "  htjwt [-d DRIVER] DB claims USER [JSON]\n"
    "  htjwt [-d DRIVER] DB revoke-all USER\n"
    "  htjwt keygen ALG [-o FILE] [-p FILE] [-f]\n"
    "  htjwt sign -k KEY -a ALG [-i KID] [-l LIFETIME] [--iss ISS] [--aud AUD]...\n"
    "             (-u USER -D DB [-d DRIVER] | -s SUBJECT [-n NAME]) [-C JSON]\n"
    "  htjwt verify -k KEY -a ALG [-i KID] [--iss ISS] [--aud AUD]... [--leeway S] TOKEN\n"
    "  htjwt decode [-k KEY -a ALG [-i KID]] TOKEN\n"
    "\n";

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

static int htjwt_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int htjwt_err(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("htjwt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int htjwt_syntax(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int htjwt_syntax(const char *fmt, ...)
{
    va_list ap;

    fputs("htjwt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    fputs(htjwt_usage_text, stderr);
    fputs("Run 'htjwt --help' for the options and exit codes.\n", stderr);
    return HTJWT_ESYNTAX;
}

/* ---- options ------------------------------------------------------------ */

enum {
    HTJWT_O_BATCH, HTJWT_O_COST, HTJWT_O_MIN, HTJWT_O_DRIVER, HTJWT_O_KEY, HTJWT_O_ALG,
    HTJWT_O_KID, HTJWT_O_LIFETIME, HTJWT_O_ISS, HTJWT_O_AUD, HTJWT_O_LEEWAY, HTJWT_O_USER,
    HTJWT_O_DB, HTJWT_O_SUBJECT, HTJWT_O_NAME, HTJWT_O_CLAIMS, HTJWT_O_OUT, HTJWT_O_PUB,
    HTJWT_O_FORCE, HTJWT_O_HELP, HTJWT_O_COUNT
};

#define HTJWT_BIT(o) (1u << (o))

typedef struct {
    int id;
    char short_name;                /* 0: long form only */
    const char *long_name;
    int takes_arg;
} htjwt_optdef_t;

static const htjwt_optdef_t htjwt_optdefs[] = {
    { HTJWT_O_BATCH, 'b', "batch", 0 },
    { HTJWT_O_COST, 'c', "cost", 1 },
    { HTJWT_O_MIN, 'm', "min-length", 1 },
    { HTJWT_O_DRIVER, 'd', "driver", 1 },
    { HTJWT_O_KEY, 'k', "key", 1 },
    { HTJWT_O_ALG, 'a', "alg", 1 },
    { HTJWT_O_KID, 'i', "kid", 1 },
    { HTJWT_O_LIFETIME, 'l', "lifetime", 1 },
    { HTJWT_O_ISS, 0, "iss", 1 },
    { HTJWT_O_AUD, 0, "aud", 1 },
    { HTJWT_O_LEEWAY, 0, "leeway", 1 },
    { HTJWT_O_USER, 'u', "user", 1 },
    { HTJWT_O_DB, 'D', "db", 1 },
    { HTJWT_O_SUBJECT, 's', "subject", 1 },
    { HTJWT_O_NAME, 'n', "name", 1 },
    { HTJWT_O_CLAIMS, 'C', "claims", 1 },
    { HTJWT_O_OUT, 'o', "out", 1 },
    { HTJWT_O_PUB, 'p', "public", 1 },
    { HTJWT_O_FORCE, 'f', "force", 0 },
    { HTJWT_O_HELP, 'h', "help", 0 },
};

#define HTJWT_NOPTS (sizeof(htjwt_optdefs) / sizeof(htjwt_optdefs[0]))

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

typedef int htjwt_cmd_fn(htjwt_ctx_t *cx);

typedef struct {
    const char *name;
    int db;                                 /* takes the DB argument first */
    int min_args, max_args;
    unsigned opts;                          /* options it accepts */
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
static int htjwt_parse_duration(apr_int64_t *out, const char *s, apr_int64_t min,
                                apr_int64_t max)
{
    apr_int64_t v = 0;

    if (aj_duration_parse(&v, s) != APR_SUCCESS || v < min || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

/* ---- small helpers ------------------------------------------------------ */

static apr_int64_t htjwt_now(void)
{
    return apr_time_sec(apr_time_now());
}

static const char *htjwt_iso_time(char *buf, apr_size_t len, apr_int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        apr_snprintf(buf, len, "%" APR_INT64_T_FMT, t);
    }
    return buf;
}

/* UTF-8 code points (the module's minimum counts characters, not bytes). */
static apr_size_t htjwt_utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; ++s) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            ++n;
        }
    }
    return n;
}

static int htjwt_all_digits(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; ++s) {
        if (!apr_isdigit(*s)) {
            return 0;
        }
    }
    return 1;
}

/* Reads one line of at most cap - 1 bytes from fd into buf (NUL-terminated,
 * the newline and a CR before it removed).  Returns the length, -1 at end of
 * input with nothing read, -2 when the line is longer (the rest is drained),
 * -3 when it contains a NUL byte. */
static long htjwt_read_line(int fd, char *buf, apr_size_t cap)
{
    apr_size_t n = 0;
    int got_any = 0, too_long = 0, nul = 0;
    char ch;
    ssize_t r;

    for (;;) {
        r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got_any = 1;
        if (ch == '\n') {
            break;
        }
        if (ch == '\0') {
            nul = 1;
        }
        if (n + 1 < cap) {
            buf[n++] = ch;
        }
        else {
            too_long = 1;
        }
    }
    if (n && buf[n - 1] == '\r') {
        --n;
    }
    buf[n] = '\0';
    ch = 0;
    if (!got_any) {
        return -1;
    }
    if (too_long) {
        return -2;
    }
    if (nul) {
        return -3;
    }
    return (long)n;
}

/* ---- passwords ---------------------------------------------------------- */

static struct termios htjwt_saved_tty;
static volatile sig_atomic_t htjwt_tty_changed;

static void htjwt_tty_restore(void)
{
    if (htjwt_tty_changed) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &htjwt_saved_tty);
        htjwt_tty_changed = 0;
    }
}

static void htjwt_on_signal(int sig)
{
    static const char msg[] = "\nhtjwt: interrupted\n";

    htjwt_tty_restore();
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to do */
    }
    _exit(HTJWT_EINTR);
}

static apr_status_t htjwt_cleanse(void *data)
{
    OPENSSL_cleanse(data, AJ_PASSWORD_MAX_LEN + 2);
    return APR_SUCCESS;
}

/* Prompts on stderr and reads one line from the terminal without echo. */
static long htjwt_prompt(const char *prompt, char *buf, apr_size_t cap)
{
    struct termios quiet;
    long n;

    /* Echo off before the prompt shows, so nothing typed after it echoes. */
    if (tcgetattr(STDIN_FILENO, &htjwt_saved_tty) == 0) {
        quiet = htjwt_saved_tty;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        htjwt_tty_changed = 1;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    fputs(prompt, stderr);
    fflush(stderr);
    n = htjwt_read_line(STDIN_FILENO, buf, cap);
    htjwt_tty_restore();
    fputc('\n', stderr);
    return n;
}

/* The password of add/passwd: from the command line with -b, else from the
 * terminal twice, else one line of standard input.  Checks the length rules
 * of the module (AuthJWTPasswordMinLength counts characters). */
static int htjwt_get_password(const char **out, htjwt_ctx_t *cx, const char *arg)
{
    /* The buffers hold AJ_PASSWORD_MAX_LEN bytes and the NUL; a longer line
     * is refused as too long. */
    apr_size_t cap = AJ_PASSWORD_MAX_LEN + 1;
    char *pw = apr_pcalloc(cx->pool, AJ_PASSWORD_MAX_LEN + 2), *again;
    long n;

    apr_pool_cleanup_register(cx->pool, pw, htjwt_cleanse, apr_pool_cleanup_null);
    if (cx->seen & HTJWT_BIT(HTJWT_O_BATCH)) {
        if (!arg) {
            return htjwt_syntax("-b needs the password after USER");
        }
        if (strlen(arg) > AJ_PASSWORD_MAX_LEN) {
            return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                             AJ_PASSWORD_MAX_LEN);
        }
        apr_cpystrn(pw, arg, cap);
    }
    else if (arg) {
        return htjwt_syntax("a password on the command line needs -b (it would show in "
                            "the process list and the shell history)");
    }
    else if (isatty(STDIN_FILENO)) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = htjwt_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        n = htjwt_prompt("New password: ", pw, cap);
        if (n == -1) {
            return htjwt_err(HTJWT_EINTR, "interrupted (end of input)");
        }
        if (n == -2) {
            return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                             AJ_PASSWORD_MAX_LEN);
        }
        again = apr_pcalloc(cx->pool, AJ_PASSWORD_MAX_LEN + 2);
        apr_pool_cleanup_register(cx->pool, again, htjwt_cleanse, apr_pool_cleanup_null);
        n = htjwt_prompt("Re-type new password: ", again, cap);
        if (n == -1) {
            return htjwt_err(HTJWT_EINTR, "interrupted (end of input)");
        }
        if (n == -2) {
            return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                             AJ_PASSWORD_MAX_LEN);
        }
        if (strcmp(pw, again)) {
            return htjwt_err(HTJWT_EPASSWORD, "password verification error: the two "
                             "entries differ");
        }
    }
    else {
        n = htjwt_read_line(STDIN_FILENO, pw, cap);
        if (n == -2) {
            return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                             AJ_PASSWORD_MAX_LEN);
        }
        if (n == -3) {
            return htjwt_err(HTJWT_EILLEGAL, "the password contains a NUL byte");
        }
        /* -1: nothing on standard input: an empty password, refused below */
    }
    if (htjwt_utf8_chars(pw) < (apr_size_t)cx->min_len) {
        return htjwt_err(HTJWT_EPASSWORD, "the password is shorter than %d characters",
                         cx->min_len);
    }
    *out = pw;
    return HTJWT_OK;
}

/* ---- the database ------------------------------------------------------- */

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    aj_store_t *st;
    const char *path;               /* sqlite3: the file */
    int existed;                    /* sqlite3: the file was there before */
    uid_t uid;                      /* owner the sqlite3 files should keep */
    gid_t gid;
} htjwt_db_t;

static int htjwt_is_sqlite(const char *driver)
{
    return !strcmp(driver, "sqlite3");
}

/* Opens the store.  may_create: a missing SQLite file is created (add);
 * every other command refuses a missing file, so a typo in DB does not
 * quietly make an empty database. */
static int htjwt_db_open(htjwt_db_t *db, apr_pool_t *p, const char *driver, const char *params,
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
        return htjwt_err(HTJWT_EFILE, "the apr_dbd driver '%s' is not installed "
                         "(Debian: libaprutil1-dbd-%s)", driver, driver);
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
static void htjwt_db_close(htjwt_db_t *db, apr_pool_t *p)
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
                htjwt_err(HTJWT_EFILE, "warning: cannot give %s to uid %ld: %s", f,
                          (long)db->uid, strerror(errno));
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

/* The exit code of a store write on user `name`: not found (EUSER), a
 * database failure (EFILE, saying what was being done), or OK. */
static int htjwt_written(htjwt_db_t *db, apr_status_t rv, const char *name, const char *doing)
{
    if (rv == APR_NOTFOUND) {
        return htjwt_err(HTJWT_EUSER, "user %s not found", name);
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "%s failed: %s", doing, aj_store_error(db->st, (int)rv));
    }
    return HTJWT_OK;
}

/* The value of tokens_valid_after that revokes every token issued so far:
 * the server's rule (auth_jwt_revoke_all_value), now + 1. */
static apr_int64_t htjwt_revoke_all_value(void)
{
    return htjwt_now() + 1;
}

/* ---- claims ------------------------------------------------------------- */

/* Validates a claims object given on the command line: a JSON object within
 * the body limits and AJ_CLAIMS_MAX_LEN, no reserved claim names.  *obj is
 * the parsed object. */
static int htjwt_check_claims(json_object **obj, apr_pool_t *p, const char *json)
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
        return htjwt_err(HTJWT_EILLEGAL, "claims must be one JSON object (valid JSON, no "
                         "duplicate names, nested at most %d deep), e.g. "
                         "'{\"role\":\"admin\",\"scope\":\"read write\"}'", AJ_JSON_MAX_DEPTH);
    }
    {
        json_object_object_foreach(o, name, val) {
            (void)val;
            if (aj_claims_is_reserved(name)) {
                return htjwt_err(HTJWT_EILLEGAL, "claim \"%s\" is reserved: the issuer sets "
                                 "it (reserved: iss, sub, aud, exp, nbf, iat, jti, name, "
                                 "auth_time, csrf)", name);
            }
        }
    }
    *obj = o;
    return HTJWT_OK;
}

/* ---- DB commands -------------------------------------------------------- */

static const char *htjwt_arg(htjwt_ctx_t *cx, int i)
{
    return i < cx->args->nelts ? APR_ARRAY_IDX(cx->args, i, const char *) : NULL;
}

static int htjwt_check_username(const char *name)
{
    const char *problem;

    if (strlen(name) > AJ_USERNAME_MAX_LEN) {
        return htjwt_err(HTJWT_ETOOLONG, "the username is longer than %d bytes",
                         AJ_USERNAME_MAX_LEN);
    }
    problem = aj_store_username_problem(name, strlen(name));
    if (problem) {
        return htjwt_err(HTJWT_EILLEGAL, "%s", problem);
    }
    return HTJWT_OK;
}

static int htjwt_cmd_add(htjwt_ctx_t *cx)
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

static int htjwt_cmd_passwd(htjwt_ctx_t *cx)
{
    const char *name = htjwt_arg(cx, 0), *pw = NULL, *hash = NULL;
    aj_user_t *user = NULL;
    htjwt_db_t db;
    apr_status_t rv;
    int rc;

    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rc = htjwt_find_user(&user, cx->pool, &db, name);
    }
    if (rc == HTJWT_OK) {
        rc = htjwt_get_password(&pw, cx, htjwt_arg(cx, 1));
    }
    if (rc == HTJWT_OK && aj_password_hash(&hash, cx->pool, pw, cx->cost) != APR_SUCCESS) {
        rc = htjwt_err(HTJWT_EGENERAL, "hashing the password failed");
    }
    if (rc == HTJWT_OK) {
        /* Like the server's password change: earlier tokens are revoked. */
        rv = aj_store_user_set_password(db.st, cx->pool, user->id, hash,
                                        htjwt_revoke_all_value(), htjwt_now());
        rc = htjwt_written(&db, rv, name, apr_psprintf(cx->pool, "updating user %s", name));
        if (rc == HTJWT_OK) {
            fprintf(stderr, "Updating password for user %s; tokens issued before now are "
                    "revoked\n", name);
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

static int htjwt_cmd_del(htjwt_ctx_t *cx)
{
    const char *name = htjwt_arg(cx, 0);
    aj_user_t *user = NULL;
    htjwt_db_t db;
    apr_status_t rv;
    int rc;

    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rc = htjwt_find_user(&user, cx->pool, &db, name);
    }
    if (rc == HTJWT_OK) {
        rv = aj_store_user_delete(db.st, cx->pool, user->id);
        rc = htjwt_written(&db, rv, name, apr_psprintf(cx->pool, "deleting user %s", name));
        if (rc == HTJWT_OK) {
            fprintf(stderr, "Deleting user %s (id %" APR_INT64_T_FMT "); tokens already "
                    "issued stay valid until they expire\n", name, user->id);
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
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

static int htjwt_cmd_list(htjwt_ctx_t *cx)
{
    htjwt_db_t db;
    apr_status_t rv;
    int rc;

    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rv = aj_store_user_each(db.st, cx->pool, htjwt_list_one, NULL);
        if (rv != APR_SUCCESS) {
            rc = htjwt_err(HTJWT_EFILE, "listing users failed: %s",
                           aj_store_error(db.st, (int)rv));
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

static int htjwt_cmd_claims(htjwt_ctx_t *cx)
{
    const char *name = htjwt_arg(cx, 0), *json = htjwt_arg(cx, 1), *compact = NULL;
    json_object *obj = NULL;
    aj_user_t *user = NULL;
    htjwt_db_t db;
    apr_status_t rv;
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
    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rc = htjwt_find_user(&user, cx->pool, &db, name);
    }
    if (rc == HTJWT_OK && !compact) {
        printf("%s\n", user->claims_json);
    }
    else if (rc == HTJWT_OK) {
        rv = aj_store_user_set_claims(db.st, cx->pool, user->id, compact, htjwt_now());
        rc = htjwt_written(&db, rv, name, apr_psprintf(cx->pool, "updating user %s", name));
        if (rc == HTJWT_OK) {
            fprintf(stderr, "Setting claims of user %s; tokens issued from now on carry "
                    "them\n", name);
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

static int htjwt_cmd_revoke_all(htjwt_ctx_t *cx)
{
    const char *name = htjwt_arg(cx, 0);
    aj_user_t *user = NULL;
    htjwt_db_t db;
    apr_status_t rv;
    int rc;

    rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->db, 0);
    if (rc == HTJWT_OK) {
        rc = htjwt_find_user(&user, cx->pool, &db, name);
    }
    if (rc == HTJWT_OK) {
        rv = aj_store_user_set_valid_after(db.st, cx->pool, user->id, htjwt_revoke_all_value());
        rc = htjwt_written(&db, rv, name,
                           apr_psprintf(cx->pool, "revoking the tokens of user %s", name));
        if (rc == HTJWT_OK) {
            fprintf(stderr, "Revoking every token of user %s issued so far; running servers "
                    "refuse them within AuthJWTRevocationRefresh seconds\n", name);
        }
    }
    htjwt_db_close(&db, cx->pool);
    return rc;
}

/* ---- files -------------------------------------------------------------- */

/* Writes data to a new file with mode; an existing file is replaced only
 * with force (it is removed first, so the new one never inherits a looser
 * mode). */
static int htjwt_write_new_file(const char *path, const void *data, apr_size_t len,
                                mode_t mode, int force)
{
    const char *p = data;
    int fd;

    if (force && unlink(path) != 0 && errno != ENOENT) {
        return htjwt_err(HTJWT_EFILE, "cannot replace %s: %s", path, strerror(errno));
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        return htjwt_err(HTJWT_EFILE, "%s exists (-f overwrites it)", path);
    }
    if (fd < 0) {
        return htjwt_err(HTJWT_EFILE, "cannot create %s: %s", path, strerror(errno));
    }
    if (fchmod(fd, mode) != 0) {
        close(fd);
        unlink(path);
        return htjwt_err(HTJWT_EFILE, "cannot set the mode of %s: %s", path, strerror(errno));
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return htjwt_err(HTJWT_EFILE, "cannot write %s: %s", path, strerror(e));
        }
        p += n;
        len -= (apr_size_t)n;
    }
    if (close(fd) != 0) {
        unlink(path);
        return htjwt_err(HTJWT_EFILE, "cannot write %s: %s", path, strerror(errno));
    }
    return HTJWT_OK;
}

/* A key source for aj_key_load: file:PATH and env:VAR as given, a bare
 * path as file:PATH. */
static const char *htjwt_key_source(apr_pool_t *p, const char *arg)
{
    if (!strncmp(arg, "file:", 5) || !strncmp(arg, "env:", 4)) {
        return arg;
    }
    return apr_pstrcat(p, "file:", arg, NULL);
}

/* Loads the key of -k/-a (kid: -i, or the token's when verifying). */
static int htjwt_load_key(aj_key_t **key, htjwt_ctx_t *cx, int for_signing, const char *kid)
{
    const char *alg_name = cx->val[HTJWT_O_ALG], *err = NULL;
    aj_alg_e alg = aj_alg_from_name(alg_name, strlen(alg_name));
    apr_status_t rv;

    if (alg == AJ_ALG_UNKNOWN) {
        return htjwt_syntax("unknown algorithm '%s'", alg_name);
    }
    rv = aj_key_load(key, &err, cx->pool, alg, htjwt_key_source(cx->pool, cx->val[HTJWT_O_KEY]),
                     for_signing, kid);
    if (rv == APR_ENOTIMPL) {
        return htjwt_err(HTJWT_EALG, "%s", err ? err : "algorithm not supported");
    }
    if (rv == APR_EINVAL) {
        return htjwt_err(HTJWT_EINVALID, "%s", err ? err : "not a usable key");
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EFILE, "%s", err ? err : "cannot read the key");
    }
    if (aj_key_warning(*key)) {
        /* docs/reference.md §10: a readable secret is worth a word, not a failure. */
        fprintf(stderr, "htjwt: warning: %s\n", aj_key_warning(*key));
    }
    return HTJWT_OK;
}

/* ---- keygen ------------------------------------------------------------- */

static apr_size_t htjwt_hs_random_bytes(aj_alg_e alg)
{
    switch (alg) {
    case AJ_ALG_HS256: return HTJWT_HS256_RANDOM;
    case AJ_ALG_HS384: return HTJWT_HS384_RANDOM;
    default: return HTJWT_HS512_RANDOM;
    }
}

static EVP_PKEY *htjwt_generate_pkey(aj_alg_e alg)
{
    switch (alg) {
    case AJ_ALG_RS256: case AJ_ALG_RS384: case AJ_ALG_RS512:
    case AJ_ALG_PS256: case AJ_ALG_PS384: case AJ_ALG_PS512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)HTJWT_RSA_BITS);
    case AJ_ALG_ES256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case AJ_ALG_ES384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case AJ_ALG_ES512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");   /* RFC 7518 §3.4 */
    case AJ_ALG_EDDSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default:
        return NULL;
    }
}

/* Writes text to FILE (mode) or, without a file, to stdout. */
static int htjwt_emit(const char *file, const char *text, apr_size_t len, mode_t mode, int force)
{
    if (file) {
        return htjwt_write_new_file(file, text, len, mode, force);
    }
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        return htjwt_err(HTJWT_EFILE, "cannot write to standard output");
    }
    return HTJWT_OK;
}

/* PEM of the private (or public) half into pool memory. */
static const char *htjwt_pem(apr_pool_t *p, EVP_PKEY *pkey, int private_part, apr_size_t *len)
{
    BIO *bio = BIO_new(private_part ? BIO_s_secmem() : BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;
    int ok;

    if (!bio) {
        return NULL;
    }
    ok = private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                      : PEM_write_bio_PUBKEY(bio, pkey);
    n = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0 && data) {
        out = apr_pstrmemdup(p, data, (apr_size_t)n);
        *len = (apr_size_t)n;
    }
    BIO_free(bio);
    return out;
}

/* The absolute form of a file just written, for the configuration hint. */
static const char *htjwt_abs(apr_pool_t *p, const char *path)
{
    char *abs = realpath(path, NULL);
    const char *out = abs ? apr_pstrdup(p, abs) : path;

    free(abs);
    return out;
}

static apr_status_t htjwt_cleanse_str(void *data)
{
    char *s = data;

    OPENSSL_cleanse(s, strlen(s));
    return APR_SUCCESS;
}

static int htjwt_cmd_keygen(htjwt_ctx_t *cx)
{
    const char *alg_name = htjwt_arg(cx, 0), *out = cx->val[HTJWT_O_OUT];
    const char *pub = cx->val[HTJWT_O_PUB], *priv_pem = NULL, *pub_pem = NULL;
    int force = (cx->seen & HTJWT_BIT(HTJWT_O_FORCE)) != 0, rc;
    aj_alg_e alg = aj_alg_from_name(alg_name, strlen(alg_name));
    apr_size_t priv_len = 0, pub_len = 0;
    EVP_PKEY *pkey;

    if (alg == AJ_ALG_UNKNOWN) {
        return htjwt_syntax("unknown algorithm '%s'", alg_name);
    }
    if (out && pub && !strcmp(out, pub)) {
        return htjwt_syntax("-o and -p name the same file");
    }
    if (aj_alg_is_hmac(alg)) {
        unsigned char raw[HTJWT_SECRET_MAX_RANDOM];
        apr_size_t n = htjwt_hs_random_bytes(alg);
        char *secret;

        if (pub) {
            return htjwt_syntax("-p: an HMAC secret has no public part");
        }
        if (RAND_bytes(raw, (int)n) != 1) {
            return htjwt_err(HTJWT_EGENERAL, "no randomness from OpenSSL");
        }
        secret = (char *)aj_b64url_encode(cx->pool, raw, n);
        OPENSSL_cleanse(raw, sizeof(raw));
        apr_pool_cleanup_register(cx->pool, secret, htjwt_cleanse_str, apr_pool_cleanup_null);
        if (out) {
            /* The file holds exactly the secret (no newline): every JWT
             * library reads the same bytes as the module. */
            rc = htjwt_write_new_file(out, secret, strlen(secret), HTJWT_MODE_PRIVATE, force);
        }
        else {
            rc = htjwt_emit(NULL, apr_pstrcat(cx->pool, secret, "\n", NULL),
                            strlen(secret) + 1, 0, 0);
        }
        if (rc == HTJWT_OK && out) {
            fprintf(stderr, "Wrote the %s secret (%" APR_SIZE_T_FMT " characters) to %s, "
                    "mode 0600\n  AuthJWTSigningKey %s file:%s\n", aj_alg_name(alg),
                    strlen(secret), out, aj_alg_name(alg), htjwt_abs(cx->pool, out));
        }
        return rc;
    }

    pkey = htjwt_generate_pkey(alg);
    if (!pkey) {
        return htjwt_err(HTJWT_EGENERAL, "generating a %s key failed", aj_alg_name(alg));
    }
    priv_pem = htjwt_pem(cx->pool, pkey, 1, &priv_len);
    pub_pem = htjwt_pem(cx->pool, pkey, 0, &pub_len);
    EVP_PKEY_free(pkey);
    if (!priv_pem || !pub_pem) {
        return htjwt_err(HTJWT_EGENERAL, "encoding the %s key failed", aj_alg_name(alg));
    }
    apr_pool_cleanup_register(cx->pool, priv_pem, htjwt_cleanse_str, apr_pool_cleanup_null);
    /* The public file first: a refusal to overwrite it leaves no orphan
     * private key behind. */
    rc = pub ? htjwt_emit(pub, pub_pem, pub_len, HTJWT_MODE_PUBLIC, force) : HTJWT_OK;
    if (rc == HTJWT_OK) {
        rc = htjwt_emit(out, priv_pem, priv_len, HTJWT_MODE_PRIVATE, force);
    }
    if (rc == HTJWT_OK && !pub) {
        rc = htjwt_emit(NULL, pub_pem, pub_len, 0, 0);
    }
    if (rc == HTJWT_OK && out) {
        fprintf(stderr, "Wrote the %s private key to %s, mode 0600\n  AuthJWTSigningKey %s "
                "file:%s\n", aj_alg_name(alg), out, aj_alg_name(alg), htjwt_abs(cx->pool, out));
    }
    if (rc == HTJWT_OK && pub) {
        fprintf(stderr, "Wrote its public key to %s\n  AuthJWTVerifyKey %s file:%s\n", pub,
                aj_alg_name(alg), htjwt_abs(cx->pool, pub));
    }
    if (rc == HTJWT_OK && !aj_alg_supported(alg)) {
        fprintf(stderr, "Note: this build of mod_auth_jwt cannot use %s keys yet\n",
                aj_alg_name(alg));
    }
    return rc;
}

/* ---- tokens ------------------------------------------------------------- */

/* The TOKEN argument, or one line of standard input for "-". */
static int htjwt_token_arg(const char **token, htjwt_ctx_t *cx)
{
    const char *arg = htjwt_arg(cx, 0);
    char *buf;
    apr_size_t len;
    long n;

    if (strcmp(arg, "-")) {
        *token = arg;
        return HTJWT_OK;
    }
    buf = apr_palloc(cx->pool, HTJWT_LINE_MAX);
    n = htjwt_read_line(STDIN_FILENO, buf, HTJWT_LINE_MAX);
    if (n == -1) {
        return htjwt_err(HTJWT_EINVALID, "no token on standard input");
    }
    if (n == -2) {
        return htjwt_err(HTJWT_ETOOLONG, "the token is longer than %d bytes",
                         AJ_TOKEN_MAX_LEN);
    }
    if (n == -3) {
        return htjwt_err(HTJWT_EINVALID, "the token contains a NUL byte");
    }
    len = (apr_size_t)n;
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) {
        buf[--len] = '\0';
    }
    *token = buf;
    return HTJWT_OK;
}

static int htjwt_need_key_and_alg(htjwt_ctx_t *cx, int required)
{
    int k = (cx->seen & HTJWT_BIT(HTJWT_O_KEY)) != 0;
    int a = (cx->seen & HTJWT_BIT(HTJWT_O_ALG)) != 0;

    if ((required || k || a) && !(k && a)) {
        return htjwt_syntax("%s needs both -k KEY and -a ALG", cx->cmd);
    }
    return HTJWT_OK;
}

static void htjwt_policy(aj_policy_t *policy, htjwt_ctx_t *cx)
{
    memset(policy, 0, sizeof(*policy));
    policy->issuer = cx->val[HTJWT_O_ISS];
    policy->audiences = cx->aud->nelts ? cx->aud : NULL;
    policy->leeway = cx->leeway;
}

/* Verifies token with the -k/-a key.  Without -i the key takes the token's
 * kid, so a key file verifies whatever kid its token names (the algorithm
 * still comes from -a, never from the token). */
static int htjwt_verify(aj_verdict_e *verdict, aj_claims_t **claims, htjwt_ctx_t *cx,
                        const char *token, json_object *header)
{
    const char *kid = cx->val[HTJWT_O_KID];
    json_object *v = NULL;
    aj_keyset_t *ks;
    aj_key_t *key = NULL;
    aj_policy_t policy;
    int rc;

    if (!kid && header && json_object_object_get_ex(header, "kid", &v)
        && json_object_is_type(v, json_type_string)) {
        kid = json_object_get_string(v);
    }
    rc = htjwt_load_key(&key, cx, 0, kid);
    if (rc != HTJWT_OK) {
        return rc;
    }
    ks = aj_keyset_make(cx->pool);
    aj_keyset_add(ks, key);
    htjwt_policy(&policy, cx);
    if (aj_jws_verify(verdict, claims, cx->pool, token, strlen(token), ks, &policy,
                      htjwt_now()) != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "the signature check could not run");
    }
    return HTJWT_OK;
}

static void htjwt_print_json(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY
                                                           | JSON_C_TO_STRING_SPACED
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int htjwt_cmd_verify(htjwt_ctx_t *cx)
{
    const char *token = NULL;
    json_object *header = NULL, *payload = NULL;
    aj_claims_t *claims = NULL;
    aj_verdict_e verdict = AJ_MALFORMED;
    int rc;

    if ((rc = htjwt_need_key_and_alg(cx, 1)) != HTJWT_OK
        || (rc = htjwt_token_arg(&token, cx)) != HTJWT_OK) {
        return rc;
    }
    if (aj_jws_decode(&header, &payload, cx->pool, token, strlen(token)) != APR_SUCCESS) {
        header = NULL;      /* aj_jws_verify says why */
    }
    rc = htjwt_verify(&verdict, &claims, cx, token, header);
    if (rc != HTJWT_OK) {
        return rc;
    }
    if (verdict != AJ_OK) {
        printf("invalid: %s (%s)\n", aj_verdict_text(verdict), aj_verdict_name(verdict));
        return HTJWT_EFILE;
    }
    htjwt_print_json(aj_claims_object(claims));
    return HTJWT_OK;
}

/* Did the signature verify, whatever the claims say?  (aj_jws_verify
 * checks the claims only after the signature.) */
static int htjwt_signature_ok(aj_verdict_e v)
{
    return aj_verdict_signature_verified(v);
}

static void htjwt_print_time(json_object *payload, const char *name, apr_int64_t now)
{
    char buf[HTJWT_TIME_BUF];
    json_object *v = NULL;
    apr_int64_t t, d;

    if (!json_object_object_get_ex(payload, name, &v)
        || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
        return;
    }
    t = json_object_get_int64(v);
    d = t - now;
    if (d > 0) {
        printf("%-9s %s (in %" APR_INT64_T_FMT " s)\n", name,
               htjwt_iso_time(buf, sizeof(buf), t), d);
    }
    else if (d < 0) {
        printf("%-9s %s (%" APR_INT64_T_FMT " s ago)\n", name,
               htjwt_iso_time(buf, sizeof(buf), t), -d);
    }
    else {
        printf("%-9s %s (now)\n", name, htjwt_iso_time(buf, sizeof(buf), t));
    }
}

static int htjwt_cmd_decode(htjwt_ctx_t *cx)
{
    static const char *const times[] = { "iat", "nbf", "exp", "auth_time" };
    const char *token = NULL;
    json_object *header = NULL, *payload = NULL;
    aj_claims_t *claims = NULL;
    aj_verdict_e verdict = AJ_MALFORMED;
    apr_int64_t now = htjwt_now();
    apr_size_t i;
    int rc;

    if ((rc = htjwt_need_key_and_alg(cx, 0)) != HTJWT_OK
        || (rc = htjwt_token_arg(&token, cx)) != HTJWT_OK) {
        return rc;
    }
    if (aj_jws_decode(&header, &payload, cx->pool, token, strlen(token)) != APR_SUCCESS) {
        return htjwt_err(HTJWT_EINVALID, "not a well-formed JWT (three base64url parts, JSON "
                         "objects, at most %d bytes)", AJ_TOKEN_MAX_LEN);
    }
    printf("Header:\n");
    htjwt_print_json(header);
    printf("Claims:\n");
    htjwt_print_json(payload);
    for (i = 0; i < sizeof(times) / sizeof(times[0]); ++i) {
        htjwt_print_time(payload, times[i], now);
    }
    if (!(cx->seen & HTJWT_BIT(HTJWT_O_KEY))) {
        printf("Signature: not checked (give -k KEY -a ALG)\n");
        return HTJWT_OK;
    }
    rc = htjwt_verify(&verdict, &claims, cx, token, header);
    if (rc != HTJWT_OK) {
        return rc;
    }
    if (!htjwt_signature_ok(verdict)) {
        printf("Signature: INVALID (%s)\n", aj_verdict_text(verdict));
        return HTJWT_EFILE;
    }
    printf("Signature: valid (%s)\n", cx->val[HTJWT_O_ALG]);
    printf("Verdict: %s\n", verdict == AJ_OK ? "valid" : aj_verdict_text(verdict));
    return HTJWT_OK;
}

static int htjwt_cmd_sign(htjwt_ctx_t *cx)
{
    const char *user_name = cx->val[HTJWT_O_USER], *subject = cx->val[HTJWT_O_SUBJECT];
    const char *extra_arg = cx->val[HTJWT_O_CLAIMS], *json = NULL, *token = NULL;
    json_object *extra = NULL, *merged = NULL;
    aj_user_t *user = NULL;
    aj_key_t *key = NULL;
    htjwt_db_t db;
    aj_issue_t in;
    apr_int64_t now = htjwt_now();
    apr_status_t rv;
    int rc;

    if ((rc = htjwt_need_key_and_alg(cx, 1)) != HTJWT_OK) {
        return rc;
    }
    if (!!user_name == !!subject) {
        return htjwt_syntax("sign needs either -u USER -D DB or -s SUBJECT");
    }
    if (user_name && !cx->val[HTJWT_O_DB]) {
        return htjwt_syntax("-u USER needs -D DB");
    }
    if (subject && (cx->seen & (HTJWT_BIT(HTJWT_O_DB) | HTJWT_BIT(HTJWT_O_DRIVER)))) {
        return htjwt_syntax("-D and -d go with -u USER, not -s SUBJECT");
    }
    if (user_name && cx->val[HTJWT_O_NAME]) {
        return htjwt_syntax("-n goes with -s SUBJECT (a user's name is its username)");
    }
    if (subject && htjwt_all_digits(subject)) {
        return htjwt_err(HTJWT_EILLEGAL, "a subject of digits only would name the stored user "
                         "with that id; use -u USER -D DB for users");
    }
    if (subject && !*subject) {
        return htjwt_err(HTJWT_EILLEGAL, "the subject must not be empty");
    }
    if (extra_arg && (rc = htjwt_check_claims(&extra, cx->pool, extra_arg)) != HTJWT_OK) {
        return rc;
    }
    rc = htjwt_load_key(&key, cx, 1, cx->val[HTJWT_O_KID]);
    if (rc != HTJWT_OK) {
        return rc;
    }
    if (!aj_key_can_sign(key)) {
        return htjwt_err(HTJWT_EINVALID, "%s cannot sign (a public key?)",
                         cx->val[HTJWT_O_KEY]);
    }
    memset(&in, 0, sizeof(in));
    if (user_name) {
        rc = htjwt_db_open(&db, cx->pool, cx->driver, cx->val[HTJWT_O_DB], 0);
        if (rc == HTJWT_OK) {
            rc = htjwt_find_user(&user, cx->pool, &db, user_name);
        }
        htjwt_db_close(&db, cx->pool);
        if (rc != HTJWT_OK) {
            return rc;
        }
        in.sub = apr_psprintf(cx->pool, "%" APR_INT64_T_FMT, user->id);
        in.name = user->username;
        /* the stored claims, then -C over them */
        if (aj_json_parse(&merged, cx->pool, user->claims_json, strlen(user->claims_json),
                          &aj_json_body_limits) != APR_SUCCESS) {
            fprintf(stderr, "htjwt: warning: the stored claims of %s are not a JSON object; "
                    "signing without them\n", user_name);
            merged = NULL;
        }
        if (user->tokens_valid_after > now && user->tokens_valid_after - now <= 1) {
            /* A revoke-all in this very second covers tokens with this
             * iat: wait, as the server does. */
            apr_interval_time_t wait = apr_time_from_sec(user->tokens_valid_after)
                                       - apr_time_now() + HTJWT_SIGNING_WAIT_SLACK;
            if (wait > 0) {
                apr_sleep(wait);
            }
            now = htjwt_now();
        }
        else if (user->tokens_valid_after > now) {
            fprintf(stderr, "htjwt: warning: tokens of %s issued before %" APR_INT64_T_FMT
                    " are revoked; this one will be refused\n", user_name,
                    user->tokens_valid_after);
        }
    }
    else {
        in.sub = subject;
        in.name = cx->val[HTJWT_O_NAME];
    }
    if (extra) {
        if (!merged) {
            merged = aj_json_own(cx->pool, json_object_new_object());
        }
        json_object_object_foreach(extra, name, val) {
            json_object_object_add(merged, name, json_object_get(val));
        }
    }
    if (merged) {
        in.extra_json = aj_json_dump(cx->pool, merged);
    }
    rv = aj_random_id(&in.jti, cx->pool, AJ_JTI_RANDOM_BYTES);
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "no randomness for jti");
    }
    in.iat = now;
    in.nbf = now;
    in.exp = now + cx->lifetime;
    in.auth_time = now;
    in.iss = cx->val[HTJWT_O_ISS];
    in.aud = cx->aud->nelts ? cx->aud : NULL;
    rv = aj_claims_build(&json, cx->pool, &in);
    if (rv == APR_EINVAL) {
        return htjwt_err(HTJWT_EILLEGAL, "the claims do not make a valid claim set");
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "building the claims failed");
    }
    rv = aj_jws_sign(&token, cx->pool, key, json, strlen(json));
    if (rv == AJ_E2BIG) {
        return htjwt_err(HTJWT_ETOOLONG, "the token would be longer than %d bytes",
                         AJ_TOKEN_MAX_LEN);
    }
    if (rv == APR_ENOTIMPL) {
        return htjwt_err(HTJWT_EALG, "this build cannot sign with %s", cx->val[HTJWT_O_ALG]);
    }
    if (rv != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "signing failed");
    }
    printf("%s\n", token);
    return HTJWT_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

#define HTJWT_DB_OPTS (HTJWT_BIT(HTJWT_O_BATCH) | HTJWT_BIT(HTJWT_O_COST) \
                       | HTJWT_BIT(HTJWT_O_MIN) | HTJWT_BIT(HTJWT_O_DRIVER))
#define HTJWT_VERIFY_OPTS (HTJWT_BIT(HTJWT_O_KEY) | HTJWT_BIT(HTJWT_O_ALG) \
                           | HTJWT_BIT(HTJWT_O_KID) | HTJWT_BIT(HTJWT_O_ISS) \
                           | HTJWT_BIT(HTJWT_O_AUD) | HTJWT_BIT(HTJWT_O_LEEWAY))

static const htjwt_cmd_t htjwt_cmds[] = {
    { "add", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_add },
    { "passwd", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_passwd },
    { "del", 1, 1, 1, HTJWT_DB_OPTS, htjwt_cmd_del },
    { "list", 1, 0, 0, HTJWT_DB_OPTS, htjwt_cmd_list },
    { "claims", 1, 1, 2, HTJWT_DB_OPTS, htjwt_cmd_claims },
    { "revoke-all", 1, 1, 1, HTJWT_DB_OPTS, htjwt_cmd_revoke_all },
    { "keygen", 0, 1, 1, HTJWT_BIT(HTJWT_O_OUT) | HTJWT_BIT(HTJWT_O_PUB)
                         | HTJWT_BIT(HTJWT_O_FORCE), htjwt_cmd_keygen },
    { "sign", 0, 0, 0, HTJWT_BIT(HTJWT_O_KEY) | HTJWT_BIT(HTJWT_O_ALG) | HTJWT_BIT(HTJWT_O_KID)
                       | HTJWT_BIT(HTJWT_O_LIFETIME) | HTJWT_BIT(HTJWT_O_ISS)
                       | HTJWT_BIT(HTJWT_O_AUD) | HTJWT_BIT(HTJWT_O_USER)
                       | HTJWT_BIT(HTJWT_O_DB) | HTJWT_BIT(HTJWT_O_DRIVER)
                       | HTJWT_BIT(HTJWT_O_SUBJECT) | HTJWT_BIT(HTJWT_O_NAME)
                       | HTJWT_BIT(HTJWT_O_CLAIMS), htjwt_cmd_sign },
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
 * Returns HTJWT_OK with *cmd set, -1 for --help, or an exit code. */
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
                                "starts with '-')", a);
        }
        def = htjwt_find_opt(a, &value);
        if (!def) {
            return htjwt_syntax("unknown option '%s'", a);
        }
        if (def->id == HTJWT_O_HELP) {
            return -1;
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
        if (!htjwt_parse_int(&v, cx->val[HTJWT_O_COST], AJ_BCRYPT_COST_MIN,
                             AJ_BCRYPT_COST_MAX)) {
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
        && !htjwt_parse_duration(&cx->lifetime, cx->val[HTJWT_O_LIFETIME], 1,
                                 HTJWT_MAX_SECONDS)) {
        return htjwt_syntax("-l: the lifetime must be a duration from 1 second to 10 years: "
                            AJ_DURATION_FORMS);
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
    if (rc == -1) {
        fputs(htjwt_usage_text, stdout);
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

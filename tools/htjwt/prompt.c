/*
 * htjwt: the password of add and passwd, from the command line (-b), from the
 * terminal (twice, without echo) or from one line of standard input; and the
 * line reader that the token argument "-" uses too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <apr_strings.h>

#include <openssl/crypto.h>

#include "aj_password.h"
#include "aj_user.h"
#include "htjwt.h"

/* Reads one line of at most cap - 1 bytes from fd into buf (NUL-terminated,
 * the newline and a CR before it removed).  Returns the length, or
 * HTJWT_LINE_EOF, HTJWT_LINE_TOO_LONG or HTJWT_LINE_NUL (htjwt.h). */
long htjwt_read_line(int fd, char *buf, apr_size_t cap)
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
        return HTJWT_LINE_EOF;
    }
    if (too_long) {
        return HTJWT_LINE_TOO_LONG;
    }
    if (nul) {
        return HTJWT_LINE_NUL;
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

/* A password buffer: AJ_PASSWORD_MAX_LEN bytes and the NUL (the cap given
 * to htjwt_read_line), and one spare byte. */
#define HTJWT_SECRET_BUF_LEN (AJ_PASSWORD_MAX_LEN + 2)

static apr_status_t htjwt_cleanse(void *data)
{
    OPENSSL_cleanse(data, HTJWT_SECRET_BUF_LEN);
    return APR_SUCCESS;
}

/* A zeroed buffer for a password of up to AJ_PASSWORD_MAX_LEN bytes, wiped
 * when the pool goes. */
static char *htjwt_secret_buf(apr_pool_t *p)
{
    char *buf = apr_pcalloc(p, HTJWT_SECRET_BUF_LEN);

    apr_pool_cleanup_register(p, buf, htjwt_cleanse, apr_pool_cleanup_null);
    return buf;
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

/* One password typed at the terminal after `prompt`: HTJWT_OK, or the exit
 * code of end of input (EINTR) or of a line too long (ETOOLONG). */
static int htjwt_prompt_password(const char *prompt, char *buf, apr_size_t cap)
{
    long n = htjwt_prompt(prompt, buf, cap);

    if (n == HTJWT_LINE_EOF) {
        return htjwt_err(HTJWT_EINTR, "interrupted (end of input)");
    }
    if (n == HTJWT_LINE_TOO_LONG) {
        return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                         AJ_PASSWORD_MAX_LEN);
    }
    return HTJWT_OK;
}

/* The password of add/passwd: from the command line with -b, else from the
 * terminal twice, else one line of standard input.  Checks the length rules
 * of the module (AuthJWTPasswordMinLength counts characters). */
int htjwt_get_password(const char **out, htjwt_ctx_t *cx, const char *arg)
{
    /* The buffers hold AJ_PASSWORD_MAX_LEN bytes and the NUL; a longer line
     * is refused as too long. */
    apr_size_t cap = AJ_PASSWORD_MAX_LEN + 1;
    char *pw = htjwt_secret_buf(cx->pool), *again;
    long n;
    int rc;

    if (cx->seen & HTJWT_BIT(HTJWT_O_BATCH)) {
        if (!arg) {
            return htjwt_syntax("-b needs the password after USER");
        }
        if (aj_user_password_too_long(arg)) {
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
        rc = htjwt_prompt_password("New password: ", pw, cap);
        if (rc != HTJWT_OK) {
            return rc;
        }
        again = htjwt_secret_buf(cx->pool);
        rc = htjwt_prompt_password("Re-type new password: ", again, cap);
        if (rc != HTJWT_OK) {
            return rc;
        }
        if (strcmp(pw, again)) {
            return htjwt_err(HTJWT_EPASSWORD, "password verification error: the two "
                                              "entries differ");
        }
    }
    else {
        n = htjwt_read_line(STDIN_FILENO, pw, cap);
        if (n == HTJWT_LINE_TOO_LONG) {
            return htjwt_err(HTJWT_ETOOLONG, "the password is longer than %d bytes",
                             AJ_PASSWORD_MAX_LEN);
        }
        if (n == HTJWT_LINE_NUL) {
            return htjwt_err(HTJWT_EILLEGAL, "the password contains a NUL byte");
        }
        /* HTJWT_LINE_EOF: nothing on standard input: an empty password,
         * refused below */
    }
    if (aj_user_password_too_short(pw, cx->min_len)) {
        return htjwt_err(HTJWT_EPASSWORD, "the password is shorter than %d characters",
                         cx->min_len);
    }
    *out = pw;
    return HTJWT_OK;
}

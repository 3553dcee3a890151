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
 * the newline and a CR before it removed).  Returns the length, -1 at end of
 * input with nothing read, -2 when the line is longer (the rest is drained),
 * -3 when it contains a NUL byte. */
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
int htjwt_get_password(const char **out, htjwt_ctx_t *cx, const char *arg)
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
    if (aj_user_password_too_short(pw, cx->min_len)) {
        return htjwt_err(HTJWT_EPASSWORD, "the password is shorter than %d characters",
                         cx->min_len);
    }
    *out = pw;
    return HTJWT_OK;
}

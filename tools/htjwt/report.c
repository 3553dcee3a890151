/*
 * report.c — what every htjwt command uses and nothing else: the messages
 * (errors, the usage text), the clock and the command's arguments.  It
 * calls no other file of htjwt, so the command files and main.c can all
 * use it without depending on each other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "htjwt.h"

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

void htjwt_print_usage(FILE *out)
{
    fputs(htjwt_usage_text, out);
}

int htjwt_err(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("htjwt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int htjwt_syntax(const char *fmt, ...)
{
    va_list ap;

    fputs("htjwt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    htjwt_print_usage(stderr);
    fputs("Run 'htjwt --help' for the options and exit codes.\n", stderr);
    return HTJWT_ESYNTAX;
}

apr_int64_t htjwt_now(void)
{
    return apr_time_sec(apr_time_now());
}

const char *htjwt_iso_time(char *buf, apr_size_t len, apr_int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        apr_snprintf(buf, len, "%" APR_INT64_T_FMT, t);
    }
    return buf;
}

/* The i-th argument after the command; NULL past the last. */
const char *htjwt_arg(htjwt_ctx_t *cx, int i)
{
    return i < cx->args->nelts ? APR_ARRAY_IDX(cx->args, i, const char *) : NULL;
}

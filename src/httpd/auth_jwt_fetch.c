/*
 * auth_jwt_fetch.c — one bounded GET with libcurl (docs/reference.md §11):
 * TLS verified against the system store or AuthJWTFetchCA, https only
 * (http only where aj_issuer_url_check allowed it: loopback), no
 * redirects, a time limit for connect and transfer, and at most
 * AJ_ISSUER_DOC_MAX bytes kept: a longer body aborts the transfer.
 */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <apr_strings.h>

#include "auth_jwt_fetch.h"
#include "aj_issuer.h"

/* What a transfer collects as it goes. */
typedef struct {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len, cap;
    int too_big;
    const char *cache_control;
} auth_jwt_fetch_sink_t;

/* The body's first allocation; it doubles up to AJ_ISSUER_DOC_MAX. */
#define AUTH_JWT_FETCH_FIRST_CAP 16384
/* Only these may ever be spoken, whatever the URL says. */
#define AUTH_JWT_FETCH_PROTOCOLS "http,https"
/* Sent as User-Agent, so an identity provider's logs say who fetched. */
#define AUTH_JWT_FETCH_AGENT     "mod_auth_jwt"

apr_status_t auth_jwt_fetch_global_init(apr_pool_t *pconf)
{
    static int done;

    if (done) {
        return APR_SUCCESS;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return APR_EGENERAL;
    }
    done = 1; /* for the life of the process: restarts keep libcurl */
    return APR_SUCCESS;
}

static size_t auth_jwt_fetch_body(char *data, size_t size, size_t n, void *baton)
{
    auth_jwt_fetch_sink_t *sink = baton;
    apr_size_t add = size * n;

    if (add > AJ_ISSUER_DOC_MAX - sink->len) {
        sink->too_big = 1;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (sink->len + add + 1 > sink->cap) {
        apr_size_t cap = sink->cap ? sink->cap : AUTH_JWT_FETCH_FIRST_CAP;
        char *buf;
        while (cap < sink->len + add + 1) {
            cap *= 2;
        }
        buf = apr_palloc(sink->pool, cap);
        if (sink->len) {
            memcpy(buf, sink->buf, sink->len);
        }
        sink->buf = buf;
        sink->cap = cap;
    }
    memcpy(sink->buf + sink->len, data, add);
    sink->len += add;
    sink->buf[sink->len] = '\0';
    return add;
}

static size_t auth_jwt_fetch_header(char *line, size_t size, size_t n, void *baton)
{
    static const char name[] = "cache-control:";
    auth_jwt_fetch_sink_t *sink = baton;
    apr_size_t len = size * n, start = sizeof(name) - 1;

    if (len > start && !strncasecmp(line, name, start)) {
        while (start < len && (line[start] == ' ' || line[start] == '\t')) {
            ++start;
        }
        while (len > start && (line[len - 1] == '\r' || line[len - 1] == '\n')) {
            --len;
        }
        sink->cache_control = apr_pstrmemdup(sink->pool, line + start, len - start);
    }
    return size * n;
}

apr_status_t auth_jwt_fetch(auth_jwt_fetched_t *out, const char **err, apr_pool_t *p,
                            const char *url, const auth_jwt_fetch_opts_t *opts)
{
    auth_jwt_fetch_sink_t sink;
    char curl_err[CURL_ERROR_SIZE];
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode cc;
    apr_status_t rv = APR_EGENERAL;

    memset(&sink, 0, sizeof(sink));
    memset(out, 0, sizeof(*out));
    sink.pool = p;
    curl_err[0] = '\0';
    if (!curl) {
        *err = "libcurl cannot start a transfer";
        return APR_ENOMEM;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, AUTH_JWT_FETCH_PROTOCOLS);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (opts->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts->timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)AJ_ISSUER_DOC_MAX);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, AUTH_JWT_FETCH_AGENT);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, auth_jwt_fetch_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, auth_jwt_fetch_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);

    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        *err = sink.too_big || cc == CURLE_FILESIZE_EXCEEDED
                   ? "the document is larger than 1 MiB"
                   : apr_psprintf(p, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
        rv = cc == CURLE_OPERATION_TIMEDOUT ? APR_TIMEUP : APR_EGENERAL;
        goto cleanup;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        *err = status >= 300 && status < 400
                   ? apr_psprintf(p, "answered %ld (redirects are not followed)", status)
                   : apr_psprintf(p, "answered %ld", status);
        goto cleanup;
    }
    out->body = sink.buf ? sink.buf : "";
    out->len = sink.len;
    out->cache_control = sink.cache_control;
    rv = APR_SUCCESS;

cleanup:
    curl_easy_cleanup(curl);
    return rv;
}

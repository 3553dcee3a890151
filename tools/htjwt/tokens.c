/*
 * htjwt: sign, verify and decode.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_claims.h"
#include "aj_issue.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj_key.h"
#include "htjwt.h"
#include "aj.h"
#include "aj_store.h"
#include "aj_keyset.h"

/* A token read from standard input ("-"): the module's limit and a newline. */
#define HTJWT_LINE_MAX           (AJ_TOKEN_MAX_LEN + 2)
#define HTJWT_SIGNING_WAIT_SLACK 1000 /* microseconds past a revoke-all */

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
    if (n == HTJWT_LINE_EOF) {
        return htjwt_err(HTJWT_EINVALID, "no token on standard input");
    }
    if (n == HTJWT_LINE_TOO_LONG) {
        return htjwt_err(HTJWT_ETOOLONG, "the token is longer than %d bytes", AJ_TOKEN_MAX_LEN);
    }
    if (n == HTJWT_LINE_NUL) {
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
    if (aj_jws_verify(verdict, claims, cx->pool, token, strlen(token), ks, &policy, htjwt_now())
        != APR_SUCCESS) {
        return htjwt_err(HTJWT_EGENERAL, "the signature check could not run");
    }
    return HTJWT_OK;
}

static void htjwt_print_json(json_object *obj)
{
    printf("%s\n",
           json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                   | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int htjwt_cmd_verify(htjwt_ctx_t *cx)
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
        header = NULL; /* aj_jws_verify says why */
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
        printf("%-9s %s (in %" APR_INT64_T_FMT " s)\n", name, htjwt_iso_time(buf, sizeof(buf), t),
               d);
    }
    else if (d < 0) {
        printf("%-9s %s (%" APR_INT64_T_FMT " s ago)\n", name, htjwt_iso_time(buf, sizeof(buf), t),
               -d);
    }
    else {
        printf("%-9s %s (now)\n", name, htjwt_iso_time(buf, sizeof(buf), t));
    }
}

int htjwt_cmd_decode(htjwt_ctx_t *cx)
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
        return htjwt_err(HTJWT_EINVALID,
                         "not a well-formed JWT (three base64url parts, JSON "
                         "objects, at most %d bytes)",
                         AJ_TOKEN_MAX_LEN);
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

int htjwt_cmd_sign(htjwt_ctx_t *cx)
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
        return htjwt_err(HTJWT_EINVALID, "%s cannot sign (a public key?)", cx->val[HTJWT_O_KEY]);
    }
    memset(&in, 0, sizeof(in));
    if (user_name) {
        rc = htjwt_open_user(&db, &user, cx, cx->val[HTJWT_O_DB], user_name);
        htjwt_db_close(&db, cx->pool);
        if (rc != HTJWT_OK) {
            return rc;
        }
        in.sub = apr_psprintf(cx->pool, "%" APR_INT64_T_FMT, user->id);
        in.name = user->username;
        /* the stored claims, then -C over them */
        if (aj_json_parse(&merged, cx->pool, user->claims_json, strlen(user->claims_json),
                          &aj_json_body_limits)
            != APR_SUCCESS) {
            fprintf(stderr,
                    "htjwt: warning: the stored claims of %s are not a JSON object; "
                    "signing without them\n",
                    user_name);
            merged = NULL;
        }
        if (user->tokens_valid_after > now && user->tokens_valid_after - now <= 1) {
            /* A revoke-all in this very second covers tokens with this
             * iat: wait, as the server does. */
            apr_interval_time_t wait = apr_time_from_sec(user->tokens_valid_after) - apr_time_now()
                                       + HTJWT_SIGNING_WAIT_SLACK;
            if (wait > 0) {
                apr_sleep(wait);
            }
            now = htjwt_now();
        }
        else if (user->tokens_valid_after > now) {
            fprintf(stderr,
                    "htjwt: warning: tokens of %s issued before %" APR_INT64_T_FMT
                    " are revoked; this one will be refused\n",
                    user_name, user->tokens_valid_after);
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

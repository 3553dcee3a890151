/*
 * auth_jwt_authz.c — claim-based Require lines (docs/reference.md §3):
 *
 *   Require jwt-claim NAME VALUE...        the claim equals one of the values
 *                                          (or, an array claim, contains one)
 *   Require jwt-claim NAME=VALUE...        mod_authnz_jwt's form: any one pair
 *   Require jwt-scope SCOPE...             every scope is in the "scope" claim
 *                                          (a refused token learns which:
 *                                          insufficient_scope, docs/reference.md §11)
 *   Require jwt-fresh [SECONDS]            the password was entered at most
 *                                          SECONDS ago (docs/reference.md §12)
 *
 * Each line is parsed once, at configuration time, into a list of
 * (name, value) pairs, scopes or a duration; a request only reads it.
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "auth_jwt_authz.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_authn.h"
#include "auth_jwt_config.h"
#include "auth_jwt_errors.h"
#include "aj_claims.h"
#include "aj_duration.h"

/* Require jwt-fresh without SECONDS (docs/reference.md §12), and the
 * shortest it takes: 0 would admit only a token minted this very second. */
#define AUTH_JWT_FRESH_DEFAULT 300
#define AUTH_JWT_FRESH_MIN     1

typedef struct {
    const char *name;
    const char *value;
} auth_jwt_claim_pair;

/* Require jwt-scope SCOPE...: the scopes, and the same joined by single
 * spaces for the scope="..." of an insufficient_scope challenge. */
typedef struct {
    apr_array_header_t *scopes; /* const char * */
    const char *text;
} auth_jwt_scope_line;

/* Splits a Require line into words (ap_getword_conf: quotes honoured). */
static apr_array_header_t *auth_jwt_words(apr_pool_t *p, const char *line)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(const char *));
    const char *w;

    while (*(w = ap_getword_conf(p, &line))) {
        APR_ARRAY_PUSH(words, const char *) = w;
    }
    return words;
}

static const char *auth_jwt_claim_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    apr_array_header_t *words = auth_jwt_words(cmd->pool, line);
    apr_array_header_t *pairs = apr_array_make(cmd->pool, 4, sizeof(auth_jwt_claim_pair));
    const char *first;
    int i;

    if (words->nelts == 0) {
        return "Require jwt-claim: needs NAME VALUE... or NAME=VALUE...";
    }
    first = APR_ARRAY_IDX(words, 0, const char *);
    if (strchr(first, '=')) {
        for (i = 0; i < words->nelts; ++i) {
            const char *w = APR_ARRAY_IDX(words, i, const char *);
            const char *eq = strchr(w, '=');
            auth_jwt_claim_pair *pair;
            if (!eq || eq == w) {
                return apr_psprintf(cmd->pool,
                                    "Require jwt-claim: '%s' is not NAME=VALUE "
                                    "(do not mix the two forms)",
                                    w);
            }
            pair = apr_array_push(pairs);
            pair->name = apr_pstrmemdup(cmd->pool, w, (apr_size_t)(eq - w));
            pair->value = eq + 1;
        }
    }
    else {
        if (words->nelts < 2) {
            return "Require jwt-claim: needs a claim name and at least one value";
        }
        for (i = 1; i < words->nelts; ++i) {
            auth_jwt_claim_pair *pair = apr_array_push(pairs);
            pair->name = first;
            pair->value = APR_ARRAY_IDX(words, i, const char *);
        }
    }
    *parsed = pairs;
    return NULL;
}

/* Each scope must be an RFC 6749 scope-token: anything else could never
 * match a space-separated scope claim, and the challenge writes the scopes
 * into a quoted-string as they are. */
static const char *auth_jwt_scope_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    auth_jwt_scope_line *sl = apr_palloc(cmd->pool, sizeof(*sl));
    int i;

    sl->scopes = auth_jwt_words(cmd->pool, line);
    if (sl->scopes->nelts == 0) {
        return "Require jwt-scope: needs at least one scope";
    }
    for (i = 0; i < sl->scopes->nelts; ++i) {
        const char *w = APR_ARRAY_IDX(sl->scopes, i, const char *);
        if (!aj_claims_scope_token_ok(w)) {
            return apr_psprintf(cmd->pool,
                                "Require jwt-scope: '%s' is not a scope (RFC 6749: printable "
                                "ASCII without spaces, '\"' or '\\')",
                                ap_escape_logitem(cmd->pool, w));
        }
    }
    sl->text = apr_array_pstrcat(cmd->pool, sl->scopes, ' ');
    *parsed = sl;
    return NULL;
}

/* Require jwt-fresh [SECONDS]: the line's one optional duration, in the
 * directives' own forms (aj_duration_parse), as an apr_int64_t. */
static const char *auth_jwt_fresh_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    apr_array_header_t *words = auth_jwt_words(cmd->pool, line);
    apr_int64_t *max_age = apr_palloc(cmd->pool, sizeof(*max_age));
    const char *err;

    *max_age = AUTH_JWT_FRESH_DEFAULT;
    if (words->nelts > 1) {
        return "Require jwt-fresh: takes at most one duration (SECONDS)";
    }
    if (words->nelts == 1) {
        err = aj_duration_in_range(max_age, cmd->pool, "Require jwt-fresh",
                                   APR_ARRAY_IDX(words, 0, const char *), AUTH_JWT_FRESH_MIN,
                                   AUTH_JWT_MAX_SECONDS);
        if (err) {
            return err;
        }
    }
    *parsed = max_age;
    return NULL;
}

/* The claims of the authenticated request, or NULL (another provider
 * authenticated it, or nobody did). */
static const aj_claims_t *auth_jwt_request_claims(request_rec *r)
{
    const auth_jwt_req_t *st = auth_jwt_req_get(r);

    return st ? st->claims : NULL;
}

static authz_status auth_jwt_claim_check(request_rec *r, const char *line, const void *parsed)
{
    const apr_array_header_t *pairs = parsed;
    const aj_claims_t *claims;
    int i;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    claims = auth_jwt_request_claims(r);
    if (!claims) {
        return AUTHZ_DENIED;
    }
    for (i = 0; i < pairs->nelts; ++i) {
        const auth_jwt_claim_pair *pair = &APR_ARRAY_IDX(pairs, i, auth_jwt_claim_pair);
        if (aj_claims_match(claims, pair->name, pair->value)) {
            return AUTHZ_GRANTED;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(030) "Require jwt-claim %s: no match for user %s", line, r->user);
    return AUTHZ_DENIED;
}

static authz_status auth_jwt_scope_check(request_rec *r, const char *line, const void *parsed)
{
    const auth_jwt_scope_line *sl = parsed;
    const auth_jwt_req_t *st;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    st = auth_jwt_req_get(r);
    if (st && st->claims && aj_claims_has_scopes(st->claims, sl->scopes)) {
        return AUTHZ_GRANTED;
    }
    /* A token can be replaced by one with more scope: say which (RFC 6750
     * §3.1).  A password's claims are the user's own; no token to ask for. */
    if (st && st->via == AUTH_JWT_VIA_TOKEN && auth_jwt_note_insufficient_scope(r, sl->text)) {
        auth_jwt_errors_note(r, HTTP_UNAUTHORIZED, AUTH_JWT_ERR_SCOPE);
        auth_jwt_errors_note(r, HTTP_FORBIDDEN, AUTH_JWT_ERR_SCOPE);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(031) "Require jwt-scope %s: not granted to user %s", line, r->user);
    return AUTHZ_DENIED;
}

/* Whether the request's credential shows a password entered at most
 * max_age seconds ago: a password checked in this request (AuthType JWT or
 * AuthBasicProvider jwt) is as fresh as it gets; a token is judged by its
 * auth_time, with the section's AuthJWTLeeway.  A user another provider
 * authenticated shows no login time. */
static int auth_jwt_fresh_enough(request_rec *r, apr_int64_t max_age)
{
    const auth_jwt_req_t *st = auth_jwt_req_get(r);
    aj_policy_t policy;

    if (st && st->via == AUTH_JWT_VIA_PASSWORD) {
        return 1;
    }
    if (!st || st->via != AUTH_JWT_VIA_TOKEN) {
        return 0;
    }
    auth_jwt_cfg_policy(&policy, auth_jwt_dconf(r));
    if (aj_claims_fresh(st->claims, &policy, max_age, apr_time_sec(r->request_time))) {
        return 1;
    }
    /* The client can do something about it: log in again. */
    if (auth_jwt_note_step_up(r, max_age)) {
        auth_jwt_errors_note(r, HTTP_UNAUTHORIZED, AUTH_JWT_ERR_STEP_UP);
        auth_jwt_errors_note(r, HTTP_FORBIDDEN, AUTH_JWT_ERR_STEP_UP);
    }
    return 0;
}

static authz_status auth_jwt_fresh_check(request_rec *r, const char *line, const void *parsed)
{
    apr_int64_t max_age = *(const apr_int64_t *)parsed;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (auth_jwt_fresh_enough(r, max_age)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  AJ_LOGNO(032) "Require jwt-fresh %" APR_INT64_T_FMT
                                ": no password login that recent for user %s",
                  max_age, r->user);
    return AUTHZ_DENIED;
}

/* mod_authz_core's 403 (AuthzSendForbiddenOnFailure On) runs no challenge
 * hook: a refused step-up or scope says so here, as the 401 does. */
static void auth_jwt_authz_insert_error(request_rec *r)
{
    const char *type = ap_auth_type(r);

    if (r->status == HTTP_FORBIDDEN && type && !strcasecmp(type, AUTH_JWT_AUTH_TYPE)) {
        (void)auth_jwt_challenge_authz(r);
    }
}

static const authz_provider auth_jwt_claim_provider = {
    &auth_jwt_claim_check,
    &auth_jwt_claim_parse,
};

static const authz_provider auth_jwt_scope_provider = {
    &auth_jwt_scope_check,
    &auth_jwt_scope_parse,
};

static const authz_provider auth_jwt_fresh_provider = {
    &auth_jwt_fresh_check,
    &auth_jwt_fresh_parse,
};

void auth_jwt_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-claim", AUTHZ_PROVIDER_VERSION,
                              &auth_jwt_claim_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-scope", AUTHZ_PROVIDER_VERSION,
                              &auth_jwt_scope_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-fresh", AUTHZ_PROVIDER_VERSION,
                              &auth_jwt_fresh_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_insert_error_filter(auth_jwt_authz_insert_error, NULL, NULL, APR_HOOK_MIDDLE);
}

/*
 * auth_jwt_authn.c — the authentication front ends: `AuthType JWT` (the
 * access and check_authn hooks, its challenges) and the `jwt` authn
 * provider for `AuthType Basic` + `AuthBasicProvider jwt`.  They decide
 * which credential a request carries (aj_cred.c reads the headers) and
 * hand it to the token path (auth_jwt_verify.c) or the password path
 * (auth_jwt_password.c); what either accepts becomes the request's state
 * (auth_jwt_req_get) and its JWT_CLAIM_* environment (auth_jwt_env.c).
 *
 * Credentials, in docs/reference.md §2's order (the first present decides; a present but
 * invalid credential is a 401, never a fall-through):
 *   1. Authorization: Bearer <jwt>
 *   2. Authorization: Basic base64(<jwt>:<anything>)   (REST-auth)
 *   3. Authorization: Basic base64(<username>:<password>)
 *   4. the AuthJWTCookie token
 * A malformed Authorization header (two of them, which httpd joins with
 * ", "; an empty credential; Basic that is not base64 or has no ':') is a
 * 400.  Nothing here logs a token or a password.
 */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "auth_jwt_authn.h"
#include "auth_jwt_logcap.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_claimhdr.h"
#include "auth_jwt_config.h"
#include "auth_jwt_env.h"
#include "auth_jwt_errors.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_password.h"
#include "auth_jwt_throttle.h"
#include "aj_issue.h"
#include "aj_jws.h"
#include "auth_jwt_verify.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_cred.h"
#include "aj_expose.h"
#include "aj_jws.h"
#include "aj_metrics.h"
#include "aj_store.h"

const auth_jwt_req_t *auth_jwt_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_jwt_module);
}

static auth_jwt_req_t *auth_jwt_req_set(request_rec *r, auth_jwt_via_e via,
                                        const aj_claims_t *claims, const aj_user_t *user)
{
    auth_jwt_req_t *st = apr_pcalloc(r->pool, sizeof(*st));

    st->via = via;
    st->claims = claims;
    st->user = user;
    st->username = user ? user->username : NULL;
    ap_set_module_config(r->request_config, &auth_jwt_module, st);
    return st;
}

/* ---- tokens ------------------------------------------------------------- */

/* Verifies a token credential; on success records the request state and the
 * environment (r->user is set by the caller, in the authn phase).  OK with
 * *verdict, or HTTP_SERVICE_UNAVAILABLE. */
static int auth_jwt_accept_token(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                                 const char *token, apr_size_t len)
{
    const aj_claims_t *claims = NULL;
    const auth_jwt_issuer_t *issuer = NULL;
    auth_jwt_req_t *st;
    const char *user, *sub, *jti;
    int rc;

    rc = auth_jwt_verify_token(verdict, &claims, &issuer, r, c, token, len);
    if (rc != OK || *verdict != AJ_OK) {
        return rc;
    }
    /* AuthJWTUserClaim, else "name" or "sub" (docs/reference.md §11) */
    user = aj_expose_user(claims, c->user_claim);
    if (!user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(013) "token refused: it names no user (%s missing, not a "
                                    "non-empty string, or holding control characters)",
                      c->user_claim ? ap_escape_logitem(r->pool, c->user_claim) : "name or sub");
        *verdict = AJ_NO_USER;
        return OK;
    }
    st = auth_jwt_req_set(r, AUTH_JWT_VIA_TOKEN, claims, NULL);
    st->username = apr_pstrdup(r->pool, user);
    st->issuer = issuer ? issuer->issuer : NULL;
    auth_jwt_export_claims(r, c, claims);
    auth_jwt_claimhdr_set(r, c, claims);
    sub = aj_claims_get_string(claims, "sub");
    jti = aj_claims_get_string(claims, "jti");
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, AJ_LOGNO(014) "token accepted for sub=%s jti=%s",
                  sub ? sub : "-", jti ? jti : "-");
    return OK;
}

/* ---- passwords ---------------------------------------------------------- */

/* claims: from the credential cache, or NULL to build them. */
static void auth_jwt_accept_password(request_rec *r, const auth_jwt_dir_conf *c,
                                     const aj_user_t *user, const aj_claims_t *claims)
{
    if (!claims) {
        claims = aj_issue_user_claims(r->pool, user->id, user->username, user->claims_json);
    }

    r->user = apr_pstrdup(r->pool, user->username);
    (void)auth_jwt_req_set(r, AUTH_JWT_VIA_PASSWORD, claims, user);
    auth_jwt_export_claims(r, c, claims);
    auth_jwt_claimhdr_set(r, c, claims);
}

/* ---- challenges --------------------------------------------------------- */

/* The realm as an RFC 9110 quoted-string body: the AuthName, else the
 * configured ServerName (never the client's Host header), for the
 * handlers that answer 401 without AuthType (auth-jwt-login). */
static const char *auth_jwt_realm(request_rec *r)
{
    const char *name = ap_auth_name(r);

    if (!name) {
        name = r->server->server_hostname;
    }
    return name ? ap_escape_quotes(r->pool, name) : "";
}

/* r->notes: the Bearer error a refused Require line asks for, one the
 * client can act on: a step-up (its max_age) or insufficient_scope (the
 * line's scopes).  The first line refused with one is the one sent
 * (auth_jwt_note_refusal). */
#define AUTH_JWT_NOTE_STEP_UP "auth-jwt-step-up"
#define AUTH_JWT_NOTE_SCOPE   "auth-jwt-insufficient-scope"

static const char *auth_jwt_challenge_header(request_rec *r)
{
    return (PROXYREQ_PROXY == r->proxyreq) ? "Proxy-Authenticate" : "WWW-Authenticate";
}

/* RFC 9728 §5.1: with AuthJWTResourceMetadata every Bearer challenge names
 * the metadata document (the URL was checked, at configuration time, to
 * need no escaping in a quoted-string); "" without. */
static const char *auth_jwt_metadata_param(request_rec *r)
{
    const char *url = auth_jwt_dconf(r)->resource_metadata;

    return url ? apr_pstrcat(r->pool, ", resource_metadata=\"", url, "\"", NULL) : "";
}

/* Notes `value` under `name` unless a refused Require line noted its
 * challenge already: non-zero if this one is the one sent.  mod_authz_core
 * asks the lines in configuration order (and stops a <RequireAll> at its
 * first refusal), so the first note names the first line the client has
 * to satisfy: one rule, whatever the containers. */
static int auth_jwt_note_refusal(request_rec *r, const char *name, const char *value)
{
    if (apr_table_get(r->notes, AUTH_JWT_NOTE_STEP_UP)
        || apr_table_get(r->notes, AUTH_JWT_NOTE_SCOPE)) {
        return 0;
    }
    apr_table_setn(r->notes, name, value);
    return 1;
}

int auth_jwt_note_step_up(request_rec *r, apr_int64_t max_age)
{
    return auth_jwt_note_refusal(r, AUTH_JWT_NOTE_STEP_UP,
                                 apr_psprintf(r->pool, "%" APR_INT64_T_FMT, max_age));
}

int auth_jwt_note_insufficient_scope(request_rec *r, const char *scopes)
{
    return auth_jwt_note_refusal(r, AUTH_JWT_NOTE_SCOPE, scopes);
}

int auth_jwt_challenge_authz(request_rec *r)
{
    const char *max_age = apr_table_get(r->notes, AUTH_JWT_NOTE_STEP_UP);
    const char *scopes = apr_table_get(r->notes, AUTH_JWT_NOTE_SCOPE);
    const char *challenge;

    if (max_age) {
        challenge = apr_psprintf(r->pool,
                                 "Bearer realm=\"%s\", error=\"insufficient_user_authentication\", "
                                 "error_description=\"%s\", max_age=\"%s\"%s",
                                 auth_jwt_realm(r), AUTH_JWT_ERR_STEP_UP, max_age,
                                 auth_jwt_metadata_param(r));
    }
    else if (scopes) {
        /* RFC 6750 §3.1; the scopes are scope-tokens of the Require line
         * (aj_claims_scope_token_ok), nothing the client sent */
        challenge = apr_psprintf(
            r->pool, "Bearer realm=\"%s\", error=\"insufficient_scope\", scope=\"%s\"%s",
            auth_jwt_realm(r), scopes, auth_jwt_metadata_param(r));
    }
    else {
        return 0;
    }
    apr_table_add(r->err_headers_out, auth_jwt_challenge_header(r), challenge);
    return 1;
}

void auth_jwt_challenge(request_rec *r, aj_verdict_e refused)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *hdr = auth_jwt_challenge_header(r);
    const char *realm = auth_jwt_realm(r);

    if (refused != AJ_OK) {
        apr_table_add(r->err_headers_out, hdr,
                      apr_psprintf(r->pool,
                                   "Bearer realm=\"%s\", error=\"invalid_token\", "
                                   "error_description=\"%s\"%s",
                                   realm, aj_verdict_text(refused), auth_jwt_metadata_param(r)));
    }
    else if (!auth_jwt_challenge_authz(r)) {
        apr_table_add(
            r->err_headers_out, hdr,
            apr_psprintf(r->pool, "Bearer realm=\"%s\"%s", realm, auth_jwt_metadata_param(r)));
    }
    if (auth_jwt_cfg_password_login(c)) {
        apr_table_add(r->err_headers_out, hdr, apr_psprintf(r->pool, "Basic realm=\"%s\"", realm));
    }
}

static int auth_jwt_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, AUTH_JWT_AUTH_TYPE)) {
        return DECLINED;
    }
    auth_jwt_challenge(r, AJ_OK);
    return OK;
}

/* ---- the credential ----------------------------------------------------- */

/* The credential of this request (aj_cred_parse): the Authorization (or,
 * for a proxy, Proxy-Authorization) header, and the Cookie header when
 * AuthJWTCookie names a token cookie. */
static aj_cred_kind_e auth_jwt_parse_credentials(request_rec *r, const auth_jwt_dir_conf *c,
                                                 aj_cred_t *cred)
{
    aj_cred_in_t in;

    memset(&in, 0, sizeof(in));
    in.authorization = apr_table_get(
        r->headers_in, (PROXYREQ_PROXY == r->proxyreq) ? "Proxy-Authorization" : "Authorization");
    in.authorization_len = in.authorization ? strlen(in.authorization) : 0;
    if (c->cookie) {
        in.cookie = apr_table_get(r->headers_in, "Cookie");
        in.cookie_len = in.cookie ? strlen(in.cookie) : 0;
        in.cookie_name = c->cookie;
    }
    return aj_cred_parse(cred, r->pool, &in);
}

/* Double submit (docs/reference.md §2 form 4): a state-changing request authenticated by
 * the cookie must repeat the token's csrf claim in X-CSRF-Token. */
static int auth_jwt_csrf_ok(request_rec *r, const aj_cred_t *cred)
{
    const auth_jwt_req_t *st;
    const char *sent, *want;

    if (!cred->from_cookie || r->method_number == M_GET || r->method_number == M_OPTIONS
        || r->method_number == M_TRACE) {
        return 1; /* HEAD is M_GET */
    }
    st = auth_jwt_req_get(r);
    sent = apr_table_get(r->headers_in, AJ_CRED_CSRF_HEADER);
    want = st && st->claims ? aj_claims_get_string(st->claims, AJ_CRED_CSRF_CLAIM) : NULL;
    if (!aj_cred_csrf_match(sent, sent ? strlen(sent) : 0, want, want ? strlen(want) : 0)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_INFO, 0, r,
            AJ_LOGNO(024) "refused: %s with the cookie token and no matching " AJ_CRED_CSRF_HEADER,
            r->method);
        return 0;
    }
    return 1;
}

/* ---- AuthType JWT ------------------------------------------------------- */

/* A 401 with its challenges; `why` is the JSON body's text for JSON
 * clients (auth_jwt_errors.c): the verdict's when a token was refused. */
static int auth_jwt_unauthorized_because(request_rec *r, aj_verdict_e refused, const char *why)
{
    auth_jwt_challenge(r, refused);
    auth_jwt_errors_note(r, HTTP_UNAUTHORIZED, why);
    return HTTP_UNAUTHORIZED;
}

static int auth_jwt_unauthorized(request_rec *r, aj_verdict_e refused)
{
    return auth_jwt_unauthorized_because(
        r, refused, refused != AJ_OK ? aj_verdict_text(refused) : AUTH_JWT_ERR_AUTH_REQUIRED);
}

/* AuthType JWT with a username and password (docs/reference.md §2 form 3). */
static int auth_jwt_check_authn_password(request_rec *r, const auth_jwt_dir_conf *c,
                                         const aj_cred_t *cred)
{
    const aj_user_t *user = NULL;
    const aj_claims_t *claims = NULL;
    apr_int64_t retry_after = 0;
    auth_jwt_pw_e outcome;
    int rc;

    if (!auth_jwt_cfg_password_login(c)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      AJ_LOGNO(022) "password refused: AuthJWTPasswordLogin is Off");
        return auth_jwt_unauthorized(r, AJ_OK);
    }
    outcome = auth_jwt_password_check(&user, &claims, &retry_after, r, c, cred->user,
                                      cred->password, AUTH_JWT_UNKNOWN_REFUSED);
    rc = auth_jwt_password_status(r, outcome, retry_after);
    if (rc == OK) {
        auth_jwt_accept_password(r, c, user, claims);
    }
    else if (rc == HTTP_UNAUTHORIZED) {
        /* the refused check logged its audit line (AJ200) */
        rc = auth_jwt_unauthorized_because(r, AJ_OK, AUTH_JWT_ERR_WRONG_PASSWORD);
    }
    return rc;
}

static int auth_jwt_check_authn_decide(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const auth_jwt_dir_conf *c;
    const auth_jwt_req_t *early;
    aj_cred_t cred;
    aj_verdict_e verdict = AJ_MALFORMED;
    int rc;

    if (!type || strcasecmp(type, AUTH_JWT_AUTH_TYPE)) {
        return DECLINED;
    }
    if (!ap_auth_name(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(020) "AuthType JWT needs an AuthName (%s)", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    c = auth_jwt_dconf(r);
    r->ap_auth_type = (char *)AUTH_JWT_AUTH_TYPE;

    /* A token was verified in the access phase (auth_jwt_check_access). */
    early = auth_jwt_req_get(r);
    if (early && early->via == AUTH_JWT_VIA_TOKEN) {
        r->user = (char *)early->username;
        return OK;
    }

    switch (auth_jwt_parse_credentials(r, c, &cred)) {
    case AJ_CRED_NONE:
    case AJ_CRED_OTHER: return auth_jwt_unauthorized(r, AJ_OK);
    case AJ_CRED_BAD:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(021) "bad request: %s", cred.problem);
        return HTTP_BAD_REQUEST;
    case AJ_CRED_BEARER: break;
    case AJ_CRED_BASIC:
        if (!cred.token) {
            return auth_jwt_check_authn_password(r, c, &cred);
        }
        break;
    default: return HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = auth_jwt_accept_token(&verdict, r, c, cred.token, cred.token_len);
    if (rc != OK) {
        return rc;
    }
    if (verdict != AJ_OK) {
        return auth_jwt_unauthorized(r, verdict);
    }
    if (!auth_jwt_csrf_ok(r, &cred)) {
        return HTTP_FORBIDDEN;
    }
    r->user = (char *)auth_jwt_req_get(r)->username;
    return OK;
}

/* The access phase, before mod_authz_core's user-less pass: a token
 * credential is verified here, so its JWT_CLAIM_* variables exist when a
 * `Require expr` that does not name REMOTE_USER is evaluated (docs/reference.md §2), and
 * a refused token is a 401 even where the Require lines would not ask for
 * a user.  Passwords wait for the authn phase (bcrypt only when needed). */
static int auth_jwt_check_access_decide(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const auth_jwt_dir_conf *c;
    aj_cred_t cred;
    aj_verdict_e verdict = AJ_MALFORMED;
    int rc;

    if (!type || strcasecmp(type, AUTH_JWT_AUTH_TYPE) || !ap_auth_name(r)) {
        return DECLINED;
    }
    c = auth_jwt_dconf(r);
    switch (auth_jwt_parse_credentials(r, c, &cred)) {
    case AJ_CRED_BEARER:
    case AJ_CRED_BASIC:
        if (cred.token) {
            break;
        }
        return DECLINED;
    default: return DECLINED; /* decided in the authn phase */
    }
    rc = auth_jwt_accept_token(&verdict, r, c, cred.token, cred.token_len);
    if (rc != OK) {
        return rc;
    }
    if (verdict != AJ_OK) {
        r->ap_auth_type = (char *)AUTH_JWT_AUTH_TYPE;
        return auth_jwt_unauthorized(r, verdict);
    }
    if (!auth_jwt_csrf_ok(r, &cred)) {
        return HTTP_FORBIDDEN;
    }
    return DECLINED;
}

/* A request that carries credentials: httpd's header dump must not show
 * them (auth_jwt_logcap.c). */
static int auth_jwt_post_read_request(request_rec *r)
{
    if (apr_table_get(r->headers_in, "Authorization")
        || apr_table_get(r->headers_in, "Proxy-Authorization")
        || apr_table_get(r->headers_in, "Cookie")) {
        auth_jwt_logcap(r);
    }
    return DECLINED;
}

/* ---- AuthBasicProvider jwt ---------------------------------------------- */

static authn_status auth_jwt_provider_decide(request_rec *r, const char *user, const char *password)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const aj_user_t *u = NULL;
    const aj_claims_t *claims = NULL;
    apr_int64_t retry_after = 0;

    if (aj_jws_looks_like_jwt(user, strlen(user))) {
        aj_verdict_e verdict = AJ_MALFORMED;
        if (auth_jwt_accept_token(&verdict, r, c, user, strlen(user)) != OK) {
            r->user = NULL;
            return AUTH_GENERAL_ERROR;
        }
        if (verdict != AJ_OK) {
            /* mod_auth_basic put the sent username in r->user: keep the
             * refused token out of %u in the access log. */
            r->user = NULL;
            return AUTH_DENIED;
        }
        r->user = (char *)auth_jwt_req_get(r)->username;
        return AUTH_GRANTED;
    }
    if (!auth_jwt_cfg_password_login(c)) {
        return AUTH_USER_NOT_FOUND;
    }
    switch (auth_jwt_password_check(&u, &claims, &retry_after, r, c, user, password,
                                    AUTH_JWT_UNKNOWN_PASSED_ON)) {
    case AUTH_JWT_PW_OK: auth_jwt_accept_password(r, c, u, claims); return AUTH_GRANTED;
    case AUTH_JWT_PW_UNKNOWN_USER: return AUTH_USER_NOT_FOUND;
    case AUTH_JWT_PW_MISMATCH: return AUTH_DENIED;
    case AUTH_JWT_PW_THROTTLED:
        /* A Basic provider cannot answer 429 (docs/reference.md §10); its
         * 401 takes the time of a failed check, or an instant refusal would
         * tell a throttled existing user from an unknown one (unknown names
         * are passed on uncounted here, and always take that time). */
        auth_jwt_pace_pad(r, c, apr_time_now());
        return AUTH_DENIED;
    default: return AUTH_GENERAL_ERROR;
    }
}

/* ---- counting the decisions (auth-jwt-metrics) --------------------------- */

/* The outcome a refused token's verdict counts as. */
static aj_metric_e auth_jwt_refusal(request_rec *r)
{
    const char *v = apr_table_get(r->notes, AUTH_JWT_NOTE_VERDICT);

    if (!v) {
        return AJ_M_RESULT_INVALID_TOKEN;
    }
    return !strcmp(v, aj_verdict_name(AJ_EXPIRED))   ? AJ_M_RESULT_EXPIRED
           : !strcmp(v, aj_verdict_name(AJ_REVOKED)) ? AJ_M_RESULT_REVOKED
                                                     : AJ_M_RESULT_INVALID_TOKEN;
}

/* The outcome of a decision that ended with rc.  Only failures look
 * further (the notes; the credential again for a 401 without a refused
 * token: a password, or nothing usable). */
static aj_metric_e auth_jwt_outcome(request_rec *r, int rc)
{
    aj_cred_t cred;

    switch (rc) {
    case OK: return AJ_M_RESULT_OK;
    case HTTP_SERVICE_UNAVAILABLE:
    case HTTP_INTERNAL_SERVER_ERROR: return AJ_M_RESULT_STORE_UNAVAILABLE;
    case HTTP_TOO_MANY_REQUESTS: return AJ_M_RESULT_THROTTLED;
    case HTTP_UNAUTHORIZED:
        if (apr_table_get(r->notes, AUTH_JWT_NOTE_VERDICT)) {
            return auth_jwt_refusal(r);
        }
        return (auth_jwt_parse_credentials(r, auth_jwt_dconf(r), &cred) == AJ_CRED_BASIC
                && !cred.token)
                   ? AJ_M_RESULT_WRONG_PASSWORD
                   : AJ_M_RESULT_NO_CREDENTIALS;
    default: return AJ_M_RESULT_INVALID_TOKEN; /* 400 malformed, 403 CSRF */
    }
}

/* Every 503 of AuthType JWT is the store's (a password check, or the
 * revocations never loaded): its JSON text says so. */
static int auth_jwt_note_store_down(request_rec *r, int rc)
{
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        auth_jwt_errors_note(r, rc, AUTH_JWT_ERR_STORE_DOWN);
    }
    return rc;
}

static int auth_jwt_check_authn(request_rec *r)
{
    int rc = auth_jwt_note_store_down(r, auth_jwt_check_authn_decide(r));

    if (rc != DECLINED) {
        auth_jwt_metrics_count(auth_jwt_outcome(r, rc));
    }
    return rc;
}

/* The access phase decides only refusals (a token accepted there is
 * counted when the authn phase takes it up). */
static int auth_jwt_check_access(request_rec *r)
{
    int rc = auth_jwt_note_store_down(r, auth_jwt_check_access_decide(r));

    if (rc != DECLINED && rc != OK) {
        auth_jwt_metrics_count(auth_jwt_outcome(r, rc));
    }
    return rc;
}

static authn_status auth_jwt_provider_password(request_rec *r, const char *user,
                                               const char *password)
{
    authn_status st = auth_jwt_provider_decide(r, user, password);

    switch (st) {
    case AUTH_GRANTED: auth_jwt_metrics_count(AJ_M_RESULT_OK); break;
    case AUTH_GENERAL_ERROR: auth_jwt_metrics_count(AJ_M_RESULT_STORE_UNAVAILABLE); break;
    default:
        auth_jwt_metrics_count(apr_table_get(r->notes, AUTH_JWT_NOTE_VERDICT)
                                   ? auth_jwt_refusal(r)
                                   : AJ_M_RESULT_WRONG_PASSWORD);
        break;
    }
    return st;
}

static const authn_provider auth_jwt_authn_provider = { &auth_jwt_provider_password, NULL };

void auth_jwt_authn_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "jwt", AUTHN_PROVIDER_VERSION,
                              &auth_jwt_authn_provider, AP_AUTH_INTERNAL_PER_CONF);
    auth_jwt_logcap_init();
    ap_hook_post_read_request(auth_jwt_post_read_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_access(auth_jwt_check_access, NULL, NULL, APR_HOOK_FIRST,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(auth_jwt_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(auth_jwt_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
}

/*
 * auth_jwt_authn.c — authentication: `AuthType JWT` (check_authn hook) and
 * the `jwt` authn provider for `AuthType Basic` + `AuthBasicProvider jwt`.
 *
 * Credentials, in docs/reference.md §2's order (the first present decides; a present but
 * invalid credential is a 401, never a fall-through):
 *   1. Authorization: Bearer <jwt>
 *   2. Authorization: Basic base64(<jwt>:<anything>)   (REST-auth)
 *   3. Authorization: Basic base64(<username>:<password>)
 * A malformed Authorization header (two of them, which httpd joins with
 * ", "; an empty credential; Basic that is not base64 or has no ':') is a
 * 400.  Nothing here logs a token or a password.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include <apr_lib.h>

#include "auth_jwt_authn.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_bcache.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_errors.h"
#include "auth_jwt_metrics.h"
#include "auth_jwt_revoke.h"
#include "auth_jwt_throttle.h"
#include "aj_b64.h"
#include "aj_basic.h"
#include "aj_issue.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj_vcache.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_key.h"
#include "aj_metrics.h"
#include "aj_password.h"
#include "aj_store.h"
#include "aj_user.h"
#include "aj_keyset.h"

/* r->notes: the verdict name of a refused token (for the counters). */
#define AUTH_JWT_NOTE_VERDICT "auth-jwt-verdict"
#define AUTH_JWT_ENV_PREFIX "JWT_CLAIM_"
/* Longest claim name exported to the environment. */
#define AUTH_JWT_ENV_NAME_MAX 64

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

/* ---- environment -------------------------------------------------------- */

/* The exportable claims of one request, gathered before any is exported:
 * apr tables compare keys without regard to case, so JWT_CLAIM_role and
 * JWT_CLAIM_ROLE are one variable, and a claim could otherwise overwrite
 * (or, with apr_table_add, shadow) another that a `Require expr` or a CGI
 * reads.  Names that differ only in case are therefore exported neither. */
typedef struct {
    request_rec *r;
    apr_array_header_t *names;      /* const char *, in claim order */
    apr_array_header_t *values;     /* const char *, parallel to names */
    apr_table_t *seen;              /* name -> the first spelling seen */
    apr_table_t *ambiguous;         /* names (any case) not to export */
} auth_jwt_env_baton;

/* Exportable claims expected per token before the arrays grow. */
#define AUTH_JWT_ENV_CLAIMS_HINT 16

static int auth_jwt_env_name_ok(const char *name)
{
    apr_size_t n = 0;

    for (; *name; ++name, ++n) {
        if (!(apr_isalnum(*name) || *name == '_') || n >= AUTH_JWT_ENV_NAME_MAX) {
            return 0;
        }
    }
    return n > 0;
}

static int auth_jwt_env_value_ok(const char *value)
{
    for (; *value; ++value) {
        if (apr_iscntrl(*value)) {
            return 0;
        }
    }
    return 1;
}

static int auth_jwt_env_visit(void *baton, const char *name, const char *value)
{
    auth_jwt_env_baton *b = baton;
    const char *first;

    /* Names that cannot be environment variables, and values that could
     * split a header when copied into one, are not exported. */
    if (!auth_jwt_env_name_ok(name) || !auth_jwt_env_value_ok(value)) {
        return 0;
    }
    first = apr_table_get(b->seen, name);
    if (first) {
        /* JSON names are unique (duplicates are refused when the token is
         * parsed), so a hit is the same name in another letter case */
        apr_table_setn(b->ambiguous, first, first);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, b->r, AJ_LOGNO(230)
                      "claims \"%s\" and \"%s\" differ only in letter case: "
                      "neither is exported as " AUTH_JWT_ENV_PREFIX "*",
                      ap_escape_logitem(b->r->pool, first),
                      ap_escape_logitem(b->r->pool, name));
        return 0;
    }
    /* both strings are already in the request pool: no copies */
    apr_table_setn(b->seen, name, name);
    APR_ARRAY_PUSH(b->names, const char *) = name;
    APR_ARRAY_PUSH(b->values, const char *) = value;
    return 0;
}

static void auth_jwt_export_claims(request_rec *r, const auth_jwt_dir_conf *c,
                                   const aj_claims_t *claims)
{
    auth_jwt_env_baton b;
    int i;

    if (!auth_jwt_cfg_claims_to_env(c)) {
        return;
    }
    b.r = r;
    b.names = apr_array_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT, sizeof(const char *));
    b.values = apr_array_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT, sizeof(const char *));
    b.seen = apr_table_make(r->pool, AUTH_JWT_ENV_CLAIMS_HINT);
    b.ambiguous = apr_table_make(r->pool, 1);
    aj_claims_visit(claims, r->pool, auth_jwt_env_visit, &b);
    for (i = 0; i < b.names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(b.names, i, const char *);
        if (!apr_table_get(b.ambiguous, name)) {
            apr_table_setn(r->subprocess_env,
                           apr_pstrcat(r->pool, AUTH_JWT_ENV_PREFIX, name, NULL),
                           APR_ARRAY_IDX(b.values, i, const char *));
        }
    }
}

/* ---- tokens ------------------------------------------------------------- */

/* The verified-token cache of this process (AuthJWTVerifyCache). */
static aj_vcache_t *auth_jwt_vcache;

void auth_jwt_vcache_child_init(apr_pool_t *p, server_rec *s)
{
    const auth_jwt_dir_conf *c = ap_get_module_config(s->lookup_defaults, &auth_jwt_module);
    apr_status_t rv = aj_vcache_make(&auth_jwt_vcache, p,
                                     (apr_uint32_t)auth_jwt_cfg_verify_cache(c));

    if (rv != APR_SUCCESS) {
        auth_jwt_vcache = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, AJ_LOGNO(015)
                     "no verified-token cache in this child");
    }
}

/* What the verified-token cache keeps for a token: a header with its
 * revocation keys, then its packed claims (aj_claims_pack).  The header's
 * size keeps the image 8-byte aligned. */
typedef struct {
    auth_jwt_revkeys keys;
    apr_uint32_t has_keys;      /* keys computed (only where revocation is on) */
    apr_uint32_t reserved;
} auth_jwt_cached_t;

_Static_assert(sizeof(auth_jwt_cached_t) % 8 == 0, "the packed claims must stay aligned");

/* Remembers a token that verified: its keys (when this location checks
 * revocations) and its claims.  Anything that fails just skips caching.
 * *keys is set when the keys were computed; returns the packed claims (the
 * cheaper form for the rest of the request), NULL when nothing was cached. */
static aj_claims_t *auth_jwt_vcache_store(const auth_jwt_revkeys **keys, request_rec *r,
                                          const auth_jwt_dir_conf *c, const char *token,
                                          apr_size_t len, const aj_claims_t *cl,
                                          apr_int64_t now)
{
    auth_jwt_cached_t *entry;
    void *image = NULL;
    apr_size_t ilen = 0;
    apr_int64_t exp = 0;

    if (!aj_claims_get_int(cl, "exp", &exp)
        || aj_claims_pack(&image, &ilen, r->pool, cl) != APR_SUCCESS) {
        return NULL;
    }
    entry = apr_pcalloc(r->pool, sizeof(*entry) + ilen);
    if (auth_jwt_cfg_revocation(c) && auth_jwt_revkeys_make(&entry->keys, r, cl) == APR_SUCCESS) {
        entry->has_keys = 1;
        *keys = &entry->keys;
    }
    memcpy(entry + 1, image, ilen);
    aj_vcache_put(auth_jwt_vcache, c->keys, token, len, entry, sizeof(*entry) + ilen, exp, now);
    return aj_claims_unpack(r->pool, image, ilen);
}

/* Signature, header and JSON checks, through the verified-token cache:
 * a hit restores the claims (and the revocation keys) the token had when
 * it verified, and only the claim rules run again. */
static apr_status_t auth_jwt_verify_cached(aj_verdict_e *v, aj_claims_t **cl,
                                           const auth_jwt_revkeys **keys, request_rec *r,
                                           const auth_jwt_dir_conf *c, const char *token,
                                           apr_size_t len, const aj_policy_t *policy,
                                           apr_int64_t now)
{
    const void *data = NULL;
    apr_size_t dlen = 0;
    int cache = auth_jwt_vcache && auth_jwt_cfg_verify_cache(c) > 0;
    apr_status_t rv;

    *keys = NULL;
    if (cache && aj_vcache_get(&data, &dlen, auth_jwt_vcache, r->pool, c->keys, token, len,
                               now)) {
        const auth_jwt_cached_t *entry = data;
        aj_claims_t *claims = dlen > sizeof(*entry)
            ? aj_claims_unpack(r->pool, entry + 1, dlen - sizeof(*entry)) : NULL;
        if (claims) {
            /* verified before with these very keys: only the claim rules */
            auth_jwt_metrics_count(AJ_M_VERIFY_HIT);
            *keys = entry->has_keys ? &entry->keys : NULL;
            *cl = claims;
            *v = aj_claims_check(claims, policy, now);
            return APR_SUCCESS;
        }
        /* cannot happen (the image is ours); verify as if it missed */
    }
    if (cache) {
        auth_jwt_metrics_count(AJ_M_VERIFY_MISS);
    }
    rv = aj_jws_verify(v, cl, r->pool, token, len, c->keys, policy, now);
    if (rv == APR_SUCCESS && *v == AJ_OK && cache) {
        aj_claims_t *packed = auth_jwt_vcache_store(keys, r, c, token, len, *cl, now);
        *cl = packed ? packed : *cl;
    }
    return rv;
}

int auth_jwt_verify_token(aj_verdict_e *verdict, const aj_claims_t **claims, request_rec *r,
                          const auth_jwt_dir_conf *c, const char *token, apr_size_t len)
{
    aj_verdict_e v = AJ_MALFORMED;
    aj_claims_t *cl = NULL;
    const auth_jwt_revkeys *keys = NULL;
    aj_policy_t policy;
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_status_t rv;
    int rc;

    *verdict = AJ_BAD_ALG;
    if (!c->keys || aj_keyset_count(c->keys) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(010)
                      "no AuthJWTSigningKey or AuthJWTVerifyKey applies to %s; "
                      "refusing the token", r->uri);
        return OK;
    }
    auth_jwt_cfg_policy(&policy, c);
    rv = auth_jwt_verify_cached(&v, &cl, &keys, r, c, token, len, &policy, now);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AJ_LOGNO(011)
                      "token verification could not run");
        *verdict = AJ_MALFORMED;
        return OK;
    }
    if (v == AJ_OK) {
        rc = auth_jwt_revoke_check(&v, r, c, cl, keys);
        if (rc != OK) {
            return rc;
        }
    }
    if (v != AJ_OK) {
        apr_table_setn(r->notes, AUTH_JWT_NOTE_VERDICT, aj_verdict_name(v));
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(012)
                      "token refused: %s%s%s", aj_verdict_name(v),
                      (v == AJ_REVOKED && aj_claims_get_string(cl, "jti")) ? " jti=" : "",
                      (v == AJ_REVOKED && aj_claims_get_string(cl, "jti"))
                          ? aj_claims_get_string(cl, "jti") : "");
        *verdict = v;
        return OK;
    }
    *verdict = AJ_OK;
    *claims = cl;
    return OK;
}

/* The username a verified token stands for: "name", else "sub". */
static const char *auth_jwt_token_user(const aj_claims_t *claims)
{
    const char *name = aj_claims_get_string(claims, "name");

    if (!name || !*name) {
        name = aj_claims_get_string(claims, "sub");
    }
    return (name && *name) ? name : NULL;
}

/* Verifies a token credential; on success records the request state and the
 * environment (r->user is set by the caller, in the authn phase).  OK with
 * *verdict, or HTTP_SERVICE_UNAVAILABLE. */
static int auth_jwt_accept_token(aj_verdict_e *verdict, request_rec *r,
                                 const auth_jwt_dir_conf *c, const char *token, apr_size_t len)
{
    const aj_claims_t *claims = NULL;
    const char *user, *sub, *jti;
    int rc;

    rc = auth_jwt_verify_token(verdict, &claims, r, c, token, len);
    if (rc != OK || *verdict != AJ_OK) {
        return rc;
    }
    user = auth_jwt_token_user(claims);
    if (!user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(013)
                      "token refused: it names no user (no name or sub claim)");
        *verdict = AJ_MALFORMED;
        return OK;
    }
    auth_jwt_req_set(r, AUTH_JWT_VIA_TOKEN, claims, NULL)->username =
        apr_pstrdup(r->pool, user);
    auth_jwt_export_claims(r, c, claims);
    sub = aj_claims_get_string(claims, "sub");
    jti = aj_claims_get_string(claims, "jti");
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, AJ_LOGNO(014)
                  "token accepted for sub=%s jti=%s", sub ? sub : "-", jti ? jti : "-");
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
}

typedef enum {
    AUTH_JWT_PW_OK,
    AUTH_JWT_PW_UNKNOWN_USER,
    AUTH_JWT_PW_MISMATCH,
    AUTH_JWT_PW_STORE_DOWN,
    AUTH_JWT_PW_THROTTLED       /* refused unchecked (docs/reference.md §10): *retry_after */
} auth_jwt_pw_e;

/* A refused check: its audit line and count, then the sleep that makes it
 * end when every other failed check ends (docs/reference.md §10). */
static auth_jwt_pw_e auth_jwt_password_refused(auth_jwt_throttle_t *th, request_rec *r,
                                               const auth_jwt_dir_conf *c, apr_time_t started,
                                               auth_jwt_pw_e outcome, const char *why)
{
    auth_jwt_throttle_refused(th, r, c, why);
    auth_jwt_pace_pad(r, c, started);
    return outcome;
}

/* Verifies password against a stored hash, learning the hash's bcrypt cost
 * and timing the run for the failed-check floor. */
static int auth_jwt_password_matches(request_rec *r, const char *password, const char *hash,
                                     apr_time_t *started)
{
    int cost = aj_password_bcrypt_cost(hash);
    int ok;

    apr_interval_time_t took;

    auth_jwt_pace_learn_hash(r, hash);
    *started = apr_time_now();
    ok = aj_password_verify(password, hash);
    took = apr_time_now() - *started;
    auth_jwt_metrics_password(took);
    if (cost) {
        auth_jwt_pace_sample(cost, took);
    }
    return ok;
}

/* How a front end treats a username the store does not know. */
typedef enum {
    AUTH_JWT_UNKNOWN_REFUSED,   /* a refused check: audit line, counted */
    AUTH_JWT_UNKNOWN_PASSED_ON  /* AuthBasicProvider jwt: a provider after
                                 * ours may know the name (AuthBasicProvider
                                 * jwt file), and mod_auth_basic logs the
                                 * final "not found" (AH01618); counting it
                                 * would lock out and log that provider's
                                 * users */
} auth_jwt_unknown_e;

/* *claims is set when the credential cache had them (else NULL);
 * *retry_after when the outcome is AUTH_JWT_PW_THROTTLED. */
static auth_jwt_pw_e auth_jwt_password(const aj_user_t **user, const aj_claims_t **claims,
                                       apr_int64_t *retry_after, request_rec *r,
                                       const auth_jwt_dir_conf *c, const char *username,
                                       const char *password, auth_jwt_unknown_e unknown)
{
    auth_jwt_throttle_t th;
    aj_store_t *st;
    aj_user_t *u = NULL;
    const char *ignored = NULL;
    apr_time_t started;
    apr_status_t rv;
    int cached, cost;

    *claims = NULL;
    /* Before the cache and before bcrypt: a throttled check costs nothing,
     * and a right password does not get through while throttled. */
    *retry_after = auth_jwt_throttle_check(&th, r, c, username);
    if (*retry_after > 0) {
        return AUTH_JWT_PW_THROTTLED;
    }
    cached = auth_jwt_bcache_get(user, claims, r, c, username, password);
    if (cached == 1) {
        auth_jwt_throttle_passed(&th, r);
        return AUTH_JWT_PW_OK;
    }
    /* cached == 2: a refresh ahead of expiry; the entry stands if the store
     * cannot answer, a wrong password or a vanished user does not */
    st = auth_jwt_store(r);
    if (!st) {
        return cached ? AUTH_JWT_PW_OK : AUTH_JWT_PW_STORE_DOWN;
    }
    auth_jwt_pace_learn_store(r, st);
    if (strlen(username) > AJ_USERNAME_MAX_LEN || strlen(password) > AJ_PASSWORD_MAX_LEN) {
        rv = APR_NOTFOUND;
    }
    else {
        rv = aj_store_user_by_name(&u, r->pool, st, username);
    }
    if (rv == APR_NOTFOUND) {
        /* The work of a real check (and a sample of bcrypt's speed); the
         * floor then hides the cost of the real users' hashes. */
        cost = auth_jwt_cfg_bcrypt_cost(c);
        started = apr_time_now();
        (void)aj_password_hash(&ignored, r->pool, "mod_auth_jwt", cost);
        auth_jwt_pace_sample(cost, apr_time_now() - started);
        if (unknown == AUTH_JWT_UNKNOWN_PASSED_ON) {
            auth_jwt_pace_pad(r, c, started);
            return AUTH_JWT_PW_UNKNOWN_USER;
        }
        return auth_jwt_password_refused(&th, r, c, started, AUTH_JWT_PW_UNKNOWN_USER,
                                         "unknown user");
    }
    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "looking up a user", rv);
        return cached ? AUTH_JWT_PW_OK : AUTH_JWT_PW_STORE_DOWN;
    }
    if (!auth_jwt_password_matches(r, password, u->password_hash, &started)) {
        return auth_jwt_password_refused(&th, r, c, started, AUTH_JWT_PW_MISMATCH,
                                         "wrong password");
    }
    if (cached) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AJ_LOGNO(025)
                      "cached password check of user id %" APR_INT64_T_FMT " renewed",
                      u->id);
        *claims = NULL;
    }
    auth_jwt_throttle_passed(&th, r);
    auth_jwt_bcache_put(r, c, password, u);
    *user = u;
    return AUTH_JWT_PW_OK;
}

/* docs/reference.md §10: a throttled check under AuthType JWT or a handler is a 429
 * that says when to come back. */
static int auth_jwt_too_many(request_rec *r, apr_int64_t retry_after)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, retry_after));
    auth_jwt_errors_note(r, HTTP_TOO_MANY_REQUESTS, AUTH_JWT_ERR_THROTTLED);
    return HTTP_TOO_MANY_REQUESTS;
}

int auth_jwt_check_password(const aj_user_t **user, request_rec *r,
                            const auth_jwt_dir_conf *c, const char *username,
                            const char *password)
{
    const aj_claims_t *claims = NULL;
    apr_int64_t retry_after = 0;

    switch (auth_jwt_password(user, &claims, &retry_after, r, c, username, password,
                              AUTH_JWT_UNKNOWN_REFUSED)) {
    case AUTH_JWT_PW_OK:
        return OK;
    case AUTH_JWT_PW_STORE_DOWN:
        return HTTP_SERVICE_UNAVAILABLE;
    case AUTH_JWT_PW_THROTTLED:
        return auth_jwt_too_many(r, retry_after);
    default:
        return HTTP_UNAUTHORIZED;
    }
}

int auth_jwt_check_user_password(request_rec *r, const auth_jwt_dir_conf *c,
                                 const aj_user_t *user, const char *password)
{
    auth_jwt_throttle_t th;
    apr_int64_t retry_after = auth_jwt_throttle_check(&th, r, c, user->username);
    apr_time_t started;

    if (retry_after > 0) {
        return auth_jwt_too_many(r, retry_after);
    }
    if (!auth_jwt_password_matches(r, password, user->password_hash, &started)) {
        (void)auth_jwt_password_refused(&th, r, c, started, AUTH_JWT_PW_MISMATCH,
                                        "wrong old password");
        return HTTP_UNAUTHORIZED;
    }
    auth_jwt_throttle_passed(&th, r);
    return OK;
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

void auth_jwt_challenge(request_rec *r, aj_verdict_e refused)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    const char *hdr = (PROXYREQ_PROXY == r->proxyreq) ? "Proxy-Authenticate"
                                                       : "WWW-Authenticate";
    const char *realm = auth_jwt_realm(r);

    if (refused != AJ_OK) {
        apr_table_add(r->err_headers_out, hdr,
                      apr_psprintf(r->pool, "Bearer realm=\"%s\", error=\"invalid_token\", "
                                   "error_description=\"%s\"", realm,
                                   aj_verdict_text(refused)));
    }
    else {
        apr_table_add(r->err_headers_out, hdr,
                      apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm));
    }
    if (auth_jwt_cfg_password_login(c)) {
        apr_table_add(r->err_headers_out, hdr,
                      apr_psprintf(r->pool, "Basic realm=\"%s\"", realm));
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

/* ---- the Authorization header ------------------------------------------- */

typedef enum {
    AUTH_JWT_CRED_NONE,
    AUTH_JWT_CRED_BEARER,
    AUTH_JWT_CRED_BASIC,
    AUTH_JWT_CRED_OTHER,     /* a scheme that is not ours */
    AUTH_JWT_CRED_BAD        /* malformed: 400 */
} auth_jwt_cred_e;

typedef struct {
    const char *token;       /* Bearer, or Basic username shaped like a JWT */
    apr_size_t token_len;
    const char *user;        /* Basic */
    const char *password;
    const char *problem;     /* why AUTH_JWT_CRED_BAD */
    int from_cookie;         /* the token came from AuthJWTCookie */
} auth_jwt_cred_t;

static auth_jwt_cred_e auth_jwt_bad(auth_jwt_cred_t *cred, const char *problem)
{
    cred->problem = problem;
    return AUTH_JWT_CRED_BAD;
}

static auth_jwt_cred_e auth_jwt_parse_basic(request_rec *r, auth_jwt_cred_t *cred,
                                            const char *value, apr_size_t len)
{
    const char *user = NULL, *password = NULL, *problem = NULL;

    if (aj_basic_decode(&user, &password, &problem, r->pool, value, len) != APR_SUCCESS) {
        return auth_jwt_bad(cred, problem);
    }
    cred->user = user;
    cred->password = password;
    if (aj_jws_looks_like_jwt(cred->user, strlen(cred->user))) {
        cred->token = cred->user;
        cred->token_len = strlen(cred->user);
    }
    return AUTH_JWT_CRED_BASIC;
}

static auth_jwt_cred_e auth_jwt_parse_authorization(request_rec *r, auth_jwt_cred_t *cred)
{
    const char *line = apr_table_get(r->headers_in, (PROXYREQ_PROXY == r->proxyreq)
                                                        ? "Proxy-Authorization"
                                                        : "Authorization");
    const char *scheme_end, *value, *end;
    apr_size_t scheme_len;

    memset(cred, 0, sizeof(*cred));
    if (!line) {
        return AUTH_JWT_CRED_NONE;
    }
    /* Neither a JWT nor base64 contains ',' — it means two headers. */
    if (strchr(line, ',')) {
        return auth_jwt_bad(cred, "more than one Authorization header");
    }
    scheme_end = line;
    while (*scheme_end && *scheme_end != ' ' && *scheme_end != '\t') {
        ++scheme_end;
    }
    scheme_len = (apr_size_t)(scheme_end - line);
    value = scheme_end;
    while (*value == ' ' || *value == '\t') {
        ++value;
    }
    end = value;
    while (*end && *end != ' ' && *end != '\t') {
        ++end;
    }
    /* trailing whitespace is tolerated; anything after it is not */
    {
        const char *rest = end;
        while (*rest == ' ' || *rest == '\t') {
            ++rest;
        }
        if (*rest) {
            return auth_jwt_bad(cred, "malformed Authorization header");
        }
    }
    if (scheme_len == 6 && !strncasecmp(line, "Bearer", 6)) {
        if (end == value) {
            return auth_jwt_bad(cred, "empty Bearer token");
        }
        cred->token = apr_pstrmemdup(r->pool, value, (apr_size_t)(end - value));
        cred->token_len = (apr_size_t)(end - value);
        return AUTH_JWT_CRED_BEARER;
    }
    if (scheme_len == 5 && !strncasecmp(line, "Basic", 5)) {
        if (end == value) {
            return auth_jwt_bad(cred, "empty Basic credentials");
        }
        return auth_jwt_parse_basic(r, cred, value, (apr_size_t)(end - value));
    }
    return AUTH_JWT_CRED_OTHER;
}

/* The value of cookie `name` in the Cookie header(s), NULL when absent;
 * *conflict when it appears twice with different values. */
static const char *auth_jwt_cookie_value(request_rec *r, const char *name, int *conflict)
{
    const char *line = apr_table_get(r->headers_in, "Cookie");
    apr_size_t nlen = strlen(name);
    const char *found = NULL;

    *conflict = 0;
    while (line && *line) {
        const char *end = line;
        const char *pair;
        while (*line == ' ' || *line == '\t') {
            ++line;
        }
        end = line;
        while (*end && *end != ';' && *end != ',') {
            ++end;
        }
        pair = line;
        if ((apr_size_t)(end - pair) > nlen && !strncmp(pair, name, nlen) && pair[nlen] == '=') {
            const char *v = apr_pstrmemdup(r->pool, pair + nlen + 1,
                                           (apr_size_t)(end - pair) - nlen - 1);
            apr_size_t vlen = strlen(v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                --vlen;
            }
            v = apr_pstrmemdup(r->pool, v, vlen);
            if (found && strcmp(found, v)) {
                *conflict = 1;
                return NULL;
            }
            found = v;
        }
        line = *end ? end + 1 : end;
    }
    return (found && *found) ? found : NULL;
}

/* The credential of this request: the Authorization header (docs/reference.md §2 forms
 * 1-3), else the AuthJWTCookie token (form 4).  A header token and a
 * cookie token that differ are a 400: no guessing which one counts. */
static auth_jwt_cred_e auth_jwt_parse_credentials(request_rec *r, const auth_jwt_dir_conf *c,
                                                  auth_jwt_cred_t *cred)
{
    auth_jwt_cred_e kind = auth_jwt_parse_authorization(r, cred);
    const char *cookie;
    int conflict = 0;

    if (!c->cookie || kind == AUTH_JWT_CRED_BAD) {
        return kind;
    }
    cookie = auth_jwt_cookie_value(r, c->cookie, &conflict);
    if (conflict) {
        return auth_jwt_bad(cred, "the token cookie is sent twice with different values");
    }
    if (!cookie) {
        return kind;
    }
    if (kind == AUTH_JWT_CRED_NONE || kind == AUTH_JWT_CRED_OTHER) {
        cred->token = cookie;
        cred->token_len = strlen(cookie);
        cred->from_cookie = 1;
        return AUTH_JWT_CRED_BEARER;
    }
    if (cred->token && strcmp(cred->token, cookie)) {
        return auth_jwt_bad(cred, "the Authorization token and the cookie token differ");
    }
    return kind;
}

/* Double submit (docs/reference.md §2 form 4): a state-changing request authenticated by
 * the cookie must repeat the token's csrf claim in X-CSRF-Token. */
static int auth_jwt_csrf_ok(request_rec *r, const auth_jwt_cred_t *cred)
{
    const auth_jwt_req_t *st;
    const char *sent, *want;

    if (!cred->from_cookie || r->method_number == M_GET || r->method_number == M_OPTIONS
        || r->method_number == M_TRACE) {
        return 1;      /* HEAD is M_GET */
    }
    st = auth_jwt_req_get(r);
    sent = apr_table_get(r->headers_in, "X-CSRF-Token");
    want = st && st->claims ? aj_claims_get_string(st->claims, "csrf") : NULL;
    if (!sent || !want || strlen(sent) != strlen(want)
        || CRYPTO_memcmp(sent, want, strlen(want)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(024)
                      "refused: %s with the cookie token and no matching X-CSRF-Token",
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
    return auth_jwt_unauthorized_because(r, refused, refused != AJ_OK
                                                         ? aj_verdict_text(refused)
                                                         : AUTH_JWT_ERR_AUTH_REQUIRED);
}

static int auth_jwt_check_authn_decide(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const auth_jwt_dir_conf *c;
    const aj_user_t *user = NULL;
    const aj_claims_t *claims = NULL;
    const auth_jwt_req_t *early;
    auth_jwt_cred_t cred;
    aj_verdict_e verdict = AJ_MALFORMED;
    apr_int64_t retry_after = 0;
    int rc;

    if (!type || strcasecmp(type, AUTH_JWT_AUTH_TYPE)) {
        return DECLINED;
    }
    if (!ap_auth_name(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AJ_LOGNO(020)
                      "AuthType JWT needs an AuthName (%s)", r->uri);
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
    case AUTH_JWT_CRED_NONE:
    case AUTH_JWT_CRED_OTHER:
        return auth_jwt_unauthorized(r, AJ_OK);
    case AUTH_JWT_CRED_BAD:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(021)
                      "bad request: %s", cred.problem);
        return HTTP_BAD_REQUEST;
    case AUTH_JWT_CRED_BEARER:
        break;
    case AUTH_JWT_CRED_BASIC:
        if (!cred.token) {
            if (!auth_jwt_cfg_password_login(c)) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(022)
                              "password refused: AuthJWTPasswordLogin is Off");
                return auth_jwt_unauthorized(r, AJ_OK);
            }
            switch (auth_jwt_password(&user, &claims, &retry_after, r, c, cred.user,
                                      cred.password, AUTH_JWT_UNKNOWN_REFUSED)) {
            case AUTH_JWT_PW_OK:
                auth_jwt_accept_password(r, c, user, claims);
                return OK;
            case AUTH_JWT_PW_STORE_DOWN:
                return HTTP_SERVICE_UNAVAILABLE;
            case AUTH_JWT_PW_THROTTLED:
                return auth_jwt_too_many(r, retry_after);
            default:
                /* the refused check logged its audit line (AJ200) */
                return auth_jwt_unauthorized_because(r, AJ_OK, AUTH_JWT_ERR_WRONG_PASSWORD);
            }
        }
        break;
    default:
        return HTTP_INTERNAL_SERVER_ERROR;
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
    auth_jwt_cred_t cred;
    aj_verdict_e verdict = AJ_MALFORMED;
    int rc;

    if (!type || strcasecmp(type, AUTH_JWT_AUTH_TYPE) || !ap_auth_name(r)) {
        return DECLINED;
    }
    c = auth_jwt_dconf(r);
    switch (auth_jwt_parse_credentials(r, c, &cred)) {
    case AUTH_JWT_CRED_BEARER:
    case AUTH_JWT_CRED_BASIC:
        if (cred.token) {
            break;
        }
        return DECLINED;
    default:
        return DECLINED;     /* decided in the authn phase */
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

/* httpd's core logs every request header at trace4 ("Headers received from
 * client"), Authorization included, before any auth hook runs.  Tokens and
 * passwords never reach a log: for a request that carries credentials, that
 * module's level is capped at trace3 for this request only.  Costs nothing
 * unless trace4 is on. */
static int auth_jwt_http_module_index = -1;

static int auth_jwt_post_read_request(request_rec *r)
{
    struct ap_logconf *l;
    int idx = auth_jwt_http_module_index;

    if (idx < 0 || !APLOG_R_MODULE_IS_LEVEL(r, idx, APLOG_TRACE4)) {
        return DECLINED;
    }
    if (!apr_table_get(r->headers_in, "Authorization")
        && !apr_table_get(r->headers_in, "Proxy-Authorization")
        && !apr_table_get(r->headers_in, "Cookie")) {
        return DECLINED;
    }
    l = ap_new_log_config(r->pool, r->log);
    ap_set_module_loglevel(r->pool, l, idx, APLOG_TRACE3);
    r->log = l;
    return DECLINED;
}

/* ---- AuthBasicProvider jwt ---------------------------------------------- */

static authn_status auth_jwt_provider_decide(request_rec *r, const char *user,
                                             const char *password)
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
    switch (auth_jwt_password(&u, &claims, &retry_after, r, c, user, password,
                              AUTH_JWT_UNKNOWN_PASSED_ON)) {
    case AUTH_JWT_PW_OK:
        auth_jwt_accept_password(r, c, u, claims);
        return AUTH_GRANTED;
    case AUTH_JWT_PW_UNKNOWN_USER:
        return AUTH_USER_NOT_FOUND;
    case AUTH_JWT_PW_MISMATCH:
        return AUTH_DENIED;
    case AUTH_JWT_PW_THROTTLED:
        /* A Basic provider cannot answer 429 (docs/reference.md §10); its
         * 401 takes the time of a failed check, or an instant refusal would
         * tell a throttled existing user from an unknown one (unknown names
         * are passed on uncounted here, and always take that time). */
        auth_jwt_pace_pad(r, c, apr_time_now());
        return AUTH_DENIED;
    default:
        return AUTH_GENERAL_ERROR;
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
    return !strcmp(v, aj_verdict_name(AJ_EXPIRED)) ? AJ_M_RESULT_EXPIRED
           : !strcmp(v, aj_verdict_name(AJ_REVOKED)) ? AJ_M_RESULT_REVOKED
           : AJ_M_RESULT_INVALID_TOKEN;
}

/* The outcome of a decision that ended with rc.  Only failures look
 * further (the notes; the credential again for a 401 without a refused
 * token: a password, or nothing usable). */
static aj_metric_e auth_jwt_outcome(request_rec *r, int rc)
{
    auth_jwt_cred_t cred;

    switch (rc) {
    case OK:
        return AJ_M_RESULT_OK;
    case HTTP_SERVICE_UNAVAILABLE:
    case HTTP_INTERNAL_SERVER_ERROR:
        return AJ_M_RESULT_STORE_UNAVAILABLE;
    case HTTP_TOO_MANY_REQUESTS:
        return AJ_M_RESULT_THROTTLED;
    case HTTP_UNAUTHORIZED:
        if (apr_table_get(r->notes, AUTH_JWT_NOTE_VERDICT)) {
            return auth_jwt_refusal(r);
        }
        return (auth_jwt_parse_credentials(r, auth_jwt_dconf(r), &cred) == AUTH_JWT_CRED_BASIC
                && !cred.token) ? AJ_M_RESULT_WRONG_PASSWORD : AJ_M_RESULT_NO_CREDENTIALS;
    default:
        return AJ_M_RESULT_INVALID_TOKEN;     /* 400 malformed, 403 CSRF */
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
    case AUTH_GRANTED:
        auth_jwt_metrics_count(AJ_M_RESULT_OK);
        break;
    case AUTH_GENERAL_ERROR:
        auth_jwt_metrics_count(AJ_M_RESULT_STORE_UNAVAILABLE);
        break;
    default:
        auth_jwt_metrics_count(apr_table_get(r->notes, AUTH_JWT_NOTE_VERDICT)
                                   ? auth_jwt_refusal(r) : AJ_M_RESULT_WRONG_PASSWORD);
        break;
    }
    return st;
}

static const authn_provider auth_jwt_authn_provider = {
    &auth_jwt_provider_password,
    NULL
};

void auth_jwt_authn_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "jwt", AUTHN_PROVIDER_VERSION,
                              &auth_jwt_authn_provider, AP_AUTH_INTERNAL_PER_CONF);
    module *http = ap_find_linked_module("http_core.c");

    auth_jwt_http_module_index = http ? http->module_index : -1;
    ap_hook_post_read_request(auth_jwt_post_read_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_access(auth_jwt_check_access, NULL, NULL, APR_HOOK_FIRST,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(auth_jwt_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(auth_jwt_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
}

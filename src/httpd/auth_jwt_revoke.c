/*
 * auth_jwt_revoke.c — is this token revoked?  The request-time checks of
 * docs/reference.md §6 against the shared table (auth_jwt_revtab.c), and
 * what the Basic cache may trust of a user's revocations.
 *
 * The table answers without a database round trip.  When it cannot (the
 * store's revocations overflowed it, a writer stalled, or this child of an
 * old generation cannot lock it before the first load) the store is asked
 * per token; when the store cannot answer either, the token is refused with
 * 503 (fail closed), except after an overflow, when the last known state
 * stands.
 *
 * A logout or revoke-all made here is written to the store first, then to
 * the table, so every child and thread refuses the token at once.
 */
#include <string.h>

#include <apr_strings.h>

#include "auth_jwt_revoke.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "auth_jwt_dbd.h"
#include "auth_jwt_revtab.h"
#include "auth_jwt_scope.h"
#include "aj_issue.h"
#include "aj_refresh.h"
#include "aj_revtab.h"
#include "aj.h"
#include "aj_claims.h"
#include "aj_store.h"

/* The table, and in *store the index of the request's server's store that
 * every key is made under; APR_EINIT when there is no table. */
static apr_status_t auth_jwt_keys_table(aj_revtab_t **tab, apr_uint32_t *store, request_rec *r)
{
    *tab = auth_jwt_revtab();
    if (!*tab) {
        return APR_EINIT;
    }
    *store = auth_jwt_scope(r->server)->index;
    return APR_SUCCESS;
}

/* Asks the store whether a token is revoked (the table cannot answer: it
 * overflowed, or this child cannot use it).  OK with *verdict, or
 * APR_EGENERAL when the store could not be read. */
static apr_status_t auth_jwt_check_store(aj_verdict_e *verdict, request_rec *r,
                                         const aj_claims_t *claims, apr_int64_t iat, int has_iat,
                                         apr_int64_t now)
{
    aj_store_t *st = auth_jwt_store(r);
    const char *sub = aj_claims_get_string(claims, "sub");
    const char *sid = aj_claims_get_string(claims, "sid");
    const char *ids[2];
    apr_int64_t exp = 0, id;
    aj_user_t *u = NULL;
    char *end = NULL;
    apr_status_t rv;
    int i;

    *verdict = AJ_OK;
    if (!st) {
        return APR_EGENERAL;
    }
    /* the token itself, then its refresh family */
    ids[0] = aj_claims_get_string(claims, "jti");
    ids[1] = sid ? aj_refresh_sid_key(r->pool, sid) : NULL;
    for (i = 0; i < 2; ++i) {
        if (!ids[i]) {
            continue;
        }
        rv = aj_store_revoke_get(&exp, st, r->pool, ids[i]);
        if (rv == APR_SUCCESS && exp > now) {
            *verdict = AJ_REVOKED;
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            return rv;
        }
    }
    if (sub) {
        id = apr_strtoi64(sub, &end, 10);
        if (end && !*end && id > 0) {
            rv = aj_store_user_by_id(&u, r->pool, st, id);
            if (rv == APR_SUCCESS && u->tokens_valid_after
                && (!has_iat || iat < u->tokens_valid_after)) {
                *verdict = AJ_REVOKED;
            }
            else if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
                return rv;
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t auth_jwt_revkeys_make(auth_jwt_revkeys *keys, request_rec *r,
                                   const aj_claims_t *claims)
{
    const char *jti = aj_claims_get_string(claims, "jti");
    const char *sub = aj_claims_get_string(claims, "sub");
    const char *sid = aj_claims_get_string(claims, "sid");
    aj_revtab_t *tab = NULL;
    apr_status_t rv;

    memset(keys, 0, sizeof(*keys));
    rv = auth_jwt_keys_table(&tab, &keys->store, r);
    if (rv == APR_SUCCESS && jti) {
        rv = aj_revtab_jti_key(&keys->jti, tab, keys->store, jti);
        keys->has_jti = rv == APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && sid) {
        /* a family's revocation is a revoked jti named after it */
        rv = aj_revtab_jti_key(&keys->sid, tab, keys->store, aj_refresh_sid_key(r->pool, sid));
        keys->has_sid = rv == APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && sub) {
        rv = aj_revtab_user_key(&keys->user, tab, keys->store, sub);
        keys->has_user = rv == APR_SUCCESS;
    }
    return rv;
}

/* The table's answer for a token's keys: APR_SUCCESS with *revoked, or an
 * error when the table cannot answer (a stalled writer, or the store was
 * unloaded meanwhile by a reset: then nothing it said may be trusted). */
static apr_status_t auth_jwt_table_says(int *revoked, int *overflowed, const auth_jwt_revkeys *keys,
                                        int has_iat, apr_int64_t iat, apr_int64_t now)
{
    aj_revtab_t *tab = auth_jwt_revtab();
    apr_int64_t valid_after = 0;
    apr_status_t rv;
    int hit = 0;

    *revoked = 0;
    *overflowed = 1;
    if (keys->has_jti) {
        rv = aj_revtab_key_revoked(&hit, tab, &keys->jti, now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!hit && keys->has_sid) {
        rv = aj_revtab_key_revoked(&hit, tab, &keys->sid, now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!hit && keys->has_user) {
        rv = aj_revtab_key_value(&valid_after, tab, &keys->user);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        hit = valid_after && (!has_iat || iat < valid_after);
    }
    /* Read after the look-ups, overflowed before loaded: a reset that
     * empties the table unloads the store first and clears its overflow
     * mark after, so a reader that sees the mark cleared by a reset also
     * sees the store unloaded (and asks the store). */
    *overflowed = aj_revtab_overflowed(tab, keys->store);
    if (!aj_revtab_loaded(tab, keys->store)) {
        return APR_EINIT;
    }
    *revoked = hit;
    return APR_SUCCESS;
}

int auth_jwt_revoke_check(aj_verdict_e *verdict, request_rec *r, const auth_jwt_dir_conf *c,
                          const aj_claims_t *claims, const auth_jwt_revkeys *keys)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_uint32_t store;
    apr_int64_t iat = 0;
    auth_jwt_revkeys own;
    int has_iat, rc, revoked = 0, overflowed = 1;

    *verdict = AJ_OK;
    if (!auth_jwt_cfg_revocation(c)) {
        return OK;
    }
    if (!auth_jwt_revtab()) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      AJ_LOGNO(117) "revocation table missing; refusing the token");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    store = auth_jwt_scope(r->server)->index;
    rc = auth_jwt_revtab_refresh(r, c, now);
    has_iat = aj_claims_get_int(claims, "iat", &iat);
    if (rc == AUTH_JWT_REVTAB_ASK_STORE) {
        /* nothing known here: the store decides, or nobody does (fail closed) */
        return auth_jwt_check_store(verdict, r, claims, iat, has_iat, now) == APR_SUCCESS
                   ? OK
                   : HTTP_SERVICE_UNAVAILABLE;
    }
    if (rc != OK) {
        return rc;
    }

    if (!keys || keys->store != store) {
        /* none cached, or cached under another site's store */
        if (auth_jwt_revkeys_make(&own, r, claims) != APR_SUCCESS) {
            *verdict = AJ_REVOKED; /* cannot look it up: fail closed */
            return OK;
        }
        keys = &own;
    }
    if (auth_jwt_table_says(&revoked, &overflowed, keys, has_iat, iat, now) != APR_SUCCESS) {
        /* the table cannot answer now: the store decides, or nobody does */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(124) "revocation table busy or being reloaded: asking the store");
        return auth_jwt_check_store(verdict, r, claims, iat, has_iat, now) == APR_SUCCESS
                   ? OK
                   : HTTP_SERVICE_UNAVAILABLE;
    }
    if (revoked) {
        *verdict = AJ_REVOKED;
        return OK;
    }
    if (overflowed && auth_jwt_check_store(verdict, r, claims, iat, has_iat, now) != APR_SUCCESS) {
        *verdict = AJ_OK; /* store down: the last known state stands (docs/reference.md §6) */
    }
    return OK;
}

apr_status_t auth_jwt_userkeys_make(auth_jwt_userkeys *keys, request_rec *r, apr_int64_t id)
{
    const char *sub = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id);
    aj_revtab_t *tab = NULL;
    apr_status_t rv;

    memset(keys, 0, sizeof(*keys));
    rv = auth_jwt_keys_table(&tab, &keys->store, r);
    if (rv == APR_SUCCESS) {
        rv = aj_revtab_user_key(&keys->user, tab, keys->store, sub);
    }
    if (rv == APR_SUCCESS) {
        rv = aj_revtab_changed_key(&keys->changed, tab, keys->store, sub);
    }
    return rv;
}

int auth_jwt_revoke_user_state(apr_int64_t *valid_after, apr_int64_t *stamp, request_rec *r,
                               const auth_jwt_dir_conf *c, const auth_jwt_userkeys *keys)
{
    aj_revtab_t *tab = auth_jwt_revtab();
    apr_int64_t va = 0, changed = 0;

    *valid_after = *stamp = APR_INT64_MAX;
    if (!tab) {
        *valid_after = *stamp = 0;
        return 1;
    }
    if (keys->store != auth_jwt_scope(r->server)->index) {
        return 0; /* keys of another site's store: never */
    }
    if (auth_jwt_cfg_revocation(c)
        && (auth_jwt_revtab_refresh(r, c, apr_time_sec(r->request_time)) != OK
            || !aj_revtab_loaded(tab, keys->store))) {
        return 0; /* unknown: nothing cached may be trusted */
    }
    /* A store whose revocations do not all fit may be missing this user's
     * entries: nothing cached may be trusted then (the overflow mark is read
     * before the loaded flag, as in auth_jwt_table_says). */
    if (aj_revtab_key_value(&va, tab, &keys->user) != APR_SUCCESS
        || aj_revtab_key_value(&changed, tab, &keys->changed) != APR_SUCCESS
        || aj_revtab_overflowed(tab, keys->store)
        || (auth_jwt_cfg_revocation(c) && !aj_revtab_loaded(tab, keys->store))) {
        return 0;
    }
    *valid_after = va;
    *stamp = va > changed ? va : changed;
    return 1;
}

/* ---- recording a revocation made here ---------------------------------- */

apr_status_t auth_jwt_revoke_token(request_rec *r, aj_store_t *st, const char *jti, apr_int64_t exp)
{
    apr_status_t rv = aj_store_revoke_add(st, r->pool, jti, exp, apr_time_sec(r->request_time));

    if (rv != APR_SUCCESS) {
        auth_jwt_store_failed(r, st, "recording a logout", rv);
        return rv;
    }
    auth_jwt_revtab_put(r, jti, exp, NULL, 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AJ_LOGNO(118) "revoked token jti=%s", jti);
    return APR_SUCCESS;
}

apr_int64_t auth_jwt_revoke_all_value(request_rec *r)
{
    /* a token issued after the revocation waits for the next second
     * (auth_jwt_issue) */
    return aj_issue_revoke_all_value(apr_time_sec(apr_time_now()));
}

void auth_jwt_revoke_user_recorded(request_rec *r, apr_int64_t id, apr_int64_t valid_after)
{
    auth_jwt_revtab_put(r, NULL, 0, apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id), valid_after);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  AJ_LOGNO(119) "revoked every token of user id %" APR_INT64_T_FMT " issued so far",
                  id);
}

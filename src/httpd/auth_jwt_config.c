/*
 * auth_jwt_config.c — per-directory and per-server configuration records,
 * their merging, and the getters that apply defaults (docs/reference.md
 * §3).  The directives that fill them: auth_jwt_directives.c.
 *
 * Every field starts unset; the merge takes the inner value where set, else
 * the outer one; the getters apply the defaults of one table.
 */
#include <apr_strings.h>
#include <http_core.h>

#include "auth_jwt_config.h"
#include "mod_auth_jwt.h"
#include "aj_password.h"
#include "aj_keyset.h"

static const auth_jwt_dir_conf auth_jwt_defconf = {
    NULL, /* keys */
    NULL, /* issuer */
    NULL, /* resource_metadata */
    NULL, /* audiences */
    AUTH_JWT_DEFAULT_LIFETIME,
    AUTH_JWT_DEFAULT_LEEWAY,
    AUTH_JWT_DEFAULT_MAX_SESSION_AGE,
    AUTH_JWT_DEFAULT_REFRESH_LIFETIME,
    AUTH_JWT_DEFAULT_REVOCATION_REFRESH,
    AUTH_JWT_DEFAULT_BASIC_CACHE_TTL,
    AUTH_JWT_DEFAULT_THROTTLE_SECONDS,
    AUTH_JWT_DEFAULT_THROTTLE_ATTEMPTS,
    1, /* renew_with_token */
    1, /* password_login */
    0, /* registration */
    AUTH_JWT_DEFAULT_PASSWORD_MIN,
    AJ_BCRYPT_COST_DEFAULT,
    1, /* revocation */
    AUTH_JWT_DEFAULT_VERIFY_CACHE,
    1,    /* claims_to_env */
    NULL, /* cookie */
    NULL, /* trusted */
    NULL, /* user_claim */
    NULL, /* claim_headers */
};

void *auth_jwt_create_dir_conf(apr_pool_t *p, char *dir)
{
    auth_jwt_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->lifetime = AUTH_JWT_UNSET;
    c->leeway = AUTH_JWT_UNSET;
    c->max_session_age = AUTH_JWT_UNSET;
    c->refresh_lifetime = AUTH_JWT_UNSET;
    c->revocation_refresh = AUTH_JWT_UNSET;
    c->basic_cache_ttl = AUTH_JWT_UNSET;
    c->throttle_seconds = AUTH_JWT_UNSET;
    c->throttle_attempts = AUTH_JWT_UNSET;
    c->renew_with_token = AUTH_JWT_UNSET;
    c->password_login = AUTH_JWT_UNSET;
    c->registration = AUTH_JWT_UNSET;
    c->password_min_len = AUTH_JWT_UNSET;
    c->bcrypt_cost = AUTH_JWT_UNSET;
    c->revocation = AUTH_JWT_UNSET;
    c->verify_cache = AUTH_JWT_UNSET;
    c->claims_to_env = AUTH_JWT_UNSET;
    return c;
}

#define AUTH_JWT_MERGE_NUM(f) n->f = (add->f != AUTH_JWT_UNSET) ? add->f : base->f
#define AUTH_JWT_MERGE_PTR(f) n->f = add->f ? add->f : base->f

void *auth_jwt_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const auth_jwt_dir_conf *base = basev, *add = addv;
    auth_jwt_dir_conf *n = apr_pcalloc(p, sizeof(*n));

    AUTH_JWT_MERGE_PTR(keys);
    AUTH_JWT_MERGE_PTR(issuer);
    AUTH_JWT_MERGE_PTR(resource_metadata);
    AUTH_JWT_MERGE_PTR(audiences);
    AUTH_JWT_MERGE_NUM(lifetime);
    AUTH_JWT_MERGE_NUM(leeway);
    AUTH_JWT_MERGE_NUM(max_session_age);
    AUTH_JWT_MERGE_NUM(refresh_lifetime);
    AUTH_JWT_MERGE_NUM(revocation_refresh);
    AUTH_JWT_MERGE_NUM(basic_cache_ttl);
    AUTH_JWT_MERGE_NUM(throttle_seconds); /* set together with attempts */
    AUTH_JWT_MERGE_NUM(throttle_attempts);
    AUTH_JWT_MERGE_NUM(renew_with_token);
    AUTH_JWT_MERGE_NUM(password_login);
    AUTH_JWT_MERGE_NUM(registration);
    AUTH_JWT_MERGE_NUM(password_min_len);
    AUTH_JWT_MERGE_NUM(bcrypt_cost);
    AUTH_JWT_MERGE_NUM(revocation);
    AUTH_JWT_MERGE_NUM(verify_cache);
    AUTH_JWT_MERGE_NUM(claims_to_env);
    AUTH_JWT_MERGE_PTR(cookie);
    AUTH_JWT_MERGE_PTR(trusted); /* a section that names any replaces the list */
    AUTH_JWT_MERGE_PTR(user_claim);
    AUTH_JWT_MERGE_PTR(claim_headers);
    return n;
}

/* ---- getters ------------------------------------------------------------ */

#define AUTH_JWT_GET(c, f) (((c)->f != AUTH_JWT_UNSET) ? (c)->f : auth_jwt_defconf.f)

const auth_jwt_dir_conf *auth_jwt_dconf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_jwt_module);
}

apr_int64_t auth_jwt_cfg_lifetime(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, lifetime);
}

static apr_int64_t auth_jwt_cfg_leeway(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, leeway);
}

apr_int64_t auth_jwt_cfg_max_session_age(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, max_session_age);
}

apr_int64_t auth_jwt_cfg_refresh_lifetime(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, refresh_lifetime);
}

int auth_jwt_cfg_renew_with_token(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, renew_with_token);
}

int auth_jwt_cfg_password_login(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, password_login);
}

int auth_jwt_cfg_registration(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, registration);
}

int auth_jwt_cfg_password_min_len(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, password_min_len);
}

int auth_jwt_cfg_bcrypt_cost(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, bcrypt_cost);
}

int auth_jwt_cfg_claims_to_env(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, claims_to_env);
}

apr_int64_t auth_jwt_cfg_basic_cache_ttl(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, basic_cache_ttl);
}

int auth_jwt_cfg_verify_cache(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, verify_cache);
}

int auth_jwt_cfg_revocation(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, revocation);
}

apr_int64_t auth_jwt_cfg_revocation_refresh(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, revocation_refresh);
}

int auth_jwt_cfg_throttle_attempts(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, throttle_attempts);
}

apr_int64_t auth_jwt_cfg_throttle_seconds(const auth_jwt_dir_conf *c)
{
    return AUTH_JWT_GET(c, throttle_seconds);
}

void *auth_jwt_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(auth_jwt_srv_conf));
}

apr_uint32_t auth_jwt_cfg_revocation_slots(server_rec *s)
{
    const auth_jwt_srv_conf *sc = ap_get_module_config(s->module_config, &auth_jwt_module);

    return sc->revocation_slots ? sc->revocation_slots : AUTH_JWT_DEFAULT_REVOCATION_SLOTS;
}

void auth_jwt_cfg_policy(aj_policy_t *policy, const auth_jwt_dir_conf *c)
{
    policy->issuer = c->issuer;
    policy->audiences = c->audiences;
    policy->leeway = auth_jwt_cfg_leeway(c);
}

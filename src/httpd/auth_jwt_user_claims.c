/*
 * auth_jwt_user_claims.c — the claims of a user who logged in with a
 * password.  Both the password path (auth_jwt_authn.c) and the Basic
 * cache (auth_jwt_bcache.c, which keeps them packed) build them here, so
 * neither calls the other.  The core is gaining the same builder next to
 * aj_claims_build (issue #15); this body then becomes that call.
 */
#include <string.h>

#include <apr_strings.h>

#include "auth_jwt_user_claims.h"
#include "aj_claims.h"
#include "aj_json.h"
#include "aj_store.h"

/* The claims a password login stands for: sub, name and the user's stored
 * claims (reserved names excluded), so Require jwt-claim and JWT_CLAIM_*
 * work the same for both credential kinds. */
const aj_claims_t *auth_jwt_user_claims(request_rec *r, const aj_user_t *user)
{
    const char *text;
    json_object *obj = NULL, *stored = NULL;

    if (aj_json_parse(&stored, r->pool, user->claims_json, strlen(user->claims_json),
                      &aj_json_body_limits) != APR_SUCCESS) {
        stored = NULL;
    }
    obj = aj_json_own(r->pool, json_object_new_object());
    if (stored) {
        json_object_object_foreach(stored, key, val) {
            if (!aj_claims_is_reserved(key)) {
                json_object_object_add(obj, key, json_object_get(val));
            }
        }
    }
    json_object_object_add(obj, "sub", json_object_new_string(
                               apr_psprintf(r->pool, "%" APR_INT64_T_FMT, user->id)));
    json_object_object_add(obj, "name", json_object_new_string(user->username));
    text = aj_json_dump(r->pool, obj);
    return text ? aj_claims_wrap_text(r->pool, obj, text, strlen(text))
                : aj_claims_wrap(r->pool, obj);
}

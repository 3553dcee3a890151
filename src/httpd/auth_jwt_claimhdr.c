/*
 * auth_jwt_claimhdr.c — AuthJWTClaimHeader CLAIM HEADER (docs/reference.md
 * §11): after authentication the request header HEADER carries the claim,
 * and a HEADER the client sent never reaches anything behind the section.
 *
 * The client's copies are removed in post_perdir_config, the first hook
 * that knows the section's merged configuration, and one that httpd runs
 * for every request: main requests, internal redirects and subrequests
 * alike (header_parser skips subrequests, so a subrequest into a section
 * the parent's configuration did not cover would keep the client's copy).
 * It runs before header_parser, the access, authn and authz hooks and the
 * handler, so nothing there can read a forged value (mod_auth_openidc's
 * CVE-2017-6413 was a header set only when a user was authenticated and
 * passed through untouched when not).  Every name that httpd or a CGI
 * takes for HEADER goes: any letter case (httpd's table ignores it) and
 * '_' for '-' (a CGI sees both as the same HTTP_* variable).
 */
#include <apr_strings.h>
#include <apr_tables.h>
#include <http_request.h>

#include "auth_jwt_claimhdr.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include "aj_expose.h"

void auth_jwt_claimhdr_set(request_rec *r, const auth_jwt_dir_conf *c, const aj_claims_t *claims)
{
    const auth_jwt_claim_header *h;
    const char *value = NULL;
    int i;

    for (i = 0; c->claim_headers && i < c->claim_headers->nelts; ++i) {
        h = &APR_ARRAY_IDX(c->claim_headers, i, auth_jwt_claim_header);
        switch (aj_expose_header_value(&value, claims, r->pool, h->claim)) {
        case AJ_EXPOSE_SET: apr_table_setn(r->headers_in, h->header, value); break;
        case AJ_EXPOSE_CONTROL:
            /* the value is not logged: it is what could not be trusted */
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          AJ_LOGNO(260) "claim \"%s\" holds control characters: %s not set",
                          ap_escape_logitem(r->pool, h->claim), h->header);
            break;
        default: break; /* no such claim (or an object): the header stays absent */
        }
    }
}

/* Removes every header of r->headers_in that is `name` to httpd or a CGI. */
static void auth_jwt_claimhdr_remove(request_rec *r, const char *name)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *doomed = NULL;
    int i;

    for (i = 0; i < arr->nelts; ++i) {
        if (e[i].key && aj_expose_header_same(name, e[i].key)) {
            if (!doomed) {
                doomed = apr_array_make(r->pool, 1, sizeof(const char *));
            }
            APR_ARRAY_PUSH(doomed, const char *) = e[i].key;
        }
    }
    /* apr_table_unset removes every entry of that name, any case; the
     * spellings are collected first, as unset reshapes the table */
    for (i = 0; doomed && i < doomed->nelts; ++i) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      AJ_LOGNO(261) "client-sent %s removed (AuthJWTClaimHeader %s)",
                      ap_escape_logitem(r->pool, APR_ARRAY_IDX(doomed, i, const char *)), name);
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(doomed, i, const char *));
    }
}

/* Whether this request takes its identity, and so its headers, from the
 * request before it: httpd skips access, authn and authz for an internal
 * redirect or subrequest whose configuration is the very one of its
 * previous or main request (ap_process_request_internal), whose headers_in
 * it shares or copies.  Those headers were cleaned under this same
 * configuration and then set by its authentication: removing them now
 * would lose the claims, and nothing would set them again. */
static int auth_jwt_claimhdr_inherited(const request_rec *r)
{
    return (r->prev && r->prev->per_dir_config == r->per_dir_config)
           || (r->main && r->main->per_dir_config == r->per_dir_config);
}

static int auth_jwt_claimhdr_strip(request_rec *r)
{
    const auth_jwt_dir_conf *c = auth_jwt_dconf(r);
    int i;

    if (!c || !c->claim_headers || auth_jwt_claimhdr_inherited(r)) {
        return DECLINED;
    }
    for (i = 0; i < c->claim_headers->nelts; ++i) {
        auth_jwt_claimhdr_remove(r,
                                 APR_ARRAY_IDX(c->claim_headers, i, auth_jwt_claim_header).header);
    }
    return DECLINED;
}

void auth_jwt_claimhdr_register(apr_pool_t *p)
{
    ap_hook_post_perdir_config(auth_jwt_claimhdr_strip, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

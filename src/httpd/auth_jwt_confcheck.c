/*
 * auth_jwt_confcheck.c — feeds httpd's configuration tree to the configtest
 * rules (src/core/aj_confcheck.c, docs/reference.md §13) and reports what they
 * find.
 *
 * It runs as a check_config hook: httpd calls those after reading the
 * configuration and before `apachectl configtest` says "Syntax OK" (the
 * post_config hooks do not run for configtest), and on every start.
 * Conditional sections (<IfModule>, <IfDefine>, Include) are resolved while
 * httpd reads the files, so the tree holds only what applies.
 */
#include <strings.h>

#include "auth_jwt_confcheck.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_scope.h"
#include <http_main.h>
#include "aj_confcheck.h"

/* Copies the nodes of list d (inside section `section`) into the model. */
static void auth_jwt_confcheck_walk(aj_cc_conf_t *conf, int section, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            int top =
                aj_cc_vhost_add(conf, auth_jwt_scope_driver(d) != NULL, d->filename, d->line_num);
            auth_jwt_confcheck_walk(conf, top, d->first_child);
        }
        else if (d->directive[0] == '<') {
            int inner =
                aj_cc_section_add(conf, section, d->directive, d->args, d->filename, d->line_num);
            auth_jwt_confcheck_walk(conf, inner, d->first_child);
        }
        else {
            aj_cc_directive(conf, section, d->directive, d->args, d->filename, d->line_num);
        }
    }
}

static const char *auth_jwt_confcheck_hint(apr_pool_t *p, const aj_cc_finding_t *f)
{
    if (f->problem == AJ_CC_NO_STORE && !ap_find_linked_module("mod_dbd.c")) {
        return " (mod_dbd is not loaded)";
    }
    return "";
}

int auth_jwt_confcheck(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    aj_cc_conf_t *conf = aj_cc_make(ptemp, auth_jwt_scope_driver(NULL) != NULL);
    apr_array_header_t *found;
    int i;

    auth_jwt_confcheck_walk(conf, 0, ap_conftree);
    found = aj_cc_check(conf, ptemp);
    for (i = 0; i < found->nelts; ++i) {
        const aj_cc_finding_t *f = &APR_ARRAY_IDX(found, i, aj_cc_finding_t);
        const char *hint = auth_jwt_confcheck_hint(ptemp, f);

        /* one call site (and tag) per rule, so a filter can tell them apart */
        switch (f->problem) {
        case AJ_CC_NO_AUTH_NAME:
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(400) "%s", f->text);
            break;
        case AJ_CC_NO_AUTH:
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(401) "%s", f->text);
            break;
        case AJ_CC_NO_SIGNING_KEY:
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(402) "%s", f->text);
            break;
        case AJ_CC_NO_REFRESH_PATH:
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(405) "%s", f->text);
            break;
        default:
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, AJ_LOGNO(403) "%s%s", f->text, hint);
            break;
        }
    }
    if (found->nelts) {
        ap_log_error(
            APLOG_MARK, APLOG_EMERG, 0, s,
            AJ_LOGNO(404) "%d configuration mistake(s) that would fail requests at run time "
                          "(see above)",
            found->nelts);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/*
 * auth_jwt_scope.c — which store each server (virtual host) uses (docs/reference.md §9).
 *
 * Several <VirtualHost>s may each have their own DBDParams, and user ids,
 * usernames and revocations of one store mean nothing under another.  So
 * everything kept in shared memory or in a per-child cache is keyed by the
 * store it came from.  mod_dbd keeps its configuration private, so the
 * store of each server is read here from the configuration tree, exactly as
 * mod_dbd merges it: a server's own DBDriver/DBDParams (the last one
 * wins), else the main server's, field by field.  A virtual host is matched
 * to its server_rec by the file and line of its <VirtualHost> (httpd sets
 * defn_name/defn_line_number from that very directive), and by reading
 * order when one file is included several times (auth_jwt_scope_pair).
 * Conditional sections (<IfModule>, <IfDefine>, <IfDirective>, Include)
 * are resolved, and ${VARIABLES} replaced, while httpd reads the files, so
 * the tree holds only what applies, as it applies.
 *
 * The id is a digest of the driver and the parameters (never the text:
 * DBDParams may hold a password); log lines name the store by a text with
 * every password left out (aj_store_describe, docs/reference.md §13).  Two
 * servers with the same text share a store; two texts that reach the same
 * database are two stores to us, which is safe (each learns the other's
 * revocations by polling, like two nodes).
 */
#include <string.h>

#include <apr_hash.h>

#include "auth_jwt_scope.h"
#include "mod_auth_jwt.h"
#include "auth_jwt_config.h"
#include <http_main.h>
#include "aj_digest.h"
#include "aj.h"
#include "aj_store.h"

/* Distinct stores of the configuration being served (set in post_config). */
static apr_uint32_t auth_jwt_scope_n = 1;

/* The scope of a server whose post_config never ran (cannot happen for a
 * served request; kept as a safe default: index 0, an id of no store). */
static const auth_jwt_scope_t auth_jwt_scope_none = { { { 0 } }, 0, "the store", NULL };

typedef struct {
    const char *driver; /* NULL: not set here */
    const char *params;
} auth_jwt_dbd_text;

/* The last DBDriver/DBDParams among the direct children of a node list,
 * descending into containers other than <VirtualHost> (and the per-dir
 * ones, where mod_dbd's directives are not allowed anyway). */
static void auth_jwt_scope_read(auth_jwt_dbd_text *t, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "DBDriver")) {
            t->driver = d->args;
        }
        else if (!strcasecmp(d->directive, "DBDParams")) {
            t->params = d->args;
        }
        else if (d->first_child && d->directive[0] == '<'
                 && strcasecmp(d->directive, "<VirtualHost")) {
            auth_jwt_scope_read(t, d->first_child);
        }
    }
}

/* Every <VirtualHost> node, in the order httpd read them. */
static void auth_jwt_scope_collect(apr_array_header_t *nodes, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            APR_ARRAY_PUSH(nodes, const ap_directive_t *) = d;
        }
        else if (d->first_child && d->directive[0] == '<') {
            auth_jwt_scope_collect(nodes, d->first_child);
        }
    }
}

static int auth_jwt_scope_same_place_srv(const server_rec *a, const server_rec *b)
{
    return a->defn_line_number == b->defn_line_number && !strcmp(a->defn_name, b->defn_name);
}

static int auth_jwt_scope_same_place(const ap_directive_t *d, const server_rec *v)
{
    return d->line_num == (int)v->defn_line_number && d->filename
           && !strcmp(d->filename, v->defn_name);
}

/* The ServerName a <VirtualHost> node sets itself, NULL when none. */
static const char *auth_jwt_scope_node_name(apr_pool_t *p, const ap_directive_t *vh)
{
    const ap_directive_t *d;
    const char *name = NULL, *a;

    for (d = vh->first_child; d; d = d->next) {
        if (!strcasecmp(d->directive, "ServerName")) {
            a = d->args;
            name = ap_getword_conf(p, &a);
        }
    }
    return name;
}

/* Pairs each virtual host with the <VirtualHost> node that defined it.
 * httpd gives a virtual host the file and line of its <VirtualHost>, and
 * one file included twice (Define SITE a / Include site.conf / Define SITE
 * b / Include site.conf) makes two nodes with the same file and line: the
 * k-th server defined there is the k-th such node in reading order.  httpd
 * puts each new virtual host at the head of its list, so the list is in
 * the reverse of the reading order.  As a cross-check, a node that sets a
 * ServerName must name its server's host; any doubt refuses to start (a
 * wrong pairing would put two sites under one store).  *pairs: server_rec
 * pointer -> its node; APR_EGENERAL after logging. */
static apr_status_t auth_jwt_scope_pair(apr_hash_t **pairs, apr_pool_t *p, server_rec *s)
{
    apr_array_header_t *nodes = apr_array_make(p, 8, sizeof(const ap_directive_t *));
    apr_array_header_t *defined = apr_array_make(p, 8, sizeof(server_rec *));
    apr_hash_t *out = apr_hash_make(p);
    const ap_directive_t *d;
    const char *name;
    server_rec *v;
    int i, j, k;

    auth_jwt_scope_collect(nodes, ap_conftree);
    for (v = s->next; v; v = v->next) {
        if (v->is_virtual && v->defn_name) {
            APR_ARRAY_PUSH(defined, server_rec *) = v;
        }
    }
    for (i = defined->nelts - 1; i >= 0; i--) { /* reading order */
        v = APR_ARRAY_IDX(defined, i, server_rec *);
        k = 0; /* earlier ones from the same place */
        for (j = defined->nelts - 1; j > i; j--) {
            k += auth_jwt_scope_same_place_srv(APR_ARRAY_IDX(defined, j, server_rec *), v);
        }
        d = NULL;
        for (j = 0; j < nodes->nelts; j++) {
            if (auth_jwt_scope_same_place(APR_ARRAY_IDX(nodes, j, const ap_directive_t *), v)
                && k-- == 0) {
                d = APR_ARRAY_IDX(nodes, j, const ap_directive_t *);
                break;
            }
        }
        name = d ? auth_jwt_scope_node_name(p, d) : NULL;
        if (!d || (name && v->server_hostname && strcasecmp(name, v->server_hostname))) {
            ap_log_error(
                APLOG_MARK, APLOG_EMERG, 0, s,
                AJ_LOGNO(142) "cannot tell which <VirtualHost> at %s:%u defined the virtual host "
                              "%s, so not which store (DBDriver/DBDParams) it uses; refusing to "
                              "start rather than risk two sites sharing one store",
                v->defn_name, v->defn_line_number,
                v->server_hostname ? v->server_hostname : "(no ServerName)");
            return APR_EGENERAL;
        }
        apr_hash_set(out, &APR_ARRAY_IDX(defined, i, server_rec *), sizeof(server_rec *), d);
    }
    *pairs = out;
    return APR_SUCCESS;
}

/* mod_dbd's parameters are one raw argument string: compare them without
 * the surrounding whitespace or quotes the file happened to use. */
static const char *auth_jwt_scope_arg(apr_pool_t *p, const char *args)
{
    const char *a = args;

    return (a && *a) ? ap_getword_conf(p, &a) : "";
}

const char *auth_jwt_scope_driver(const ap_directive_t *vhost)
{
    auth_jwt_dbd_text main_text = { NULL, NULL }, vt = { NULL, NULL };

    auth_jwt_scope_read(&main_text, ap_conftree);
    if (vhost) {
        auth_jwt_scope_read(&vt, vhost->first_child);
    }
    return vt.driver ? vt.driver : main_text.driver;
}

apr_uint32_t auth_jwt_scope_post_config(apr_pool_t *ptemp, server_rec *s)
{
    auth_jwt_dbd_text main_text = { NULL, NULL }, vt;
    apr_pool_t *pconf = s->process->pconf; /* the scope lives as long as the config */
    const char *driver, *params;
    apr_array_header_t *ids = apr_array_make(ptemp, 4, sizeof(aj_store_id_t));
    const ap_directive_t *vh;
    auth_jwt_srv_conf *sc;
    aj_store_id_t id;
    apr_hash_t *pairs = NULL;
    server_rec *v;
    apr_uint32_t i;

    if (auth_jwt_scope_pair(&pairs, ptemp, s) != APR_SUCCESS) {
        return 0;
    }
    auth_jwt_scope_read(&main_text, ap_conftree);
    for (v = s; v; v = v->next) {
        vt.driver = vt.params = NULL;
        vh = v->is_virtual ? apr_hash_get(pairs, &v, sizeof(v)) : NULL;
        if (vh) {
            auth_jwt_scope_read(&vt, vh->first_child);
        }
        driver = auth_jwt_scope_arg(pconf, vt.driver ? vt.driver : main_text.driver);
        params = auth_jwt_scope_arg(pconf, vt.params ? vt.params : main_text.params);
        if (aj_store_id_make(&id, driver, params) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         AJ_LOGNO(140) "cannot compute the store id of %s:%u (SHA-256 unavailable)",
                         v->defn_name ? v->defn_name : "the main server", v->defn_line_number);
            return 0;
        }
        for (i = 0; i < (apr_uint32_t)ids->nelts; i++) {
            if (!memcmp(&APR_ARRAY_IDX(ids, i, aj_store_id_t), &id, sizeof(id))) {
                break;
            }
        }
        if (i == (apr_uint32_t)ids->nelts) {
            APR_ARRAY_PUSH(ids, aj_store_id_t) = id;
        }
        sc = ap_get_module_config(v->module_config, &auth_jwt_module);
        sc->scope.id = id;
        sc->scope.index = i;
        sc->scope.text = aj_store_describe(pconf, driver, params);
        sc->scope.sqlite_file = !strcmp(driver, AJ_STORE_SQLITE_DRIVER) && *params ? params : NULL;
    }
    auth_jwt_scope_n = ids->nelts ? (apr_uint32_t)ids->nelts : 1;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 AJ_LOGNO(141) "%u distinct store(s) among the configured servers",
                 auth_jwt_scope_n);
    return auth_jwt_scope_n;
}

const auth_jwt_scope_t *auth_jwt_scope(const server_rec *s)
{
    const auth_jwt_srv_conf *sc = ap_get_module_config(s->module_config, &auth_jwt_module);

    return sc ? &sc->scope : &auth_jwt_scope_none;
}

const char *auth_jwt_scope_store_text(const server_rec *s)
{
    return auth_jwt_scope(s)->text ? auth_jwt_scope(s)->text : auth_jwt_scope_none.text;
}

apr_uint32_t auth_jwt_scope_count(void)
{
    return auth_jwt_scope_n;
}

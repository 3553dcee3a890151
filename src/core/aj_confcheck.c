/*
 * aj_confcheck.c — configuration mistakes found before any request
 * (docs/reference.md §13).  The model and its limits: aj_confcheck.h.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "aj_confcheck.h"
#include "aj_duration.h"

/* The handler whose <Location> path the refresh cookie is sent to. */
#define AJ_CC_REFRESH_HANDLER "auth-jwt-refresh"

/* docs/reference.md §4 and §12.  auth-jwt-status reads only the token's
 * claims (no store: it works with AuthJWTRevocation Off and no database). */
const aj_cc_handler_t aj_cc_handlers[] = {
    { "auth-jwt-users", AJ_CC_NEEDS_STORE },
    { "auth-jwt-token", AJ_CC_NEEDS_AUTH | AJ_CC_ISSUES | AJ_CC_NEEDS_STORE | AJ_CC_GRANTS },
    { "auth-jwt-login", AJ_CC_ISSUES | AJ_CC_NEEDS_STORE | AJ_CC_GRANTS },
    { "auth-jwt-refresh", AJ_CC_ISSUES | AJ_CC_NEEDS_STORE },
    { "auth-jwt-status", AJ_CC_NEEDS_AUTH },
    { "auth-jwt-logout", AJ_CC_NEEDS_AUTH | AJ_CC_NEEDS_STORE },
    { "auth-jwt-password", AJ_CC_NEEDS_AUTH | AJ_CC_NEEDS_STORE },
    { "auth-jwt-jwks", 0 },
    { "auth-jwt-metrics", 0 },
    { "auth-jwt-resource-metadata", 0 }, /* §11: public, the section's config only */
    { NULL, 0 }
};

/* How far a section reaches the request a probe stands for. */
typedef enum { AJ_CC_REACH_NOT = 0, AJ_CC_REACH_MAYBE, AJ_CC_REACH_SURE } aj_cc_reach_e;

/* Merge tiers, lowest first: httpd merges the server defaults, then
 * <Directory>/<Files> (directory and file walk), then <Location>, then
 * <If>.  The main server's top level comes before a virtual host's. */
#define AJ_CC_TIER_MAIN_TOP  0
#define AJ_CC_TIER_VHOST_TOP 1
#define AJ_CC_TIER_DIRECTORY 2
#define AJ_CC_TIER_LOCATION  3
#define AJ_CC_TIER_IF        4

#define AJ_CC_SECTION(conf, i) (&APR_ARRAY_IDX((conf)->sections, (i), aj_cc_section_t))
#define AJ_CC_SERVER(conf, i)  (&APR_ARRAY_IDX((conf)->servers, (i), aj_cc_server_t))

/* ---- reading the text of the tree --------------------------------------- */

/* The next word of *args (a "quoted" or 'quoted' string, or up to a space),
 * as httpd's ap_getword_conf reads it, backslash escapes aside; "" at the
 * end. */
static const char *aj_cc_word(apr_pool_t *p, const char **args)
{
    const char *s = *args, *start;
    char quote = 0;
    const char *word;

    while (*s && apr_isspace(*s)) {
        ++s;
    }
    if (*s == '"' || *s == '\'') {
        quote = *s++;
    }
    start = s;
    while (*s && (quote ? *s != quote : !apr_isspace(*s))) {
        ++s;
    }
    word = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
    if (quote && *s) {
        ++s;
    }
    *args = s;
    return word;
}

/* A section's arguments without the closing '>' httpd leaves in them. */
static const char *aj_cc_section_args(apr_pool_t *p, const char *args)
{
    const char *end = args ? strrchr(args, '>') : NULL;

    if (!args) {
        return "";
    }
    return end ? apr_pstrmemdup(p, args, (apr_size_t)(end - args)) : args;
}

static aj_cc_kind_e aj_cc_kind(const char *directive, const char *path)
{
    static const char *const by_file[] = { "<Directory", "<DirectoryMatch", "<Files", "<FilesMatch",
                                           "<Proxy",     "<ProxyMatch",     NULL };
    static const char *const by_request[] = { "<If", "<ElseIf", "<Else", NULL };
    int i;

    if (!strcasecmp(directive, "<Location")) {
        /* "~ RE" is a regex; wildcards, "//" and a relative path are matched
         * in ways not followed here */
        if (path[0] != '/' || strpbrk(path, "?*[") || strstr(path, "//")) {
            return AJ_CC_LOCATION_OTHER;
        }
        return AJ_CC_LOCATION;
    }
    if (!strcasecmp(directive, "<LocationMatch")) {
        return AJ_CC_LOCATION_OTHER;
    }
    for (i = 0; by_file[i]; ++i) {
        if (!strcasecmp(directive, by_file[i])) {
            return AJ_CC_DIRECTORY;
        }
    }
    for (i = 0; by_request[i]; ++i) {
        if (!strcasecmp(directive, by_request[i])) {
            return AJ_CC_IF;
        }
    }
    return AJ_CC_OPAQUE;
}

static int aj_cc_add(aj_cc_conf_t *conf, aj_cc_kind_e kind, int parent, int server,
                     const char *name, const char *path, const char *file, int line)
{
    aj_cc_section_t *s = apr_array_push(conf->sections);

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->name = name;
    s->path = path;
    s->parent = parent;
    s->depth = parent < 0 ? 0 : AJ_CC_SECTION(conf, parent)->depth + 1;
    s->server = server;
    s->file = file;
    s->line = line;
    return conf->sections->nelts - 1;
}

aj_cc_conf_t *aj_cc_make(apr_pool_t *p, int main_has_store)
{
    aj_cc_conf_t *conf = apr_pcalloc(p, sizeof(*conf));
    aj_cc_server_t *srv;

    conf->pool = p;
    conf->sections = apr_array_make(p, 16, sizeof(aj_cc_section_t));
    conf->servers = apr_array_make(p, 4, sizeof(aj_cc_server_t));
    srv = apr_array_push(conf->servers);
    srv->has_store = main_has_store;
    srv->htaccess = 0;
    (void)aj_cc_add(conf, AJ_CC_TOP, -1, 0, "the main server", NULL, NULL, 0);
    return conf;
}

int aj_cc_vhost_add(aj_cc_conf_t *conf, int has_store, const char *file, int line)
{
    aj_cc_server_t *srv = apr_array_push(conf->servers);

    srv->has_store = has_store;
    srv->htaccess = 0;
    return aj_cc_add(conf, AJ_CC_TOP, -1, conf->servers->nelts - 1, "<VirtualHost>", NULL, file,
                     line);
}

int aj_cc_section_add(aj_cc_conf_t *conf, int parent, const char *directive, const char *args,
                      const char *file, int line)
{
    const char *text = aj_cc_section_args(conf->pool, args);
    const char *rest = text;
    const char *path = aj_cc_word(conf->pool, &rest);
    aj_cc_kind_e kind = aj_cc_kind(directive, path);

    return aj_cc_add(conf, kind, parent, AJ_CC_SECTION(conf, parent)->server,
                     apr_pstrcat(conf->pool, directive, *text ? " " : "", text, ">", NULL),
                     kind == AJ_CC_LOCATION ? path : NULL, file, line);
}

static void aj_cc_setting(aj_cc_section_t *s, aj_cc_directive_e d, int value, const char *file,
                          int line)
{
    s->set[d].value = value;
    s->set[d].file = file;
    s->set[d].line = line;
}

static int aj_cc_handler_value(const char *name)
{
    int i;

    for (i = 0; aj_cc_handlers[i].name; ++i) {
        if (!strcasecmp(name, aj_cc_handlers[i].name)) {
            return AJ_CC_HANDLER_BASE + i;
        }
    }
    return AJ_CC_OTHER; /* "none", another module's handler */
}

void aj_cc_directive(aj_cc_conf_t *conf, int section, const char *name, const char *args,
                     const char *file, int line)
{
    aj_cc_section_t *s = AJ_CC_SECTION(conf, section);
    const char *rest = args ? args : "";
    const char *word = aj_cc_word(conf->pool, &rest);

    if (!strcasecmp(name, "AuthType")) {
        aj_cc_setting(s, AJ_CC_AUTH_TYPE,
                      !strcasecmp(word, "JWT")     ? AJ_CC_JWT
                      : !strcasecmp(word, "Basic") ? AJ_CC_BASIC
                                                   : AJ_CC_OTHER,
                      file, line);
    }
    else if (!strcasecmp(name, "AuthName")) {
        aj_cc_setting(s, AJ_CC_AUTH_NAME, AJ_CC_SET, file, line);
    }
    else if (!strcasecmp(name, "AuthBasicProvider")) {
        int value = AJ_CC_OTHER;
        for (; *word; word = aj_cc_word(conf->pool, &rest)) {
            if (!strcasecmp(word, "jwt")) {
                value = AJ_CC_JWT;
            }
        }
        aj_cc_setting(s, AJ_CC_BASIC_PROVIDER, value, file, line);
    }
    else if (!strcasecmp(name, "SetHandler")) {
        aj_cc_setting(s, AJ_CC_HANDLER, aj_cc_handler_value(word), file, line);
        if (s->kind == AJ_CC_LOCATION && !strcasecmp(word, AJ_CC_REFRESH_HANDLER)) {
            AJ_CC_SERVER(conf, s->server)->refresh = 1;
        }
    }
    else if (!strcasecmp(name, "AuthJWTCookie")) {
        aj_cc_setting(s, AJ_CC_COOKIE, AJ_CC_SET, file, line);
    }
    else if (!strcasecmp(name, "AuthJWTRefreshLifetime")) {
        apr_int64_t seconds = 0;
        /* a value httpd refuses never gets here: anything but > 0 is off */
        aj_cc_setting(s, AJ_CC_REFRESH,
                      aj_duration_parse(&seconds, word) == APR_SUCCESS && seconds > 0 ? AJ_CC_ON
                                                                                      : AJ_CC_OTHER,
                      file, line);
    }
    else if (!strcasecmp(name, "AuthJWTSigningKey")) {
        aj_cc_setting(s, AJ_CC_KEYS, AJ_CC_SIGNING, file, line);
    }
    else if (!strcasecmp(name, "AuthJWTVerifyKey")) {
        /* the section's key set is all the keys it names (directives.md) */
        if (s->set[AJ_CC_KEYS].value != AJ_CC_SIGNING) {
            aj_cc_setting(s, AJ_CC_KEYS, AJ_CC_OTHER, file, line);
        }
    }
    else if ((!strcasecmp(name, "AllowOverride") || !strcasecmp(name, "AllowOverrideList"))
             && strcasecmp(word, "None")) {
        AJ_CC_SERVER(conf, s->server)->htaccess = 1;
    }
}

/* ---- judging ------------------------------------------------------------- */

/* httpd's test of a plain <Location entry> against a request path: a
 * prefix, ending at a '/' of either (location_walk in httpd's request.c). */
static int aj_cc_location_matches(const char *entry, const char *uri)
{
    apr_size_t len = strlen(entry);

    return !strncmp(entry, uri, len)
           && (len == 0 || entry[len - 1] == '/' || uri[len] == '/' || uri[len] == '\0');
}

static int aj_cc_is_ancestor(const aj_cc_conf_t *conf, int a, int s)
{
    for (; s >= 0; s = AJ_CC_SECTION(conf, s)->parent) {
        if (s == a) {
            return 1;
        }
    }
    return 0;
}

/* The reach of section x alone (not its ancestors) at the probe. */
static aj_cc_reach_e aj_cc_reach_one(const aj_cc_conf_t *conf, int x, int probe, int server)
{
    const aj_cc_section_t *sx = AJ_CC_SECTION(conf, x), *sp = AJ_CC_SECTION(conf, probe);

    if (sx->server != 0 && sx->server != server) {
        return AJ_CC_REACH_NOT; /* another virtual host */
    }
    if (sx->kind == AJ_CC_TOP || aj_cc_is_ancestor(conf, x, probe)) {
        return AJ_CC_REACH_SURE;
    }
    if (sx->kind == AJ_CC_LOCATION && sp->kind == AJ_CC_LOCATION) {
        return aj_cc_location_matches(sx->path, sp->path) ? AJ_CC_REACH_SURE : AJ_CC_REACH_NOT;
    }
    return AJ_CC_REACH_MAYBE;
}

static aj_cc_reach_e aj_cc_reach(const aj_cc_conf_t *conf, int x, int probe, int server)
{
    aj_cc_reach_e reach = AJ_CC_REACH_SURE, r;

    for (; x >= 0; x = AJ_CC_SECTION(conf, x)->parent) {
        r = aj_cc_reach_one(conf, x, probe, server);
        if (r == AJ_CC_REACH_NOT) {
            return AJ_CC_REACH_NOT;
        }
        if (r == AJ_CC_REACH_MAYBE) {
            reach = AJ_CC_REACH_MAYBE;
        }
    }
    return reach;
}

static int aj_cc_tier(const aj_cc_conf_t *conf, int x)
{
    const aj_cc_section_t *s = AJ_CC_SECTION(conf, x);

    switch (s->kind) {
    case AJ_CC_TOP: return s->server ? AJ_CC_TIER_VHOST_TOP : AJ_CC_TIER_MAIN_TOP;
    case AJ_CC_DIRECTORY: return AJ_CC_TIER_DIRECTORY;
    case AJ_CC_LOCATION:
    case AJ_CC_LOCATION_OTHER: return AJ_CC_TIER_LOCATION;
    case AJ_CC_IF: return AJ_CC_TIER_IF;
    default: return aj_cc_tier(conf, s->parent); /* merged with its enclosing section */
    }
}

/* Non-zero when section a is merged after (wins over) section b, both
 * certain to apply: by tier, then the main server's sections before a
 * virtual host's, then outer before inner, then file order. */
static int aj_cc_merged_after(const aj_cc_conf_t *conf, int a, int b)
{
    const aj_cc_section_t *sa = AJ_CC_SECTION(conf, a), *sb = AJ_CC_SECTION(conf, b);
    int ta = aj_cc_tier(conf, a), tb = aj_cc_tier(conf, b);

    if (ta != tb) {
        return ta > tb;
    }
    if ((sa->server != 0) != (sb->server != 0)) {
        return sa->server != 0;
    }
    if (sa->depth != sb->depth) {
        return sa->depth > sb->depth;
    }
    return a > b;
}

apr_uint32_t aj_cc_possible(const aj_cc_conf_t *conf, int probe, int server, aj_cc_directive_e d)
{
    const aj_cc_server_t *main_srv = AJ_CC_SERVER(conf, 0), *srv = AJ_CC_SERVER(conf, server);
    apr_uint32_t mask = 0;
    int x, winner = -1;

    if (d != AJ_CC_KEYS && (main_srv->htaccess || srv->htaccess)) {
        return AJ_CC_ALL; /* .htaccess may set it: anything is possible */
    }
    for (x = 0; x < conf->sections->nelts; ++x) {
        const aj_cc_section_t *s = AJ_CC_SECTION(conf, x);
        if (s->set[d].value == AJ_CC_UNSET) {
            continue;
        }
        switch (aj_cc_reach(conf, x, probe, server)) {
        case AJ_CC_REACH_SURE:
            if (winner < 0 || aj_cc_merged_after(conf, x, winner)) {
                winner = x;
            }
            break;
        case AJ_CC_REACH_MAYBE: mask |= AJ_CC_BIT(s->set[d].value); break;
        default: break;
        }
    }
    return mask | AJ_CC_BIT(winner < 0 ? AJ_CC_UNSET : AJ_CC_SECTION(conf, winner)->set[d].value);
}

/* Whether a problem holds at the probe in one server. */
static int aj_cc_holds(const aj_cc_conf_t *conf, int probe, int server, aj_cc_problem_e problem,
                       int handler_value)
{
    apr_uint32_t type, provider;

    if (problem == AJ_CC_NO_AUTH_NAME) {
        return aj_cc_possible(conf, probe, server, AJ_CC_AUTH_TYPE) == AJ_CC_BIT(AJ_CC_JWT)
               && aj_cc_possible(conf, probe, server, AJ_CC_AUTH_NAME) == AJ_CC_BIT(AJ_CC_UNSET);
    }
    /* the handler problems: only where this handler certainly serves */
    if (aj_cc_possible(conf, probe, server, AJ_CC_HANDLER) != AJ_CC_BIT(handler_value)) {
        return 0;
    }
    switch (problem) {
    case AJ_CC_NO_AUTH:
        type = aj_cc_possible(conf, probe, server, AJ_CC_AUTH_TYPE);
        provider = aj_cc_possible(conf, probe, server, AJ_CC_BASIC_PROVIDER);
        return !(type & AJ_CC_BIT(AJ_CC_JWT))
               && !((type & AJ_CC_BIT(AJ_CC_BASIC)) && (provider & AJ_CC_BIT(AJ_CC_JWT)));
    case AJ_CC_NO_SIGNING_KEY:
        return !(aj_cc_possible(conf, probe, server, AJ_CC_KEYS) & AJ_CC_BIT(AJ_CC_SIGNING));
    case AJ_CC_NO_STORE: return !AJ_CC_SERVER(conf, server)->has_store;
    case AJ_CC_NO_REFRESH_PATH:
        /* a <Location> of the main server serves every virtual host too */
        return aj_cc_possible(conf, probe, server, AJ_CC_COOKIE) == AJ_CC_BIT(AJ_CC_SET)
               && aj_cc_possible(conf, probe, server, AJ_CC_REFRESH) == AJ_CC_BIT(AJ_CC_ON)
               && !AJ_CC_SERVER(conf, server)->refresh && !AJ_CC_SERVER(conf, 0)->refresh;
    default: return 0;
    }
}

/* A problem is certain when it holds in every server the section serves:
 * its own, or, for the main server's, the main server and every virtual
 * host. */
static int aj_cc_certain(const aj_cc_conf_t *conf, int probe, aj_cc_problem_e problem,
                         int handler_value)
{
    int server = AJ_CC_SECTION(conf, probe)->server, v;

    if (server != 0) {
        return aj_cc_holds(conf, probe, server, problem, handler_value);
    }
    for (v = 0; v < conf->servers->nelts; ++v) {
        if (!aj_cc_holds(conf, probe, v, problem, handler_value)) {
            return 0;
        }
    }
    return 1;
}

static const char *aj_cc_where(apr_pool_t *p, const aj_cc_section_t *s, const aj_cc_setting_t *at,
                               const char *directive)
{
    return apr_psprintf(p, "%s at %s:%d (in %s)", directive, at->file ? at->file : "?", at->line,
                        s->name);
}

static const char *aj_cc_text(apr_pool_t *p, const aj_cc_section_t *s, aj_cc_problem_e problem,
                              const char *handler)
{
    const char *sh;

    if (problem == AJ_CC_NO_AUTH_NAME) {
        return apr_pstrcat(p, aj_cc_where(p, s, &s->set[AJ_CC_AUTH_TYPE], "AuthType JWT"),
                           " has no AuthName: add AuthName \"...\" to that section or to "
                           "one enclosing it",
                           NULL);
    }
    sh = aj_cc_where(p, s, &s->set[AJ_CC_HANDLER], apr_pstrcat(p, "SetHandler ", handler, NULL));
    switch (problem) {
    case AJ_CC_NO_AUTH:
        return apr_pstrcat(p, sh,
                           " needs an authenticated user, but neither AuthType JWT "
                           "nor AuthType Basic with AuthBasicProvider jwt applies there: "
                           "add AuthType JWT, AuthName and Require valid-user",
                           NULL);
    case AJ_CC_NO_SIGNING_KEY:
        return apr_pstrcat(p, sh,
                           " issues tokens, but no AuthJWTSigningKey applies there "
                           "(a section naming only AuthJWTVerifyKey replaces the keys): "
                           "add AuthJWTSigningKey to that section or the server",
                           NULL);
    case AJ_CC_NO_REFRESH_PATH:
        return apr_pstrcat(p, sh,
                           " hands out refresh tokens in a cookie (AuthJWTCookie and "
                           "AuthJWTRefreshLifetime apply there), but no <Location PATH> of its "
                           "server mounts " AJ_CC_REFRESH_HANDLER
                           ", the only path the cookie is sent to: add <Location PATH> with "
                           "SetHandler " AJ_CC_REFRESH_HANDLER,
                           NULL);
    default:
        return apr_pstrcat(p, sh,
                           " needs the user store, but its server has no DBDriver: "
                           "load mod_dbd and set DBDriver and DBDParams in that server or "
                           "the main server",
                           NULL);
    }
}

static void aj_cc_find(apr_array_header_t *found, const aj_cc_conf_t *conf, apr_pool_t *p,
                       int probe, aj_cc_problem_e problem, const aj_cc_handler_t *h)
{
    const aj_cc_section_t *s = AJ_CC_SECTION(conf, probe);
    int value = h ? AJ_CC_HANDLER_BASE + (int)(h - aj_cc_handlers) : 0;
    aj_cc_finding_t *f;

    if (!aj_cc_certain(conf, probe, problem, value)) {
        return;
    }
    f = apr_array_push(found);
    f->problem = problem;
    f->section = probe;
    f->where = &s->set[problem == AJ_CC_NO_AUTH_NAME ? AJ_CC_AUTH_TYPE : AJ_CC_HANDLER];
    f->handler = h ? h->name : NULL;
    f->text = aj_cc_text(p, s, problem, f->handler);
}

apr_array_header_t *aj_cc_check(const aj_cc_conf_t *conf, apr_pool_t *p)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(aj_cc_finding_t));
    int x;

    for (x = 0; x < conf->sections->nelts; ++x) {
        const aj_cc_section_t *s = AJ_CC_SECTION(conf, x);
        int hv = s->set[AJ_CC_HANDLER].value;
        const aj_cc_handler_t *h;

        if (s->kind == AJ_CC_OPAQUE) {
            continue; /* what applies inside it is not followed */
        }
        if (s->set[AJ_CC_AUTH_TYPE].value == AJ_CC_JWT) {
            aj_cc_find(found, conf, p, x, AJ_CC_NO_AUTH_NAME, NULL);
        }
        if (hv < AJ_CC_HANDLER_BASE) {
            continue;
        }
        h = &aj_cc_handlers[hv - AJ_CC_HANDLER_BASE];
        if (h->needs & AJ_CC_NEEDS_AUTH) {
            aj_cc_find(found, conf, p, x, AJ_CC_NO_AUTH, h);
        }
        if (h->needs & AJ_CC_ISSUES) {
            aj_cc_find(found, conf, p, x, AJ_CC_NO_SIGNING_KEY, h);
        }
        if (h->needs & AJ_CC_NEEDS_STORE) {
            aj_cc_find(found, conf, p, x, AJ_CC_NO_STORE, h);
        }
        if (h->needs & AJ_CC_GRANTS) {
            aj_cc_find(found, conf, p, x, AJ_CC_NO_REFRESH_PATH, h);
        }
    }
    return found;
}

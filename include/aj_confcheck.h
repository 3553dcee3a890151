/*
 * aj_confcheck.h — the configuration mistakes `apachectl configtest` catches
 * although httpd itself would only fail at run time (docs/reference.md §13):
 * AuthType JWT without AuthName, a handler that needs an authenticated user
 * mounted where no JWT authentication applies, an issuing handler with no
 * signing key, a handler that needs the store in a server without DBDriver,
 * refresh tokens in cookies with no refresh handler to send them to.
 *
 * httpd merges per-directory configuration per request, so nothing answers
 * "what applies here?" before a request comes.  The glue
 * (auth_jwt_confcheck.c) copies the configuration tree into this model —
 * sections, the few directives the rules read, in file order — and this
 * file judges it, with no httpd in sight (unit-tested).
 *
 * The rule of judgement: fail only when certain.  For a section that mounts
 * a handler (or sets AuthType JWT), the request at that section's own path
 * is followed through what certainly applies to it — the server's and the
 * main server's top level, the enclosing sections and, for a plain
 * <Location PATH>, every plain <Location> whose path matches PATH as httpd
 * matches it (in file order, a later one winning).  Every section whose
 * reach depends on the request — <Directory>, <Files>, <Proxy> and their
 * Match forms, <LocationMatch>, a wildcard <Location>, <If>/<ElseIf>/<Else>
 * — counts as "may apply": any value it sets is possible.  Where
 * AllowOverride lets .htaccess files in, they may set the auth directives
 * and the handler: nothing about those is certain in that server.  A
 * section of the main server reaches every virtual host, so a finding
 * there must hold in the main server and in every virtual host.
 */
#ifndef AJ_CONFCHECK_H
#define AJ_CONFCHECK_H

#include <apr_tables.h>

#include "aj.h"

/* The directives the rules follow. */
typedef enum {
    AJ_CC_AUTH_TYPE = 0,
    AJ_CC_AUTH_NAME,
    AJ_CC_BASIC_PROVIDER, /* AuthBasicProvider */
    AJ_CC_HANDLER,        /* SetHandler */
    AJ_CC_KEYS,           /* AuthJWTSigningKey / AuthJWTVerifyKey */
    AJ_CC_COOKIE,         /* AuthJWTCookie */
    AJ_CC_REFRESH,        /* AuthJWTRefreshLifetime */
    AJ_CC_NDIRECTIVES
} aj_cc_directive_e;

/* Values a directive may have; each is a bit in a possibility mask. */
#define AJ_CC_UNSET        0 /* not set (the setting of a section: not set there) */
#define AJ_CC_OTHER        1 /* a value the rules do not care about */
#define AJ_CC_JWT          2 /* AuthType JWT; AuthBasicProvider listing jwt */
#define AJ_CC_BASIC        3 /* AuthType Basic */
#define AJ_CC_SET          4 /* AuthName (whatever its text) */
#define AJ_CC_SIGNING      5 /* keys that include an AuthJWTSigningKey */
#define AJ_CC_ON           6 /* AuthJWTRefreshLifetime above 0 (0 is AJ_CC_OTHER) */
#define AJ_CC_HANDLER_BASE 8 /* SetHandler auth-jwt-*: + index in the handler table */
#define AJ_CC_BIT(v)       ((apr_uint32_t)1 << (v))
#define AJ_CC_ALL          ((apr_uint32_t)0xffffffff)

/* The handlers of docs/reference.md §4 and what each needs. */
#define AJ_CC_NEEDS_AUTH  0x1 /* an authenticated user (AuthType JWT or Basic + jwt) */
#define AJ_CC_ISSUES      0x2 /* a signing key */
#define AJ_CC_NEEDS_STORE 0x4 /* the user store (a DBDriver in its server) */
#define AJ_CC_GRANTS      0x8 /* a password login: refresh tokens (docs/reference.md §12) */

typedef struct {
    const char *name;
    unsigned needs;
} aj_cc_handler_t;

/* The table (terminated by a NULL name). */
extern const aj_cc_handler_t aj_cc_handlers[];

typedef enum {
    AJ_CC_TOP = 0,        /* a server's own top level */
    AJ_CC_LOCATION,       /* <Location PATH>, a plain path */
    AJ_CC_LOCATION_OTHER, /* <LocationMatch>, <Location ~ RE>, a wildcard path */
    AJ_CC_DIRECTORY,      /* <Directory>, <Files>, <Proxy> and their Match forms */
    AJ_CC_IF,             /* <If>, <ElseIf>, <Else> */
    AJ_CC_OPAQUE          /* any other container (<Limit>, ...) */
} aj_cc_kind_e;

typedef struct {
    int value;        /* AJ_CC_UNSET when the section does not set it */
    const char *file; /* where the (last) setting is */
    int line;
} aj_cc_setting_t;

typedef struct {
    aj_cc_kind_e kind;
    const char *name; /* "<Location /api/token>", for messages */
    const char *path; /* AJ_CC_LOCATION: the path */
    int parent;       /* the enclosing section, -1 for a top */
    int depth;
    int server; /* 0: the main server; else a virtual host */
    const char *file;
    int line;
    aj_cc_setting_t set[AJ_CC_NDIRECTIVES];
} aj_cc_section_t;

typedef struct {
    int has_store; /* a DBDriver is in force */
    int htaccess;  /* AllowOverride (other than None) appears */
    int refresh;   /* a plain <Location> mounts auth-jwt-refresh (its cookie's path) */
} aj_cc_server_t;

typedef struct {
    apr_array_header_t *sections; /* aj_cc_section_t, in file order */
    apr_array_header_t *servers;  /* aj_cc_server_t; [0] the main server */
    apr_pool_t *pool;
} aj_cc_conf_t;

typedef enum {
    AJ_CC_NO_AUTH_NAME = 0, /* AuthType JWT, and no AuthName can apply */
    AJ_CC_NO_AUTH,          /* a handler needing a user, and no JWT authentication */
    AJ_CC_NO_SIGNING_KEY,   /* an issuing handler, and no AuthJWTSigningKey */
    AJ_CC_NO_STORE,         /* a handler needing the store, and no DBDriver */
    AJ_CC_NO_REFRESH_PATH   /* refresh tokens in cookies, and no auth-jwt-refresh <Location> */
} aj_cc_problem_e;

typedef struct {
    aj_cc_problem_e problem;
    int section;                  /* the section at fault */
    const aj_cc_setting_t *where; /* its AuthType or SetHandler line */
    const char *handler;          /* the handler, for the handler problems */
    const char *text;             /* the message: what, where, how to fix */
} aj_cc_finding_t;

/* An empty model with the main server (index 0) and its top level
 * (section 0). */
aj_cc_conf_t *aj_cc_make(apr_pool_t *p, int main_has_store);

/* Adds a virtual host and its top level; returns the top's section index. */
int aj_cc_vhost_add(aj_cc_conf_t *conf, int has_store, const char *file, int line);

/* Adds the container `directive` ("<Location", as httpd's tree names it)
 * with its raw arguments ("/api/token>") inside section `parent`; returns
 * its index.  The kind comes from the name and the arguments. */
int aj_cc_section_add(aj_cc_conf_t *conf, int parent, const char *directive, const char *args,
                      const char *file, int line);

/* Notes the directive `name` with its raw arguments in section `section`
 * (directives the rules do not follow are ignored). */
void aj_cc_directive(aj_cc_conf_t *conf, int section, const char *name, const char *args,
                     const char *file, int line);

/* The values `d` may have at the request `probe` stands for, served by
 * server `server` (the probe's own, or any virtual host for a section of the
 * main server): a mask of AJ_CC_BIT(value). */
apr_uint32_t aj_cc_possible(const aj_cc_conf_t *conf, int probe, int server, aj_cc_directive_e d);

/* Every certain mistake, in file order: an array of aj_cc_finding_t
 * (empty when none). */
apr_array_header_t *aj_cc_check(const aj_cc_conf_t *conf, apr_pool_t *p);

#endif /* AJ_CONFCHECK_H */

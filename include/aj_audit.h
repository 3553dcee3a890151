/*
 * aj_audit.h — what the audit lines of password checks (docs/reference.md §10) may say
 * about the username a client sent.
 */
#ifndef AJ_AUDIT_H
#define AJ_AUDIT_H

#include "aj.h"

/* docs/reference.md §10: a logged username is at most this many bytes. */
#define AJ_AUDIT_USER_MAX   64
/* What a username with two or more '.' is logged as: it may be a token
 * sent in the username field by mistake, and a token is never logged. */
#define AJ_AUDIT_TOKEN_NAME "<token>"

/* The username as an audit line may show it: AJ_AUDIT_TOKEN_NAME when it
 * has two or more '.', else with every byte outside printable ASCII, '"'
 * and '\' written as \xNN (so a name can neither forge a log line nor break
 * out of its quotes), cut to AJ_AUDIT_USER_MAX bytes (ending in "..." when
 * cut, never inside an escape).  NULL is logged as "". */
const char *aj_audit_username(apr_pool_t *p, const char *username);

#endif /* AJ_AUDIT_H */

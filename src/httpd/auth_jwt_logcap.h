/*
 * auth_jwt_logcap.h — keeping credentials out of httpd's own trace lines
 * (auth_jwt_logcap.c).
 */
#ifndef AUTH_JWT_LOGCAP_H
#define AUTH_JWT_LOGCAP_H

#include <httpd.h>

/* register_hooks: finds httpd's HTTP module, whose trace4 lines dump
 * request and response headers. */
void auth_jwt_logcap_init(void);

/* Caps that module's log level at trace3 for this request only, so neither
 * the headers received (Authorization, Cookie) nor the headers sent
 * (Set-Cookie with a token) are dumped.  Costs nothing unless trace4 is on. */
void auth_jwt_logcap(request_rec *r);

#endif /* AUTH_JWT_LOGCAP_H */

/*
 * auth_jwt_h_metadata.h — the auth-jwt-resource-metadata handler (auth_jwt_h_metadata.c)
 */
#ifndef AUTH_JWT_H_METADATA_H
#define AUTH_JWT_H_METADATA_H

#include <httpd.h>

/* SetHandler auth-jwt-resource-metadata: GET/HEAD the RFC 9728 protected
 * resource metadata of the section's AuthJWTResourceMetadata. */
int auth_jwt_metadata_handler(request_rec *r);

#endif /* AUTH_JWT_H_METADATA_H */

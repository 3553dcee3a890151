/*
 * aj_password.h — password hashing (bcrypt $2y$ through apr_bcrypt_encode)
 * and verification (apr_password_validate: bcrypt, and every htpasswd hash
 * APR understands).
 */
#ifndef AJ_PASSWORD_H
#define AJ_PASSWORD_H

#include "aj.h"

#define AJ_BCRYPT_COST_MIN     4
#define AJ_BCRYPT_COST_MAX     17
#define AJ_BCRYPT_COST_DEFAULT 10
/* Longest password accepted anywhere; bcrypt reads only 72 bytes anyway. */
#define AJ_PASSWORD_MAX_LEN    1024

/* A fresh bcrypt hash with a random salt at cost. */
apr_status_t aj_password_hash(const char **hash, apr_pool_t *p, const char *password, int cost);

/* Non-zero when password matches hash. */
int aj_password_verify(const char *password, const char *hash);

#endif /* AJ_PASSWORD_H */

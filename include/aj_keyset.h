/*
 * aj_keyset.h — an ordered set of keys: the first signing key signs;
 * verification picks by kid when the token has one, and always by the
 * token's exact alg (RFC 8725 §3.1).  Built at configuration time, then
 * only read (but for the verified-header memo that aj_jws.c keeps in it).
 */
#ifndef AJ_KEYSET_H
#define AJ_KEYSET_H

#include "aj.h"
#include "aj_key.h"

/* The JWK Set of a key set without asymmetric keys. */
#define AJ_JWK_SET_EMPTY "{\"keys\":[]}"

typedef struct aj_keyset_t aj_keyset_t;

aj_keyset_t *aj_keyset_make(apr_pool_t *p);
void aj_keyset_add(aj_keyset_t *ks, const aj_key_t *key);
/* The kid rule of one section's set (docs/reference.md §10), checked before adding key
 * to ks: APR_EINVAL with *err when key's kid is already used in ks (every
 * kid names exactly one key; a kid naming keys of different kinds, such as
 * an HMAC secret and an EC key, gets its own message).  Keys without kid
 * are always admitted. */
apr_status_t aj_keyset_check_kid(const char **err, apr_pool_t *p, const aj_keyset_t *ks,
                                 const aj_key_t *key);
int aj_keyset_count(const aj_keyset_t *ks);
const aj_key_t *aj_keyset_get(const aj_keyset_t *ks, int i);
const aj_key_t *aj_keyset_signing_key(const aj_keyset_t *ks); /* NULL when none */

/* The keys that may verify a token whose header says alg and, when it has
 * one, kid: exactly alg, and exactly kid when given, in configuration
 * order.  Start with *next = 0 and call again with what it left until it
 * returns NULL. */
const aj_key_t *aj_keyset_find(const aj_keyset_t *ks, int *next, aj_alg_e alg, const char *kid);
/* Non-zero when a key of ks carries kid: a kid that none does is a retired
 * or foreign key (AJ_UNKNOWN_KID), not a wrong alg. */
int aj_keyset_has_kid(const aj_keyset_t *ks, const char *kid);

/* The RFC 7517 JWK Set of the set's public keys (aj_jwk.h), built when keys
 * are added (configuration time), so serving it costs no crypto: never
 * NULL for a set, AJ_JWK_SET_EMPTY when it holds no asymmetric key; NULL
 * only when building it ran out of memory. */
const char *aj_keyset_jwks(const aj_keyset_t *ks);
/* {"keys":[...]} of every asymmetric key of ks, in configuration order,
 * serialized (pool memory), built afresh. */
apr_status_t aj_jwk_set_json(const char **json, apr_pool_t *p, const aj_keyset_t *ks);

/* What verification learns about a set at run time, per process: the
 * verified-header memo, a structure of aj_jws.c (aj_jws.h), allocated
 * zeroed (empty) with the set.  NULL for no set. */
struct aj_jws_memo_t;
struct aj_jws_memo_t *aj_keyset_memo(const aj_keyset_t *ks);

#endif /* AJ_KEYSET_H */

/*
 * aj.h — shared definitions of the mod_auth_jwt core.
 *
 * The core (src/aj_*.c) depends on APR, APR-util, OpenSSL and json-c only;
 * never on httpd.  Every limit of docs/reference.md §5 is a named constant here.
 */
#ifndef AJ_H
#define AJ_H

#include <errno.h>
#include <apr.h>
#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

/* "Input over its size limit".  APR has no status of its own for this
 * (there is no APR_E2BIG), so the OS errno E2BIG, the way APR wraps errno. */
#define AJ_E2BIG APR_FROM_OS_ERROR(E2BIG)

/* docs/reference.md §5: tokens over 8 KiB are refused before any work proportional to them. */
#define AJ_TOKEN_MAX_LEN    8192
/* docs/reference.md §5: JSON nested deeper than 32 levels is refused. */
#define AJ_JSON_MAX_DEPTH   32
/* Members counted over one JSON document (bounds duplicate-key detection). */
#define AJ_JSON_MAX_MEMBERS 512
/* docs/reference.md §4: request bodies over 16 KiB get 413. */
#define AJ_BODY_MAX_LEN     16384
/* docs/reference.md §5: jti carries at least 128 random bits. */
#define AJ_JTI_RANDOM_BYTES 16
/* Longest jti recorded in the revocation list. */
#define AJ_JTI_MAX_LEN      255

/* docs/reference.md §9: which store (driver + parameters) something in shared memory or
 * a per-child cache came from.  Two virtual hosts with different stores
 * have different ids, and user ids, usernames and revocations of one store
 * mean nothing under another.  16 bytes of SHA-256 over the driver name and
 * the parameters (aj_store_id_make); never the parameters themselves (they
 * may hold a database password). */
#define AJ_STORE_ID_LEN 16
typedef struct {
    unsigned char b[AJ_STORE_ID_LEN];
} aj_store_id_t;

/* Why a token was accepted or refused.  The glue maps these to RFC 6750
 * error_description text with aj_verdict_text(). */
typedef enum {
    AJ_OK = 0,
    AJ_MALFORMED,      /* structure, encoding, JSON, size or depth limits */
    AJ_BAD_ALG,        /* alg none/unknown, or no key with the token's kid has its alg */
    AJ_BAD_SIG,        /* signature does not verify */
    AJ_BAD_CRIT,       /* crit names an extension we do not understand */
    AJ_MISSING_EXP,    /* no exp claim */
    AJ_EXPIRED,        /* now >= exp + leeway */
    AJ_NOT_YET_VALID,  /* now < nbf - leeway */
    AJ_BAD_IAT,        /* iat in the future beyond leeway */
    AJ_BAD_ISS,        /* iss missing or not the configured issuer */
    AJ_BAD_AUD,        /* aud missing or none of the configured audiences */
    AJ_REVOKED,        /* jti revoked or issued before the user's revoke-all */
    AJ_UNKNOWN_KID,    /* the token's kid names no configured key (retired, or
                          * never configured here): the operator fixes the keys */
    AJ_BAD_TYP,        /* typ present and neither JWT nor at+jwt (docs/reference.md §5) */
    AJ_NO_USER,        /* the token verified but names no usable user (AuthJWTUserClaim,
                          * docs/reference.md §11): decided by the glue, not aj_jws */
    AJ_UNKNOWN_ISSUER, /* in a section with trusted issuers, the token's iss is neither
                          * one of them nor the local issuer (docs/reference.md §11):
                          * decided by the glue before any signature is checked */
    AJ_VERDICT_COUNT
} aj_verdict_e;

/* A short fixed text for the verdict (never echoes input), e.g. "token expired". */
const char *aj_verdict_text(aj_verdict_e v);
/* A stable identifier for logs, e.g. "expired". */
const char *aj_verdict_name(aj_verdict_e v);
/* Non-zero when a token with this verdict had a signature that verified
 * (the verdict is about its claims, or AJ_OK); zero for the refusals
 * reached before or at the signature (malformed, alg, crit, kid, signature). */
int aj_verdict_signature_verified(aj_verdict_e v);

#endif /* AJ_H */

/*
 * aj_alg.h — the JOSE signature algorithms this module knows (RFC 7518 §3,
 * RFC 8037 §3.1) and what each needs of a key.
 *
 * HS256/384/512 (a raw secret), RS256/384/512 and PS256/384/512 (RSA of at
 * least 2048 bits; PSS with MGF1 over the same hash and a salt as long as
 * the hash), ES256/384/512 (P-256/P-384/P-521, signatures in JOSE raw R||S
 * form) and EdDSA (Ed25519 only), all through OpenSSL 3 EVP.  Names are
 * exact and case-sensitive: "none", "None", "hs256" are unknown.
 */
#ifndef AJ_ALG_H
#define AJ_ALG_H

#include "aj.h"

typedef enum {
    AJ_ALG_UNKNOWN = 0,
    AJ_ALG_HS256,
    AJ_ALG_HS384,
    AJ_ALG_HS512,
    AJ_ALG_RS256,
    AJ_ALG_RS384,
    AJ_ALG_RS512,
    AJ_ALG_PS256,
    AJ_ALG_PS384,
    AJ_ALG_PS512,
    AJ_ALG_ES256,
    AJ_ALG_ES384,
    AJ_ALG_ES512,
    AJ_ALG_EDDSA,
    AJ_ALG_COUNT
} aj_alg_e;

/* Exact, case-sensitive JOSE name ("HS256" ...); AJ_ALG_UNKNOWN otherwise. */
aj_alg_e aj_alg_from_name(const char *name, apr_size_t len);
const char *aj_alg_name(aj_alg_e alg);
int aj_alg_is_hmac(aj_alg_e alg);
/* HMAC output size in bytes, also the minimum secret length (RFC 7518 §3.2). */
apr_size_t aj_alg_hmac_len(aj_alg_e alg);
/* Non-zero when this build can sign/verify alg (every known one). */
int aj_alg_supported(aj_alg_e alg);

/* ---- for the key files (aj_key.c, aj_ecdsa.c, aj_sign.c, aj_keyset.c) ---- */

/* RFC 7518 §3.4: R and S are each the size of the group order: 32, 48 and
 * 66 bytes for P-256, P-384 and P-521. */
#define AJ_EC_MAX_COORD 66

/* The kind of key an algorithm takes. */
typedef enum {
    AJ_KTY_HMAC = 0,
    AJ_KTY_RSA,     /* RSASSA-PKCS1-v1_5 */
    AJ_KTY_RSA_PSS, /* RSASSA-PSS */
    AJ_KTY_EC,      /* ECDSA */
    AJ_KTY_ED25519  /* EdDSA, Ed25519 only (RFC 8037 §3.1) */
} aj_kty_e;

/* One row of the algorithm table.  Declared without OpenSSL's headers:
 * md is EVP_sha256 and its kin. */
struct evp_md_st;
typedef struct {
    aj_alg_e alg;
    const char *name; /* JOSE "alg" (RFC 7518 §3.1) */
    aj_kty_e kty;
    apr_size_t hmac_len;                 /* HMAC: output and minimum secret size */
    const struct evp_md_st *(*md)(void); /* NULL for EdDSA */
    int ec_nid;                          /* ES: the curve (RFC 7518 §3.4) */
    apr_size_t ec_coord;                 /* ES: bytes of R and of S */
    const char *want;                    /* what a key for this alg is, for errors */
} aj_alg_info_t;

/* The table row of alg; NULL for AJ_ALG_UNKNOWN or any other value. */
const aj_alg_info_t *aj_alg_info(aj_alg_e alg);

/* info's digest (info->md) as fetched once from OpenSSL's provider, for
 * the init calls of the hot path (a legacy EVP_sha256() would be fetched
 * again by each); NULL for EdDSA, or when the fetch failed. */
const struct evp_md_st *aj_alg_md(const aj_alg_info_t *info);

#endif /* AJ_ALG_H */

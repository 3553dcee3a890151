/*
 * aj_jws.h — compact JWS (RFC 7515) signing and verification with RFC 8725's
 * rules: the key and algorithm come from configuration, never from the token;
 * size, segment, encoding and JSON limits are enforced before any work
 * proportional to the input.
 */
#ifndef AJ_JWS_H
#define AJ_JWS_H

#include "aj.h"
#include "aj_claims.h"
#include "aj_key.h"
#include "aj_keyset.h"

/* Signs payload_json with key: header {"alg","typ":"JWT","kid"?}. */
apr_status_t aj_jws_sign(const char **token, apr_pool_t *p, const aj_key_t *key,
                         const char *payload_json, apr_size_t len);

/* Verifies token[0..len) against keys and policy at time now (seconds).
 * Returns APR_SUCCESS whenever a verdict was reached (*verdict says which;
 * *claims is set only when it is AJ_OK), or an error status when the check
 * itself could not run (e.g. OpenSSL out of memory). */
apr_status_t aj_jws_verify(aj_verdict_e *verdict, aj_claims_t **claims, apr_pool_t *p,
                           const char *token, apr_size_t len, const aj_keyset_t *keys,
                           const aj_policy_t *policy, apr_int64_t now);

/* ---- a token whose issuer chooses its keys (docs/reference.md §11) ----
 * Its payload has to be read before its signature can be checked.
 * aj_jws_peek decodes and parses the payload once (the same segment rules
 * and JSON limits as aj_jws_verify), and aj_jws_verify_peeked then checks
 * the signature, and the claims from that very parse: one decode per token.
 * Nothing read from a peek is trusted until aj_jws_verify_peeked says AJ_OK;
 * the header is not looked at by the peek (aj_jws_verify_peeked checks it
 * before the signature, as aj_jws_verify does). */
typedef struct aj_jws_peek_t aj_jws_peek_t;

/* APR_EINVAL when token[0..len) is not three base64url segments or its
 * payload is not a JSON object within the limits; else *peek, in p. */
apr_status_t aj_jws_peek(aj_jws_peek_t **peek, apr_pool_t *p, const char *token, apr_size_t len);
/* The payload's iss, NOT verified: NULL when absent or not a string. */
const char *aj_jws_peek_iss(const aj_jws_peek_t *peek);
/* aj_jws_verify of the token that peek was made from (the same pointer and
 * length; with any other token, or a NULL peek, the payload is decoded
 * again). */
apr_status_t aj_jws_verify_peeked(aj_verdict_e *verdict, aj_claims_t **claims, apr_pool_t *p,
                                  const char *token, apr_size_t len, const aj_keyset_t *keys,
                                  const aj_policy_t *policy, apr_int64_t now,
                                  const aj_jws_peek_t *peek);

/* The JWS layer alone: every rule of aj_jws_verify() up to and including
 * the signature (size, segments, header, alg and kid selection), and none
 * of the JWT rules after it: the payload need not be JSON and no claim is
 * read.  AJ_OK with *payload (the decoded payload, pool memory) and *plen
 * set.  For checking JWS test vectors whose payload is not a claim set
 * (tests/unit/test_wycheproof.c) and tools; a request is only ever let in
 * by aj_jws_verify(), whose verdict also covers the claims. */
apr_status_t aj_jws_verify_signature(aj_verdict_e *verdict, const unsigned char **payload,
                                     apr_size_t *plen, apr_pool_t *p, const char *token,
                                     apr_size_t len, const aj_keyset_t *keys);

/* Structural test only, no allocation: within AJ_TOKEN_MAX_LEN, exactly
 * three non-empty base64url segments (the signature may not be empty), and
 * the first decodes to text starting with '{'.  Used to tell a REST-auth token
 * sent as a Basic username from a real username. */
int aj_jws_looks_like_jwt(const char *s, apr_size_t len);

/* Decodes header and payload without verifying anything (for htjwt decode).
 * APR_EINVAL when not a well-formed compact JWS within the limits. */
apr_status_t aj_jws_decode(json_object **header, json_object **payload, apr_pool_t *p,
                           const char *token, apr_size_t len);

/* ---- the verified-header memo ------------------------------------------
 * The JOSE header segments of tokens that verified with a key set, as sent
 * (base64url), with what the header rules made of them: a token whose
 * header segment is byte-for-byte one of these skips decoding and parsing
 * it.  Only headers of tokens whose signature verified are kept (nobody
 * without a key can fill the slots), at most AJ_JWS_MEMO_SLOTS per set,
 * never replaced.  Every key set holds one, zeroed (empty) when the set is
 * made (aj_keyset_memo()); only aj_jws.c writes it, while any number of
 * threads verify: entry[i] is written by the one thread that claimed it,
 * then published in slot[i] (release; readers acquire). */
#define AJ_JWS_MEMO_SLOTS   8
/* Longest header segment, and longest kid, that the memo keeps. */
#define AJ_JWS_MEMO_MAX_SEG 256

typedef struct {
    aj_alg_e alg;
    const char *kid; /* NULL, or kid_buf */
    apr_size_t len;  /* of seg */
    char seg[AJ_JWS_MEMO_MAX_SEG + 1];
    char kid_buf[AJ_JWS_MEMO_MAX_SEG + 1];
} aj_jws_memo_entry_t;

typedef struct aj_jws_memo_t {
    const aj_jws_memo_entry_t *slot[AJ_JWS_MEMO_SLOTS]; /* NULL until published */
    int claimed[AJ_JWS_MEMO_SLOTS];                     /* entry[i] taken by a writer */
    aj_jws_memo_entry_t entry[AJ_JWS_MEMO_SLOTS];
} aj_jws_memo_t;

#endif /* AJ_JWS_H */

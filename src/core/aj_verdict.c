/*
 * aj_verdict.c — fixed texts for token verdicts (docs/reference.md §2 "Failure
 * responses": a short fixed text, never echoing input).
 */
#include "aj.h"

typedef struct {
    const char *name; /* stable identifier for logs and tools */
    const char *text; /* RFC 6750 error_description */
} aj_verdict_info_t;

/* Indexed by aj_verdict_e; keep in the enum's order. */
static const aj_verdict_info_t aj_verdicts[AJ_VERDICT_COUNT] = {
    { "ok", "token accepted" },
    { "malformed", "malformed token" },
    { "bad_alg", "algorithm not allowed" },
    { "bad_sig", "signature verification failed" },
    { "bad_crit", "unsupported critical header" },
    { "missing_exp", "token has no expiry" },
    { "expired", "token expired" },
    { "not_yet_valid", "token not yet valid" },
    { "bad_iat", "issued in the future" },
    { "bad_iss", "wrong issuer" },
    { "bad_aud", "wrong audience" },
    { "revoked", "token revoked" },
    { "unknown_kid", "unknown key id" },
    { "bad_typ", "token type not accepted" },
    { "no_user", "token names no user" },
    { "unknown_issuer", "unknown issuer" },
};

static const aj_verdict_info_t aj_verdict_unknown = { "unknown", "invalid token" };

static const aj_verdict_info_t *aj_verdict_info(aj_verdict_e v)
{
    if ((int)v < 0 || v >= AJ_VERDICT_COUNT) {
        return &aj_verdict_unknown;
    }
    return &aj_verdicts[v];
}

const char *aj_verdict_text(aj_verdict_e v)
{
    return aj_verdict_info(v)->text;
}

const char *aj_verdict_name(aj_verdict_e v)
{
    return aj_verdict_info(v)->name;
}

int aj_verdict_signature_verified(aj_verdict_e v)
{
    switch (v) {
    case AJ_MALFORMED:
    case AJ_BAD_ALG:
    case AJ_BAD_SIG:
    case AJ_BAD_CRIT:
    case AJ_UNKNOWN_KID:
    case AJ_UNKNOWN_ISSUER:
    case AJ_BAD_TYP:
    case AJ_VERDICT_COUNT: return 0;
    default: return (int)v >= 0 && v < AJ_VERDICT_COUNT;
    }
}

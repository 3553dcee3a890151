/*
 * fuzz_jws.c — the input is a token.  It goes through the structural test
 * (aj_jws_looks_like_jwt), the unverified decoder (aj_jws_decode) and full
 * verification (aj_jws_verify) against a key set with one key of every
 * algorithm the project supports (HS256/384/512, RS256/384/512,
 * PS256/384/512, ES256/384/512, EdDSA), from the test keys in
 * tests/fuzz/keys/.  A token that verifies has its claims read every way the
 * glue reads them.
 *
 * Seeds (tests/fuzz/corpus/jws/) are tokens signed with each key, with and
 * without kid, valid at FUZZ_NOW.
 */
#include "fuzz_common.h"
#include "aj_claims.h"
#include "aj_json.h"
#include "aj_jws.h"
#include "aj_key.h"

#ifndef FUZZ_KEYDIR
#define FUZZ_KEYDIR "tests/fuzz/keys"
#endif

/* The fixed clock of every run (2023-11-14), so a run is reproducible. */
#define FUZZ_NOW      1700000000
#define FUZZ_ISSUER   "https://fuzz.example"
#define FUZZ_AUDIENCE "fuzz-aud"
#define FUZZ_LEEWAY   30

static const struct {
    const char *alg, *file, *kid;
} fuzz_keys[] = {
    { "HS256", "hs256.key", "hs256" },   { "HS384", "hs384.key", "hs384" },
    { "HS512", "hs512.key", "hs512" },   { "RS256", "rsa.pem", "rs256" },
    { "RS384", "rsa.pem", "rs384" },     { "RS512", "rsa.pem", "rs512" },
    { "PS256", "rsa.pem", "ps256" },     { "PS384", "rsa.pem", "ps384" },
    { "PS512", "rsa.pem", "ps512" },     { "ES256", "ec256.pem", "es256" },
    { "ES384", "ec384.pem", "es384" },   { "ES512", "ec521.pem", "es512" },
    { "EdDSA", "ed25519.pem", "eddsa" },
};

static aj_keyset_t *fuzz_keyset;
static aj_policy_t fuzz_policy, fuzz_policy_open;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const aud[] = { FUZZ_AUDIENCE };
    apr_array_header_t *auds;
    size_t i;

    fuzz_apr_init();
    fuzz_keyset = aj_keyset_make(fuzz_root);
    for (i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]); ++i) {
        const char *err = NULL;
        aj_key_t *key = NULL;
        const char *src =
            apr_pstrcat(fuzz_root, "file:", FUZZ_KEYDIR, "/", fuzz_keys[i].file, NULL);
        aj_alg_e alg = aj_alg_from_name(fuzz_keys[i].alg, strlen(fuzz_keys[i].alg));
        if (aj_key_load(&key, &err, fuzz_root, alg, src, 1, fuzz_keys[i].kid) != APR_SUCCESS) {
            fprintf(stderr, "fuzz_jws: %s: %s\n", src, err ? err : "cannot load");
            abort();
        }
        aj_keyset_add(fuzz_keyset, key);
    }
    auds = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(auds, const char *) = aud[0];
    fuzz_policy.issuer = FUZZ_ISSUER;
    fuzz_policy.audiences = auds;
    fuzz_policy.leeway = FUZZ_LEEWAY;
    fuzz_policy_open.leeway = 0;
    return 0;
}

static int fuzz_visit(void *baton, const char *name, const char *value)
{
    size_t *n = baton;

    FUZZ_ASSERT(name != NULL && value != NULL);
    *n += strlen(name) + strlen(value);
    return 0;
}

/* Everything the glue does with verified claims. */
static void fuzz_claims(apr_pool_t *p, const aj_claims_t *cl)
{
    static const char *const scopes[] = { "read", "write" };
    apr_array_header_t *want = apr_array_make(p, 2, sizeof(const char *));
    apr_int64_t n = 0;
    size_t total = 0;

    APR_ARRAY_PUSH(want, const char *) = scopes[0];
    APR_ARRAY_PUSH(want, const char *) = scopes[1];
    (void)aj_claims_get_string(cl, "sub");
    (void)aj_claims_get_string(cl, "name");
    (void)aj_claims_get_string(cl, "jti");
    (void)aj_claims_get_int(cl, "auth_time", &n);
    (void)aj_claims_get_int(cl, "iat", &n);
    (void)aj_claims_match(cl, "role", "admin");
    (void)aj_claims_match(cl, "groups", "1");
    (void)aj_claims_has_scopes(cl, want);
    aj_claims_visit(cl, p, fuzz_visit, &total);
    (void)aj_json_dump(p, aj_claims_object(cl));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *token = fuzz_text(p, data, size);
    json_object *hdr = NULL, *payload = NULL;
    aj_claims_t *cl = NULL;
    aj_verdict_e v = AJ_VERDICT_COUNT;
    int looks;

    looks = aj_jws_looks_like_jwt(token, size);
    if (aj_jws_decode(&hdr, &payload, p, token, size) == APR_SUCCESS) {
        FUZZ_ASSERT(hdr != NULL && payload != NULL);
        (void)aj_json_dump(p, hdr);
        (void)aj_json_dump(p, payload);
    }
    if (aj_jws_verify(&v, &cl, p, token, size, fuzz_keyset, &fuzz_policy, FUZZ_NOW)
        == APR_SUCCESS) {
        FUZZ_ASSERT(v < AJ_VERDICT_COUNT);
        FUZZ_ASSERT(aj_verdict_text(v) != NULL);
#ifdef FUZZ_VERBOSE
        fprintf(stderr, "fuzz_jws: verdict %s\n", aj_verdict_name(v));
#endif
        if (v == AJ_OK) {
            /* a verified token always looks like one and always decodes */
            FUZZ_ASSERT(looks);
            FUZZ_ASSERT(cl != NULL);
            fuzz_claims(p, cl);
        }
    }
    cl = NULL;
    if (aj_jws_verify(&v, &cl, p, token, size, fuzz_keyset, &fuzz_policy_open, FUZZ_NOW)
            == APR_SUCCESS
        && v == AJ_OK) {
        FUZZ_ASSERT(cl != NULL);
        fuzz_claims(p, cl);
    }
    apr_pool_destroy(p);
    return 0;
}

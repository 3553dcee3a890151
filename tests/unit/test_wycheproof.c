/*
 * test_wycheproof.c — Project Wycheproof's JOSE vectors (vendored under
 * tests/vectors/wycheproof/, see the README there) through the module's
 * own key import and JWS verification.
 *
 * Every group's JWK (json_web_signature_test.json) or JWK Set
 * (json_web_key_test.json, as a document: aj_issuer_keyset, the path of a
 * trusted issuer's set) becomes a key set through aj_jwk_to_keys /
 * aj_jwk_set_to_keyset, with the JWK rules the module applies (RSA of at
 * least 2048 bits with an odd exponent >= 3, EC points on their curve, use
 * and key_ops, alg pinning, no mixed or duplicate-kid sets); oct keys are
 * allowed, as they are from a file.  Each vector's token then goes through
 * aj_jws_verify_signature(): the JWS layer of aj_jws_verify() without the
 * JWT claim rules, because these payloads are not claim sets ("foo", RFC
 * 7520's text).  That is the clean cut: the claim rules have their own tests
 * (test_claims.c), and a claims policy that skips exp would be a policy the
 * module must never have.
 *
 * Rules: no vector marked "invalid" may be accepted, whether it is refused
 * at key import or at verification.  A "valid" vector must be accepted,
 * except where the module refuses on purpose, each counted as skipped with
 * its reason: JSON serialization (the module takes compact JWS only), an
 * algorithm it does not verify, a key its rules refuse, an empty payload
 * (a JWT always has one).  Per-file figures are printed.
 */
#include <apr_hash.h>
#include <json-c/json.h>

#include "aj_test.h"
#include "aj_jwk.h"
#include "aj_issuer.h"
#include "aj_jwks.h"
#include "aj_jws.h"
#include "aj_key.h"

/* make runs the tests from the repository root. */
#ifndef AJ_WYCHEPROOF_DIR
#define AJ_WYCHEPROOF_DIR "tests/vectors/wycheproof"
#endif
#define T_JWS_FILE           "json_web_signature_test.json"
#define T_JWK_FILE           "json_web_key_test.json"
/* JWS JSON serialization starts with '{'; the compact form never does. */
#define T_JSON_SERIALIZATION '{'

/* Vectors whose label contradicts their own token, checked below rather
 * than trusted: two "invalid" ones named after base64 padding whose token
 * has no padding and is byte for byte the well-formed, correctly signed
 * token; two "valid" ones whose token has a '?' inserted (not base64url,
 * so RFC 7515 §5.2 refuses them).  Counted and printed apart. */
typedef struct {
    int tc_id;
    int strict; /* 1: the token is strict base64url; 0: it is not */
} disputed_t;

static const disputed_t disputed[] = {
    { 367, 1 },
    { 370, 1 }, /* invalidBase64Padding, ...InPayload */
    { 372, 0 },
    { 373, 0 }, /* InvalidCharacterInserted{Header,Payload} */
};

static int strict_compact(const char *jws)
{
    return jws[strspn(jws, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-_.")]
           == '\0';
}

typedef struct {
    int total;
    int valid, valid_accepted;
    int invalid, invalid_refused_key, invalid_refused_verify;
    int skipped;
    apr_hash_t *skip_reasons;             /* reason -> int * */
    apr_array_header_t *accepted_invalid; /* const char *: tcId and comment */
    apr_array_header_t *refused_valid;    /* const char *: unexplained refusals */
    apr_array_header_t *disputed;         /* const char *: see disputed[] */
} counts_t;

static json_object *load_vectors(const char *name)
{
    const char *dir = getenv("AJ_WYCHEPROOF_DIR");
    char path[512];
    json_object *doc;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : AJ_WYCHEPROOF_DIR, name);
    doc = json_object_from_file(path);
    if (!doc) {
        fail_msg("cannot read %s (run from the repository root, or set AJ_WYCHEPROOF_DIR)", path);
    }
    return doc;
}

static const char *member(json_object *obj, const char *name)
{
    json_object *v = NULL;

    return json_object_object_get_ex(obj, name, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static void count_skip(counts_t *c, apr_pool_t *p, const char *reason)
{
    int *n = apr_hash_get(c->skip_reasons, reason, APR_HASH_KEY_STRING);

    if (!n) {
        n = apr_pcalloc(p, sizeof(*n));
        apr_hash_set(c->skip_reasons, apr_pstrdup(p, reason), APR_HASH_KEY_STRING, n);
    }
    ++*n;
    ++c->skipped;
}

/* Why the module refuses a valid vector on purpose, or NULL. */
static const char *deliberate_refusal(apr_pool_t *p, const char *jws, const char *pin)
{
    const char *dot1 = strchr(jws, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    json_object *hdr = NULL, *payload = NULL;
    const char *alg;

    if (jws[0] == T_JSON_SERIALIZATION) {
        return "JSON serialization (the module takes compact JWS only)";
    }
    if (dot1 && dot2 == dot1 + 1) {
        return "empty payload (a JWT always has a claims payload)";
    }
    /* aj_jws_decode wants a JSON payload: read the header alone. */
    if (dot1) {
        char *h = apr_pstrmemdup(p, jws, (apr_size_t)(dot1 - jws));
        const char *tok = apr_pstrcat(p, h, ".e30.AA", NULL); /* e30 = "{}" */
        if (aj_jws_decode(&hdr, &payload, p, tok, strlen(tok)) == APR_SUCCESS) {
            alg = member(hdr, "alg");
            if (alg && aj_alg_from_name(alg, strlen(alg)) == AJ_ALG_UNKNOWN) {
                return apr_psprintf(p, "alg %s is not one the module verifies", alg);
            }
            if (alg && pin && strcmp(alg, pin)) {
                return apr_psprintf(p, "the JWK's alg %s pins the key, the token uses %s", pin,
                                    alg);
            }
            if (json_object_object_get_ex(hdr, "crit", NULL)) {
                return "crit header (the module implements no JWS extension)";
            }
        }
    }
    return NULL;
}

/* One vector against ks (NULL when the key or set was refused: key_err);
 * pin is the JWK's alg (NULL when none). */
static void run_vector(counts_t *c, apr_pool_t *p, json_object *t, const aj_keyset_t *ks,
                       const char *key_err, const char *pin)
{
    const char *result = member(t, "result"), *jws = member(t, "jws");
    const char *label =
        apr_psprintf(p, "tcId %d (%s)", json_object_get_int(json_object_object_get(t, "tcId")),
                     member(t, "comment"));
    const unsigned char *payload = NULL;
    apr_size_t plen = 0;
    aj_verdict_e v = AJ_VERDICT_COUNT;
    const char *why;
    apr_size_t i;
    int valid;

    assert_non_null(result);
    assert_non_null(jws);
    ++c->total;
    valid = !strcmp(result, "valid");
    assert_true(valid || !strcmp(result, "invalid") || !strcmp(result, "acceptable"));
    if (!valid && strcmp(result, "invalid")) {
        count_skip(c, p, "result \"acceptable\" (either answer is right)");
        return;
    }
    valid ? ++c->valid : ++c->invalid;
    if (!ks) {
        if (valid) {
            count_skip(c, p, apr_psprintf(p, "key refused by the module's rules: %s", key_err));
        }
        else {
            ++c->invalid_refused_key;
        }
        return;
    }
    assert_int_equal(aj_jws_verify_signature(&v, &payload, &plen, p, jws, strlen(jws), ks),
                     APR_SUCCESS);
    for (i = 0; i < sizeof(disputed) / sizeof(disputed[0]); ++i) {
        if (disputed[i].tc_id == json_object_get_int(json_object_object_get(t, "tcId"))) {
            /* the token must be what the note says, and the module's
             * answer must follow from it */
            assert_int_equal(strict_compact(jws), disputed[i].strict);
            assert_int_equal(v == AJ_OK, disputed[i].strict);
            APR_ARRAY_PUSH(c->disputed, const char *) =
                apr_psprintf(p, "%s labelled %s: %s", label, result,
                             v == AJ_OK ? "well-formed and correctly signed, accepted"
                                        : "not base64url, refused");
            valid ? --c->valid : --c->invalid;
            return;
        }
    }
    if (!valid) {
        if (v == AJ_OK) {
            APR_ARRAY_PUSH(c->accepted_invalid, const char *) = label;
        }
        else {
            ++c->invalid_refused_verify;
        }
        return;
    }
    if (v == AJ_OK) {
        ++c->valid_accepted;
        return;
    }
    why = deliberate_refusal(p, jws, pin);
    if (why) {
        count_skip(c, p, why);
    }
    else {
        APR_ARRAY_PUSH(c->refused_valid, const char *) =
            apr_psprintf(p, "%s: %s", label, aj_verdict_name(v));
    }
}

static void counts_init(counts_t *c, apr_pool_t *p)
{
    memset(c, 0, sizeof(*c));
    c->skip_reasons = apr_hash_make(p);
    c->accepted_invalid = apr_array_make(p, 1, sizeof(const char *));
    c->refused_valid = apr_array_make(p, 1, sizeof(const char *));
    c->disputed = apr_array_make(p, 1, sizeof(const char *));
}

/* Prints the figures and fails on any accepted invalid vector or
 * unexplained refusal of a valid one. */
static void report(const counts_t *c, apr_pool_t *p, const char *file)
{
    apr_hash_index_t *hi;
    int i;

    printf("wycheproof %s: %d vectors: valid %d, accepted %d; invalid %d, refused %d "
           "(%d at key import, %d at verification), accepted %d; skipped %d; "
           "label disputed %d\n",
           file, c->total, c->valid, c->valid_accepted, c->invalid,
           c->invalid_refused_key + c->invalid_refused_verify, c->invalid_refused_key,
           c->invalid_refused_verify, c->accepted_invalid->nelts, c->skipped, c->disputed->nelts);
    for (hi = apr_hash_first(p, c->skip_reasons); hi; hi = apr_hash_next(hi)) {
        const void *reason;
        void *n;
        apr_hash_this(hi, &reason, NULL, &n);
        printf("    skipped %d: %s\n", *(int *)n, (const char *)reason);
    }
    for (i = 0; i < c->disputed->nelts; ++i) {
        printf("    label disputed: %s\n", APR_ARRAY_IDX(c->disputed, i, const char *));
    }
    for (i = 0; i < c->accepted_invalid->nelts; ++i) {
        printf("    INVALID ACCEPTED: %s\n", APR_ARRAY_IDX(c->accepted_invalid, i, const char *));
    }
    for (i = 0; i < c->refused_valid->nelts; ++i) {
        printf("    VALID REFUSED: %s\n", APR_ARRAY_IDX(c->refused_valid, i, const char *));
    }
    fflush(stdout);
    assert_int_equal(c->accepted_invalid->nelts, 0);
    assert_int_equal(c->refused_valid->nelts, 0);
    assert_int_equal(c->invalid, c->invalid_refused_key + c->invalid_refused_verify);
}

/* The group's public key when it has one, else its private key (oct). */
static json_object *group_key(json_object *g)
{
    json_object *k = NULL;

    if (json_object_object_get_ex(g, "public", &k) || json_object_object_get_ex(g, "private", &k)) {
        return k;
    }
    fail_msg("a test group without a key");
    return NULL;
}

static void test_json_web_signature(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *doc = load_vectors(T_JWS_FILE), *groups, *g, *tests;
    apr_array_header_t *keys = NULL;
    aj_keyset_t *ks;
    const char *err;
    counts_t c;
    apr_size_t i, j;
    int k;

    counts_init(&c, p);
    assert_true(json_object_object_get_ex(doc, "testGroups", &groups));
    for (i = 0; i < json_object_array_length(groups); ++i) {
        g = json_object_array_get_idx(groups, i);
        err = NULL;
        ks = NULL;
        if (aj_jwk_to_keys(&keys, &err, p, group_key(g), 1) == APR_SUCCESS) {
            ks = aj_keyset_make(p);
            for (k = 0; k < keys->nelts; ++k) {
                aj_keyset_add(ks, APR_ARRAY_IDX(keys, k, aj_key_t *));
            }
        }
        assert_true(json_object_object_get_ex(g, "tests", &tests));
        for (j = 0; j < json_object_array_length(tests); ++j) {
            run_vector(&c, p, json_object_array_get_idx(tests, j), ks, err,
                       member(group_key(g), "alg"));
        }
    }
    json_object_put(doc);
    report(&c, p, T_JWS_FILE);
}

static void test_json_web_key(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    json_object *doc = load_vectors(T_JWK_FILE), *groups, *g, *tests;
    apr_array_header_t *notes = NULL;
    aj_keyset_t *ks;
    const char *err, *text;
    counts_t c;
    apr_size_t i, j;

    counts_init(&c, p);
    assert_true(json_object_object_get_ex(doc, "testGroups", &groups));
    for (i = 0; i < json_object_array_length(groups); ++i) {
        g = json_object_array_get_idx(groups, i);
        err = NULL;
        ks = NULL;
        notes = NULL;
        /* the document path of a trusted issuer's set (aj_issuer_keyset,
         * as a file: set reads it: HMAC secrets allowed); a set without a
         * usable key is refused there (docs/reference.md §11: a failed
         * fetch) */
        text = json_object_to_json_string_ext(group_key(g), JSON_C_TO_STRING_PLAIN);
        if (aj_issuer_keyset(&ks, &notes, &err, p, text, strlen(text), 1) != APR_SUCCESS && notes
            && notes->nelts) {
            err = APR_ARRAY_IDX(notes, 0, const char *);
        }
        assert_true(json_object_object_get_ex(g, "tests", &tests));
        for (j = 0; j < json_object_array_length(tests); ++j) {
            run_vector(&c, p, json_object_array_get_idx(tests, j), ks, err, NULL);
        }
    }
    json_object_put(doc);
    report(&c, p, T_JWK_FILE);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_json_web_signature),
    AJ_TEST(test_json_web_key),
};

AJ_TEST_MAIN("aj_wycheproof", tests)

/*
 * test_digest.c — SHA-256 with the algorithm fetched once (aj_digest.c):
 * known answers, the two-part input, per-thread contexts, and the store id
 * made from a driver name and its parameters.
 *
 * Every expected value was computed independently with Python's hashlib
 * (python3 3.11), never with the code under test:
 *     hashlib.sha256(data).hexdigest()
 * and for a store id, the first 16 bytes of
 *     hashlib.sha256(driver.encode() + b"\0" + params.encode()).hexdigest()[:32]
 */
#include "aj_test.h"
#include "aj_digest.h"

#include <apr_thread_proc.h>

#define SHA256_HEX_LEN (2 * AJ_SHA256_LEN)

/* FIPS 180-2 appendix B: SHA-256 of "abc" and of the 448-bit message. */
#define HEX_EMPTY     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX_ABC       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MSG_448       "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define HEX_448       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
/* FIPS 180-2 appendix B.3: one million 'a'. */
#define MILLION       1000000
#define HEX_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static const char *hex(apr_pool_t *p, const unsigned char *b, apr_size_t n)
{
    char *s = apr_palloc(p, 2 * n + 1);
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        apr_snprintf(s + 2 * i, 3, "%02x", b[i]);
    }
    s[2 * n] = '\0';
    return s;
}

static const char *sha256_hex(apr_pool_t *p, const void *a, apr_size_t alen, const void *b,
                              apr_size_t blen)
{
    unsigned char md[AJ_SHA256_LEN];

    assert_int_equal(aj_sha256(md, a, alen, b, blen), APR_SUCCESS);
    return hex(p, md, sizeof(md));
}

static const char *store_id_hex(apr_pool_t *p, const char *driver, const char *params)
{
    aj_store_id_t id;

    assert_int_equal(aj_store_id_make(&id, driver, params), APR_SUCCESS);
    return hex(p, id.b, sizeof(id.b));
}

/* ---- aj_sha256 -------------------------------------------------------------- */

/* The hash of a || b, wherever the two parts are split. */
static void test_sha256_vectors(void **state)
{
    static const struct {
        const char *a, *b; /* b NULL: one part */
        const char *want;
    } cases[] = {
        { "", NULL, HEX_EMPTY },
        { "", "", HEX_EMPTY },
        { "abc", NULL, HEX_ABC },
        { "ab", "c", HEX_ABC },
        { "", "abc", HEX_ABC },
        { "abc", "", HEX_ABC },
        { MSG_448, NULL, HEX_448 },
        { "abcdbcdecdefdefgefghfghighijhijk", "ijkljklmklmnlmnomnopnopq", HEX_448 },
    };
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); ++i) {
        const char *got = sha256_hex(p, cases[i].a, strlen(cases[i].a), cases[i].b,
                                     cases[i].b ? strlen(cases[i].b) : 0);
        if (strcmp(got, cases[i].want)) {
            fail_msg("case %d: [%s|%s] gave %s, want %s", (int)i, cases[i].a,
                     cases[i].b ? cases[i].b : "(null)", got, cases[i].want);
        }
    }
}

/* Lengths, not NULs, delimit the input: binary data hashes whole. */
static void test_sha256_binary(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    /* hashlib.sha256(b"\0\0") */
    assert_string_equal(sha256_hex(p, "\0\0", 2, NULL, 0),
                        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
    assert_string_equal(sha256_hex(p, "\0", 1, "\0", 1),
                        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
    /* hashlib.sha256(b"a\0bc"): the store id's input for ("a", "bc") */
    assert_string_equal(sha256_hex(p, "a", 2, "bc", 2),
                        "40bb547d936bbd31318ee37ac8799e7ecbb22eda2651f65e3214bffb8ce97bb4");
    /* only alen bytes of a are read */
    assert_string_equal(sha256_hex(p, "abcdef", 3, NULL, 0), HEX_ABC);
}

/* A long input, in one part and split across the two. */
static void test_sha256_million(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    char *a = apr_palloc(p, MILLION);

    memset(a, 'a', MILLION);
    assert_string_equal(sha256_hex(p, a, MILLION, NULL, 0), HEX_MILLION_A);
    assert_string_equal(sha256_hex(p, a, MILLION - 1, a, 1), HEX_MILLION_A);
    assert_string_equal(sha256_hex(p, a, 1, a, MILLION - 1), HEX_MILLION_A);
}

/* Misuse that must not crash or read: NULL with length 0 is the empty
 * input; a NULL second part is not read whatever its length. */
static void test_sha256_null_parts(void **state)
{
    apr_pool_t *p = AJ_POOL(state);

    assert_string_equal(sha256_hex(p, NULL, 0, NULL, 0), HEX_EMPTY);
    assert_string_equal(sha256_hex(p, NULL, 0, "abc", 3), HEX_ABC);
    assert_string_equal(sha256_hex(p, "abc", 3, NULL, 12345), HEX_ABC);
}

/* Each thread reuses its own context: threads hashing at once get the
 * right answers (a shared context would mix their inputs). */
#define DIGEST_THREADS 4
#define DIGEST_ROUNDS  2000

typedef struct {
    const char *msg, *want;
    int wrong;
} digest_job_t;

static void *APR_THREAD_FUNC digest_thread(apr_thread_t *t, void *data)
{
    digest_job_t *job = data;
    unsigned char md[AJ_SHA256_LEN];
    char got[SHA256_HEX_LEN + 1];
    int i, k;

    for (i = 0; i < DIGEST_ROUNDS; ++i) {
        if (aj_sha256(md, job->msg, strlen(job->msg), NULL, 0) != APR_SUCCESS) {
            ++job->wrong;
            continue;
        }
        for (k = 0; k < AJ_SHA256_LEN; ++k) {
            apr_snprintf(got + 2 * k, 3, "%02x", md[k]);
        }
        job->wrong += strcmp(got, job->want) != 0;
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void test_sha256_threads(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_thread_t *th[DIGEST_THREADS];
    digest_job_t jobs[DIGEST_THREADS];
    apr_status_t trv;
    int i;

    for (i = 0; i < DIGEST_THREADS; ++i) {
        jobs[i].msg = (i % 2) ? "abc" : MSG_448;
        jobs[i].want = (i % 2) ? HEX_ABC : HEX_448;
        jobs[i].wrong = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, digest_thread, &jobs[i], p), APR_SUCCESS);
    }
    for (i = 0; i < DIGEST_THREADS; ++i) {
        assert_int_equal(apr_thread_join(&trv, th[i]), APR_SUCCESS);
    }
    for (i = 0; i < DIGEST_THREADS; ++i) {
        assert_int_equal(jobs[i].wrong, 0);
    }
}

/* ---- aj_store_id_make --------------------------------------------------------- */

static void test_store_id_vectors(void **state)
{
    static const struct {
        const char *store[2]; /* driver, params */
        const char *want;
    } cases[] = {
        { { "sqlite3", "/var/lib/auth/users.db" }, "b7b006a69c084e24f5eb4b14e07aa569" },
        { { "pgsql", "host=db password=x" }, "3b6d4e56b33091dc5ffaf32f5814a469" },
        { { "", "" }, "6e340b9cffb37a989ca544e6bb780a2c" },
        { { "", "x" }, "3c7e9bc930dc93f01fa69985ef242d9f" },
        { { "x", "" }, "14f825b2bbc32dd8d196367fa8776873" },
        /* the driver/params boundary counts: "a"+"bc" and "ab"+"c" differ */
        { { "a", "bc" }, "40bb547d936bbd31318ee37ac8799e7e" },
        { { "ab", "c" }, "6c032e631d39a14d85aff7e319546af7" },
    };
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t i;

    assert_int_equal(sizeof(((aj_store_id_t *)NULL)->b), AJ_STORE_ID_LEN);
    for (i = 0; i < sizeof(cases) / sizeof(*cases); ++i) {
        const char *got = store_id_hex(p, cases[i].store[0], cases[i].store[1]);
        if (strcmp(got, cases[i].want)) {
            fail_msg("[%s][%s] gave %s, want %s", cases[i].store[0], cases[i].store[1], got,
                     cases[i].want);
        }
    }
}

/* The id is the first AJ_STORE_ID_LEN bytes of SHA-256(driver NUL params),
 * and "no store configured" (NULL) is the same id as the empty strings. */
static void test_store_id_definition(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    unsigned char md[AJ_SHA256_LEN];
    aj_store_id_t id;

    assert_int_equal(aj_store_id_make(&id, "pgsql", "dbname=auth"), APR_SUCCESS);
    assert_int_equal(aj_sha256(md, "pgsql", sizeof("pgsql"), "dbname=auth", strlen("dbname=auth")),
                     APR_SUCCESS);
    assert_memory_equal(id.b, md, AJ_STORE_ID_LEN);

    assert_string_equal(store_id_hex(p, NULL, NULL), store_id_hex(p, "", ""));
    assert_string_equal(store_id_hex(p, NULL, "x"), store_id_hex(p, "", "x"));
    assert_string_equal(store_id_hex(p, "x", NULL), store_id_hex(p, "x", ""));
}

/* Different stores, different ids: each change of either part, and the
 * parts swapped. */
static void test_store_id_distinct(void **state)
{
    static const char *const pairs[][2] = {
        { "sqlite3", "/a.db" }, { "sqlite3", "/b.db" },  { "pgsql", "/a.db" },
        { "/a.db", "sqlite3" }, { "sqlite3", "/a.db " }, { "sqlite3", "" },
        { "", "sqlite3/a.db" }, { "sqlite3/a.db", "" },
    };
    enum { N = sizeof(pairs) / sizeof(*pairs) };
    apr_pool_t *p = AJ_POOL(state);
    const char *ids[N];
    int i, j;

    for (i = 0; i < N; ++i) {
        ids[i] = store_id_hex(p, pairs[i][0], pairs[i][1]);
        for (j = 0; j < i; ++j) {
            if (!strcmp(ids[i], ids[j])) {
                fail_msg("[%s][%s] and [%s][%s] share an id", pairs[i][0], pairs[i][1], pairs[j][0],
                         pairs[j][1]);
            }
        }
    }
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_sha256_vectors),      AJ_TEST(test_sha256_binary),
    AJ_TEST(test_sha256_million),      AJ_TEST(test_sha256_null_parts),
    AJ_TEST(test_sha256_threads),      AJ_TEST(test_store_id_vectors),
    AJ_TEST(test_store_id_definition), AJ_TEST(test_store_id_distinct),
};

AJ_TEST_MAIN("aj_digest", tests)

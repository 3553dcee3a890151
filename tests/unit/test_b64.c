/*
 * test_b64.c — strict base64url (RFC 4648 §5 vectors, refusals, canonical
 * trailing bits).
 */
#include "aj_test.h"
#include "aj_b64.h"

#define T_ROUNDTRIP_MAX 70

typedef struct {
    const char *raw;
    apr_size_t rawlen;
    const char *enc;
} b64_vector;

/* RFC 4648 §10, unpadded, plus the two characters that differ from base64. */
static const b64_vector vectors[] = {
    { "", 0, "" },
    { "f", 1, "Zg" },
    { "fo", 2, "Zm8" },
    { "foo", 3, "Zm9v" },
    { "foob", 4, "Zm9vYg" },
    { "fooba", 5, "Zm9vYmE" },
    { "foobar", 6, "Zm9vYmFy" },
    { "\xfb\xff", 2, "-_8" },
    { "\xfb\xef\xbe", 3, "----" },
    { "\xff\xff\xff", 3, "____" },
};

static void test_vectors(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t i, n;
    unsigned char *out;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
        const b64_vector *v = &vectors[i];
        assert_string_equal(aj_b64url_encode(p, (const unsigned char *)v->raw, v->rawlen), v->enc);
        out = NULL;
        n = 99;
        assert_int_equal(aj_b64url_decode(&out, &n, p, v->enc, strlen(v->enc)), APR_SUCCESS);
        assert_int_equal(n, v->rawlen);
        assert_memory_equal(out, v->raw, v->rawlen);
        assert_int_equal(out[n], '\0');
        assert_true(aj_b64url_valid(v->enc, strlen(v->enc)));
    }
}

static void test_decoded_len(void **state)
{
    assert_int_equal(aj_b64url_decoded_len(0), 0);
    assert_int_equal(aj_b64url_decoded_len(1), -1);
    assert_int_equal(aj_b64url_decoded_len(2), 1);
    assert_int_equal(aj_b64url_decoded_len(3), 2);
    assert_int_equal(aj_b64url_decoded_len(4), 3);
    assert_int_equal(aj_b64url_decoded_len(5), -1);
    assert_int_equal(aj_b64url_decoded_len(43), 32);
    assert_int_equal(aj_b64url_decoded_len(86), 64);
}

static void test_roundtrip_all_lengths(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    unsigned char raw[T_ROUNDTRIP_MAX], *out;
    apr_size_t len, i, n;

    for (i = 0; i < sizeof(raw); ++i) {
        raw[i] = (unsigned char)(i * 37 + 11);
    }
    for (len = 0; len <= sizeof(raw); ++len) {
        const char *enc = aj_b64url_encode(p, raw, len);
        assert_int_equal((apr_ssize_t)len, aj_b64url_decoded_len(strlen(enc)));
        assert_null(strchr(enc, '='));
        assert_int_equal(aj_b64url_decode(&out, &n, p, enc, strlen(enc)), APR_SUCCESS);
        assert_int_equal(n, len);
        assert_memory_equal(out, raw, len);
    }
}

/* Each of these must be refused by every entry point. */
static const char *const refused[] = {
    "Zg==",                                /* padding */
    "Zm8=",       "Zm9v=",    "Zm9v YmFy", /* whitespace */
    "Zm9vYmFy\n", "\tZm9v",   "Zm9v+mFy",  /* base64, not base64url */
    "Zm9v/mFy",   "Zm9v*mFy",              /* outside any alphabet */
    "Zm9vY",                               /* length 4n+1 */
    "Z",          "Zh",                    /* non-canonical: "Zg" with unused bits set */
    "Zm9",                                 /* non-canonical: "Zm8" */
    "Zm9vYh",     "Zm9vYmF",               /* "Zm9vYmE" with a stray low bit */
};

static void test_refusals(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    unsigned char buf[16], *out = NULL;
    apr_size_t i, n = 12345;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        const char *s = refused[i];
        assert_false(aj_b64url_valid(s, strlen(s)));
        assert_int_equal(aj_b64url_decode(&out, &n, p, s, strlen(s)), APR_EINVAL);
        assert_int_equal(aj_b64url_decode_buf(buf, sizeof(buf), &n, s, strlen(s)), APR_EINVAL);
        assert_null(out);
        assert_int_equal(n, 12345); /* out-parameters untouched */
    }
}

static void test_bytes_outside_alphabet(void **state)
{
    unsigned char buf[8];
    char s[5] = "AAAA";
    apr_size_t n;
    int c;

    for (c = 0; c < 256; ++c) {
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                 || c == '-' || c == '_';
        s[1] = (char)c;
        assert_int_equal(aj_b64url_valid(s, 4), ok);
        assert_int_equal(aj_b64url_decode_buf(buf, sizeof(buf), &n, s, 4),
                         ok ? APR_SUCCESS : APR_EINVAL);
    }
    /* An embedded NUL counts as a byte of the input. */
    assert_false(aj_b64url_valid("AA\0A", 4));
}

/* Tries each of the 64 characters as the last of a len-character tail
 * "AA..x": every one that decodes must have its unused low bits (mask)
 * zero.  Returns how many decode. */
static int canonical_tails(apr_size_t len, int mask)
{
    unsigned char buf[4];
    apr_size_t n;
    char s[4] = "AAA";
    int v, canonical = 0;

    for (v = 0; v < 64; ++v) {
        s[len - 1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[v];
        if (aj_b64url_decode_buf(buf, sizeof(buf), &n, s, len) == APR_SUCCESS) {
            assert_int_equal(v & mask, 0);
            ++canonical;
        }
    }
    return canonical;
}

static void test_canonical_tails(void **state)
{
    /* Of the 64 characters after "A" only the 4 with zero low bits are
     * canonical in a 2-character tail (one byte). */
    assert_int_equal(canonical_tails(2, 0x0F), 4);
    /* ... and 16 in a 3-character tail (two bytes). */
    assert_int_equal(canonical_tails(3, 0x03), 16);
}

static void test_decode_buf_capacity(void **state)
{
    unsigned char buf[6];
    apr_size_t n = 77;

    assert_int_equal(aj_b64url_decode_buf(buf, 5, &n, "Zm9vYmFy", 8), APR_ENOSPC);
    assert_int_equal(n, 77);
    assert_int_equal(aj_b64url_decode_buf(buf, 6, &n, "Zm9vYmFy", 8), APR_SUCCESS);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "foobar", 6);
    assert_int_equal(aj_b64url_decode_buf(NULL, 0, &n, "", 0), APR_SUCCESS);
    assert_int_equal(n, 0);
}

/* Every byte value: in the alphabet it decodes to its index there (so the
 * decoding table is the exact inverse of the encoder), outside it the
 * input is refused by both aj_b64url_valid and the decoder. */
static void test_every_byte(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    apr_pool_t *p = AJ_POOL(state);
    unsigned char out[3], *dec = NULL;
    apr_size_t n = 0;
    char in[5] = { 'A', 'A', 'A', 0, 0 };
    int c;

    for (c = 0; c < 256; ++c) {
        const char *at = c ? memchr(alphabet, c, 64) : NULL;
        in[3] = (char)c;
        if (at) {
            assert_true(aj_b64url_valid(in, 4));
            assert_int_equal(aj_b64url_decode_buf(out, sizeof(out), &n, in, 4), APR_SUCCESS);
            assert_int_equal(n, 3);
            assert_int_equal(out[2], (unsigned char)(at - alphabet));
            assert_string_equal(aj_b64url_encode(p, out, 3), in);
        }
        else {
            assert_false(aj_b64url_valid(in, 4));
            assert_int_equal(aj_b64url_decode_buf(out, sizeof(out), &n, in, 4), APR_EINVAL);
            assert_int_equal(aj_b64url_decode(&dec, &n, p, in, 4), APR_EINVAL);
        }
    }
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_vectors),
    AJ_TEST(test_decoded_len),
    AJ_TEST(test_roundtrip_all_lengths),
    AJ_TEST(test_refusals),
    AJ_TEST(test_bytes_outside_alphabet),
    AJ_TEST(test_canonical_tails),
    AJ_TEST(test_decode_buf_capacity),
    AJ_TEST(test_every_byte),
};

AJ_TEST_MAIN("aj_b64", tests)

/*
 * test_utf8.c — well-formed UTF-8 (Unicode 15 table 3-7): sequence lengths,
 * every refusal (overlong forms, surrogates, past U+10FFFF, stray and
 * missing continuation bytes, sequences cut short), decoding, encoding,
 * character counts.
 */
#include "aj_test.h"
#include "aj_utf8.h"

#define U(s) ((const unsigned char *)(s))

static void test_seq_len_valid(void **state)
{
    /* the first and last code point of every row of table 3-7 */
    static const struct {
        const char *s;
        apr_size_t len;
        apr_uint32_t cp;
    } ok[] = {
        { "\x00", 1, 0x00 },
        { "\x7f", 1, 0x7F },
        { "\xc2\x80", 2, 0x80 },
        { "\xdf\xbf", 2, 0x7FF },
        { "\xe0\xa0\x80", 3, 0x800 },
        { "\xe1\x80\x80", 3, 0x1000 },
        { "\xec\xbf\xbf", 3, 0xCFFF },
        { "\xed\x80\x80", 3, 0xD000 },
        { "\xed\x9f\xbf", 3, 0xD7FF },
        { "\xee\x80\x80", 3, 0xE000 },
        { "\xef\xbf\xbf", 3, 0xFFFF },
        { "\xf0\x90\x80\x80", 4, 0x10000 },
        { "\xf1\x80\x80\x80", 4, 0x40000 },
        { "\xf3\xbf\xbf\xbf", 4, 0xFFFFF },
        { "\xf4\x80\x80\x80", 4, 0x100000 },
        { "\xf4\x8f\xbf\xbf", 4, 0x10FFFF },
    };
    unsigned char out[AJ_UTF8_MAX_SEQ];
    apr_uint32_t cp;
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) {
        cp = 0xFFFFFFFF;
        assert_int_equal(aj_utf8_seq_len(U(ok[i].s), ok[i].len), ok[i].len);
        assert_int_equal(aj_utf8_decode(&cp, U(ok[i].s), ok[i].len), ok[i].len);
        assert_int_equal(cp, ok[i].cp);
        assert_int_equal(aj_utf8_encode(out, ok[i].cp), ok[i].len);
        assert_memory_equal(out, ok[i].s, ok[i].len);
    }
    /* bytes after the sequence do not change its length */
    assert_int_equal(aj_utf8_seq_len(U("Azzz"), 4), 1);
    assert_int_equal(aj_utf8_seq_len(U("\xc3\xa4zz"), 4), 2);
}

static void test_seq_len_refused(void **state)
{
    static const struct {
        const char *s;
        apr_size_t n;
    } bad[] = {
        /* overlong forms */
        { "\xc0\x80", 2 },
        { "\xc1\xbf", 2 },
        { "\xe0\x80\x80", 3 },
        { "\xe0\x9f\xbf", 3 },
        { "\xf0\x80\x80\x80", 4 },
        { "\xf0\x8f\xbf\xbf", 4 },
        /* surrogates U+D800..U+DFFF */
        { "\xed\xa0\x80", 3 },
        { "\xed\xaf\xbf", 3 },
        { "\xed\xb0\x80", 3 },
        { "\xed\xbf\xbf", 3 },
        /* past U+10FFFF, and lead bytes no sequence has */
        { "\xf4\x90\x80\x80", 4 },
        { "\xf5\x80\x80\x80", 4 },
        { "\xf7\xbf\xbf\xbf", 4 },
        { "\xf8\x88\x80\x80", 4 },
        { "\xfe", 1 },
        { "\xff", 1 },
        /* a stray continuation byte; a lead byte followed by something else */
        { "\x80", 1 },
        { "\xbf", 1 },
        { "\xc2\x41", 2 },
        { "\xe1\x80\x41", 3 },
        { "\xf1\x80\x80\xc0", 4 },
        { "\xc2\xc2", 2 },
        /* cut short: n ends the input before the sequence does */
        { "\xc2\x80", 1 },
        { "\xe1\x80\x80", 2 },
        { "\xf1\x80\x80\x80", 3 },
        { "\xf1\x80\x80\x80", 1 },
    };
    apr_uint32_t cp = 7;
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        assert_int_equal(aj_utf8_seq_len(U(bad[i].s), bad[i].n), 0);
        assert_int_equal(aj_utf8_decode(&cp, U(bad[i].s), bad[i].n), 0);
        assert_int_equal(cp, 7); /* untouched on refusal */
    }
}

/* Every code point survives encode + decode, and everything encode makes
 * is well-formed. */
static void test_round_trip(void **state)
{
    unsigned char out[AJ_UTF8_MAX_SEQ];
    apr_uint32_t cp, back;
    apr_size_t n;

    (void)state;
    for (cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            continue;
        }
        n = aj_utf8_encode(out, cp);
        back = 0xFFFFFFFF;
        assert_int_equal(aj_utf8_decode(&back, out, n), n);
        assert_int_equal(back, cp);
    }
}

static void test_chars(void **state)
{
    (void)state;
    assert_int_equal(aj_utf8_chars(""), 0);
    assert_int_equal(aj_utf8_chars("password"), 8);
    assert_int_equal(aj_utf8_chars("p\xc3\xa4ss"), 4);                  /* ä: 2 bytes */
    assert_int_equal(aj_utf8_chars("\xe2\x82\xac\xf0\x9f\x94\x91"), 2); /* € and a key */
    /* not UTF-8: lead bytes count, stray continuation bytes do not */
    assert_int_equal(aj_utf8_chars("\x80\x80\x80"), 0);
    assert_int_equal(aj_utf8_chars("\xff\xfe"), 2);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_seq_len_valid),
    AJ_TEST(test_seq_len_refused),
    AJ_TEST(test_round_trip),
    AJ_TEST(test_chars),
};

AJ_TEST_MAIN("aj_utf8", tests)

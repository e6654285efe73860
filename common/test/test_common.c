/* The shared pieces of the DFU path: SLIP framing, CRC-32 and SHA-256,
 * against the published test vectors (FIPS 180-4 examples; the CRC-32
 * "check" value of the CRC catalogue) and the framing rules of RFC 1055. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32.h"
#include "hilda/dfu.h"
#include "sha256.h"
#include "slip.h"

static void assert_digest(const char *msg, size_t len, const char *hex)
{
    uint8_t d[SHA256_DIGEST_SIZE];
    char got[2 * SHA256_DIGEST_SIZE + 1];
    sha256(msg, len, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(got + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(got, hex);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    assert_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_digest(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_in_pieces(void **state)
{
    (void)state;
    /* one million 'a', fed in odd-sized pieces across block boundaries */
    static char a[1000];
    memset(a, 'a', sizeof a);
    struct sha256 s;
    sha256_init(&s);
    for (int i = 0; i < 1000; i++) {
        sha256_update(&s, a, 333);
        sha256_update(&s, a, 667);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_final(&s, d);
    static const uint8_t want[32] = { 0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
                                      0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
                                      0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0 };
    assert_memory_equal(d, want, 32);
}

static void test_crc32(void **state)
{
    (void)state;
    const uint8_t check[] = "123456789";
    assert_int_equal(crc32_update(0, check, 9), 0xCBF43926u);
    assert_int_equal(crc32_update(0, check, 0), 0);
    /* a stream in pieces gives the CRC of the whole (what CRC_GET reports after each object) */
    uint32_t c = crc32_update(0, check, 4);
    assert_int_equal(crc32_update(c, check + 4, 5), 0xCBF43926u);
}

static void test_slip_encode(void **state)
{
    (void)state;
    const uint8_t in[] = { 0x01, SLIP_END, 0x02, SLIP_ESC, 0x03 };
    uint8_t out[16];
    const uint8_t want[] = { 0x01, SLIP_ESC, SLIP_ESC_END, 0x02, SLIP_ESC, SLIP_ESC_ESC, 0x03, SLIP_END };
    assert_int_equal(slip_encode(in, sizeof in, out, sizeof out), sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* too small: nothing, never a truncated frame */
    assert_int_equal(slip_encode(in, sizeof in, out, sizeof want - 1), 0);
    /* empty packet: END alone */
    assert_int_equal(slip_encode(in, 0, out, 1), 1);
    assert_int_equal(out[0], SLIP_END);
}

static enum slip_event feed_all(struct slip_decoder *d, const uint8_t *p, size_t n)
{
    enum slip_event ev = SLIP_MORE;
    for (size_t i = 0; i < n && ev == SLIP_MORE; i++)
        ev = slip_decoder_feed(d, p[i]);
    return ev;
}

static void test_slip_round_trip(void **state)
{
    (void)state;
    uint8_t in[300], wire[601], buf[300];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 37);
    size_t n = slip_encode(in, sizeof in, wire, sizeof wire);
    assert_true(n > sizeof in);
    struct slip_decoder d;
    slip_decoder_init(&d, buf, sizeof buf);
    assert_int_equal(feed_all(&d, wire, n), SLIP_PACKET);
    assert_int_equal(d.len, sizeof in);
    assert_memory_equal(buf, in, sizeof in);
}

static void test_slip_decoder_errors(void **state)
{
    (void)state;
    uint8_t buf[4];
    struct slip_decoder d;
    slip_decoder_init(&d, buf, sizeof buf);
    /* a lone END (line flush) is not a packet */
    assert_int_equal(slip_decoder_feed(&d, SLIP_END), SLIP_MORE);
    /* too long for the buffer: dropped at its END, and the next one is fine */
    const uint8_t longer[] = { 1, 2, 3, 4, 5, SLIP_END };
    assert_int_equal(feed_all(&d, longer, sizeof longer), SLIP_DROPPED);
    slip_decoder_next(&d);
    const uint8_t ok[] = { 9, SLIP_END };
    assert_int_equal(feed_all(&d, ok, sizeof ok), SLIP_PACKET);
    assert_int_equal(d.len, 1);
    slip_decoder_next(&d);
    /* ESC followed by an ordinary byte is a framing error */
    const uint8_t bad[] = { SLIP_ESC, 0x41, SLIP_END };
    assert_int_equal(feed_all(&d, bad, sizeof bad), SLIP_DROPPED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),  cmocka_unit_test(test_sha256_in_pieces),
        cmocka_unit_test(test_crc32),           cmocka_unit_test(test_slip_encode),
        cmocka_unit_test(test_slip_round_trip), cmocka_unit_test(test_slip_decoder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

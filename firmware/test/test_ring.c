/* Unit tests of the SPSC byte ring (firmware/src/ring.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define SIZE 16u

static uint8_t storage[SIZE];
static struct ring r;

static int setup(void **state)
{
    (void)state;
    memset(storage, 0xEE, sizeof storage);
    return ring_init(&r, storage, SIZE);
}

static void fill(uint8_t *p, uint32_t n, uint8_t first)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

static void test_power_of_two_only(void **state)
{
    (void)state;
    struct ring x;
    static uint8_t buf[64];
    assert_int_equal(ring_init(&x, buf, 0), -1);
    assert_int_equal(ring_init(&x, buf, 3), -1);
    assert_int_equal(ring_init(&x, buf, 12), -1);
    assert_int_equal(ring_init(&x, buf, 63), -1);
    assert_int_equal(ring_init(&x, buf, 1), 0);
    assert_int_equal(ring_init(&x, buf, 2), 0);
    assert_int_equal(ring_init(&x, buf, 64), 0);
    assert_int_equal(ring_used(&x), 0);
    assert_int_equal(ring_free(&x), 64);
}

static void test_empty_and_full(void **state)
{
    (void)state;
    uint8_t in[SIZE], out[SIZE];
    const uint8_t *span;
    fill(in, SIZE, 1);

    assert_int_equal(ring_used(&r), 0);
    assert_int_equal(ring_free(&r), SIZE);
    assert_int_equal(ring_read(&r, out, sizeof out), 0);
    assert_int_equal(ring_read_span(&r, &span), 0);

    assert_int_equal(ring_write(&r, in, SIZE), SIZE);
    assert_int_equal(ring_used(&r), SIZE);
    assert_int_equal(ring_free(&r), 0);
    assert_int_equal(ring_write(&r, in, 1), 0);     /* full: nothing fits */

    assert_int_equal(ring_read(&r, out, SIZE), SIZE);
    assert_memory_equal(out, in, SIZE);
    assert_int_equal(ring_used(&r), 0);
}

static void test_write_takes_what_fits(void **state)
{
    (void)state;
    uint8_t in[SIZE + 8], out[SIZE + 8];
    fill(in, sizeof in, 0x40);

    assert_int_equal(ring_write(&r, in, 10), 10);
    assert_int_equal(ring_write(&r, in + 10, 10), SIZE - 10);  /* the first 6 of 10 */
    assert_int_equal(ring_free(&r), 0);
    assert_int_equal(ring_read(&r, out, sizeof out), SIZE);    /* read takes what is there */
    assert_memory_equal(out, in, SIZE);
    assert_int_equal(ring_write(&r, in, 0), 0);
    assert_int_equal(ring_read(&r, out, 0), 0);
}

static void test_wrap_around(void **state)
{
    (void)state;
    uint8_t in[SIZE], out[SIZE];

    /* move head and tail to 12, then write 10: 4 at the end, 6 at the start */
    fill(in, 12, 0);
    assert_int_equal(ring_write(&r, in, 12), 12);
    assert_int_equal(ring_read(&r, out, 12), 12);

    fill(in, 10, 0xA0);
    assert_int_equal(ring_write(&r, in, 10), 10);
    assert_memory_equal(storage + 12, in, 4);
    assert_memory_equal(storage, in + 4, 6);
    assert_int_equal(ring_used(&r), 10);

    memset(out, 0, sizeof out);
    assert_int_equal(ring_read(&r, out, 3), 3);
    assert_int_equal(ring_read(&r, out + 3, 7), 7);
    assert_memory_equal(out, in, 10);
}

static void test_span_at_the_wrap(void **state)
{
    (void)state;
    uint8_t in[SIZE], out[SIZE];
    const uint8_t *span;

    fill(in, 13, 0);
    ring_write(&r, in, 13);
    ring_read(&r, out, 13);                 /* tail = 13 */
    fill(in, 9, 0x30);
    ring_write(&r, in, 9);                  /* 3 before the wrap, 6 after */

    assert_int_equal(ring_read_span(&r, &span), 3);
    assert_ptr_equal(span, storage + 13);
    assert_memory_equal(span, in, 3);
    ring_consume(&r, 3);

    assert_int_equal(ring_read_span(&r, &span), 6);
    assert_ptr_equal(span, storage);
    assert_memory_equal(span, in + 3, 6);

    /* a partial consume leaves the rest of the span readable */
    ring_consume(&r, 2);
    assert_int_equal(ring_read_span(&r, &span), 4);
    assert_ptr_equal(span, storage + 2);
    ring_consume(&r, 4);
    assert_int_equal(ring_read_span(&r, &span), 0);
    assert_int_equal(ring_used(&r), 0);
}

static void test_span_excludes_free_space(void **state)
{
    (void)state;
    uint8_t in[SIZE];
    const uint8_t *span;
    fill(in, SIZE, 0);
    ring_write(&r, in, 5);
    assert_int_equal(ring_read_span(&r, &span), 5);
    /* what the writer fills next starts right after the span: never inside */
    ring_write(&r, in, 4);
    assert_ptr_equal(storage + 5, span + 5);
    assert_int_equal(ring_read_span(&r, &span), 9);
}

static void test_consume_clamps(void **state)
{
    (void)state;
    uint8_t in[4] = { 1, 2, 3, 4 };
    ring_write(&r, in, 4);
    ring_consume(&r, 100);
    assert_int_equal(ring_used(&r), 0);
    assert_int_equal(ring_free(&r), SIZE);
    /* after an over-consume the ring still works */
    assert_int_equal(ring_write(&r, in, 4), 4);
    assert_int_equal(ring_used(&r), 4);
}

static void test_clear(void **state)
{
    (void)state;
    uint8_t in[8] = { 0 }, out[8];
    ring_write(&r, in, 8);
    ring_clear(&r);
    assert_int_equal(ring_used(&r), 0);
    assert_int_equal(ring_read(&r, out, 8), 0);
    assert_int_equal(ring_free(&r), SIZE);
}

/* head and tail are free-running: crossing 2^32 must change nothing */
static void test_counter_wrap(void **state)
{
    (void)state;
    uint8_t in[SIZE], out[SIZE];
    r.head = r.tail = 0xFFFFFFF8u;          /* index 8 of 16 */
    fill(in, 12, 0x70);
    assert_int_equal(ring_write(&r, in, 12), 12);
    assert_int_equal(ring_used(&r), 12);
    assert_int_equal(ring_free(&r), SIZE - 12);
    assert_true(r.head < r.tail);           /* head crossed zero */
    assert_int_equal(ring_read(&r, out, SIZE), 12);
    assert_memory_equal(out, in, 12);
    assert_int_equal(ring_used(&r), 0);
}

/* a long stream in odd-sized pieces comes out whole and in order */
static void test_stream(void **state)
{
    (void)state;
    uint8_t in[7], out[11];
    uint32_t written = 0, read = 0;
    while (read < 5000) {
        for (uint32_t i = 0; i < sizeof in; i++)
            in[i] = (uint8_t)(written + i);
        written += ring_write(&r, in, sizeof in);
        uint32_t n = ring_read(&r, out, (read % 3) + 5);
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(out[i], (uint8_t)(read + i));
        read += n;
        assert_true(written - read <= SIZE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_of_two_only),
        cmocka_unit_test_setup(test_empty_and_full, setup),
        cmocka_unit_test_setup(test_write_takes_what_fits, setup),
        cmocka_unit_test_setup(test_wrap_around, setup),
        cmocka_unit_test_setup(test_span_at_the_wrap, setup),
        cmocka_unit_test_setup(test_span_excludes_free_space, setup),
        cmocka_unit_test_setup(test_consume_clamps, setup),
        cmocka_unit_test_setup(test_clear, setup),
        cmocka_unit_test_setup(test_counter_wrap, setup),
        cmocka_unit_test_setup(test_stream, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

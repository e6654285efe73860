/* The CRYPTOCELL (CC310) model through its registers, as nRF5 SDK 17.1's
 * open boot loader uses them on the emulator (docs/sources.md): enable at
 * 0x5002A500, the CC310 at 0x5002B000, IDs,
 * IRR/IMR/ICR with bit 6 and IRQ 42, the busy flags, HASH_CONTROL SHA-256,
 * H0..H7, HASH_CUR_LEN saved and restored per chunk, AUTO_HW_PADDING before
 * the last chunk, DO_PAD, and the DIN DMA (address, length) as an EasyDMA
 * transfer. Digests are checked against FIPS 180-4's "abc" vector and
 * against common/sha256.c. */
#include "harness.h"
#include "sha256.h"

#define ENABLE          0x5002A500u
#define CC              0x5002B000u
#define HASH_H(n)       (CC + 0x640u + 4u * (n))
#define AUTO_HW_PADDING (CC + 0x684u)
#define HASH_CONTROL    (CC + 0x7C0u)
#define HASH_PAD_EN     (CC + 0x7C4u)
#define HASH_PAD_CFG    (CC + 0x7C8u)
#define HASH_CUR_LEN_0  (CC + 0x7CCu)
#define HASH_CUR_LEN_1  (CC + 0x7D0u)
#define HASH_CLK_ENABLE (CC + 0x818u)
#define CRYPTO_CTL      (CC + 0x900u)
#define CRYPTO_BUSY     (CC + 0x910u)
#define VERSION         (CC + 0x928u)
#define IRR             (CC + 0xA00u)
#define IMR             (CC + 0xA04u)
#define ICR             (CC + 0xA08u)
#define SIGNATURE       (CC + 0xA24u)
#define DIN_BUSY        (CC + 0xC20u)
#define DIN_ADDR        (CC + 0xC28u)
#define DIN_SIZE        (CC + 0xC2Cu)
#define DIN_DONE        (1u << 6)
#define IRQ_CC310       42u
#define BUF             0x20001000u

static const uint32_t sha256_iv[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

struct fixture {
    struct harness *h;
    struct periph *cc;
    unsigned begins, ends;
    uint32_t begin_ptr, begin_len;
};

static void on_begin(void *ctx, struct easydma *ch)
{
    struct fixture *f = ctx;
    f->begins++;
    f->begin_ptr = ch->ptr;
    f->begin_len = ch->maxcnt;
    assert_string_equal(ch->periph, "CRYPTOCELL");
    assert_false(ch->writes_ram);
}

static void on_end(void *ctx, struct easydma *ch)
{
    (void)ch;
    ((struct fixture *)ctx)->ends++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->cc = cc310_new(f->h->soc);
    assert_non_null(f->cc);
    f->h->soc->dma_observer = (struct soc_dma_observer){ .begin = on_begin, .end = on_end, .ctx = f };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cc310_free(f->cc);
    harness_free(f->h);
    free(f);
    return 0;
}

static void put_ram(struct harness *h, uint32_t addr, const void *data, size_t len)
{
    memcpy(soc_ram(h->soc, addr, (uint32_t)len), data, len);
}

/* What Nordic's boot loader does (B.5): enable, clock, hash mode, SHA-256,
 * the initial value into H0..H7, length 0. */
static void start_sha256(struct harness *h)
{
    wr(h, ENABLE, 1);
    wr(h, HASH_CLK_ENABLE, 1);
    wr(h, CRYPTO_CTL, 7);
    wr(h, HASH_CONTROL, 2);
    wr(h, HASH_PAD_EN, 1);
    for (int i = 7; i >= 0; i--)
        wr(h, HASH_H(i), sha256_iv[i]);
    wr(h, HASH_CUR_LEN_0, 0);
    wr(h, HASH_CUR_LEN_1, 0);
}

/* One DIN DMA of len bytes at BUF; waits for IRR bit 6 and clears it. */
static void din(struct fixture *f, uint32_t len)
{
    struct harness *h = f->h;
    wr(h, DIN_ADDR, BUF);
    wr(h, DIN_SIZE, len);
    assert_int_equal(rd(h, CRYPTO_BUSY), 1);
    assert_int_equal(rd(h, DIN_BUSY), 1);
    assert_int_equal(rd(h, IRR) & DIN_DONE, 0);
    for (int i = 0; i < 1000 && !(rd(h, IRR) & DIN_DONE); i++)
        run_for(h, 64);
    assert_true(rd(h, IRR) & DIN_DONE);
    assert_int_equal(rd(h, CRYPTO_BUSY), 0);
    assert_int_equal(rd(h, DIN_BUSY), 0);
    wr(h, ICR, DIN_DONE);
    assert_int_equal(rd(h, IRR) & DIN_DONE, 0);
}

static void expect_digest(struct harness *h, const uint8_t want[SHA256_DIGEST_SIZE])
{
    for (unsigned i = 0; i < 8; i++) {
        uint32_t w = (uint32_t)want[4 * i] << 24 | (uint32_t)want[4 * i + 1] << 16 |
                     (uint32_t)want[4 * i + 2] << 8 | want[4 * i + 3];
        assert_int_equal(rd(h, HASH_H(i)), w);
    }
}

static void disabled_and_ids(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, ENABLE), 0);
    assert_int_equal(rd(h, SIGNATURE), 0);                  /* off: reads 0, reported once */
    assert_true(log_has(h, "CRYPTOCELL.ENABLE = 0"));
    wr(h, ENABLE, 1);
    assert_int_equal(rd(h, ENABLE), 1);
    assert_int_equal(rd(h, SIGNATURE), 0x20E00000u);
    assert_int_equal(rd(h, VERSION) >> 24, 0xF0u);
    assert_int_equal(rd(h, CRYPTO_BUSY), 0);
    assert_int_equal(rd(h, DIN_BUSY), 0);
    wr(h, HASH_CLK_ENABLE, 1);
    wr(h, CRYPTO_CTL, 7);
    wr(h, HASH_CONTROL, 2);
    assert_int_equal(rd(h, HASH_CLK_ENABLE), 1);
    assert_int_equal(rd(h, CRYPTO_CTL), 7);
    assert_int_equal(rd(h, HASH_CONTROL), 2);
    assert_false(log_has(h, "unmodelled"));
    rd(h, CC + 0x100u);                                     /* e.g. the AES engine */
    assert_true(log_has(h, "unmodelled read of 0x5002b100"));
}

static void sha256_abc_with_auto_padding(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    start_sha256(h);
    put_ram(h, BUF, "abc", 3);
    wr(h, AUTO_HW_PADDING, 1);                              /* before the last (only) chunk */
    din(f, 3);
    static const uint8_t abc[SHA256_DIGEST_SIZE] = {       /* FIPS 180-4 example */
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    expect_digest(h, abc);
    assert_int_equal(rd(h, HASH_CUR_LEN_0), 3);
    assert_int_equal(rd(h, HASH_CUR_LEN_1), 0);
    assert_int_equal(rd(h, AUTO_HW_PADDING), 0);            /* used up */
    assert_int_equal(f->begins, 1);
    assert_int_equal(f->ends, 1);
    assert_int_equal(f->begin_ptr, BUF);
    assert_int_equal(f->begin_len, 3);
}

/* 4096-byte chunks with the context (H0..H7, CUR_LEN) saved after each and
 * restored before the next, as the boot loader does between objects. */
static void chunks_with_saved_context(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enum { CHUNK = 4096, TOTAL = 2 * CHUNK + 1000 };
    static uint8_t msg[TOTAL];
    for (unsigned i = 0; i < TOTAL; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    start_sha256(h);
    uint32_t saved_h[8], saved_len0 = 0, saved_len1 = 0;
    for (unsigned off = 0; off < TOTAL; off += CHUNK) {
        uint32_t len = TOTAL - off < CHUNK ? TOTAL - off : CHUNK;
        if (off) {                                          /* restore */
            start_sha256(h);                                /* someone else used the engine meanwhile */
            for (unsigned i = 0; i < 8; i++)
                wr(h, HASH_H(i), saved_h[i]);
            wr(h, HASH_CUR_LEN_0, saved_len0);
            wr(h, HASH_CUR_LEN_1, saved_len1);
        }
        put_ram(h, BUF, msg + off, len);
        if (off + len == TOTAL)
            wr(h, AUTO_HW_PADDING, 1);
        din(f, len);
        for (unsigned i = 0; i < 8; i++)                    /* save */
            saved_h[i] = rd(h, HASH_H(i));
        saved_len0 = rd(h, HASH_CUR_LEN_0);
        saved_len1 = rd(h, HASH_CUR_LEN_1);
        assert_int_equal(saved_len0, off + len);
    }
    uint8_t want[SHA256_DIGEST_SIZE];
    sha256(msg, TOTAL, want);
    expect_digest(h, want);
    assert_int_equal(f->begins, 3);
}

/* The last byte already went in: DO_PAD (HASH_PAD_CFG bit 2) pads now. */
static void do_pad_after_whole_blocks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t msg[128];
    for (unsigned i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    start_sha256(h);
    put_ram(h, BUF, msg, sizeof msg);
    din(f, sizeof msg);
    wr(h, HASH_PAD_CFG, 1u << 2);
    uint8_t want[SHA256_DIGEST_SIZE];
    sha256(msg, sizeof msg, want);
    expect_digest(h, want);
}

static void interrupt_line_and_mask(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    start_sha256(h);
    wr(h, IMR, DIN_DONE);                                   /* masked: no IRQ 42 */
    wr(h, DIN_ADDR, BUF);
    wr(h, DIN_SIZE, 64);
    run_for(h, 10000);
    assert_true(rd(h, IRR) & DIN_DONE);
    assert_false(irq(h, IRQ_CC310));
    wr(h, IMR, 0);                                          /* unmasked: the line goes high */
    assert_true(irq(h, IRQ_CC310));
    assert_int_equal(h->irq_rises[IRQ_CC310], 1);
    wr(h, ICR, DIN_DONE);
    assert_false(irq(h, IRQ_CC310));
    wr(h, DIN_SIZE, 64);
    run_for(h, 10000);
    assert_true(irq(h, IRQ_CC310));
    wr(h, ENABLE, 0);                                       /* off: the line drops */
    assert_false(irq(h, IRQ_CC310));
}

static void dma_source_outside_ram_is_reported(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    start_sha256(h);
    wr(h, DIN_ADDR, 0x00001000u);                           /* flash: EasyDMA cannot read it */
    wr(h, DIN_SIZE, 64);
    assert_true(log_has(h, "CRYPTOCELL DIN EasyDMA pointer 0x00001000"));
    run_for(h, 10000);
    assert_true(rd(h, IRR) & DIN_DONE);
    assert_int_equal(f->ends, 1);
}

static void reset_clears_the_engine(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    start_sha256(h);
    wr(h, DIN_ADDR, BUF);
    wr(h, DIN_SIZE, 4096);                                  /* still running at the reset */
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(f->ends, 1);                           /* the transfer ended with the reset */
    assert_int_equal(rd(h, ENABLE), 0);
    wr(h, ENABLE, 1);
    assert_int_equal(rd(h, HASH_H(0)), 0);
    assert_int_equal(rd(h, HASH_CONTROL), 0);
    assert_int_equal(rd(h, IRR), 0);
    run_for(h, 100000);
    assert_int_equal(rd(h, IRR), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(disabled_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(sha256_abc_with_auto_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(chunks_with_saved_context, setup, teardown),
        cmocka_unit_test_setup_teardown(do_pad_after_whole_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupt_line_and_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(dma_source_outside_ram_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_clears_the_engine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

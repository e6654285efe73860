/* CRYPTOCELL (CC310) at 0x5002A000, IRQ 42: the hash engine on the SHA-256
 * path, the part Nordic's secure boot loaders use to hash an image
 * (nRF5 SDK 17.1's open bootloader as run on hilda-emu). The slot holds
 * Nordic's wrapper (ENABLE at +0x500)
 * and, from +0x1000 (0x5002B000), the CC310's own registers:
 *
 *   0x640..0x65C H0..H7       the hash state: software loads the initial
 *                             value, saves and restores it between chunks,
 *                             and reads the digest words (H0 first)
 *   0x684 AUTO_HW_PADDING     1: pad the message at the end of the next DIN
 *                             DMA (the last chunk); cleared once done
 *   0x7C0 HASH_CONTROL        2 = SHA-256 (the only mode modelled)
 *   0x7C4 HASH_PAD_EN, 0x7C8 HASH_PAD_CFG (bit 2 DO_PAD: pad now, for a
 *                             message whose last byte already went in)
 *   0x7CC/0x7D0 HASH_CUR_LEN  bytes hashed so far, low and high word
 *                             (software saves and restores them per chunk)
 *   0x818 HASH_CLK_ENABLE, 0x900 CRYPTO_CTL (7 = hash): storage
 *   0x910 CRYPTO_BUSY, 0xC20 DIN_MEM_DMA_BUSY: 1 while the DIN DMA runs
 *   0x928 VERSION (0xF0000000), 0xA24 HOST_SIGNATURE (0x20E00000)
 *   0xA00 IRR, 0xA04 IMR (1 = masked), 0xA08 ICR (write 1 to clear);
 *                             bit 6 = memory-to-DIN DMA done; IRQ 42 is high
 *                             while an unmasked IRR bit is set
 *   0xC28 DIN DMA address, 0xC2C DIN DMA length: writing the length starts
 *                             the DMA, which hashes the bytes and sets IRR
 *                             bit 6 at its end
 *
 * The DIN DMA is an EasyDMA transfer on the soc (easydma_begin ... end), so
 * the DMA sanitizer watches it like every channel: a CPU write into the
 * source buffer while the DMA runs is reported, and a source outside data
 * RAM too. SHA-256 itself is the project's own (common/sha256.c).
 *
 * Differs from silicon: the register values above come from the observed
 * register use of Nordic's boot loader (nRF5 SDK 17.1's open bootloader
 * as run on hilda-emu), not from a
 * data sheet (Nordic publishes none for the CC310's registers); the DMA
 * takes our figure of one cycle per byte plus 64; the IMR resets to 0 (all
 * unmasked: our choice); HASH_CUR_LEN counts bytes. With ENABLE = 0 the
 * CC310 registers read 0 and ignore writes (reported once).
 * Pending: every other CC310 function (AES, the PKA for signatures, the
 * RNG, SHA-1/SHA-224/MD5, DOUT), the descriptor queue, SRAM DMA and the
 * CPU DIN FIFO; accesses to them are reported as unmodelled. */
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "sha256.h"

#define ENABLE           0x500u
#define CC               0x1000u            /* the CC310's registers in the slot */
#define HASH_H(n)        (CC + 0x640u + 4u * (n))
#define AUTO_HW_PADDING  (CC + 0x684u)
#define HASH_CONTROL     (CC + 0x7C0u)
#define HASH_PAD_EN      (CC + 0x7C4u)
#define HASH_PAD_CFG     (CC + 0x7C8u)
#define HASH_CUR_LEN_0   (CC + 0x7CCu)
#define HASH_CUR_LEN_1   (CC + 0x7D0u)
#define HASH_CLK_ENABLE  (CC + 0x818u)
#define CRYPTO_CTL       (CC + 0x900u)
#define CRYPTO_BUSY      (CC + 0x910u)
#define VERSION          (CC + 0x928u)
#define HOST_IRR         (CC + 0xA00u)
#define HOST_IMR         (CC + 0xA04u)
#define HOST_ICR         (CC + 0xA08u)
#define HOST_SIGNATURE   (CC + 0xA24u)
#define DIN_MEM_DMA_BUSY (CC + 0xC20u)
#define DIN_DMA_ADDR     (CC + 0xC28u)
#define DIN_DMA_SIZE     (CC + 0xC2Cu)

#define VERSION_VALUE        0xF0000000u
#define SIGNATURE_VALUE      0x20E00000u
#define HASH_CONTROL_SHA256  2u
#define PAD_CFG_DO_PAD       (1u << 2)
#define IRR_DIN_DMA_DONE     (1u << 6)
#define DMA_SETUP_CYCLES     64u

struct cc310 {
    struct periph p;
    bool enabled;
    uint32_t h[8];
    uint64_t cur_len;
    uint32_t hash_control, pad_en, pad_cfg, auto_pad, clk, crypto_ctl;
    uint32_t irr, imr;
    uint32_t din_addr;
    /* bytes of an unfinished 64-byte block between two DMAs (software that
     * feeds whole blocks, as Nordic's does with 4096-byte chunks, never
     * leaves any) */
    uint8_t partial[64];
    size_t partial_len;
    bool reported_disabled, reported_mode;
    struct easydma din;
    struct sched_event din_done;
};

static void update_irq(struct cc310 *c)
{
    soc_irq_set(c->p.soc, CC310_IRQ, c->enabled && (c->irr & ~c->imr) != 0);
}

/* The hash engine's state as common/sha256.c keeps it. */
static void load_state(const struct cc310 *c, struct sha256 *s)
{
    memcpy(s->h, c->h, sizeof s->h);
    s->length = c->cur_len;
    memcpy(s->block, c->partial, sizeof s->block);
    s->used = c->partial_len;
}

static void store_state(struct cc310 *c, const struct sha256 *s)
{
    memcpy(c->h, s->h, sizeof c->h);
    memcpy(c->partial, s->block, sizeof c->partial);
    c->partial_len = s->used;
}

/* The hardware padding: the 0x80 byte, zeros and the length in bits, then
 * the last block(s). HASH_CUR_LEN keeps the message length. */
static void pad(struct cc310 *c)
{
    struct sha256 s;
    load_state(c, &s);
    uint64_t len = c->cur_len;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_final(&s, digest);
    store_state(c, &s);
    c->cur_len = len;
}

static void din_done(struct soc *soc, void *ctx)
{
    struct cc310 *c = ctx;
    uint32_t len = c->din.maxcnt;
    uint8_t *buf = len ? malloc(len) : NULL;
    uint32_t got = buf ? easydma_read(soc, &c->din, buf, len) : 0;
    easydma_end(soc, &c->din);
    if (c->hash_control == HASH_CONTROL_SHA256) {
        struct sha256 s;
        load_state(c, &s);
        sha256_update(&s, buf, got);
        store_state(c, &s);
        c->cur_len = s.length;
        if (c->auto_pad) {
            pad(c);
            c->auto_pad = 0;
        }
    }
    free(buf);
    c->irr |= IRR_DIN_DMA_DONE;
    update_irq(c);
}

static void start_din_dma(struct cc310 *c, uint32_t size)
{
    if (c->din.active) {
        soc_log(c->p.soc, "emu: CC310 DIN DMA started while one runs: the new one replaces it\n");
        soc_cancel(c->p.soc, &c->din_done);
        easydma_end(c->p.soc, &c->din);
    }
    if (c->hash_control != HASH_CONTROL_SHA256 && !c->reported_mode) {
        c->reported_mode = true;
        soc_log(c->p.soc, "emu: CC310 DIN DMA with HASH_CONTROL %u (CRYPTO_CTL %u): only SHA-256 (2) is "
                "modelled; the data is not hashed\n", c->hash_control, c->crypto_ctl);
    }
    easydma_begin(c->p.soc, &c->din, c->din_addr, size);
    soc_schedule(c->p.soc, &c->din_done, DMA_SETUP_CYCLES + size);
}

static void cc310_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct cc310 *c = p->state;
    soc_cancel(p->soc, &c->din_done);
    easydma_end(p->soc, &c->din);
    c->enabled = false;
    memset(c->h, 0, sizeof c->h);
    c->cur_len = 0;
    c->hash_control = c->pad_cfg = c->auto_pad = c->clk = c->crypto_ctl = 0;
    c->pad_en = 1;
    c->irr = c->imr = 0;
    c->din_addr = 0;
    c->partial_len = 0;
    update_irq(c);
}

/* An access to the CC310 while ENABLE = 0: false (and reported once). */
static bool powered(struct cc310 *c, uint32_t offset, bool write)
{
    if (c->enabled)
        return true;
    if (!c->reported_disabled) {
        c->reported_disabled = true;
        soc_log(c->p.soc, "emu: CC310 register 0x%08x %s while CRYPTOCELL.ENABLE = 0: %s\n", c->p.base + offset,
                write ? "written" : "read", write ? "ignored" : "reads 0");
    }
    return false;
}

static uint32_t cc310_read(struct periph *p, uint32_t offset)
{
    struct cc310 *c = p->state;
    if (offset == ENABLE)
        return c->enabled;
    if (offset < CC) {
        soc_unmodelled(p->soc, p, offset, false);
        return 0;
    }
    if (!powered(c, offset, false))
        return 0;
    if (offset >= HASH_H(0) && offset <= HASH_H(7))
        return c->h[(offset - HASH_H(0)) / 4u];
    switch (offset) {
    case AUTO_HW_PADDING: return c->auto_pad;
    case HASH_CONTROL: return c->hash_control;
    case HASH_PAD_EN: return c->pad_en;
    case HASH_PAD_CFG: return c->pad_cfg;
    case HASH_CUR_LEN_0: return (uint32_t)c->cur_len;
    case HASH_CUR_LEN_1: return (uint32_t)(c->cur_len >> 32);
    case HASH_CLK_ENABLE: return c->clk;
    case CRYPTO_CTL: return c->crypto_ctl;
    case CRYPTO_BUSY: case DIN_MEM_DMA_BUSY: return c->din.active;
    case VERSION: return VERSION_VALUE;
    case HOST_IRR: return c->irr;
    case HOST_IMR: return c->imr;
    case HOST_SIGNATURE: return SIGNATURE_VALUE;
    case DIN_DMA_ADDR: return c->din_addr;
    case DIN_DMA_SIZE: return c->din.maxcnt;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void cc310_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct cc310 *c = p->state;
    if (offset == ENABLE) {
        c->enabled = value & 1u;
        if (!c->enabled && c->din.active) {
            soc_cancel(p->soc, &c->din_done);
            easydma_end(p->soc, &c->din);
        }
        update_irq(c);
        return;
    }
    if (offset < CC) {
        soc_unmodelled(p->soc, p, offset, true);
        return;
    }
    if (!powered(c, offset, true))
        return;
    if (offset >= HASH_H(0) && offset <= HASH_H(7)) {
        c->h[(offset - HASH_H(0)) / 4u] = value;
        return;
    }
    switch (offset) {
    case AUTO_HW_PADDING: c->auto_pad = value & 1u; return;
    case HASH_CONTROL: c->hash_control = value; return;
    case HASH_PAD_EN: c->pad_en = value & 1u; return;
    case HASH_PAD_CFG:
        c->pad_cfg = value;
        if ((value & PAD_CFG_DO_PAD) && c->hash_control == HASH_CONTROL_SHA256)
            pad(c);
        return;
    case HASH_CUR_LEN_0:
        c->cur_len = (c->cur_len & ~0xFFFFFFFFull) | value;
        c->partial_len = 0;              /* a restored context starts on a block boundary */
        return;
    case HASH_CUR_LEN_1: c->cur_len = (c->cur_len & 0xFFFFFFFFull) | (uint64_t)value << 32; return;
    case HASH_CLK_ENABLE: c->clk = value; return;
    case CRYPTO_CTL: c->crypto_ctl = value; return;
    case HOST_IMR: c->imr = value; update_irq(c); return;
    case HOST_ICR: c->irr &= ~value; update_irq(c); return;
    case DIN_DMA_ADDR: c->din_addr = value; return;
    case DIN_DMA_SIZE: start_din_dma(c, value); return;
    }
    soc_unmodelled(p->soc, p, offset, true);
}

struct periph *cc310_new(struct soc *soc)
{
    struct cc310 *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = (struct periph){
        .name = "CRYPTOCELL",
        .base = CC310_BASE,
        .size = CC310_SIZE,
        .read = cc310_read,
        .write = cc310_write,
        .reset = cc310_reset,
        .state = c,
    };
    c->din = (struct easydma){ .periph = "CRYPTOCELL", .channel = "DIN", .writes_ram = false };
    c->din_done = (struct sched_event){ .name = "CC310 DIN DMA", .fire = din_done, .ctx = c };
    soc_add_periph(soc, &c->p);
    cc310_reset(&c->p, RESET_POWER_ON);
    return &c->p;
}

void cc310_free(struct periph *cc310)
{
    if (cc310)
        free(cc310->state);
}

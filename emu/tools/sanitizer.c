#include "sanitizer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc_impl.h"

#define MAX_ACTIVE 16         /* transfers in flight at once; the chip has far fewer channels */
#define MAX_REPORTS 64        /* texts kept; the count goes on */
#define REPORT_LEN 640

struct active {
    struct easydma *ch;
    vtime_t started;
    uint32_t start_pc;
};

struct sanitizer {
    struct machine *m;
    struct soc *soc;
    enum sanitize_mode mode;
    struct active active[MAX_ACTIVE];
    unsigned nactive;
    uint64_t nreports;
    char *reports[MAX_REPORTS];
    /* dedupe: one report per (pc, channel, kind) */
    struct seen { uint32_t pc; const struct easydma *ch; int kind; } seen[MAX_REPORTS];
    unsigned nseen;
};

enum kind { CPU_WRITE, CPU_READ, BAD_POINTER, TWO_USBD, DMA_OVERLAP, KIND_COUNT };

static const char *const kind_text[KIND_COUNT] = {
    [CPU_WRITE] = "CPU write into memory owned by an EasyDMA transfer",
    [CPU_READ] = "CPU read of memory an EasyDMA transfer is writing",
    [BAD_POINTER] = "EasyDMA pointer outside data RAM",
    [TWO_USBD] = "two USBD EasyDMA transfers at once",
    [DMA_OVERLAP] = "EasyDMA transfer on memory another transfer owns, one of them writing it",
};

static bool already_seen(struct sanitizer *s, uint32_t pc, const struct easydma *ch, int kind)
{
    for (unsigned i = 0; i < s->nseen; i++) {
        if (s->seen[i].pc == pc && s->seen[i].ch == ch && s->seen[i].kind == kind)
            return true;
    }
    if (s->nseen < MAX_REPORTS)
        s->seen[s->nseen++] = (struct seen){ pc, ch, kind };
    return false;
}

static void describe(char *out, size_t len, const struct easydma *ch, const struct active *a,
                     const struct machine *m)
{
    if (a) {
        snprintf(out, len, "%s %s [0x%08x, 0x%08x) started at cycle %" PRIu64 " by %s (pc 0x%08x)",
                 ch->periph, ch->channel, ch->ptr, ch->ptr + ch->maxcnt, a->started,
                 machine_function_at(m, a->start_pc), a->start_pc);
    } else {
        snprintf(out, len, "%s %s [0x%08x, 0x%08x)", ch->periph, ch->channel, ch->ptr, ch->ptr + ch->maxcnt);
    }
}

/* The sanitizer's record of a transfer in flight, or NULL. */
static const struct active *find_active(const struct sanitizer *s, const struct easydma *ch)
{
    for (unsigned i = 0; i < s->nactive; i++) {
        if (s->active[i].ch == ch)
            return &s->active[i];
    }
    return NULL;
}

/* by: NULL for an instruction's access, else the core's own access (an
 * exception frame) it names. other: the second transfer of a report on two. */
static void report(struct sanitizer *s, int kind, uint32_t pc, const char *by, uint32_t addr,
                   const struct easydma *ch, const struct active *a, const struct easydma *other)
{
    if (s->mode == SANITIZE_OFF || already_seen(s, pc, ch, kind))
        return;
    char what[200], second[200] = "";
    describe(what, sizeof what, ch, a, s->m);
    if (other)
        describe(second, sizeof second, other, find_active(s, other), s->m);
    char *text = malloc(REPORT_LEN);
    if (!text)
        return;
    snprintf(text, REPORT_LEN, "%s at cycle %" PRIu64 ": %s%spc 0x%08x in %s, address 0x%08x; transfer %s%s%s",
             kind_text[kind], soc_now(s->soc), by ? by : "", by ? " " : "", pc,
             machine_function_at(s->m, pc), addr, what, other ? "; other transfer " : "", second);
    soc_log(s->soc, "emu: sanitizer: %s\n", text);
    if (s->nreports < MAX_REPORTS)
        s->reports[s->nreports] = text;
    else
        free(text);
    s->nreports++;
    if (s->mode == SANITIZE_ERROR)
        machine_raise_fault(s->m, "DMA sanitizer", kind_text[kind]);
}

static bool overlaps(const struct easydma *ch, uint32_t addr, uint32_t size)
{
    return ch->maxcnt != 0 && addr < ch->ptr + ch->maxcnt && ch->ptr < addr + size;
}

/* The first byte of [addr, addr + size) that ch owns (overlaps() holds): a
 * whole exception frame comes as one access, the report names the byte. */
static uint32_t first_owned(const struct easydma *ch, uint32_t addr)
{
    return addr > ch->ptr ? addr : ch->ptr;
}

static void on_ram_access(void *ctx, uint32_t addr, uint32_t size, bool write, uint32_t pc, const char *by)
{
    struct sanitizer *s = ctx;
    for (unsigned i = 0; i < s->nactive; i++) {
        struct active *a = &s->active[i];
        if (!overlaps(a->ch, addr, size))
            continue;
        if (write)
            report(s, CPU_WRITE, pc, by, first_owned(a->ch, addr), a->ch, a, NULL);
        else if (a->ch->writes_ram)
            report(s, CPU_READ, pc, by, first_owned(a->ch, addr), a->ch, a, NULL);
    }
}

/* Rule: two transfers in flight may share memory only if both read it (two
 * TX from one buffer is legal); ranges are latched at begin, so checking
 * each new transfer against those in flight sees every overlap in time. A
 * bad pointer moves no bytes (reported on its own). */
static void check_overlap(struct sanitizer *s, const struct easydma *ch, const struct active *a, uint32_t pc)
{
    for (unsigned i = 0; i < s->nactive; i++) {
        const struct easydma *other = s->active[i].ch;
        if (other == ch || ch->bad_pointer || other->bad_pointer || !(ch->writes_ram || other->writes_ram))
            continue;
        if (overlaps(other, ch->ptr, ch->maxcnt) && ch->maxcnt != 0)
            report(s, DMA_OVERLAP, pc, NULL, first_owned(other, ch->ptr), ch, a, other);
    }
}

/* The CPU layer passes on only accesses that overlap the ranges in flight:
 * every access on_ram_access would act on, and (nothing in flight) none at
 * all. */
static void update_watch(struct sanitizer *s)
{
    struct machine_range ranges[MAX_ACTIVE];
    unsigned n = 0;
    for (unsigned i = 0; i < s->nactive; i++) {
        const struct easydma *ch = s->active[i].ch;
        if (ch->maxcnt == 0)
            continue;                    /* owns nothing (overlaps() is false) */
        uint64_t hi = (uint64_t)ch->ptr + ch->maxcnt;
        ranges[n++] = (struct machine_range){ ch->ptr, hi > UINT32_MAX ? UINT32_MAX : (uint32_t)hi };
    }
    machine_set_ram_watch(s->m, ranges, n);
}

static void on_begin(void *ctx, struct easydma *ch)
{
    struct sanitizer *s = ctx;
    uint32_t pc = machine_pc(s->m);
    for (unsigned i = 0; i < s->nactive; i++) {
        struct easydma *other = s->active[i].ch;
        if (ch->group && other->group == ch->group && other != ch)
            report(s, TWO_USBD, pc, NULL, ch->ptr, ch, NULL, other);
    }
    struct active a = { ch, soc_now(s->soc), pc };
    check_overlap(s, ch, &a, pc);
    if (s->nactive == MAX_ACTIVE) {
        soc_log(s->soc, "emu: sanitizer: more than %d transfers in flight, %s %s not tracked\n",
                MAX_ACTIVE, ch->periph, ch->channel);
        return;
    }
    s->active[s->nactive++] = a;
    update_watch(s);
}

static void on_end(void *ctx, struct easydma *ch)
{
    struct sanitizer *s = ctx;
    for (unsigned i = 0; i < s->nactive; i++) {
        if (s->active[i].ch == ch) {
            s->active[i] = s->active[--s->nactive];
            update_watch(s);
            return;
        }
    }
}

static void on_bad_pointer(void *ctx, struct easydma *ch)
{
    struct sanitizer *s = ctx;
    report(s, BAD_POINTER, machine_pc(s->m), NULL, ch->ptr, ch, NULL, NULL);
}

static void on_reset(void *ctx)
{
    struct sanitizer *s = ctx;
    s->nactive = 0;
    update_watch(s);
}

struct sanitizer *sanitizer_new(struct machine *m, enum sanitize_mode mode)
{
    struct sanitizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->soc = machine_soc(m);
    s->mode = mode;
    s->soc->dma_observer = (struct soc_dma_observer){ on_begin, on_end, on_bad_pointer, on_reset, s };
    /* Any memory hook sends every load and store down Unicorn's slow path
     * (1.4-5x): only with the sanitizer on. */
    if (mode != SANITIZE_OFF) {
        machine_set_ram_observer(m, on_ram_access, s);
        update_watch(s);                 /* nothing in flight yet */
    }
    return s;
}

void sanitizer_free(struct sanitizer *s)
{
    if (!s)
        return;
    s->soc->dma_observer = (struct soc_dma_observer){ 0 };
    machine_set_ram_observer(s->m, NULL, NULL);
    for (uint64_t i = 0; i < s->nreports && i < MAX_REPORTS; i++)
        free(s->reports[i]);
    free(s);
}

uint64_t sanitizer_reports(const struct sanitizer *s)
{
    return s ? s->nreports : 0;
}

const char *sanitizer_report(const struct sanitizer *s, uint64_t i)
{
    return s && i < s->nreports && i < MAX_REPORTS ? s->reports[i] : NULL;
}

const char *sanitize_mode_name(enum sanitize_mode mode)
{
    switch (mode) {
    case SANITIZE_OFF: return "off";
    case SANITIZE_WARN: return "warn";
    case SANITIZE_ERROR: return "error";
    }
    return "?";
}

int sanitize_mode_parse(const char *text, enum sanitize_mode *mode)
{
    static const enum sanitize_mode modes[] = { SANITIZE_OFF, SANITIZE_WARN, SANITIZE_ERROR };
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(text, sanitize_mode_name(modes[i])) == 0) {
            *mode = modes[i];
            return 0;
        }
    }
    return -1;
}

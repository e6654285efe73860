/* The CPU layer's set-up: Unicorn 2 as the Cortex-M4F, flash and data RAM
 * mapped onto the soc's memory, the chip's peripheral windows (given by the
 * board) and the Private Peripheral Bus dispatched as MMIO to the soc bus
 * and the NVIC model, the memory hooks (unmapped accesses, flash stores),
 * the sanitizer's watch on data RAM (machine_set_ram_watch: Unicorn's
 * virtual TLB on 2.1, a memory hook on 2.0.1) and the machine's accessors. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "machine_impl.h"

uint8_t *mcpu_mem_ptr(struct machine *m, uint32_t addr, uint32_t len)
{
    uint64_t a = addr, end = a + len;
    if (end <= (uint64_t)SOC_FLASH_BASE + SOC_FLASH_SIZE)
        return m->soc->flash + (a - SOC_FLASH_BASE);
    if (a >= SOC_RAM_BASE && end <= (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE)
        return m->soc->ram + (a - SOC_RAM_BASE);
    if (a >= SOC_CODE_RAM_ALIAS && end <= (uint64_t)SOC_CODE_RAM_ALIAS + SOC_RAM_SIZE)
        return m->soc->ram + (a - SOC_CODE_RAM_ALIAS);
    return NULL;
}

bool mcpu_read_word(struct machine *m, uint32_t addr, uint32_t *v)
{
    const uint8_t *p = mcpu_mem_ptr(m, addr, 4);
    if (!p)
        return false;
    *v = ld32(p);
    return true;
}


/* ---- memory ---- */

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)value;
    struct machine *m = user;
    if (type == UC_MEM_WRITE_PROT && address < SOC_FLASH_SIZE && m->hooks.flash_writable &&
        m->hooks.flash_writable(m->hooks.ctx)) {
        m->code_changed = true;        /* the chip allows it: the store programs flash */
        return true;
    }
    if (!m->mem_fault.valid) {
        m->mem_fault.valid = true;
        m->mem_fault.addr = (uint32_t)address;
        m->mem_fault.size = size;
        m->mem_fault.write = type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT;
        m->mem_fault.fetch = type == UC_MEM_FETCH_UNMAPPED || type == UC_MEM_FETCH_PROT;
    }
    return false;
}

#if !MACHINE_VTLB
static void hook_ram(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)value;
    struct machine *m = user;
    uint32_t addr = (uint32_t)address;
    if (addr >= SOC_CODE_RAM_ALIAS && addr < SOC_CODE_RAM_ALIAS + SOC_RAM_SIZE)
        addr = addr - SOC_CODE_RAM_ALIAS + SOC_RAM_BASE;
    else if (addr < SOC_RAM_BASE)
        return;                          /* between the two views: not RAM */
    /* most accesses touch memory no transfer owns: no PC read, no call */
    if (!m->ram_fn || !ram_watched(m, addr, (uint32_t)size))
        return;
    m->ram_fn(m->ram_ctx, addr, (uint32_t)size, type == UC_MEM_WRITE, reg_get(m, UC_ARM_REG_PC), NULL);
}
#endif

#if MACHINE_VTLB
/* ---- the watch window (Unicorn 2.1) ----
 *
 * Unicorn sends every load and store down its slow path as soon as any
 * memory hook exists, so a hook over RAM costs every access the firmware
 * makes. Instead the CPU runs with Unicorn's virtual TLB: tlb_fill maps
 * each page onto itself, except the pages of data RAM that hold memory the
 * observer watches, whose data accesses it maps onto this window of MMIO
 * callbacks, which see each access with its address and size. The window
 * takes physical addresses where the nRF52840 has nothing (Unicorn's ARM
 * physical space is 32 bits wide); the firmware's own accesses there are
 * mapped onto an address nothing answers, so they fault as on the chip. */
#define WATCH_WINDOW 0x30000000u
#define NOTHING_THERE 0xB0000000u    /* the external device region: nothing on the nRF52840 */
#define WATCH_STALE_MAX 8u

static void watch_access(struct machine *m, uint32_t addr, unsigned size, bool write)
{
    if (m->ram_fn && ram_watched(m, addr, size))
        m->ram_fn(m->ram_ctx, addr, size, write, reg_get(m, UC_ARM_REG_PC), NULL);
}

static uint64_t watch_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    struct machine *m = user;
    watch_access(m, SOC_RAM_BASE + (uint32_t)offset, size, false);
    const uint8_t *p = m->soc->ram + offset;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < SOC_RAM_SIZE; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool page_in(const uint64_t *pages, uint32_t ram_offset)
{
    uint32_t page = ram_offset >> WATCH_PAGE_BITS;
    return pages[page / 64] >> (page % 64) & 1;
}

static void watch_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    struct machine *m = user;
    watch_access(m, SOC_RAM_BASE + (uint32_t)offset, size, true);
    uint8_t *p = m->soc->ram + offset;
    for (unsigned i = 0; i < size && offset + i < SOC_RAM_SIZE; i++)
        p[i] = (uint8_t)(value >> (8 * i));
    /* Unicorn notices a store into translated code only on its own RAM
     * path: a store through the window drops what was translated from
     * these bytes itself, in both views, on a page code ran from. */
    if (page_in(m->code_pages, (uint32_t)offset)) {
        uc_ctl_remove_cache(uc, SOC_RAM_BASE + offset, SOC_RAM_BASE + offset + size);
        uc_ctl_remove_cache(uc, SOC_CODE_RAM_ALIAS + offset, SOC_CODE_RAM_ALIAS + offset + size);
    }
}

/* Both views of data RAM (0x20000000 and its code alias) go through the
 * window on a watched page. A fetch maps the page itself (executable, no
 * data access): code may run from a watched page, and the next data access
 * there refills the entry with the window. */
static bool tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *user)
{
    (void)uc;
    struct machine *m = user;
    e->paddr = vaddr;
    e->perms = UC_PROT_ALL;
    uint32_t off;
    if (vaddr >= SOC_RAM_BASE && vaddr < (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE)
        off = (uint32_t)vaddr - SOC_RAM_BASE;
    else if (vaddr >= SOC_CODE_RAM_ALIAS && vaddr < (uint64_t)SOC_CODE_RAM_ALIAS + SOC_RAM_SIZE)
        off = (uint32_t)vaddr - SOC_CODE_RAM_ALIAS;
    else if (vaddr >= WATCH_WINDOW && vaddr < (uint64_t)WATCH_WINDOW + SOC_RAM_SIZE) {
        e->paddr = NOTHING_THERE + (vaddr - WATCH_WINDOW);
        return true;
    } else
        return true;
    if (type == UC_MEM_FETCH) {
        uint32_t page = off >> WATCH_PAGE_BITS;
        m->code_pages[page / 64] |= 1ull << (page % 64);
    }
    if (!page_in(m->watched_pages, off))
        return true;
    if (type == UC_MEM_FETCH) {
        e->perms = UC_PROT_EXEC;
    } else {
        e->paddr = WATCH_WINDOW + off;
        e->perms = UC_PROT_READ | UC_PROT_WRITE;
    }
    return true;
}

/* uc_ctl_get_page_size, without its macro: UC_CTL_READ shifts 2 into an
 * int's sign bit (UC_CTL_IO_READ << 30), which UBSan rightly reports. */
static uc_err get_page_size(uc_engine *uc, uint32_t *size)
{
    unsigned read_one = (unsigned)UC_CTL_UC_PAGE_SIZE | 1u << 26 | (unsigned)UC_CTL_IO_READ << 30;
    return uc_ctl(uc, (uc_control_type)read_one, size);
}

static bool setup_watch(struct machine *m)
{
    uint32_t page_size = 0;
    uc_hook h;
    if (uc_ctl_tlb_mode(m->uc, UC_TLB_VIRTUAL) != UC_ERR_OK ||
        get_page_size(m->uc, &page_size) != UC_ERR_OK || page_size != 1u << WATCH_PAGE_BITS ||
        uc_mmio_map(m->uc, WATCH_WINDOW, SOC_RAM_SIZE, watch_read, m, watch_write, m) != UC_ERR_OK ||
        uc_hook_add(m->uc, &h, UC_HOOK_TLB_FILL, (void *)tlb_fill, m, 1, 0) != UC_ERR_OK) {
        soc_log(m->soc, "hilda-emu: cannot set up the DMA sanitizer's watch on Unicorn %u.%u (page size %u)\n",
                UC_API_MAJOR, UC_API_MINOR, page_size);
        return false;
    }
    return true;
}
#endif

static void mmio_trace(struct machine *m, bool write, uint32_t addr, uint32_t value, unsigned size)
{
    struct periph *p = soc_find_periph(m->soc, addr);
    mcpu_trace(m, "mmio: %s 0x%08x %s 0x%08x (%u bytes) %s+0x%03x pc 0x%08x", write ? "W" : "R", addr,
          write ? "<-" : "->", value, size, p ? p->name : (addr >= 0xE0000000u ? "PPB" : "?"),
          p ? addr - p->base : addr & 0xFFF, reg_get(m, UC_ARM_REG_PC));
}

static void after_access(struct machine *m)
{
    vtime_t next = soc_next_event(m->soc);
    if (next < m->slice_end)
        m->slice_end = next;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    struct mmio_region *r = user;
    struct machine *m = r->m;
    uint32_t addr = r->base + (uint32_t)offset, v;
    if (size > 4)
        size = 4;
    if (r->ppb) {
        v = nvic_ppb_read(&m->nvic, addr, size);
    } else if (addr & (size - 1)) {
        mcpu_fault(m, true, "unaligned peripheral access", "%u-byte read of 0x%08x", size, addr);
        return 0;
    } else {
        uint32_t word = soc_bus_read(m->soc, addr & ~3u);
        v = size == 4 ? word : (word >> (8 * (addr & 3))) & ((1u << (8 * size)) - 1);
    }
    if (m->trace_mmio)
        mmio_trace(m, false, addr, v, size);
    after_access(m);
    return v;
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    (void)uc;
    struct mmio_region *r = user;
    struct machine *m = r->m;
    uint32_t addr = r->base + (uint32_t)offset, v = (uint32_t)value;
    if (size > 4)
        size = 4;
    if (m->trace_mmio)
        mmio_trace(m, true, addr, v, size);
    if (r->ppb) {
        nvic_ppb_write(&m->nvic, addr, v, size);
    } else if (addr & (size - 1)) {
        mcpu_fault(m, true, "unaligned peripheral access", "%u-byte write of 0x%08x", size, addr);
        return;
    } else if (size == 4) {
        soc_bus_write(m->soc, addr, v);
    } else {
        /* sub-word store: read-modify-write of the word */
        uint32_t word = addr & ~3u, shift = 8 * (addr & 3), mask = ((1u << (8 * size)) - 1) << shift;
        uint32_t old = soc_bus_read(m->soc, word);
        soc_bus_write(m->soc, word, (old & ~mask) | ((v << shift) & mask));
    }
    after_access(m);
}

/* ---- NVIC and soc hooks ---- */

static void on_nvic_changed(void *ctx)
{
    struct machine *m = ctx;
    m->irq_check = true;
    m->nvic_gen++;
}

static void on_sysreset(void *ctx)
{
    struct machine *m = ctx;
    m->reset_requested = true;
    attend(m);
}

static void on_irq_changed(void *ctx, unsigned irq, bool level)
{
    struct machine *m = ctx;
    nvic_set_level(&m->nvic, irq, level);
}

void machine_halt_until_reset(struct machine *m)
{
    m->system_off = true;
    attend(m);
}

void machine_code_changed(struct machine *m)
{
    m->code_changed = true;
    attend(m);
}

static void on_wake(struct soc *soc, void *ctx)
{
    (void)soc;
    struct machine *m = ctx;
    uint64_t v;
    while (read(m->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
}

/* ---- construction ---- */

static bool map_mmio(struct machine *m, unsigned i, uint32_t base, uint32_t size, bool ppb)
{
    m->regions[i] = (struct mmio_region){ m, base, ppb };
    return uc_mmio_map(m->uc, base, size, mmio_read, &m->regions[i], mmio_write, &m->regions[i]) == UC_ERR_OK;
}

static bool setup_cpu(struct machine *m, const struct machine_bus_window *windows, unsigned n_windows)
{
    uc_err e = uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &m->uc);
    if (e != UC_ERR_OK) {
        soc_log(m->soc, "hilda-emu: Unicorn: %s\n", uc_strerror(e));
        m->uc = NULL;
        return false;
    }
    struct soc *soc = m->soc;
    bool ok = uc_ctl_set_cpu_model(m->uc, UC_CPU_ARM_CORTEX_M4) == UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, SOC_FLASH_BASE, SOC_FLASH_SIZE, UC_PROT_READ | UC_PROT_EXEC, soc->flash) ==
                  UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, SOC_RAM_BASE, SOC_RAM_SIZE, UC_PROT_ALL, soc->ram) == UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, SOC_CODE_RAM_ALIAS, SOC_RAM_SIZE, UC_PROT_ALL, soc->ram) == UC_ERR_OK &&
              n_windows <= MACHINE_MAX_BUS_WINDOWS;
    for (unsigned i = 0; ok && i < n_windows; i++)
        ok = map_mmio(m, i, windows[i].base, windows[i].size, false);
    ok = ok && map_mmio(m, n_windows, PPB_SCS_BASE, PPB_SCS_SIZE, true) &&
         map_mmio(m, n_windows + 1, PPB_DWT_BASE, PPB_DWT_SIZE, true);
#if MACHINE_VTLB
    ok = ok && setup_watch(m);
#endif
    uc_hook h;
    ok = ok && uc_hook_add(m->uc, &h, UC_HOOK_BLOCK, (void *)mcpu_hook_block, m, 1, 0) == UC_ERR_OK &&
         uc_hook_add(m->uc, &h, UC_HOOK_INTR, (void *)mcpu_hook_intr, m, 1, 0) == UC_ERR_OK &&
         uc_hook_add(m->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, (void *)hook_unmapped, m, 1, 0) ==
             UC_ERR_OK;
    if (!ok)
        soc_log(m->soc, "hilda-emu: cannot set up the Unicorn Cortex-M4\n");
    return ok;
}

/* The images into flash, RAM and UICR (machine.h: where reset starts). */
static bool load_images(struct machine *m, const struct machine_options *opt)
{
    unsigned n = 0;
    while (n < MACHINE_MAX_IMAGES && opt->firmware[n])
        n++;
    struct loader_target mem = {
        .flash = m->soc->flash, .ram = m->soc->ram,
        .uicr = opt->uicr, .uicr_base = opt->uicr_base, .uicr_size = opt->uicr_size,
    };
    if (n > 1 && !(mem.owner = calloc(1, loader_owner_size(opt->uicr ? opt->uicr_size : 0)))) {
        soc_log(m->soc, "hilda-emu: out of memory\n");
        return false;
    }
    m->symbols = symbols_new();
    bool ok = m->symbols != NULL, any_flash = false;
    char err[320];
    for (unsigned i = 0; ok && i < n; i++) {
        struct loaded_image img;
        mem.image = i + 1;
        ok = loader_load_file_into(opt->firmware[i], &mem, &img, err, sizeof err);
        if (!ok) {
            soc_log(m->soc, "hilda-emu: %s: %s\n", opt->firmware[i], err);
            const char *other = strstr(err, "overlaps image ");
            unsigned long k = other ? strtoul(other + strlen("overlaps image "), NULL, 10) : 0;
            if (k >= 1 && k <= i)
                soc_log(m->soc, "hilda-emu: %s and %s overlap: two images may not load the same address\n",
                        opt->firmware[k - 1], opt->firmware[i]);
            break;
        }
        if (i == 0)
            m->vector_base = img.vector_base;
        any_flash = any_flash || img.flash_hi != 0;
        ok = symbols_merge(m->symbols, img.symbols);
        symbols_free(img.symbols);
    }
    free(mem.owner);
    if (ok && !any_flash) {
        soc_log(m->soc, "hilda-emu: the images put nothing in flash (no vector table)\n");
        ok = false;
    }
    if (!ok)
        return false;
    symbols_finish(m->symbols);
    if (n > 1)
        m->vector_base = SOC_FLASH_BASE;      /* silicon: the vector table at 0 */
    return true;
}

struct machine *machine_new(struct soc *soc, const struct machine_options *opt)
{
    if (!opt || !opt->firmware[0]) {
        soc_log(soc, "hilda-emu: no firmware given\n");
        return NULL;
    }
    struct machine *m = calloc(1, sizeof *m);
    if (!m) {
        soc_log(soc, "hilda-emu: out of memory\n");
        return NULL;
    }
    m->soc = soc;
    m->hooks = opt->hooks;
    m->wake_fd = -1;
    m->trace_irq = opt->trace_irq;
    m->trace_mmio = opt->trace_mmio;
    m->realtime = opt->realtime;
    m->powered = true;
    m->nvic_gen = 1;                   /* top_gen 0: nothing cached yet */
    m->block_info = calloc(SOC_FLASH_SIZE / 2, sizeof *m->block_info);
    if (!m->block_info) {
        soc_log(soc, "hilda-emu: out of memory\n");
        machine_free(m);
        return NULL;
    }
    soc->input_arrived = mcpu_input_arrived;
    soc->input_ctx = m;
    const struct nvic_host host = { m, on_nvic_changed, on_sysreset };
    nvic_init(&m->nvic, soc, &host);
    soc->irq_changed = on_irq_changed;
    soc->irq_ctx = m;

    if (!setup_cpu(m, opt->bus_windows, opt->n_bus_windows)) {
        machine_free(m);
        return NULL;
    }
    m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->wake_fd < 0) {
        soc_log(soc, "hilda-emu: eventfd: %s\n", strerror(errno));
        machine_free(m);
        return NULL;
    }
    soc_watch_fd(soc, m->wake_fd, on_wake, m);

    soc_reset(soc, RESET_POWER_ON);
    if (!load_images(m, opt)) {
        machine_free(m);
        return NULL;
    }
    mcpu_reset(m);
    return m;
}

/* The soc is the board's: it stays (with the CPU's hooks on it unhooked). */
void machine_free(struct machine *m)
{
    if (!m)
        return;
    if (m->wake_fd >= 0) {
        soc_unwatch_fd(m->soc, m->wake_fd);
        close(m->wake_fd);
    }
    if (m->soc->input_ctx == m) {
        m->soc->input_arrived = NULL;
        m->soc->input_ctx = NULL;
    }
    if (m->soc->irq_ctx == m) {
        m->soc->irq_changed = NULL;
        m->soc->irq_ctx = NULL;
    }
    if (m->uc)
        uc_close(m->uc);
    symbols_free(m->symbols);
    free(m->block_info);
    free(m);
}

const char *machine_unicorn_version(void)
{
    static char text[32];
    unsigned major = 0, minor = 0;
    unsigned v = uc_version(&major, &minor);
    snprintf(text, sizeof text, "%u.%u.%u", major, minor, (v >> 8) & 0xFFu);
    return text;
}

struct soc *machine_soc(struct machine *m)
{
    return m->soc;
}

const struct symbols *machine_symbols(const struct machine *m)
{
    return m->symbols;
}

uint32_t machine_pc(const struct machine *m)
{
    return reg_get(m, UC_ARM_REG_PC);
}

const char *machine_function_at(const struct machine *m, uint32_t addr)
{
    return symbols_lookup(m->symbols, addr & ~1u, NULL);
}

void machine_set_ram_observer(struct machine *m, machine_ram_access_fn fn, void *ctx)
{
    m->ram_fn = fn;
    m->ram_ctx = ctx;
    const struct machine_range all = { SOC_RAM_BASE, SOC_RAM_BASE + SOC_RAM_SIZE };
    machine_set_ram_watch(m, &all, fn ? 1 : 0);
#if !MACHINE_VTLB
    if (fn && !m->ram_hooked) {
        /* One hook over both views of data RAM (its code alias at
         * 0x00800000 and 0x20000000): Unicorn walks its hook list on every
         * access, so each hook costs every access. hook_ram drops what lies
         * between (FICR, UICR: no RAM). */
        int types = UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE;
        uc_hook_add(m->uc, &m->ram_hook, types, (void *)hook_ram, m, SOC_CODE_RAM_ALIAS,
                    SOC_RAM_BASE + SOC_RAM_SIZE - 1);
        m->ram_hooked = true;
    } else if (!fn && m->ram_hooked) {
        uc_hook_del(m->uc, m->ram_hook);
        m->ram_hooked = false;
    } else {
        return;
    }
    /* code translated before the change does not see it */
    mcpu_forget_code(m, true);
#endif
}

void machine_set_ram_watch(struct machine *m, const struct machine_range *ranges, unsigned n)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    uint64_t pages[WATCH_PAGES / 64] = { 0 };
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = ranges[i].lo, b = ranges[i].hi;
        if (a < SOC_RAM_BASE)
            a = SOC_RAM_BASE;
        if (b > (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE)
            b = (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE;
        if (b <= a)
            continue;                     /* empty, or no RAM: no CPU access reaches it as RAM */
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        for (uint64_t p = (a - SOC_RAM_BASE) >> WATCH_PAGE_BITS; p <= (b - 1 - SOC_RAM_BASE) >> WATCH_PAGE_BITS; p++)
            pages[p / 64] |= 1ull << (p % 64);
    }
    m->ram_watch_lo = hi ? (uint32_t)lo : 0;
    m->ram_watch_hi = hi ? (uint32_t)hi : 0;
#if MACHINE_VTLB
    /* A page that stops being watched stays on the window until the next
     * flush: its accesses cost a callback each but still reach RAM, and the
     * observer's range test drops them. Only a page new to the window needs
     * Unicorn's TLB flushed (the next access to each page then asks tlb_fill
     * again), and a flush costs more than a thousand accesses through the
     * window: the buffer a peripheral takes for each transfer and gives back
     * after it (EP0's, the UART's) would flush twice per transfer. More
     * than WATCH_STALE_MAX stale pages (all of RAM, watched while the
     * observer has no ranges yet) are dropped with a flush. */
    bool new_page = false;
    unsigned stale = 0;
    for (unsigned i = 0; i < WATCH_PAGES / 64; i++) {
        new_page = new_page || (pages[i] & ~m->watched_pages[i]) != 0;
        stale += (unsigned)__builtin_popcountll(m->watched_pages[i] & ~pages[i]);
    }
    if (new_page || stale > WATCH_STALE_MAX) {
        memcpy(m->watched_pages, pages, sizeof pages);
        uc_ctl_flush_tlb(m->uc);
        m->stats.tlb_flushes++;
    }
#else
    (void)pages;
#endif
}

/* Shared by the model unit tests: a bare soc (no CPU) whose log goes to a
 * memory buffer, bus helpers and an IRQ edge counter. */
#ifndef MODELS_HARNESS_H
#define MODELS_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models.h"
#include "soc_impl.h"

struct harness {
    struct soc *soc;
    FILE *log;
    char *logbuf;
    size_t loglen;
    unsigned irq_rises[SOC_IRQ_LINES];
};

static void harness_irq(void *ctx, unsigned irq, bool level)
{
    struct harness *h = ctx;
    if (level && irq < SOC_IRQ_LINES)
        h->irq_rises[irq]++;
}

static inline struct harness *harness_new(void)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->log = open_memstream(&h->logbuf, &h->loglen);
    assert_non_null(h->log);
    h->soc = soc_new(h->log);
    assert_non_null(h->soc);
    h->soc->irq_changed = harness_irq;
    h->soc->irq_ctx = h;
    return h;
}

static inline void harness_free(struct harness *h)
{
    soc_free(h->soc);
    fclose(h->log);
    free(h->logbuf);
    free(h);
}

/* Everything logged so far ("" if nothing). */
static inline const char *harness_log(struct harness *h)
{
    fflush(h->log);
    return h->logbuf ? h->logbuf : "";
}

static inline bool log_has(struct harness *h, const char *text)
{
    return strstr(harness_log(h), text) != NULL;
}

static inline uint32_t rd(struct harness *h, uint32_t addr)
{
    return soc_bus_read(h->soc, addr);
}

static inline void wr(struct harness *h, uint32_t addr, uint32_t value)
{
    soc_bus_write(h->soc, addr, value);
}

/* Virtual time */
static inline vtime_t now(struct harness *h)
{
    return soc_now(h->soc);
}

static inline void run_for(struct harness *h, vtime_t cycles)
{
    soc_advance(h->soc, soc_now(h->soc) + cycles);
}

static inline void run_to(struct harness *h, vtime_t when)
{
    soc_advance(h->soc, when);
}

static inline bool irq(struct harness *h, unsigned line)
{
    return h->soc->irq_level[line];
}

#endif

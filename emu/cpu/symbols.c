/* A sorted table of function symbols: address -> name for fault reports. */
#define _POSIX_C_SOURCE 200809L   /* strnlen */
#include "symbols.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SYMBOLS 1000000u       /* far more than any image this chip can hold */
#define MAX_NAME 256u

struct symbol {
    uint32_t addr, size;
    char *name;
    size_t order;                  /* insertion order: ties keep the first added */
};

struct symbols {
    struct symbol *v;
    size_t n, cap;
    bool sorted;
};

struct symbols *symbols_new(void)
{
    struct symbols *s = calloc(1, sizeof *s);
    if (s)
        s->sorted = true;
    return s;
}

void symbols_free(struct symbols *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    free(s->v);
    free(s);
}

bool symbols_add(struct symbols *s, uint32_t addr, uint32_t size, const char *name, size_t name_len)
{
    if (!s || !name)
        return false;
    size_t len = strnlen(name, name_len < MAX_NAME ? name_len : MAX_NAME);
    if (len == 0 || s->n >= MAX_SYMBOLS)
        return false;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct symbol *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, name, len);
    copy[len] = '\0';
    s->v[s->n] = (struct symbol){ addr, size, copy, s->n };
    s->n++;
    s->sorted = false;
    // cppcheck-suppress memleak ; copy is kept in s->v[] (above) and freed with the table
    return true;
}

bool symbols_merge(struct symbols *dst, const struct symbols *src)
{
    if (!dst)
        return false;
    for (size_t i = 0; src && i < src->n; i++)
        if (!symbols_add(dst, src->v[i].addr, src->v[i].size, src->v[i].name, MAX_NAME))
            return false;
    return true;
}

static int by_addr(const void *a, const void *b)
{
    const struct symbol *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* sized symbols before zero-sized ones at the same address, then first added */
    if ((x->size == 0) != (y->size == 0))
        return x->size == 0 ? 1 : -1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void symbols_finish(struct symbols *s)
{
    if (!s || s->sorted)
        return;
    qsort(s->v, s->n, sizeof s->v[0], by_addr);
    s->sorted = true;
}

size_t symbols_count(const struct symbols *s)
{
    return s ? s->n : 0;
}

const char *symbols_lookup(const struct symbols *s, uint32_t addr, uint32_t *offset)
{
    if (offset)
        *offset = 0;
    if (!s || !s->sorted || s->n == 0 || addr < s->v[0].addr)
        return "?";
    /* last symbol with start <= addr */
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    /* among several at that address, the first (sorted) one */
    uint32_t start = s->v[lo].addr;
    while (lo > 0 && s->v[lo - 1].addr == start)
        lo--;
    const struct symbol *sym = &s->v[lo];
    if (sym->size != 0 && addr - sym->addr >= sym->size) {
        /* past its end: maybe inside an earlier, larger symbol (rare) or nowhere */
        return "?";
    }
    if (sym->size == 0 && addr - sym->addr >= 0x10000u)
        return "?";                   /* an unsized label far away says nothing */
    if (offset)
        *offset = addr - sym->addr;
    return sym->name;
}

bool symbols_find(const struct symbols *s, const char *name, uint32_t *addr)
{
    if (!s || !name)
        return false;
    const struct symbol *best = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, name) == 0 && (!best || s->v[i].order < best->order))
            best = &s->v[i];
    }
    if (best && addr)
        *addr = best->addr;
    return best != NULL;
}

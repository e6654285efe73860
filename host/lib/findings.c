#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hilda_findings_init(struct hilda_findings *f)
{
    memset(f, 0, sizeof *f);
}

void hilda_findings_free(struct hilda_findings *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

void hilda_findings_add(struct hilda_findings *f, enum hilda_severity sev, const char *id, const char *where,
                        const char *fmt, ...)
{
    if (!f)
        return;
    if (f->n >= HILDA_FINDINGS_MAX) {
        f->dropped++;
        return;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        if (cap > HILDA_FINDINGS_MAX)
            cap = HILDA_FINDINGS_MAX;
        struct hilda_finding *v = realloc(f->v, cap * sizeof *v);
        if (!v) {
            f->dropped++;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    struct hilda_finding *x = &f->v[f->n++];
    memset(x, 0, sizeof *x);
    x->severity = sev;
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->where, sizeof x->where, "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
}

size_t hilda_findings_count(const struct hilda_findings *f, enum hilda_severity at_least)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += f->v[i].severity >= at_least;
    return n;
}

const char *hilda_severity_name(enum hilda_severity s)
{
    switch (s) {
    case HILDA_SEV_INFO:
        return "info";
    case HILDA_SEV_WARNING:
        return "warning";
    default:
        return "error";
    }
}

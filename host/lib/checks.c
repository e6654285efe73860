#include "checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hilda_checks_init(struct hilda_checks *c)
{
    memset(c, 0, sizeof *c);
}

void hilda_checks_free(struct hilda_checks *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

void hilda_checks_add(struct hilda_checks *c, const char *id, const char *title, enum hilda_result r,
                      const char *fmt, ...)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct hilda_check *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return;   /* the count in the summary will show the loss */
        c->v = v;
        c->cap = cap;
    }
    struct hilda_check *x = &c->v[c->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->title, sizeof x->title, "%s", title);
    x->result = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reason, sizeof x->reason, fmt, ap);
    va_end(ap);
}

size_t hilda_checks_count(const struct hilda_checks *c, enum hilda_result r)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->v[i].result == r;
    return n;
}

const char *hilda_result_name(enum hilda_result r)
{
    switch (r) {
    case HILDA_PASS:
        return "pass";
    case HILDA_FAIL:
        return "fail";
    case HILDA_WARN:
        return "warn";
    case HILDA_NOT_RUN:
        return "not_run";
    default:
        return "skip";
    }
}

json_t *hilda_json_checks(const struct hilda_checks *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->n; i++) {
        json_t *o = json_object();
        hj_set_str(o, "id", c->v[i].id);
        hj_set_str(o, "title", c->v[i].title);
        hj_set_str(o, "result", hilda_result_name(c->v[i].result));
        hj_set_str(o, "reason", c->v[i].reason);
        hj_append(a, o);
    }
    return a;
}

#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hilda_samples_init(struct hilda_samples *s)
{
    memset(s, 0, sizeof *s);
}

void hilda_samples_free(struct hilda_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

void hilda_samples_add(struct hilda_samples *s, double us)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            s->oom = true;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double hilda_percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    double rank = ceil(p / 100.0 * (double)n);
    size_t r = rank < 1 ? 1 : rank > (double)n ? n : (size_t)rank;
    return sorted[r - 1];
}

void hilda_summarize(struct hilda_samples *s, struct hilda_summary *o)
{
    memset(o, 0, sizeof *o);
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    o->n = s->n;
    o->min = s->v[0];
    o->max = s->v[s->n - 1];
    o->mean = sum / (double)s->n;
    o->p50 = hilda_percentile(s->v, s->n, 50);
    o->p90 = hilda_percentile(s->v, s->n, 90);
    o->p99 = hilda_percentile(s->v, s->n, 99);
}

void hilda_histogram(const struct hilda_samples *s, unsigned long counts[HILDA_HIST_BUCKETS])
{
    memset(counts, 0, sizeof(unsigned long) * HILDA_HIST_BUCKETS);
    for (size_t i = 0; i < s->n; i++) {
        unsigned k = 0;
        double x = s->v[i];
        while (x >= 2.0 && k < HILDA_HIST_BUCKETS - 1) {
            x /= 2.0;
            k++;
        }
        counts[k]++;
    }
}

double hilda_bucket_lower(unsigned k)
{
    return k == 0 ? 0.0 : ldexp(1.0, (int)k);
}

/* Latency statistics: nearest-rank percentiles and a log2 histogram. */
#ifndef HILDA_STATS_H
#define HILDA_STATS_H

#include <stdbool.h>
#include <stddef.h>

#define HILDA_HIST_BUCKETS 24   /* bucket 0: [0, 2) us; bucket k: [2^k, 2^(k+1)) us */

struct hilda_samples {
    double *v;               /* microseconds */
    size_t n, cap;
    bool oom;
};

struct hilda_summary {
    size_t n;
    double min, p50, p90, p99, max, mean;
};

void hilda_samples_init(struct hilda_samples *s);
void hilda_samples_free(struct hilda_samples *s);
void hilda_samples_add(struct hilda_samples *s, double us);
/* Sorts the samples; a summary of nothing is all zero with n = 0. */
void hilda_summarize(struct hilda_samples *s, struct hilda_summary *out);
/* The p-th percentile (0 < p <= 100) of sorted samples, nearest rank. */
double hilda_percentile(const double *sorted, size_t n, double p);
void hilda_histogram(const struct hilda_samples *s, unsigned long counts[HILDA_HIST_BUCKETS]);
/* Lower edge of bucket k in microseconds (0 for bucket 0). */
double hilda_bucket_lower(unsigned k);

#endif

/* Time split of the bridge's transfers: see profile.h. */
#include "profile.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum span { SP_CLIENT, SP_SUBMIT, SP_READS, SP_HOP, SP_DEVICE, SP_BACK, SP_REAP, SP_N };

static const char *const span_name[SP_N] = {
    "client+socket", "submit", "  of which reads", "hop", "device", "back", "reap",
};

static bool enabled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t sum[SP_N], n_urbs, n_client, v_sum, cpu_sum, last_reap_out;

void prof_init(void)
{
    const char *v = getenv("HILDA_BRIDGE_PROFILE");
    enabled = v && *v && *v != '0';
}

bool prof_on(void)
{
    return enabled;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t prof_now(void)
{
    return enabled ? clock_ns(CLOCK_MONOTONIC) : 0;
}

uint64_t prof_thread_cpu(void)
{
    return enabled ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
}

static uint64_t span(uint64_t from, uint64_t to)
{
    return to > from && from ? to - from : 0;
}

void prof_record(const struct urb_prof *p)
{
    prof_record_at(p, prof_now());
}

void prof_record_at(const struct urb_prof *p, uint64_t reap_out)
{
    if (!enabled || !p->submit_in || !p->done)
        return;
    pthread_mutex_lock(&lock);
    /* only back-to-back transfers: a gap of more than 10 ms is the client
     * doing something else */
    uint64_t gap = span(last_reap_out, p->submit_in);
    if (gap && gap < 10000000u) {
        sum[SP_CLIENT] += gap;
        n_client++;
    }
    sum[SP_SUBMIT] += span(p->submit_in, p->posted);
    sum[SP_READS] += span(p->submit_in, p->reads_done);
    sum[SP_HOP] += span(p->posted, p->taken);
    sum[SP_DEVICE] += span(p->taken, p->done);
    sum[SP_BACK] += span(p->done, p->reap_in);
    sum[SP_REAP] += span(p->reap_in, reap_out);
    v_sum += span(p->v_taken, p->v_done);
    cpu_sum += span(p->cpu_taken, p->cpu_done);
    n_urbs++;
    last_reap_out = reap_out;
    pthread_mutex_unlock(&lock);
}

void prof_report(FILE *log)
{
    if (!enabled)
        return;
    pthread_mutex_lock(&lock);
    fprintf(log, "usb profile: %llu URBs; mean microseconds per transfer:\n", (unsigned long long)n_urbs);
    for (int i = 0; i < SP_N && n_urbs; i++) {
        uint64_t n = i == SP_CLIENT ? n_client : n_urbs;
        fprintf(log, "usb profile:   %-18s %8.1f\n", span_name[i], n ? (double)sum[i] / (double)n / 1000.0 : 0.0);
    }
    if (n_urbs)
        fprintf(log, "usb profile:   device in virtual time %.1f us, CPU thread busy %.1f us\n",
                (double)v_sum / (double)n_urbs / 64.0, (double)cpu_sum / (double)n_urbs / 1000.0);
    pthread_mutex_unlock(&lock);
}

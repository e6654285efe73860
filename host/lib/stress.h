/* Stress pieces, each verifying every answer:
 *   descriptors  GET_DESCRIPTOR with wLength 0..max for every descriptor the
 *                device has, and GET_VARIANT for each stress variant (the
 *                ZLP boundaries): each reply must be min(wLength, length)
 *                bytes, where length is what the descriptor itself declares,
 *                equal to the start of the full descriptor;
 *   echo         ECHO_WRITE then ECHO_READ for every length 0..max, once
 *                with aligned buffers and once with unaligned ones (usbtest
 *                14 and 21), the data compared;
 *   random       valid and invalid requests drawn from a seeded generator
 *                against a model of the device (echo contents, an armed
 *                FAULT_STALL): data where the model says data, a STALL where
 *                it says STALL;
 *   async        many control transfers in flight at once, each verified,
 *                completing in order.
 * The device must be the hilda firmware (vendor protocol). */
#ifndef HILDA_STRESS_H
#define HILDA_STRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "checks.h"
#include "device.h"
#include "status.h"
#include "timing.h"

enum hilda_stress_piece {
    HILDA_STRESS_DESCRIPTORS,
    HILDA_STRESS_ECHO,
    HILDA_STRESS_RANDOM,
    HILDA_STRESS_ASYNC,
    HILDA_STRESS_PIECES
};

struct hilda_stress_options {
    unsigned max_length;     /* descriptors: wLength 0..max_length (0: 1024) */
    unsigned length_step;    /* (0: 1) */
    unsigned echo_max;       /* echo: lengths 0..echo_max (0: 4096) */
    unsigned echo_step;      /* (0: 1) */
    uint64_t seed;           /* random: the generator's seed */
    unsigned random_count;   /* random: requests (0: 2000) */
    unsigned async_total;    /* async: transfers (0: 1024) */
    unsigned async_in_flight;/* async: at once (0: 32) */
    unsigned max_reported;   /* failures described in the report (0: 10) */
    hilda_progress_fn progress;
    void *progress_ctx;
};

struct hilda_stress_report {
    enum hilda_stress_piece piece;
    uint64_t transfers;      /* requests made */
    uint64_t verified;       /* answers that matched the expectation */
    uint64_t failures;
    uint64_t stalls_expected;/* requests expected to STALL (and did) */
    double seconds;
    uint64_t seed;           /* random */
    bool partial;            /* the piece stopped early (device gone, interrupted): the counts are what
                                was verified before that, the error says why it stopped */
    struct hilda_checks failed;   /* the first max_reported failures, one sentence each */
};

const char *hilda_stress_piece_name(enum hilda_stress_piece p);
bool hilda_stress_piece_parse(const char *s, enum hilda_stress_piece *p);
void hilda_stress_report_init(struct hilda_stress_report *r, enum hilda_stress_piece p);
void hilda_stress_report_free(struct hilda_stress_report *r);

/* Runs one piece. HILDA_OK when it ran to the end (failures are in the
 * report); an error when it could not (device gone, interrupted): then the
 * report is marked partial and keeps what was verified before the stop. */
enum hilda_status hilda_stress_run(struct hilda_device *d, enum hilda_stress_piece p, const struct hilda_stress_options *o,
                                   struct hilda_stress_report *r, struct hilda_error *e);

/* The generator used by `random` (splitmix64): the same seed gives the
 * same request sequence, so a failure can be replayed with --seed. */
uint64_t hilda_rng_next(uint64_t *state);

#endif

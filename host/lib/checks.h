/* Results of a battery (ch9, stress): one entry per check, with an id, a
 * title, a result and the reason in one sentence. */
#ifndef HILDA_CHECKS_H
#define HILDA_CHECKS_H

#include <stddef.h>

#include "json.h"

/* HILDA_NOT_RUN: the battery stopped (Ctrl-C, device gone) before the check
 * could start or finish: no verdict, neither a pass nor a failure. */
enum hilda_result { HILDA_PASS, HILDA_FAIL, HILDA_WARN, HILDA_SKIP, HILDA_NOT_RUN };

struct hilda_check {
    char id[48];
    char title[96];
    enum hilda_result result;
    char reason[288];
};

struct hilda_checks {
    struct hilda_check *v;
    size_t n, cap;
};

void hilda_checks_init(struct hilda_checks *c);
void hilda_checks_free(struct hilda_checks *c);
void hilda_checks_add(struct hilda_checks *c, const char *id, const char *title, enum hilda_result r,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t hilda_checks_count(const struct hilda_checks *c, enum hilda_result r);
const char *hilda_result_name(enum hilda_result r);
/* [{"id", "title", "result", "reason"}, ...] */
json_t *hilda_json_checks(const struct hilda_checks *c);

#endif

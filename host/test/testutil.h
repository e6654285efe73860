/* Shared by the libhilda unit tests: cmocka, and the hilda dongle's own
 * descriptors as the firmware answers them (docs/protocol.md). */
#ifndef HILDA_TESTUTIL_H
#define HILDA_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "findings.h"

static const uint8_t hilda_device_desc[18] = {
    0x12, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x40, 0x09, 0x12, 0x01, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x01,
};

static const uint8_t hilda_config_desc[32] = {
    0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
    0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0x00, 0x00, 0x04,
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,
    0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,
};

static const uint8_t hilda_bos_desc[12] = { 0x05, 0x0F, 0x0C, 0x00, 0x01, 0x07, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00 };

static const uint8_t hilda_string0[4] = { 0x04, 0x03, 0x09, 0x04 };

static inline const struct hilda_finding *find_finding(const struct hilda_findings *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].id, id) == 0)
            return &f->v[i];
    return NULL;
}

/* A string descriptor from ASCII, as the firmware widens it. */
static inline size_t make_string(uint8_t *out, const char *s)
{
    size_t n = strlen(s);
    out[0] = (uint8_t)(2 + 2 * n);
    out[1] = 0x03;
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = (uint8_t)s[i];
        out[3 + 2 * i] = 0;
    }
    return 2 + 2 * n;
}

#define assert_finding(f, id) assert_non_null(find_finding((f), (id)))
#define assert_no_finding(f, id) assert_null(find_finding((f), (id)))

#endif

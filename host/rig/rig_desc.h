/* The rig description: which FTDI adapter drives which dongle's reset and
 * power lines (docs/host.md, "Rig"). A JSON file, {"dongles": [entry, ...]}
 * or one entry alone; every field has the bench's default (reset D0 for
 * 50 ms, power D1 active high with 500 ms off in a cycle), so no file at all
 * describes the standard bench with one adapter. Options override the
 * file's entry. Parsing is apart from any I/O: the unit tests feed text. */
#ifndef HILDA_RIG_DESC_H
#define HILDA_RIG_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define HILDA_RIG_PINS 8
#define HILDA_RIG_STRING_MAX 128
#define HILDA_RIG_RESET_MS 50
#define HILDA_RIG_OFF_MS 500
#define HILDA_RIG_MS_MAX 60000u

/* One dongle's entry. */
struct hilda_rig {
    char dongle[HILDA_RIG_STRING_MAX];   /* the dongle's USB serial; "" when not given */
    struct {
        char serial[HILDA_RIG_STRING_MAX];   /* "" any (there must be one adapter) */
        uint16_t vid, pid;                   /* 0: any of the supported ones */
        char interface;                      /* 'A'..'D' */
    } adapter;
    unsigned reset_pin, reset_ms;        /* always active low, open drain */
    unsigned power_pin, power_off_ms;
    bool power_active_high;
    char uart[HILDA_RIG_STRING_MAX];     /* "" none */
};

/* What the command line says, over the file (NULL / -1: not given). */
struct hilda_rig_overrides {
    const char *dongle;         /* selects the entry */
    const char *adapter;        /* the adapter's serial */
    int reset_pin, power_pin;
    int power_active_high;      /* 1 high, 0 low */
};
#define HILDA_RIG_NO_OVERRIDES { NULL, NULL, -1, -1, -1 }

/* The bench's defaults (the description of a bench without a file). */
void hilda_rig_defaults(struct hilda_rig *r);

/* Reads the entry for o->dongle (or the only entry) from the text of a
 * description, then applies the overrides. `name` says where the text came
 * from, for the sentences. Usage errors (exit 2) say what is wrong. */
enum hilda_status hilda_rig_parse(const char *text, size_t len, const char *name,
                                  const struct hilda_rig_overrides *o, struct hilda_rig *r, struct hilda_error *e);

/* The same from a file; path NULL: no file (defaults and overrides). */
enum hilda_status hilda_rig_load(const char *path, const struct hilda_rig_overrides *o, struct hilda_rig *r,
                                 struct hilda_error *e);

/* Applies the overrides to an entry and checks the result (pins apart). */
enum hilda_status hilda_rig_override(struct hilda_rig *r, const struct hilda_rig_overrides *o,
                                     struct hilda_error *e);

#endif

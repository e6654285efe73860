/* Device counters reported by HILDA_REQ_GET_COUNTERS. Drivers increment the
 * fields where the events happen; interrupt handlers are the only writers of
 * each field, so plain increments are enough on a single core. */
#ifndef HILDA_COUNTERS_H
#define HILDA_COUNTERS_H

#include "hilda/protocol.h"

extern struct hilda_counters counters;

void counters_reset(void);

#endif

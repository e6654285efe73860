#include "counters.h"

#include <string.h>

struct hilda_counters counters;

void counters_reset(void)
{
    memset(&counters, 0, sizeof counters);
    counters.core_hz = 64000000u;
}

/* Monotonic time for timeouts and latency measurement. */
#ifndef HILDA_CLOCK_H
#define HILDA_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

uint64_t hilda_now_ns(void);
/* Sleeps ms milliseconds, returning early (false) if hilda_interrupted is set. */
bool hilda_sleep_ms(unsigned ms);

#endif

/* Function names of the firmware from its ELF symbol table, for reports. */
#ifndef EMU_SYMBOLS_H
#define EMU_SYMBOLS_H

#include <stdint.h>

struct symbols;

/* NULL-safe: an image without symbols (Intel HEX) gives "?" everywhere. */
const char *symbols_lookup(const struct symbols *s, uint32_t addr, uint32_t *offset);

#endif

/* Function names of the firmware from its ELF symbol table, for reports. */
#ifndef EMU_SYMBOLS_H
#define EMU_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbols;

/* NULL-safe: an image without symbols (Intel HEX) gives "?" everywhere. */
const char *symbols_lookup(const struct symbols *s, uint32_t addr, uint32_t *offset);

/* Building a table (the loader does this from .symtab): add every function,
 * then finish once (sorts; later lookups are binary searches). Names are
 * copied; name_len bytes at most (a name stops at its first NUL). */
struct symbols *symbols_new(void);
void symbols_free(struct symbols *s);
bool symbols_add(struct symbols *s, uint32_t addr, uint32_t size, const char *name, size_t name_len);
void symbols_finish(struct symbols *s);
/* Adds every function of src to dst (several images, one table); finish
 * dst afterwards. */
bool symbols_merge(struct symbols *dst, const struct symbols *src);
size_t symbols_count(const struct symbols *s);
/* Address of a function by name (the first one added wins); false if none. */
bool symbols_find(const struct symbols *s, const char *name, uint32_t *addr);

#endif

/* The firmware links no C library: these are the string.h functions it
 * provides itself (firmware/src/libc.c). Only the cross build sees this
 * directory; host unit tests use the system's string.h. */
#ifndef HILDA_FIRMWARE_STRING_H
#define HILDA_FIRMWARE_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif

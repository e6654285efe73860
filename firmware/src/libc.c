/* The few C library functions the firmware and the compiler need. hilda links
 * no C library (-nostdlib), so its flash holds only what it uses. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Word at a time when both pointers are word-aligned: the UART and USB paths
 * copy whole buffers, and a quarter of the stores is a quarter of the bus
 * cycles on the chip (and of the slow-path stores in hilda-emu). */
/* may_alias: the words are read and written through other types too */
typedef uint32_t __attribute__((may_alias)) word;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(word *)(void *)d = *(const word *)(const void *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n--; x++, y++) {
        if (*x != *y)
            return *x - *y;
    }
    return 0;
}

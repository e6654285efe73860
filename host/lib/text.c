#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* C1 controls (U+0080..U+009F) can steer terminals too */
    if (len == 2 && c == 0xC2 && s[1] < 0xA0)
        return 0;
    return len;
}

void hilda_escape(const char *in, char *out, size_t cap)
{
    if (!cap)
        return;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t n = strlen((const char *)p), k = 0, i = 0;
    while (i < n) {
        size_t len = p[i] >= 0x20 && p[i] < 0x7F ? 1 : utf8_len(p + i, n - i);
        if (len) {
            if (k + len >= cap)
                break;
            memcpy(out + k, p + i, len);
            k += len;
            i += len;
        } else {
            if (k + 4 >= cap)
                break;
            snprintf(out + k, cap - k, "\\x%02x", p[i]);
            k += 4;
            i++;
        }
    }
    out[k] = '\0';
}

void hilda_hexdump(FILE *f, const uint8_t *data, size_t n, const char *prefix)
{
    for (size_t off = 0; off < n; off += 16) {
        fprintf(f, "%s%04zx ", prefix ? prefix : "", off);
        for (size_t i = 0; i < 16; i++) {
            if (off + i < n)
                fprintf(f, " %02x", data[off + i]);
            else
                fputs("   ", f);
            if (i == 7)
                fputc(' ', f);
        }
        fputs("  |", f);
        for (size_t i = 0; i < 16 && off + i < n; i++) {
            uint8_t c = data[off + i];
            fputc(c >= 0x20 && c < 0x7F ? c : '.', f);
        }
        fputs("|\n", f);
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool hilda_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    size_t i = 0, len = strlen(s);
    while (i < len) {
        char c = s[i];
        if (c == ' ' || c == ',' || c == ':' || c == '\t' || c == '\n' || c == '-') {
            i++;
            continue;
        }
        if (c == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            i += 2;
            continue;
        }
        if (i + 1 >= len)
            return false;
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0 || *n >= cap)
            return false;
        out[(*n)++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return true;
}

bool hilda_parse_uint(const char *s, unsigned long max, unsigned long *v)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 0);
    if (errno || *end || x > max)
        return false;
    *v = x;
    return true;
}

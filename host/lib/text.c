#include "text.h"

#include <errno.h>
#include <stdio.h>
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

void hilda_hexdiff(FILE *f, const uint8_t *want, size_t nwant, const uint8_t *got, size_t ngot, const char *prefix)
{
    enum { SPAN = 64 };
    const char *p = prefix ? prefix : "";
    size_t at = 0;
    while (at < nwant && at < ngot && want[at] == got[at])
        at++;
    if (at < nwant && at < ngot)
        fprintf(f, "%sfirst difference at offset %zu (0x%zx): sent 0x%02x, read 0x%02x\n", p, at, at, want[at], got[at]);
    else
        fprintf(f, "%sthe first %zu bytes agree; %zu sent, %zu read\n", p, at, nwant, ngot);
    size_t from = at >= 16 ? (at & ~(size_t)15) - 16 : 0;
    char inner[32];
    snprintf(inner, sizeof inner, "%s  ", p);
    fprintf(f, "%ssent, from offset %zu:\n", p, from);
    if (from < nwant)
        hilda_hexdump(f, want + from, nwant - from < SPAN ? nwant - from : SPAN, inner);
    fprintf(f, "%sread, from offset %zu:\n", p, from);
    if (from < ngot)
        hilda_hexdump(f, got + from, ngot - from < SPAN ? ngot - from : SPAN, inner);
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

static bool hex_separator(char c)
{
    return c == ' ' || c == ',' || c == ':' || c == '\t' || c == '\n' || c == '-';
}

/* Each run between separators is an optional 0x and an even number of hex
 * digits: "1 2" is refused rather than read as 0x12. */
bool hilda_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *n, char *why, size_t whycap)
{
    char scratch[1];
    if (!why || !whycap) {
        why = scratch;
        whycap = sizeof scratch;
    }
    why[0] = '\0';
    *n = 0;
    size_t total = 0, len = strlen(s);
    /* first the whole text: a bad character or an odd run is named before any size */
    for (size_t i = 0; i < len;) {
        if (hex_separator(s[i])) {
            i++;
            continue;
        }
        size_t start = i;
        if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
            i += 2;
        size_t digits = 0;
        while (i < len && !hex_separator(s[i])) {
            if (hexval(s[i]) < 0) {
                char shown[40];
                hilda_escape(s, shown, sizeof shown);
                snprintf(why, whycap, "'%s%s' is not hexadecimal", shown, strlen(shown) < len ? "..." : "");
                return false;
            }
            digits++;
            i++;
        }
        if (digits % 2) {
            if (start == 0 && i == len)
                snprintf(why, whycap, "odd number of digits (%zu)", digits);
            else
                snprintf(why, whycap, "odd number of digits (%zu) in '%.*s'", digits, (int)(i - start > 20 ? 20 : i - start),
                         s + start);
            return false;
        }
        total += digits / 2;
    }
    if (total > cap) {
        snprintf(why, whycap, "%zu bytes, at most %zu", total, cap);
        return false;
    }
    for (size_t i = 0; i < len;) {
        if (hex_separator(s[i])) {
            i++;
            continue;
        }
        if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
            i += 2;
        while (i < len && !hex_separator(s[i])) {
            out[(*n)++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
            i += 2;
        }
    }
    return true;
}

bool hilda_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    return hilda_hex_parse(s, out, cap, n, NULL, 0);
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

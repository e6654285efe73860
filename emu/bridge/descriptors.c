/* Descriptor checks and queries: see descriptors.h. The limits are USB 2.0
 * chapter 9 for a full-speed device; where Linux only warns and repairs
 * (usb_parse_configuration), the bridge refuses instead, because a test
 * harness must show a malformed descriptor rather than publish a repaired one. */
#include "descriptors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool ep0_size_ok(uint8_t mps)
{
    return mps == 8 || mps == 16 || mps == 32 || mps == 64;
}

int usbdesc_check_device_head(const uint8_t *d, size_t len, char *err, size_t errlen)
{
    if (len < 8)
        return fail(err, errlen, "device descriptor: %zu bytes answered, at least 8 needed", len);
    if (d[1] != USB_DT_DEVICE)
        return fail(err, errlen, "device descriptor: bDescriptorType %u, not 1 (DEVICE)", d[1]);
    if (d[0] != USB_DT_DEVICE_SIZE)
        return fail(err, errlen, "device descriptor: bLength %u, not 18", d[0]);
    if (!ep0_size_ok(d[7]))
        return fail(err, errlen, "device descriptor: bMaxPacketSize0 %u is not 8, 16, 32 or 64", d[7]);
    return 0;
}

int usbdesc_check_device(const uint8_t *d, size_t len, char *err, size_t errlen)
{
    if (len != USB_DT_DEVICE_SIZE)
        return fail(err, errlen, "device descriptor: %zu bytes answered to a request for 18", len);
    if (usbdesc_check_device_head(d, len, err, errlen))
        return -1;
    if (d[17] == 0)
        return fail(err, errlen, "device descriptor: bNumConfigurations is 0");
    if (d[17] > HOST_MAX_CONFIGS)
        return fail(err, errlen, "device descriptor: bNumConfigurations %u (at most %u)", d[17], HOST_MAX_CONFIGS);
    return 0;
}

int usbdesc_check_config_head(const uint8_t *c, size_t len, char *err, size_t errlen)
{
    if (len < USB_DT_CONFIG_SIZE)
        return fail(err, errlen, "configuration descriptor: %zu bytes answered, 9 needed", len);
    if (c[1] != USB_DT_CONFIG)
        return fail(err, errlen, "configuration descriptor: bDescriptorType %u, not 2 (CONFIGURATION)", c[1]);
    if (c[0] < USB_DT_CONFIG_SIZE)
        return fail(err, errlen, "configuration descriptor: bLength %u, less than 9", c[0]);
    uint16_t total = usb_get_le16(c + 2);
    if (total < c[0])
        return fail(err, errlen, "configuration descriptor: wTotalLength %u is less than its bLength %u", total, c[0]);
    return 0;
}

/* Bulk and control: 8..64 in powers of two; interrupt: up to 64;
 * isochronous: up to 1023 (USB 2.0 §5.6.3, 5.7.3, 5.8.3, 9.6.6). */
static bool ep_size_ok(uint8_t attributes, uint16_t wmaxpacket)
{
    uint16_t mps = wmaxpacket & 0x7FF;
    if (wmaxpacket & 0xF800)
        return false;              /* high-speed transaction bits on a full-speed device */
    switch (attributes & 3) {
    case 0: return ep0_size_ok((uint8_t)(mps <= 64 ? mps : 0));
    case 1: return mps <= 1023;
    case 2: return mps == 8 || mps == 16 || mps == 32 || mps == 64;
    default: return mps >= 1 && mps <= 64;
    }
}

int usbdesc_check_config(const uint8_t *c, size_t len, char *err, size_t errlen)
{
    if (usbdesc_check_config_head(c, len, err, errlen))
        return -1;
    uint16_t total = usb_get_le16(c + 2);
    if (len != total)
        return fail(err, errlen, "configuration %u: %zu bytes answered, wTotalLength says %u", c[5], len, total);
    if (c[4] == 0)
        return fail(err, errlen, "configuration %u: bNumInterfaces is 0", c[5]);
    if (c[4] > HOST_MAX_INTERFACES)
        return fail(err, errlen, "configuration %u: bNumInterfaces %u (at most %u)", c[5], c[4], HOST_MAX_INTERFACES);

    uint32_t seen = 0;              /* interface numbers */
    int cur_ifnum = -1;
    unsigned declared_eps = 0, eps = 0;
    uint8_t addrs[32];
    size_t off = c[0];
    while (off < len) {
        if (len - off < 2)
            return fail(err, errlen, "configuration %u: a descriptor header is cut at byte %zu", c[5], off);
        uint8_t blen = c[off], type = c[off + 1];
        if (blen < 2)
            return fail(err, errlen, "configuration %u: descriptor at byte %zu has bLength %u", c[5], off, blen);
        if (blen > len - off)
            return fail(err, errlen, "configuration %u: descriptor at byte %zu (bLength %u) runs past wTotalLength %u",
                        c[5], off, blen, total);
        if (type == USB_DT_INTERFACE) {
            if (blen < USB_DT_INTERFACE_SIZE)
                return fail(err, errlen, "configuration %u: interface descriptor at byte %zu has bLength %u",
                            c[5], off, blen);
            if (cur_ifnum >= 0 && eps != declared_eps)
                return fail(err, errlen, "configuration %u: interface %d declares %u endpoints, %u follow",
                            c[5], cur_ifnum, declared_eps, eps);
            uint8_t ifnum = c[off + 2];
            if (ifnum >= HOST_MAX_INTERFACES)
                return fail(err, errlen, "configuration %u: interface number %u (at most %u)", c[5], ifnum,
                            HOST_MAX_INTERFACES - 1);
            seen |= 1u << ifnum;
            cur_ifnum = ifnum;
            declared_eps = c[off + 4];
            eps = 0;
        } else if (type == USB_DT_ENDPOINT) {
            if (blen < USB_DT_ENDPOINT_SIZE)
                return fail(err, errlen, "configuration %u: endpoint descriptor at byte %zu has bLength %u",
                            c[5], off, blen);
            if (cur_ifnum < 0)
                return fail(err, errlen, "configuration %u: endpoint descriptor at byte %zu before any interface",
                            c[5], off);
            uint8_t addr = c[off + 2];
            if ((addr & USB_EP_NUM_MASK) == 0 || (addr & 0x70))
                return fail(err, errlen, "configuration %u: endpoint address 0x%02x is not valid", c[5], addr);
            if (!ep_size_ok(c[off + 3], usb_get_le16(c + off + 4)))
                return fail(err, errlen, "configuration %u: endpoint 0x%02x wMaxPacketSize 0x%04x is not valid at "
                            "full speed", c[5], addr, usb_get_le16(c + off + 4));
            if (eps >= sizeof addrs)
                return fail(err, errlen, "configuration %u: interface %d has more than 32 endpoints", c[5], cur_ifnum);
            for (unsigned i = 0; i < eps; i++) {
                if (addrs[i] == addr)
                    return fail(err, errlen, "configuration %u: endpoint 0x%02x twice in interface %d", c[5], addr,
                                cur_ifnum);
            }
            addrs[eps++] = addr;
        } else if (type == USB_DT_CONFIG || type == USB_DT_DEVICE) {
            return fail(err, errlen, "configuration %u: a %s descriptor inside it at byte %zu", c[5],
                        type == USB_DT_CONFIG ? "configuration" : "device", off);
        }
        off += blen;
    }
    if (cur_ifnum >= 0 && eps != declared_eps)
        return fail(err, errlen, "configuration %u: interface %d declares %u endpoints, %u follow", c[5], cur_ifnum,
                    declared_eps, eps);
    unsigned n = (unsigned)__builtin_popcount(seen);
    if (n != c[4])
        return fail(err, errlen, "configuration %u: bNumInterfaces %u, but %u interfaces are described", c[5], c[4], n);
    return 0;
}

static size_t put_utf8(char *out, size_t cap, size_t at, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (at + n >= cap)
        return at;                 /* no room: the text is cut, never split inside a character */
    memcpy(out + at, b, n);
    return at + n;
}

int usbdesc_string_utf8(const uint8_t *s, size_t len, char *utf8, size_t cap, char *err, size_t errlen)
{
    if (cap)
        utf8[0] = 0;
    if (len < 2)
        return fail(err, errlen, "string descriptor: %zu bytes answered", len);
    if (s[1] != USB_DT_STRING)
        return fail(err, errlen, "string descriptor: bDescriptorType %u, not 3 (STRING)", s[1]);
    if (s[0] < 2)
        return fail(err, errlen, "string descriptor: bLength %u", s[0]);
    if (s[0] > len)
        return fail(err, errlen, "string descriptor: bLength %u, but %zu bytes answered", s[0], len);
    size_t units = (size_t)(s[0] - 2) / 2, at = 0;
    bool odd = (s[0] & 1) != 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t u = usb_get_le16(s + 2 + 2 * i), cp = u;
        if (u >= 0xD800 && u < 0xDC00 && i + 1 < units) {
            uint32_t lo = usb_get_le16(s + 4 + 2 * i);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xD800 && u < 0xE000) {
            cp = 0xFFFD;
        } else if (u < 0x20 || u == 0x7F) {
            cp = '?';
        }
        if (cap)
            at = put_utf8(utf8, cap, at, cp);
    }
    if (odd && cap)
        at = put_utf8(utf8, cap, at, 0xFFFD);
    if (cap)
        utf8[at] = 0;
    return (int)units;
}

int usbdesc_first_langid(const uint8_t *s, size_t len, uint16_t *langid, char *err, size_t errlen)
{
    if (len < 2 || s[1] != USB_DT_STRING)
        return fail(err, errlen, "string descriptor 0: not a string descriptor");
    if (s[0] < 4 || s[0] > len)
        return fail(err, errlen, "string descriptor 0: bLength %u with %zu bytes answered: no LANGID", s[0], len);
    *langid = usb_get_le16(s + 2);
    return 0;
}

/* Walks the interface and endpoint descriptors of a checked configuration. */
struct walk {
    const uint8_t *c;
    size_t len, off;
    int ifnum, alt;
};

static const uint8_t *walk_next(struct walk *w)
{
    while (w->off < w->len) {
        const uint8_t *d = w->c + w->off;
        w->off += d[0];
        if (d[1] == USB_DT_INTERFACE) {
            w->ifnum = d[2];
            w->alt = d[3];
        }
        if (d[1] == USB_DT_INTERFACE || d[1] == USB_DT_ENDPOINT)
            return d;
    }
    return NULL;
}

static struct walk walk_start(const uint8_t *c, size_t len)
{
    return (struct walk){ c, len, len >= USB_DT_CONFIG_SIZE ? c[0] : len, -1, -1 };
}

/* alts NULL: any alternate setting. */
static bool find_endpoint(const uint8_t *c, size_t len, const uint8_t *alts, bool any_alt, uint8_t address,
                          struct usb_ep_info *out)
{
    struct walk w = walk_start(c, len);
    for (const uint8_t *d; (d = walk_next(&w));) {
        if (d[1] != USB_DT_ENDPOINT || d[2] != address)
            continue;
        int want_alt = alts ? alts[w.ifnum] : 0;
        if (!any_alt && w.alt != want_alt)
            continue;
        *out = (struct usb_ep_info){ .address = d[2], .attributes = d[3], .interface = (uint8_t)w.ifnum,
                                     .alt = (uint8_t)w.alt, .max_packet = usb_get_le16(d + 4) };
        return true;
    }
    return false;
}

bool usbdesc_find_endpoint(const uint8_t *c, size_t len, const uint8_t *alts, uint8_t address,
                           struct usb_ep_info *out)
{
    return find_endpoint(c, len, alts, false, address, out);
}

bool usbdesc_find_endpoint_any_alt(const uint8_t *c, size_t len, uint8_t address, struct usb_ep_info *out)
{
    return find_endpoint(c, len, NULL, true, address, out);
}

unsigned usbdesc_alt_count(const uint8_t *c, size_t len, uint8_t ifnum)
{
    unsigned n = 0;
    struct walk w = walk_start(c, len);
    for (const uint8_t *d; (d = walk_next(&w));) {
        if (d[1] == USB_DT_INTERFACE && d[2] == ifnum)
            n++;
    }
    return n;
}

const uint8_t *usbdesc_find_alt(const uint8_t *c, size_t len, uint8_t ifnum, uint8_t alt)
{
    struct walk w = walk_start(c, len);
    for (const uint8_t *d; (d = walk_next(&w));) {
        if (d[1] == USB_DT_INTERFACE && d[2] == ifnum && d[3] == alt)
            return d;
    }
    return NULL;
}

bool usbdesc_has_alt(const uint8_t *c, size_t len, uint8_t ifnum, uint8_t alt)
{
    return usbdesc_find_alt(c, len, ifnum, alt) != NULL;
}

const uint8_t *usbdesc_config_by_value(const uint8_t *configs, size_t len, uint8_t value, size_t *config_len)
{
    size_t off = 0;
    while (len - off >= USB_DT_CONFIG_SIZE) {
        const uint8_t *c = configs + off;
        size_t total = usb_get_le16(c + 2);
        if (total < USB_DT_CONFIG_SIZE || total > len - off)
            return NULL;
        if (c[5] == value) {
            *config_len = total;
            return c;
        }
        off += total;
    }
    return NULL;
}

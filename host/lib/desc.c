#include "desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t hilda_le16(const uint8_t *p, size_t len, size_t off)
{
    if (!p || off > len || len - off < 2)
        return 0;
    return (uint16_t)(p[off] | p[off + 1] << 8);
}

uint32_t hilda_le32(const uint8_t *p, size_t len, size_t off)
{
    if (!p || off > len || len - off < 4)
        return 0;
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

static uint8_t byte_at(const uint8_t *p, size_t len, size_t off)
{
    return off < len ? p[off] : 0;
}

const char *hilda_desc_type_name(uint8_t type)
{
    switch (type) {
    case USB_DT_DEVICE: return "device";
    case USB_DT_CONFIG: return "configuration";
    case USB_DT_STRING: return "string";
    case USB_DT_INTERFACE: return "interface";
    case USB_DT_ENDPOINT: return "endpoint";
    case USB_DT_DEVICE_QUALIFIER: return "device qualifier";
    case USB_DT_OTHER_SPEED_CONFIG: return "other speed configuration";
    case USB_DT_INTERFACE_POWER: return "interface power";
    case USB_DT_OTG: return "OTG";
    case USB_DT_DEBUG: return "debug";
    case USB_DT_INTERFACE_ASSOC: return "interface association";
    case USB_DT_BOS: return "BOS";
    case USB_DT_DEVICE_CAPABILITY: return "device capability";
    case USB_DT_SS_EP_COMPANION: return "SuperSpeed endpoint companion";
    case 0x21: return "class-specific (HID or DFU functional)";
    case 0x24: return "class-specific interface";
    case 0x25: return "class-specific endpoint";
    default: return type >= 0x40 ? "vendor or class-specific" : "unknown";
    }
}

void hilda_desc_list_init(struct hilda_desc_list *l)
{
    memset(l, 0, sizeof *l);
}

void hilda_desc_list_free(struct hilda_desc_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static struct hilda_desc *list_push(struct hilda_desc_list *l)
{
    if (l->n >= HILDA_DESC_RECORDS_MAX)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (cap > HILDA_DESC_RECORDS_MAX)
            cap = HILDA_DESC_RECORDS_MAX;
        struct hilda_desc *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    struct hilda_desc *d = &l->v[l->n++];
    memset(d, 0, sizeof *d);
    return d;
}

bool hilda_parse_device(const uint8_t *buf, size_t len, struct hilda_device_desc *o, struct hilda_findings *f)
{
    memset(o, 0, sizeof *o);
    if (!buf || len < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-DEV-SHORT", "device descriptor",
                           "%zu bytes arrived: too few for a descriptor header", len);
        return false;
    }
    o->bLength = buf[0];
    o->bDescriptorType = buf[1];
    if (o->bDescriptorType != USB_DT_DEVICE)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-DEV-TYPE", "device descriptor",
                           "bDescriptorType is 0x%02X, not 0x01 (device)", o->bDescriptorType);
    if (o->bLength != USB_DT_DEVICE_SIZE)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-DEV-LENGTH", "device descriptor",
                           "bLength is %u; a device descriptor is 18 bytes", o->bLength);
    if (len < USB_DT_DEVICE_SIZE) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-DEV-SHORT", "device descriptor",
                           "only %zu of 18 bytes arrived; the missing fields read as 0", len);
    } else if (len > USB_DT_DEVICE_SIZE) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-DEV-LONG", "device descriptor",
                           "%zu bytes arrived for an 18-byte descriptor", len);
    }
    o->bcdUSB = hilda_le16(buf, len, 2);
    o->bDeviceClass = byte_at(buf, len, 4);
    o->bDeviceSubClass = byte_at(buf, len, 5);
    o->bDeviceProtocol = byte_at(buf, len, 6);
    o->bMaxPacketSize0 = byte_at(buf, len, 7);
    o->idVendor = hilda_le16(buf, len, 8);
    o->idProduct = hilda_le16(buf, len, 10);
    o->bcdDevice = hilda_le16(buf, len, 12);
    o->iManufacturer = byte_at(buf, len, 14);
    o->iProduct = byte_at(buf, len, 15);
    o->iSerialNumber = byte_at(buf, len, 16);
    o->bNumConfigurations = byte_at(buf, len, 17);
    return len >= 8 && o->bDescriptorType == USB_DT_DEVICE;
}

/* Minimum bLength for the fields of each decoded kind. */
static size_t min_length(enum hilda_desc_kind k)
{
    switch (k) {
    case HILDA_KIND_CONFIG: return USB_DT_CONFIG_SIZE;
    case HILDA_KIND_INTERFACE: return USB_DT_INTERFACE_SIZE;
    case HILDA_KIND_ENDPOINT: return USB_DT_ENDPOINT_SIZE;
    case HILDA_KIND_IAD: return USB_DT_INTERFACE_ASSOC_SIZE;
    case HILDA_KIND_BOS: return USB_DT_BOS_SIZE;
    case HILDA_KIND_DEVCAP: return 3;
    default: return 2;
    }
}

static void decode(struct hilda_desc *d)
{
    const uint8_t *p = d->raw;
    size_t n = d->avail;
    if (n < min_length(d->kind) || d->bLength < min_length(d->kind))
        return;
    d->decoded = true;
    switch (d->kind) {
    case HILDA_KIND_CONFIG:
        d->u.config = (struct hilda_config_desc){
            .wTotalLength = hilda_le16(p, n, 2), .bNumInterfaces = p[4], .bConfigurationValue = p[5],
            .iConfiguration = p[6], .bmAttributes = p[7], .bMaxPower = p[8] };
        break;
    case HILDA_KIND_INTERFACE:
        d->u.intf = (struct hilda_interface_desc){
            .bInterfaceNumber = p[2], .bAlternateSetting = p[3], .bNumEndpoints = p[4],
            .bInterfaceClass = p[5], .bInterfaceSubClass = p[6], .bInterfaceProtocol = p[7], .iInterface = p[8] };
        break;
    case HILDA_KIND_ENDPOINT:
        d->u.ep = (struct hilda_endpoint_desc){
            .bEndpointAddress = p[2], .bmAttributes = p[3], .wMaxPacketSize = hilda_le16(p, n, 4), .bInterval = p[6] };
        break;
    case HILDA_KIND_IAD:
        d->u.iad = (struct hilda_iad_desc){
            .bFirstInterface = p[2], .bInterfaceCount = p[3], .bFunctionClass = p[4],
            .bFunctionSubClass = p[5], .bFunctionProtocol = p[6], .iFunction = p[7] };
        break;
    case HILDA_KIND_BOS:
        d->u.bos = (struct hilda_bos_desc){ .wTotalLength = hilda_le16(p, n, 2), .bNumDeviceCaps = p[4] };
        break;
    case HILDA_KIND_DEVCAP: {
        struct hilda_devcap_desc *c = &d->u.cap;
        memset(c, 0, sizeof *c);
        c->bDevCapabilityType = p[2];
        switch (c->bDevCapabilityType) {
        case USB_CAP_USB20_EXT:
            c->bmAttributes = hilda_le32(p, n, 3);
            break;
        case USB_CAP_SUPERSPEED:
            c->bmAttributes = byte_at(p, n, 3);
            c->wSpeedsSupported = hilda_le16(p, n, 4);
            c->bFunctionalitySupport = byte_at(p, n, 6);
            c->bU1DevExitLat = byte_at(p, n, 7);
            c->bU2DevExitLat = hilda_le16(p, n, 8);
            break;
        case USB_CAP_CONTAINER_ID:
        case USB_CAP_PLATFORM:   /* both: a reserved byte, then 16 bytes of UUID */
            if (n >= 20)
                memcpy(c->uuid, p + 4, 16);
            break;
        default:
            break;
        }
        break;
    }
    default:
        break;
    }
}

/* Walks a chain of descriptors. Each step advances by bLength >= 2, so the
 * walk ends after at most len/2 steps whatever the bytes say. */
static void walk(const uint8_t *buf, size_t len, const char *where, bool bos, struct hilda_desc_list *out,
                 struct hilda_findings *f)
{
    size_t off = 0;
    bool seen_interface = false, seen_endpoint = false;
    char loc[64];

    while (off < len) {
        snprintf(loc, sizeof loc, "%s offset %zu", where, off);
        if (len - off < 2) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TRAILING-BYTE", loc,
                               "1 byte left over: too short for a descriptor header");
            out->truncated = true;
            return;
        }
        uint8_t bl = buf[off], type = buf[off + 1];
        if (bl < 2) {
            hilda_findings_add(f, HILDA_SEV_ERROR, bl == 0 ? "P-BLENGTH-ZERO" : "P-BLENGTH-ONE", loc,
                               "bLength %u (type 0x%02X): a descriptor is at least 2 bytes; the rest "
                               "(%zu bytes) cannot be parsed (a parser that trusted it would loop forever)",
                               bl, type, len - off);
            out->truncated = true;
            return;
        }
        struct hilda_desc *d = list_push(out);
        if (!d) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOO-MANY", loc,
                               "more than %d descriptors: the rest is not parsed", HILDA_DESC_RECORDS_MAX);
            out->truncated = true;
            return;
        }
        d->offset = off;
        d->bLength = bl;
        d->bDescriptorType = type;
        d->avail = bl <= len - off ? bl : len - off;
        d->raw = buf + off;

        if (off == 0) {
            d->kind = bos ? HILDA_KIND_BOS : HILDA_KIND_CONFIG;
            uint8_t want = bos ? USB_DT_BOS : USB_DT_CONFIG;
            if (type != want && !(type == USB_DT_OTHER_SPEED_CONFIG && !bos))
                hilda_findings_add(f, HILDA_SEV_ERROR, "P-HEAD-TYPE", loc,
                                   "the first descriptor has type 0x%02X, not 0x%02X (%s)", type, want,
                                   hilda_desc_type_name(want));
            d->depth = 0;
        } else if (bos) {
            d->kind = type == USB_DT_DEVICE_CAPABILITY ? HILDA_KIND_DEVCAP : HILDA_KIND_OTHER;
            d->depth = 1;
        } else {
            switch (type) {
            case USB_DT_INTERFACE:
                d->kind = HILDA_KIND_INTERFACE;
                d->depth = 1;
                seen_interface = true;
                seen_endpoint = false;
                break;
            case USB_DT_ENDPOINT:
                d->kind = HILDA_KIND_ENDPOINT;
                d->depth = 2;
                if (!seen_interface)
                    hilda_findings_add(f, HILDA_SEV_ERROR, "P-EP-ORPHAN", loc,
                                       "an endpoint descriptor before any interface descriptor");
                seen_endpoint = true;
                break;
            case USB_DT_INTERFACE_ASSOC:
                d->kind = HILDA_KIND_IAD;
                d->depth = 1;
                seen_interface = false;
                seen_endpoint = false;
                break;
            case USB_DT_CONFIG:
            case USB_DT_DEVICE:
            case USB_DT_OTHER_SPEED_CONFIG:
            case USB_DT_BOS:
                hilda_findings_add(f, HILDA_SEV_ERROR, "P-NESTED-HEAD", loc,
                                   "a %s descriptor inside a configuration", hilda_desc_type_name(type));
                d->kind = HILDA_KIND_OTHER;
                d->depth = 1;
                break;
            default:
                d->kind = HILDA_KIND_OTHER;
                d->depth = seen_endpoint ? 3 : seen_interface ? 2 : 1;
                break;
            }
        }

        if (bl > len - off) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-PAST-END", loc,
                               "bLength %u (%s) runs past the end: only %zu bytes are left", bl,
                               hilda_desc_type_name(type), len - off);
            out->truncated = true;
        }
        size_t need = min_length(d->kind);
        if (d->kind != HILDA_KIND_OTHER && bl < need)
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOO-SHORT", loc,
                               "bLength %u is too short for a %s descriptor (%zu bytes); its fields are not read",
                               bl, hilda_desc_type_name(type), need);
        decode(d);
        if (bl > len - off)
            return;
        off += bl;
        out->consumed = off;
    }
}

bool hilda_parse_config(const uint8_t *buf, size_t len, const char *where, struct hilda_desc_list *out,
                        struct hilda_findings *f)
{
    hilda_desc_list_free(out);
    if (!where)
        where = "configuration";
    if (!buf || len < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-CFG-SHORT", where,
                           "%zu bytes arrived: too few for a descriptor header", buf ? len : 0);
        return false;
    }
    size_t parse_len = len;
    uint16_t total = hilda_le16(buf, len, 2);
    if (len >= 4) {
        if (total < USB_DT_CONFIG_SIZE) {
            /* shorter than its own header: not believed at all */
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-BOGUS", where,
                               "wTotalLength %u is shorter than the 9-byte header; all %zu bytes are parsed",
                               total, len);
        } else if (total < len) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-LONG", where,
                               "%zu bytes arrived but wTotalLength says %u; the extra bytes are ignored",
                               len, total);
            parse_len = total;
        } else if (total > len) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-SHORT", where,
                               "wTotalLength says %u bytes but only %zu arrived", total, len);
        }
    }
    walk(buf, parse_len, where, false, out, f);
    if (len >= 4 && !out->truncated && out->consumed != total && total <= len && total >= USB_DT_CONFIG_SIZE)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-MISMATCH", where,
                           "the descriptors add up to %zu bytes, wTotalLength says %u", out->consumed, total);
    return out->n > 0 && out->v[0].decoded && out->v[0].kind == HILDA_KIND_CONFIG &&
           (out->v[0].bDescriptorType == USB_DT_CONFIG || out->v[0].bDescriptorType == USB_DT_OTHER_SPEED_CONFIG);
}

bool hilda_parse_bos(const uint8_t *buf, size_t len, struct hilda_desc_list *out, struct hilda_findings *f)
{
    hilda_desc_list_free(out);
    if (!buf || len < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-BOS-SHORT", "BOS",
                           "%zu bytes arrived: too few for a descriptor header", buf ? len : 0);
        return false;
    }
    size_t parse_len = len;
    uint16_t total = hilda_le16(buf, len, 2);
    if (len >= 4) {
        if (total < USB_DT_BOS_SIZE) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-BOGUS", "BOS",
                               "wTotalLength %u is shorter than the 5-byte header; all %zu bytes are parsed",
                               total, len);
        } else if (total < len) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-LONG", "BOS",
                               "%zu bytes arrived but wTotalLength says %u; the extra bytes are ignored",
                               len, total);
            parse_len = total;
        } else if (total > len) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-SHORT", "BOS",
                               "wTotalLength says %u bytes but only %zu arrived", total, len);
        }
    }
    walk(buf, parse_len, "BOS", true, out, f);
    if (len >= 4 && !out->truncated && out->consumed != total && total <= len && total >= USB_DT_BOS_SIZE)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-TOTAL-MISMATCH", "BOS",
                           "the descriptors add up to %zu bytes, wTotalLength says %u", out->consumed, total);
    return out->n > 0 && out->v[0].decoded && out->v[0].kind == HILDA_KIND_BOS &&
           out->v[0].bDescriptorType == USB_DT_BOS;
}

/* Appends the UTF-8 of code point cp if it fits (always leaving the NUL). */
static size_t put_utf8(char *out, size_t cap, size_t at, uint32_t cp)
{
    char tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | cp >> 6);
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | cp >> 12);
        tmp[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (char)(0xF0 | cp >> 18);
        tmp[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        tmp[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (at + n >= cap)
        return at;
    memcpy(out + at, tmp, n);
    return at + n;
}

bool hilda_parse_string(const uint8_t *buf, size_t len, const char *where, char *out, size_t cap,
                        struct hilda_findings *f)
{
    if (cap)
        out[0] = '\0';
    if (!where)
        where = "string";
    if (!buf || len < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-SHORT", where,
                           "%zu bytes arrived: too few for a descriptor header", buf ? len : 0);
        return false;
    }
    uint8_t bl = buf[0];
    if (buf[1] != USB_DT_STRING)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-TYPE", where,
                           "bDescriptorType is 0x%02X, not 0x03 (string)", buf[1]);
    if (bl < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-BLENGTH", where, "bLength %u is below 2", bl);
        return false;
    }
    if (bl != len)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-LENGTH", where,
                           "bLength is %u but %zu bytes arrived", bl, len);
    size_t n = bl < len ? bl : len;
    if (n % 2)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-ODD", where,
                           "%zu bytes: odd, so the last byte is half a UTF-16 unit (dropped)", n);
    size_t at = 0;
    bool bad = false;
    for (size_t i = 2; i + 1 < n && cap; i += 2) {
        uint32_t u = (uint32_t)(buf[i] | buf[i + 1] << 8);
        uint32_t cp = u;
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t lo = i + 3 < n ? (uint32_t)(buf[i + 2] | buf[i + 3] << 8) : 0;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                cp = 0xFFFD;
                bad = true;
            }
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            cp = 0xFFFD;
            bad = true;
        } else if (u == 0) {
            hilda_findings_add(f, HILDA_SEV_WARNING, "P-STR-NUL", where,
                               "a NUL character at byte %zu (strings have no terminator)", i);
        }
        at = put_utf8(out, cap, at, cp);
    }
    if (cap)
        out[at < cap ? at : cap - 1] = '\0';
    if (bad)
        hilda_findings_add(f, HILDA_SEV_WARNING, "P-STR-UTF16", where,
                           "not well-formed UTF-16: unpaired surrogates shown as U+FFFD");
    return buf[1] == USB_DT_STRING;
}

size_t hilda_parse_langids(const uint8_t *buf, size_t len, uint16_t *langids, size_t max,
                           struct hilda_findings *f)
{
    if (!buf || len < 2) {
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR0-SHORT", "string 0",
                           "%zu bytes arrived: too few for a descriptor header", buf ? len : 0);
        return 0;
    }
    if (buf[1] != USB_DT_STRING)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-TYPE", "string 0",
                           "bDescriptorType is 0x%02X, not 0x03 (string)", buf[1]);
    size_t n = buf[0] < len ? buf[0] : len;
    if (buf[0] != len)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-LENGTH", "string 0",
                           "bLength is %u but %zu bytes arrived", buf[0], len);
    if (n % 2)
        hilda_findings_add(f, HILDA_SEV_ERROR, "P-STR-ODD", "string 0",
                           "%zu bytes: odd, so the last byte is half a LANGID (dropped)", n);
    size_t count = 0;
    for (size_t i = 2; i + 1 < n && count < max; i += 2)
        langids[count++] = (uint16_t)(buf[i] | buf[i + 1] << 8);
    return count;
}

size_t hilda_split_usbfs_blob(const uint8_t *buf, size_t len, size_t *starts, size_t *lens, size_t max,
                              struct hilda_findings *f)
{
    /* usbfs always gives the 18-byte device descriptor first, whatever its bLength says */
    size_t off = len < USB_DT_DEVICE_SIZE ? len : USB_DT_DEVICE_SIZE;
    size_t n = 0;
    while (off < len && n < max) {
        if (len - off < 4) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-BLOB-TRAILING", "descriptor blob",
                               "%zu bytes after the last configuration: too few for a header", len - off);
            break;
        }
        size_t total = hilda_le16(buf, len, off + 2);
        if (total < 4) {
            hilda_findings_add(f, HILDA_SEV_ERROR, "P-BLOB-TOTAL", "descriptor blob",
                               "a configuration at offset %zu claims wTotalLength %zu", off, total);
            total = len - off;   /* give the rest to it: the parser will say more */
        }
        if (total > len - off)
            total = len - off;
        starts[n] = off;
        lens[n] = total;
        n++;
        off += total;
    }
    return n;
}

#include "validate.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E HILDA_SEV_ERROR
#define W HILDA_SEV_WARNING
#define I HILDA_SEV_INFO

/* The interface association's device class triple (usb.org IAD ECN): EF/02/01 */
#define IAD_DEVICE_SUBCLASS 0x02
#define IAD_DEVICE_PROTOCOL 0x01

static bool is_bcd(uint16_t v)
{
    for (int i = 0; i < 4; i++)
        if (((v >> (4 * i)) & 0xF) > 9)
            return false;
    return true;
}

/* A referenced string must exist (USB 2.0 §9.6.7: the index must name a string). */
static void check_string_ref(const struct hilda_desc_set *s, uint8_t index, const char *field, const char *where,
                             struct hilda_findings *f)
{
    if (!index || !s->from_device)
        return;
    if (!s->string0.present) {
        hilda_findings_add(f, E, "C9-STR-NO-LANGID", where,
                           "%s is %u but the device gives no string 0 (LANGID list)", field, index);
        return;
    }
    if (!hilda_desc_set_string(s, index))
        hilda_findings_add(f, E, "C9-STR-MISSING", where, "%s is %u but reading string %u failed (%s)", field,
                           index, index, "refused or no answer");
}

static void check_device(const struct hilda_desc_set *s, const struct hilda_device_desc *d, struct hilda_findings *f)
{
    const char *w = "device descriptor";
    if (!is_bcd(d->bcdUSB))
        hilda_findings_add(f, E, "C9-DEV-BCDUSB", w, "bcdUSB 0x%04X is not binary-coded decimal", d->bcdUSB);
    else if (d->bcdUSB < 0x0100 || d->bcdUSB > 0x0320)
        hilda_findings_add(f, W, "C9-DEV-BCDUSB", w, "bcdUSB 0x%04X is not a USB version hilda knows", d->bcdUSB);
    if (!is_bcd(d->bcdDevice))
        hilda_findings_add(f, W, "C9-DEV-BCDDEVICE", w, "bcdDevice 0x%04X is not binary-coded decimal", d->bcdDevice);
    uint8_t m = d->bMaxPacketSize0;
    if (s->speed >= LIBUSB_SPEED_SUPER) {
        if (m != 9)
            hilda_findings_add(f, E, "C9-DEV-MAXP0", w, "bMaxPacketSize0 %u: SuperSpeed requires 9 (512 bytes)", m);
    } else if (s->speed == LIBUSB_SPEED_HIGH) {
        if (m != 64)
            hilda_findings_add(f, E, "C9-DEV-MAXP0", w, "bMaxPacketSize0 %u: high speed requires 64", m);
    } else if (s->speed == LIBUSB_SPEED_LOW) {
        if (m != 8)
            hilda_findings_add(f, E, "C9-DEV-MAXP0", w, "bMaxPacketSize0 %u: low speed requires 8", m);
    } else if (m != 8 && m != 16 && m != 32 && m != 64) {
        hilda_findings_add(f, E, "C9-DEV-MAXP0", w, "bMaxPacketSize0 %u is not 8, 16, 32 or 64", m);
    }
    if (d->bNumConfigurations == 0)
        hilda_findings_add(f, E, "C9-DEV-NUMCONFIGS", w, "bNumConfigurations is 0: a device has at least one");
    if (d->bDeviceClass == 0 && (d->bDeviceSubClass || d->bDeviceProtocol))
        hilda_findings_add(f, E, "C9-DEV-CLASS", w,
                           "bDeviceClass 0 (per interface) requires bDeviceSubClass and bDeviceProtocol 0");
    check_string_ref(s, d->iManufacturer, "iManufacturer", w, f);
    check_string_ref(s, d->iProduct, "iProduct", w, f);
    check_string_ref(s, d->iSerialNumber, "iSerialNumber", w, f);

    if (!s->from_device)
        return;
    if (d->bcdUSB >= HILDA_BCD_USB_BOS && !s->bos.present)
        hilda_findings_add(f, E, "C9-BOS-MISSING", w,
                           "bcdUSB 0x%04X promises a BOS descriptor but GET_DESCRIPTOR(BOS) was refused",
                           d->bcdUSB);
    if (d->bcdUSB < HILDA_BCD_USB_BOS && s->bos.present)
        hilda_findings_add(f, W, "C9-BOS-UNEXPECTED", w,
                           "the device answers GET_DESCRIPTOR(BOS) but bcdUSB 0x%04X is below 0x0201, so "
                           "hosts will not ask for it", d->bcdUSB);
    bool fs_only = s->speed == LIBUSB_SPEED_FULL || s->speed == LIBUSB_SPEED_LOW;
    if (fs_only && d->bcdUSB >= 0x0200 && s->qualifier.present)
        hilda_findings_add(f, E, "C9-QUALIFIER", "device qualifier",
                           "a full-speed-only device must refuse GET_DESCRIPTOR(DEVICE_QUALIFIER); it answered %zu "
                           "bytes (unless it is high-speed capable and plugged into a full-speed port)",
                           s->qualifier.len);
    if (fs_only && s->other_speed.present)
        hilda_findings_add(f, E, "C9-OTHER-SPEED", "other speed configuration",
                           "a full-speed-only device must refuse GET_DESCRIPTOR(OTHER_SPEED_CONFIGURATION)");
    if (s->speed == LIBUSB_SPEED_HIGH && !s->qualifier.present)
        hilda_findings_add(f, E, "C9-QUALIFIER", "device qualifier",
                           "a high-speed device must answer GET_DESCRIPTOR(DEVICE_QUALIFIER)");
}

/* 1.3 KB, on the stack (bits, not bools: it was an 8 KB calloc per configuration). */
struct ifstate {
    bool seen[256];
    uint32_t alts[256];       /* bit a: alternate setting a seen (the first 32) */
};

static void check_config(const struct hilda_desc_set *s, size_t ci, struct hilda_findings *f,
                         const struct hilda_device_desc *dev, uint8_t *values, size_t nvalues)
{
    const struct hilda_raw *r = &s->configs[ci];
    char where[40];
    snprintf(where, sizeof where, "configuration index %zu", ci);
    if (!r->present) {
        hilda_findings_add(f, E, "C9-CFG-REFUSED", where, "GET_DESCRIPTOR(configuration %zu) failed (%s) although "
                           "bNumConfigurations is %u", ci, hilda_status_name(r->status), dev->bNumConfigurations);
        return;
    }
    struct hilda_desc_list l;
    hilda_desc_list_init(&l);
    if (!hilda_parse_config(r->data, r->len, where, &l, f)) {
        hilda_desc_list_free(&l);
        return;
    }
    const struct hilda_config_desc *c = &l.v[0].u.config;
    if (l.v[0].bLength != USB_DT_CONFIG_SIZE)
        hilda_findings_add(f, E, "C9-CFG-LENGTH", where, "bLength %u: a configuration descriptor is 9 bytes",
                           l.v[0].bLength);
    if (c->bConfigurationValue == 0)
        hilda_findings_add(f, E, "C9-CFG-VALUE", where,
                           "bConfigurationValue 0 is reserved: SET_CONFIGURATION(0) means unconfigured");
    for (size_t i = 0; i < nvalues; i++)
        if (values[i] == c->bConfigurationValue && c->bConfigurationValue)
            hilda_findings_add(f, E, "C9-CFG-VALUE-DUP", where, "bConfigurationValue %u is used twice",
                               c->bConfigurationValue);
    values[nvalues] = c->bConfigurationValue;
    if (!(c->bmAttributes & USB_CONFIG_ATT_ONE))
        hilda_findings_add(f, E, "C9-CFG-ATTR", where, "bmAttributes 0x%02X: bit 7 is reserved and must be 1",
                           c->bmAttributes);
    if (c->bmAttributes & 0x1F)
        hilda_findings_add(f, E, "C9-CFG-ATTR", where, "bmAttributes 0x%02X: bits 4..0 are reserved and must be 0",
                           c->bmAttributes);
    unsigned ma = c->bMaxPower * (s->speed >= LIBUSB_SPEED_SUPER ? 8u : 2u);
    if (ma > (s->speed >= LIBUSB_SPEED_SUPER ? 900u : 500u))
        hilda_findings_add(f, E, "C9-CFG-POWER", where, "bMaxPower asks for %u mA, more than a port may give", ma);
    if (!(c->bmAttributes & USB_CONFIG_ATT_SELFPOWER) && c->bMaxPower == 0)
        hilda_findings_add(f, W, "C9-CFG-POWER", where, "bus-powered but bMaxPower is 0 mA");
    check_string_ref(s, c->iConfiguration, "iConfiguration", where, f);

    struct ifstate ifstate = { 0 };
    struct ifstate *ifs = &ifstate;
    unsigned distinct = 0;
    size_t cur_if = SIZE_MAX;       /* index in l of the current interface descriptor */
    unsigned ep_count = 0;
    uint8_t eps_in_alt[32];
    unsigned neps = 0;
    for (size_t i = 1; i <= l.n; i++) {
        const struct hilda_desc *x = i < l.n ? &l.v[i] : NULL;
        char at[96];
        if (x)
            snprintf(at, sizeof at, "%s offset %zu", where, x->offset);
        /* end of an interface: its endpoint count */
        if (cur_if != SIZE_MAX && (!x || x->kind == HILDA_KIND_INTERFACE || x->kind == HILDA_KIND_IAD)) {
            const struct hilda_desc *ifd = &l.v[cur_if];
            if (ifd->decoded && ep_count != ifd->u.intf.bNumEndpoints) {
                char ifat[96];
                snprintf(ifat, sizeof ifat, "%s offset %zu", where, ifd->offset);
                hilda_findings_add(f, E, "C9-IF-NUMEP", ifat,
                                   "interface %u alternate %u: bNumEndpoints is %u but %u endpoint descriptors follow",
                                   ifd->u.intf.bInterfaceNumber, ifd->u.intf.bAlternateSetting,
                                   ifd->u.intf.bNumEndpoints, ep_count);
            }
            cur_if = SIZE_MAX;
        }
        if (!x)
            break;
        if (!x->decoded)
            continue;
        switch (x->kind) {
        case HILDA_KIND_INTERFACE: {
            const struct hilda_interface_desc *d = &x->u.intf;
            if (x->bLength != USB_DT_INTERFACE_SIZE)
                hilda_findings_add(f, E, "C9-IF-LENGTH", at, "bLength %u: an interface descriptor is 9 bytes",
                                   x->bLength);
            if (!ifs->seen[d->bInterfaceNumber]) {
                ifs->seen[d->bInterfaceNumber] = true;
                distinct++;
                if (d->bAlternateSetting != 0)
                    hilda_findings_add(f, E, "C9-IF-ALT", at,
                                       "interface %u starts with alternate setting %u, not 0", d->bInterfaceNumber,
                                       d->bAlternateSetting);
            }
            if (d->bAlternateSetting < 32) {
                if (ifs->alts[d->bInterfaceNumber] & 1u << d->bAlternateSetting)
                    hilda_findings_add(f, E, "C9-IF-DUP", at, "interface %u alternate setting %u appears twice",
                                       d->bInterfaceNumber, d->bAlternateSetting);
                ifs->alts[d->bInterfaceNumber] |= 1u << d->bAlternateSetting;
            }
            if (d->bInterfaceClass == 0)
                hilda_findings_add(f, E, "C9-IF-CLASS", at, "bInterfaceClass 0 is reserved");
            check_string_ref(s, d->iInterface, "iInterface", at, f);
            cur_if = i;
            ep_count = 0;
            neps = 0;
            break;
        }
        case HILDA_KIND_ENDPOINT: {
            const struct hilda_endpoint_desc *d = &x->u.ep;
            ep_count++;
            if (x->bLength != USB_DT_ENDPOINT_SIZE && x->bLength != HILDA_DT_ENDPOINT_AUDIO_SIZE)
                hilda_findings_add(f, E, "C9-EP-LENGTH", at, "bLength %u: an endpoint descriptor is 7 bytes",
                                   x->bLength);
            else if (x->bLength == HILDA_DT_ENDPOINT_AUDIO_SIZE)
                hilda_findings_add(f, I, "C9-EP-LENGTH", at, "bLength 9: the audio class 1.0 form");
            uint8_t num = d->bEndpointAddress & USB_EP_NUM_MASK;
            if (num == 0)
                hilda_findings_add(f, E, "C9-EP-ADDR", at, "bEndpointAddress 0x%02X names endpoint 0",
                                   d->bEndpointAddress);
            if (d->bEndpointAddress & 0x70)
                hilda_findings_add(f, E, "C9-EP-ADDR", at, "bEndpointAddress 0x%02X: bits 6..4 are reserved",
                                   d->bEndpointAddress);
            for (unsigned k = 0; k < neps; k++)
                if (eps_in_alt[k] == d->bEndpointAddress)
                    hilda_findings_add(f, E, "C9-EP-DUP", at, "endpoint 0x%02X appears twice in one setting",
                                       d->bEndpointAddress);
            if (neps < 32)
                eps_in_alt[neps++] = d->bEndpointAddress;
            unsigned type = d->bmAttributes & USB_EP_XFER_MASK;
            if (d->bmAttributes & 0xC0 || (type != USB_EP_XFER_ISOC && (d->bmAttributes & 0x3C)))
                hilda_findings_add(f, E, "C9-EP-ATTR", at, "bmAttributes 0x%02X: reserved bits are set",
                                   d->bmAttributes);
            if (type == USB_EP_XFER_CONTROL)
                hilda_findings_add(f, E, "C9-EP-ATTR", at, "a control endpoint other than endpoint 0");
            unsigned mps = d->wMaxPacketSize & 0x7FF, mult = (d->wMaxPacketSize >> 11) & 3;
            if (d->wMaxPacketSize & 0xE000)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "wMaxPacketSize 0x%04X: bits 15..13 are reserved",
                                   d->wMaxPacketSize);
            bool fs = s->speed == LIBUSB_SPEED_FULL || s->speed == LIBUSB_SPEED_UNKNOWN;
            bool hs = s->speed == LIBUSB_SPEED_HIGH;
            if ((fs || s->speed == LIBUSB_SPEED_LOW) && mult)
                hilda_findings_add(f, E, "C9-EP-MPS", at,
                                   "wMaxPacketSize 0x%04X: additional transactions are for high speed only",
                                   d->wMaxPacketSize);
            if (type == USB_EP_XFER_BULK && fs && mps != 8 && mps != 16 && mps != 32 && mps != 64)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "bulk at full speed: wMaxPacketSize %u is not 8, 16, 32 "
                                   "or 64", mps);
            if (type == USB_EP_XFER_BULK && hs && mps != 512)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "bulk at high speed: wMaxPacketSize %u is not 512", mps);
            if (type == USB_EP_XFER_INT && fs && mps > 64)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "interrupt at full speed: wMaxPacketSize %u is above 64",
                                   mps);
            if (type == USB_EP_XFER_ISOC && fs && mps > 1023)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "isochronous at full speed: wMaxPacketSize %u is above "
                                   "1023", mps);
            if (type == USB_EP_XFER_INT && fs && d->bInterval == 0)
                hilda_findings_add(f, E, "C9-EP-INTERVAL", at, "interrupt at full speed: bInterval must be 1..255");
            if ((type == USB_EP_XFER_ISOC || (type == USB_EP_XFER_INT && hs)) && (d->bInterval < 1 || d->bInterval > 16))
                hilda_findings_add(f, E, "C9-EP-INTERVAL", at, "bInterval %u: must be 1..16 (2^(n-1) frames)",
                                   d->bInterval);
            if (mps == 0 && type != USB_EP_XFER_ISOC)
                hilda_findings_add(f, E, "C9-EP-MPS", at, "wMaxPacketSize 0 on a non-isochronous endpoint");
            break;
        }
        case HILDA_KIND_IAD: {
            const struct hilda_iad_desc *d = &x->u.iad;
            if (x->bLength != USB_DT_INTERFACE_ASSOC_SIZE)
                hilda_findings_add(f, E, "C9-IAD-LENGTH", at, "bLength %u: an interface association is 8 bytes",
                                   x->bLength);
            if (d->bInterfaceCount == 0)
                hilda_findings_add(f, E, "C9-IAD-COUNT", at, "bInterfaceCount 0");
            if (dev->bDeviceClass != USB_CLASS_MISC || dev->bDeviceSubClass != IAD_DEVICE_SUBCLASS ||
                dev->bDeviceProtocol != IAD_DEVICE_PROTOCOL)
                hilda_findings_add(f, W, "C9-IAD-CLASS", at, "an interface association, but the device class is "
                                   "%02X/%02X/%02X rather than EF/02/01", dev->bDeviceClass, dev->bDeviceSubClass,
                                   dev->bDeviceProtocol);
            check_string_ref(s, d->iFunction, "iFunction", at, f);
            break;
        }
        default:
            if (x->kind == HILDA_KIND_OTHER && x->depth == 1 && x->bDescriptorType < HILDA_DT_CLASS_FIRST &&
                x->bDescriptorType != USB_DT_INTERFACE_POWER && x->bDescriptorType != USB_DT_OTG &&
                x->bDescriptorType != USB_DT_DEBUG)
                hilda_findings_add(f, W, "C9-CFG-UNKNOWN", at, "a descriptor of standard type 0x%02X (%s) where "
                                   "none belongs", x->bDescriptorType, hilda_desc_type_name(x->bDescriptorType));
            break;
        }
    }
    if (distinct != c->bNumInterfaces)
        hilda_findings_add(f, E, "C9-CFG-NUMIF", where, "bNumInterfaces is %u but %u interfaces are described",
                           c->bNumInterfaces, distinct);
    for (unsigned n = 0; n < distinct && n < 256; n++)
        if (!ifs->seen[n]) {
            hilda_findings_add(f, W, "C9-IF-NUMBERS", where,
                               "interface numbers are not 0..%u: %u is missing", distinct - 1, n);
            break;
        }
    for (unsigned n = 0; n < 256; n++) {
        bool gap = false;
        for (unsigned a = 0; a < 32; a++) {
            if (!(ifs->alts[n] & 1u << a))
                gap = true;
            else if (gap) {
                hilda_findings_add(f, W, "C9-IF-ALT", where,
                                   "interface %u: alternate settings are not consecutive from 0", n);
                break;
            }
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct hilda_desc *x = &l.v[i];
        if (x->kind != HILDA_KIND_IAD || !x->decoded)
            continue;
        unsigned first = x->u.iad.bFirstInterface, count = x->u.iad.bInterfaceCount;
        for (unsigned k = first; k < first + count && k < 256; k++)
            if (!ifs->seen[k]) {
                hilda_findings_add(f, E, "C9-IAD-RANGE", where,
                                   "an interface association covers interface %u, which does not exist", k);
                break;
            }
    }

    /* GET_STATUS self-powered bit against this configuration (TD 9.18), when it is the active one */
    if (s->status.present && s->status.len >= 1 && s->active_config == c->bConfigurationValue) {
        bool self = s->status.data[0] & USB_STATUS_SELF_POWERED;
        if (self && !(c->bmAttributes & USB_CONFIG_ATT_SELFPOWER))
            hilda_findings_add(f, E, "C9-STATUS-POWER", where,
                               "GET_STATUS says self-powered but bmAttributes says bus-powered only");
        if (s->status.data[0] & USB_STATUS_REMOTE_WAKEUP && !(c->bmAttributes & USB_CONFIG_ATT_WAKEUP))
            hilda_findings_add(f, E, "C9-STATUS-WAKEUP", where,
                               "GET_STATUS says remote wakeup is enabled but the configuration does not support it");
    }
    hilda_desc_list_free(&l);
}

static void check_bos(const struct hilda_desc_set *s, struct hilda_findings *f)
{
    if (!s->bos.present)
        return;
    struct hilda_desc_list l;
    hilda_desc_list_init(&l);
    if (!hilda_parse_bos(s->bos.data, s->bos.len, &l, f)) {
        hilda_desc_list_free(&l);
        return;
    }
    if (l.v[0].bLength != USB_DT_BOS_SIZE)
        hilda_findings_add(f, E, "C9-BOS-LENGTH", "BOS", "bLength %u: a BOS descriptor is 5 bytes", l.v[0].bLength);
    unsigned caps = 0;
    for (size_t i = 1; i < l.n; i++) {
        const struct hilda_desc *x = &l.v[i];
        char at[48];
        snprintf(at, sizeof at, "BOS offset %zu", x->offset);
        if (x->bDescriptorType != USB_DT_DEVICE_CAPABILITY) {
            hilda_findings_add(f, E, "C9-BOS-TYPE", at, "type 0x%02X where a device capability (0x10) belongs",
                               x->bDescriptorType);
            continue;
        }
        caps++;
        if (!x->decoded)
            continue;
        const struct hilda_devcap_desc *c = &x->u.cap;
        switch (c->bDevCapabilityType) {
        case USB_CAP_USB20_EXT:
            if (x->bLength != 7)
                hilda_findings_add(f, E, "C9-CAP-LENGTH", at, "USB 2.0 extension: bLength %u, not 7", x->bLength);
            if (c->bmAttributes & 0xFFFF00E1u)
                hilda_findings_add(f, E, "C9-CAP-RESERVED", at, "USB 2.0 extension: reserved bits set in "
                                   "bmAttributes 0x%08X", c->bmAttributes);
            if (!(c->bmAttributes & 2))
                hilda_findings_add(f, I, "C9-CAP-LPM", at, "USB 2.0 extension without LPM: fine at full speed (a "
                                   "USB 3 device working at high speed must set it)");
            break;
        case USB_CAP_SUPERSPEED:
            if (x->bLength != 10)
                hilda_findings_add(f, E, "C9-CAP-LENGTH", at, "SuperSpeed capability: bLength %u, not 10", x->bLength);
            break;
        case USB_CAP_CONTAINER_ID:
            if (x->bLength != 20)
                hilda_findings_add(f, E, "C9-CAP-LENGTH", at, "container ID: bLength %u, not 20", x->bLength);
            else if (x->avail > 3 && x->raw[3] != 0)   /* bLength may promise more than arrived */
                hilda_findings_add(f, E, "C9-CAP-RESERVED", at, "container ID: bReserved is 0x%02X", x->raw[3]);
            break;
        case USB_CAP_PLATFORM:
            if (x->bLength < 20)
                hilda_findings_add(f, E, "C9-CAP-LENGTH", at, "platform capability: bLength %u, below 20", x->bLength);
            break;
        default:
            break;
        }
    }
    if (l.v[0].decoded && caps != l.v[0].u.bos.bNumDeviceCaps)
        hilda_findings_add(f, E, "C9-BOS-NUMCAPS", "BOS", "bNumDeviceCaps is %u but %u capabilities follow",
                           l.v[0].u.bos.bNumDeviceCaps, caps);
    hilda_desc_list_free(&l);
}

static void check_strings(const struct hilda_desc_set *s, struct hilda_findings *f)
{
    if (!s->string0.present)
        return;
    const struct hilda_raw *r = &s->string0;
    uint16_t langs[HILDA_SET_LANGIDS_MAX];
    size_t n = hilda_parse_langids(r->data, r->len, langs, HILDA_SET_LANGIDS_MAX, f);
    if (r->len >= 1 && r->data[0] < 4)
        hilda_findings_add(f, E, "C9-STR0-EMPTY", "string 0", "bLength %u: string 0 lists at least one LANGID "
                           "(4 bytes)", r->data[0]);
    for (size_t i = 0; i < n; i++)
        if (langs[i] == 0)
            hilda_findings_add(f, E, "C9-STR0-LANGID", "string 0", "LANGID 0x0000 is not a language");
    for (size_t i = 0; i < s->n_strings; i++) {
        const struct hilda_string_entry *x = &s->strings[i];
        if (!x->raw.present)
            continue;
        char where[32], text[USB_DT_STRING_MAX * 3];
        snprintf(where, sizeof where, "string %u", x->index);
        hilda_parse_string(x->raw.data, x->raw.len, where, text, sizeof text, f);
    }
}

void hilda_validate(const struct hilda_desc_set *s, struct hilda_findings *f)
{
    struct hilda_device_desc dd;
    if (!s->device.present) {
        hilda_findings_add(f, E, "P-DEV-MISSING", "device descriptor", "no device descriptor to check");
        return;
    }
    bool ok = hilda_parse_device(s->device.data, s->device.len, &dd, f);
    if (ok)
        check_device(s, &dd, f);
    uint8_t values[HILDA_SET_CONFIGS_MAX + 1] = { 0 };
    for (size_t i = 0; i < s->n_configs && i < HILDA_SET_CONFIGS_MAX; i++)
        check_config(s, i, f, &dd, values, i);
    check_bos(s, f);
    check_strings(s, f);
}

#include "descprint.h"

#include <libusb.h>
#include <string.h>

#include "desc.h"
#include "text.h"

#define TEXT_MAX (USB_DT_STRING_MAX * 3 + 1)

static void field(FILE *o, unsigned indent, const char *name, const char *fmt, unsigned v)
{
    fprintf(o, "%*s%-19s", (int)indent, "", name);
    fprintf(o, fmt, v);
    fputc('\n', o);
}

static void string_field(FILE *o, const struct hilda_desc_set *s, unsigned indent, const char *name, uint8_t index)
{
    char text[TEXT_MAX], safe[TEXT_MAX * 2];
    hilda_desc_set_string_text(s, index, text, sizeof text);
    hilda_escape(text, safe, sizeof safe);
    fprintf(o, "%*s%-19s%5u %s\n", (int)indent, "", name, index, safe);
}

static void bcd_field(FILE *o, unsigned indent, const char *name, uint16_t v)
{
    fprintf(o, "%*s%-19s%3x.%02x\n", (int)indent, "", name, v >> 8, v & 0xFF);
}

static const char *ep_type(unsigned a)
{
    static const char *const t[] = { "Control", "Isochronous", "Bulk", "Interrupt" };
    return t[a & 3];
}

static void print_raw(FILE *o, unsigned indent, const struct hilda_desc *x)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%*s", (int)indent + 2, "");
    fprintf(o, "%*s%s descriptor (type 0x%02X, %u bytes%s):\n", (int)indent, "",
            hilda_desc_type_name(x->bDescriptorType), x->bDescriptorType, x->bLength,
            x->avail < x->bLength ? ", truncated" : "");
    hilda_hexdump(o, x->raw, x->avail, prefix);
}

static void print_config(FILE *o, const struct hilda_desc_set *s, size_t ci, bool hex)
{
    const struct hilda_raw *r = &s->configs[ci];
    if (!r->present) {
        fprintf(o, "  Configuration Descriptor (index %zu): not available (%s)\n", ci, hilda_status_name(r->status));
        return;
    }
    struct hilda_desc_list l;
    hilda_desc_list_init(&l);
    hilda_parse_config(r->data, r->len, NULL, &l, NULL);
    for (size_t i = 0; i < l.n; i++) {
        const struct hilda_desc *x = &l.v[i];
        unsigned ind = 2 + 2 * x->depth;
        if (!x->decoded) {
            print_raw(o, ind, x);
            continue;
        }
        switch (x->kind) {
        case HILDA_KIND_CONFIG: {
            const struct hilda_config_desc *c = &x->u.config;
            fprintf(o, "%*sConfiguration Descriptor:\n", ind, "");
            ind += 2;
            field(o, ind, "bLength", "%5u", x->bLength);
            field(o, ind, "bDescriptorType", "%5u", x->bDescriptorType);
            field(o, ind, "wTotalLength", "0x%04x", c->wTotalLength);
            field(o, ind, "bNumInterfaces", "%5u", c->bNumInterfaces);
            field(o, ind, "bConfigurationValue", "%5u", c->bConfigurationValue);
            string_field(o, s, ind, "iConfiguration", c->iConfiguration);
            field(o, ind, "bmAttributes", " 0x%02x", c->bmAttributes);
            if (c->bmAttributes & 0x40)
                fprintf(o, "%*s  Self Powered\n", ind, "");
            else
                fprintf(o, "%*s  (Bus Powered)\n", ind, "");
            if (c->bmAttributes & 0x20)
                fprintf(o, "%*s  Remote Wakeup\n", ind, "");
            fprintf(o, "%*s%-19s%5umA\n", ind, "", "MaxPower",
                    c->bMaxPower * (s->speed >= LIBUSB_SPEED_SUPER ? 8u : 2u));
            break;
        }
        case HILDA_KIND_INTERFACE: {
            const struct hilda_interface_desc *d = &x->u.intf;
            fprintf(o, "%*sInterface Descriptor:\n", ind, "");
            ind += 2;
            field(o, ind, "bLength", "%5u", x->bLength);
            field(o, ind, "bDescriptorType", "%5u", x->bDescriptorType);
            field(o, ind, "bInterfaceNumber", "%5u", d->bInterfaceNumber);
            field(o, ind, "bAlternateSetting", "%5u", d->bAlternateSetting);
            field(o, ind, "bNumEndpoints", "%5u", d->bNumEndpoints);
            field(o, ind, "bInterfaceClass", "%5u", d->bInterfaceClass);
            field(o, ind, "bInterfaceSubClass", "%5u", d->bInterfaceSubClass);
            field(o, ind, "bInterfaceProtocol", "%5u", d->bInterfaceProtocol);
            string_field(o, s, ind, "iInterface", d->iInterface);
            break;
        }
        case HILDA_KIND_ENDPOINT: {
            const struct hilda_endpoint_desc *d = &x->u.ep;
            fprintf(o, "%*sEndpoint Descriptor:\n", ind, "");
            ind += 2;
            field(o, ind, "bLength", "%5u", x->bLength);
            field(o, ind, "bDescriptorType", "%5u", x->bDescriptorType);
            fprintf(o, "%*s%-19s 0x%02x  EP %u %s\n", ind, "", "bEndpointAddress", d->bEndpointAddress,
                    d->bEndpointAddress & 0x0F, d->bEndpointAddress & 0x80 ? "IN" : "OUT");
            field(o, ind, "bmAttributes", "%5u", d->bmAttributes);
            fprintf(o, "%*s  Transfer Type          %s\n", ind, "", ep_type(d->bmAttributes));
            fprintf(o, "%*s%-19s 0x%04x  %ux %u bytes\n", ind, "", "wMaxPacketSize", d->wMaxPacketSize,
                    ((d->wMaxPacketSize >> 11) & 3) + 1, d->wMaxPacketSize & 0x7FF);
            field(o, ind, "bInterval", "%5u", d->bInterval);
            break;
        }
        case HILDA_KIND_IAD: {
            const struct hilda_iad_desc *d = &x->u.iad;
            fprintf(o, "%*sInterface Association:\n", ind, "");
            ind += 2;
            field(o, ind, "bLength", "%5u", x->bLength);
            field(o, ind, "bDescriptorType", "%5u", x->bDescriptorType);
            field(o, ind, "bFirstInterface", "%5u", d->bFirstInterface);
            field(o, ind, "bInterfaceCount", "%5u", d->bInterfaceCount);
            field(o, ind, "bFunctionClass", "%5u", d->bFunctionClass);
            field(o, ind, "bFunctionSubClass", "%5u", d->bFunctionSubClass);
            field(o, ind, "bFunctionProtocol", "%5u", d->bFunctionProtocol);
            string_field(o, s, ind, "iFunction", d->iFunction);
            break;
        }
        default:
            print_raw(o, ind, x);
            break;
        }
        if (hex && x->kind != HILDA_KIND_OTHER) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "%*s", (int)ind + 2, "");
            hilda_hexdump(o, x->raw, x->avail, prefix);
        }
    }
    if (l.truncated)
        fprintf(o, "    (parsing stopped early: see the findings)\n");
    hilda_desc_list_free(&l);
}

static void print_bos(FILE *o, const struct hilda_desc_set *s)
{
    if (!s->bos.present) {
        if (s->from_device)
            fprintf(o, "Binary Object Store Descriptor: not available (%s)\n", hilda_status_name(s->bos.status));
        return;
    }
    struct hilda_desc_list l;
    hilda_desc_list_init(&l);
    hilda_parse_bos(s->bos.data, s->bos.len, &l, NULL);
    for (size_t i = 0; i < l.n; i++) {
        const struct hilda_desc *x = &l.v[i];
        if (!x->decoded) {
            print_raw(o, i ? 2 : 0, x);
            continue;
        }
        if (x->kind == HILDA_KIND_BOS) {
            fprintf(o, "Binary Object Store Descriptor:\n");
            field(o, 2, "bLength", "%5u", x->bLength);
            field(o, 2, "bDescriptorType", "%5u", x->bDescriptorType);
            field(o, 2, "wTotalLength", "0x%04x", x->u.bos.wTotalLength);
            field(o, 2, "bNumDeviceCaps", "%5u", x->u.bos.bNumDeviceCaps);
            continue;
        }
        if (x->kind != HILDA_KIND_DEVCAP) {
            print_raw(o, 2, x);
            continue;
        }
        const struct hilda_devcap_desc *c = &x->u.cap;
        switch (c->bDevCapabilityType) {
        case USB_CAP_USB20_EXT:
            fprintf(o, "  USB 2.0 Extension Device Capability:\n");
            field(o, 4, "bLength", "%5u", x->bLength);
            field(o, 4, "bDescriptorType", "%5u", x->bDescriptorType);
            field(o, 4, "bDevCapabilityType", "%5u", c->bDevCapabilityType);
            fprintf(o, "    %-19s0x%08x\n", "bmAttributes", c->bmAttributes);
            fprintf(o, "      %s\n", c->bmAttributes & 2 ? "Link Power Management (LPM) Supported"
                                                         : "(no Link Power Management)");
            break;
        case USB_CAP_SUPERSPEED:
            fprintf(o, "  SuperSpeed USB Device Capability:\n");
            field(o, 4, "bLength", "%5u", x->bLength);
            field(o, 4, "bmAttributes", " 0x%02x", c->bmAttributes);
            field(o, 4, "wSpeedsSupported", "0x%04x", c->wSpeedsSupported);
            field(o, 4, "bFunctionalitySupport", "%5u", c->bFunctionalitySupport);
            field(o, 4, "bU1DevExitLat", "%5u", c->bU1DevExitLat);
            field(o, 4, "bU2DevExitLat", "%5u", c->bU2DevExitLat);
            break;
        case USB_CAP_CONTAINER_ID:
        case USB_CAP_PLATFORM:
            fprintf(o, "  %s Device Capability:\n", c->bDevCapabilityType == USB_CAP_PLATFORM ? "Platform"
                                                                                              : "Container ID");
            field(o, 4, "bLength", "%5u", x->bLength);
            fprintf(o, "    %-19s", c->bDevCapabilityType == USB_CAP_PLATFORM ? "PlatformCapabilityUUID"
                                                                                : "ContainerID");
            for (int k = 0; k < 16; k++)
                fprintf(o, "%02x%s", c->uuid[k], k == 3 || k == 5 || k == 7 || k == 9 ? "-" : "");
            fputc('\n', o);
            break;
        default:
            print_raw(o, 2, x);
            break;
        }
    }
    hilda_desc_list_free(&l);
}

void hilda_print_desc_set(FILE *o, const struct hilda_desc_set *s, bool hex)
{
    struct hilda_device_desc d;
    if (!s->device.present) {
        fprintf(o, "Device Descriptor: not available\n");
        return;
    }
    hilda_parse_device(s->device.data, s->device.len, &d, NULL);
    fprintf(o, "Device Descriptor:\n");
    field(o, 2, "bLength", "%5u", d.bLength);
    field(o, 2, "bDescriptorType", "%5u", d.bDescriptorType);
    bcd_field(o, 2, "bcdUSB", d.bcdUSB);
    field(o, 2, "bDeviceClass", "%5u", d.bDeviceClass);
    field(o, 2, "bDeviceSubClass", "%5u", d.bDeviceSubClass);
    field(o, 2, "bDeviceProtocol", "%5u", d.bDeviceProtocol);
    field(o, 2, "bMaxPacketSize0", "%5u", d.bMaxPacketSize0);
    field(o, 2, "idVendor", "0x%04x", d.idVendor);
    field(o, 2, "idProduct", "0x%04x", d.idProduct);
    bcd_field(o, 2, "bcdDevice", d.bcdDevice);
    string_field(o, s, 2, "iManufacturer", d.iManufacturer);
    string_field(o, s, 2, "iProduct", d.iProduct);
    string_field(o, s, 2, "iSerial", d.iSerialNumber);
    field(o, 2, "bNumConfigurations", "%5u", d.bNumConfigurations);
    if (hex)
        hilda_hexdump(o, s->device.data, s->device.len, "    ");
    for (size_t i = 0; i < s->n_configs && i < HILDA_SET_CONFIGS_MAX; i++)
        print_config(o, s, i, hex);
    print_bos(o, s);
    if (hex && s->bos.present)
        hilda_hexdump(o, s->bos.data, s->bos.len, "    ");
    if (s->string0.present) {
        uint16_t langs[HILDA_SET_LANGIDS_MAX];
        size_t n = hilda_parse_langids(s->string0.data, s->string0.len, langs, HILDA_SET_LANGIDS_MAX, NULL);
        fprintf(o, "String Descriptor 0 (LANGIDs):");
        for (size_t i = 0; i < n; i++)
            fprintf(o, " 0x%04x", langs[i]);
        fputc('\n', o);
    } else if (s->from_device) {
        fprintf(o, "String Descriptor 0: not available (%s)\n", hilda_status_name(s->string0.status));
    }
    for (size_t i = 0; i < s->n_strings; i++) {
        const struct hilda_string_entry *x = &s->strings[i];
        if (!x->raw.present) {
            fprintf(o, "  String %u: not available (%s)\n", x->index, hilda_status_name(x->raw.status));
            continue;
        }
        char text[TEXT_MAX], safe[TEXT_MAX * 2];
        hilda_parse_string(x->raw.data, x->raw.len, NULL, text, sizeof text, NULL);
        hilda_escape(text, safe, sizeof safe);
        fprintf(o, "  String %u (LANGID 0x%04x, %zu bytes): \"%s\"\n", x->index, x->langid, x->raw.len, safe);
    }
    if (s->from_device) {
        if (s->qualifier.present)
            fprintf(o, "Device Qualifier: %zu bytes\n", s->qualifier.len);
        else
            fprintf(o, "Device Qualifier: refused (%s)%s\n", hilda_status_name(s->qualifier.status),
                    s->speed == LIBUSB_SPEED_FULL ? ", as a full-speed-only device must" : "");
        if (s->status.present && s->status.len == 2) {
            unsigned st = (unsigned)(s->status.data[0] | s->status.data[1] << 8);
            fprintf(o, "Device Status:     0x%04x\n  (%s Powered)%s\n", st, st & 1 ? "Self" : "Bus",
                    st & 2 ? "\n  Remote Wakeup Enabled" : "");
        }
        if (s->active_config >= 0)
            fprintf(o, "Active configuration: %d\n", s->active_config);
    }
}

void hilda_print_findings(FILE *o, const struct hilda_findings *f)
{
    size_t errors = hilda_findings_count(f, HILDA_SEV_ERROR);
    size_t warnings = hilda_findings_count(f, HILDA_SEV_WARNING) - errors;
    fprintf(o, "Chapter 9 findings: %zu error%s, %zu warning%s, %zu note%s\n", errors, errors == 1 ? "" : "s",
            warnings, warnings == 1 ? "" : "s", f->n - errors - warnings, f->n - errors - warnings == 1 ? "" : "s");
    for (size_t i = 0; i < f->n; i++) {
        const struct hilda_finding *x = &f->v[i];
        fprintf(o, "  %-7s %-18s %s: %s\n", hilda_severity_name(x->severity), x->id, x->where, x->message);
    }
    if (f->dropped)
        fprintf(o, "  ... and %zu more not shown\n", f->dropped);
}

static json_t *json_raw(const struct hilda_raw *r)
{
    return r->present ? hj_hex(r->data, r->len) : json_null();
}

static json_t *json_config(const struct hilda_desc_set *s, size_t ci)
{
    const struct hilda_raw *r = &s->configs[ci];
    json_t *o = json_object();
    hj_set_uint(o, "index", ci);
    hj_set(o, "raw", json_raw(r));
    if (!r->present) {
        hj_set_str(o, "error", hilda_status_name(r->status));
        return o;
    }
    struct hilda_desc_list l;
    hilda_desc_list_init(&l);
    hilda_parse_config(r->data, r->len, NULL, &l, NULL);
    json_t *list = json_array();
    for (size_t i = 0; i < l.n; i++) {
        const struct hilda_desc *x = &l.v[i];
        json_t *j = json_object();
        hj_set_uint(j, "offset", x->offset);
        hj_set_uint(j, "bLength", x->bLength);
        hj_set_uint(j, "bDescriptorType", x->bDescriptorType);
        hj_set_str(j, "type", hilda_desc_type_name(x->bDescriptorType));
        hj_set_uint(j, "depth", x->depth);
        hj_set_bool(j, "decoded", x->decoded);
        if (x->decoded) {
            switch (x->kind) {
            case HILDA_KIND_CONFIG:
                hj_set_uint(j, "wTotalLength", x->u.config.wTotalLength);
                hj_set_uint(j, "bNumInterfaces", x->u.config.bNumInterfaces);
                hj_set_uint(j, "bConfigurationValue", x->u.config.bConfigurationValue);
                hj_set_uint(j, "iConfiguration", x->u.config.iConfiguration);
                hj_set_uint(j, "bmAttributes", x->u.config.bmAttributes);
                hj_set_uint(j, "bMaxPower", x->u.config.bMaxPower);
                break;
            case HILDA_KIND_INTERFACE:
                hj_set_uint(j, "bInterfaceNumber", x->u.intf.bInterfaceNumber);
                hj_set_uint(j, "bAlternateSetting", x->u.intf.bAlternateSetting);
                hj_set_uint(j, "bNumEndpoints", x->u.intf.bNumEndpoints);
                hj_set_uint(j, "bInterfaceClass", x->u.intf.bInterfaceClass);
                hj_set_uint(j, "bInterfaceSubClass", x->u.intf.bInterfaceSubClass);
                hj_set_uint(j, "bInterfaceProtocol", x->u.intf.bInterfaceProtocol);
                hj_set_uint(j, "iInterface", x->u.intf.iInterface);
                break;
            case HILDA_KIND_ENDPOINT:
                hj_set_uint(j, "bEndpointAddress", x->u.ep.bEndpointAddress);
                hj_set_uint(j, "bmAttributes", x->u.ep.bmAttributes);
                hj_set_str(j, "transfer_type", ep_type(x->u.ep.bmAttributes));
                hj_set_uint(j, "wMaxPacketSize", x->u.ep.wMaxPacketSize);
                hj_set_uint(j, "bInterval", x->u.ep.bInterval);
                break;
            case HILDA_KIND_IAD:
                hj_set_uint(j, "bFirstInterface", x->u.iad.bFirstInterface);
                hj_set_uint(j, "bInterfaceCount", x->u.iad.bInterfaceCount);
                hj_set_uint(j, "bFunctionClass", x->u.iad.bFunctionClass);
                hj_set_uint(j, "bFunctionSubClass", x->u.iad.bFunctionSubClass);
                hj_set_uint(j, "bFunctionProtocol", x->u.iad.bFunctionProtocol);
                hj_set_uint(j, "iFunction", x->u.iad.iFunction);
                break;
            default:
                hj_set_hex(j, "raw", x->raw, x->avail);
                break;
            }
        }
        hj_append(list, j);
    }
    hj_set(o, "descriptors", list);
    hj_set_bool(o, "truncated", l.truncated);
    hilda_desc_list_free(&l);
    return o;
}

json_t *hilda_json_desc_set(const struct hilda_desc_set *s)
{
    json_t *o = json_object();
    struct hilda_device_desc d;
    if (s->device.present) {
        hilda_parse_device(s->device.data, s->device.len, &d, NULL);
        json_t *j = json_object();
        hj_set(j, "raw", json_raw(&s->device));
        hj_set_uint(j, "bLength", d.bLength);
        hj_set_uint(j, "bDescriptorType", d.bDescriptorType);
        hj_set_uint(j, "bcdUSB", d.bcdUSB);
        hj_set_uint(j, "bDeviceClass", d.bDeviceClass);
        hj_set_uint(j, "bDeviceSubClass", d.bDeviceSubClass);
        hj_set_uint(j, "bDeviceProtocol", d.bDeviceProtocol);
        hj_set_uint(j, "bMaxPacketSize0", d.bMaxPacketSize0);
        hj_set_uint(j, "idVendor", d.idVendor);
        hj_set_uint(j, "idProduct", d.idProduct);
        hj_set_uint(j, "bcdDevice", d.bcdDevice);
        hj_set_uint(j, "iManufacturer", d.iManufacturer);
        hj_set_uint(j, "iProduct", d.iProduct);
        hj_set_uint(j, "iSerialNumber", d.iSerialNumber);
        hj_set_uint(j, "bNumConfigurations", d.bNumConfigurations);
        hj_set(o, "device", j);
    } else {
        hj_set(o, "device", json_null());
    }
    json_t *configs = json_array();
    for (size_t i = 0; i < s->n_configs && i < HILDA_SET_CONFIGS_MAX; i++)
        hj_append(configs, json_config(s, i));
    hj_set(o, "configurations", configs);
    if (s->bos.present) {
        struct hilda_desc_list l;
        hilda_desc_list_init(&l);
        hilda_parse_bos(s->bos.data, s->bos.len, &l, NULL);
        json_t *bos = json_object();
        hj_set(bos, "raw", json_raw(&s->bos));
        json_t *caps = json_array();
        for (size_t i = 1; i < l.n; i++) {
            const struct hilda_desc *x = &l.v[i];
            json_t *j = json_object();
            hj_set_uint(j, "bLength", x->bLength);
            hj_set_uint(j, "bDescriptorType", x->bDescriptorType);
            if (x->decoded && x->kind == HILDA_KIND_DEVCAP) {
                hj_set_uint(j, "bDevCapabilityType", x->u.cap.bDevCapabilityType);
                if (x->u.cap.bDevCapabilityType == USB_CAP_USB20_EXT)
                    hj_set_uint(j, "bmAttributes", x->u.cap.bmAttributes);
            }
            hj_set_hex(j, "raw", x->raw, x->avail);
            hj_append(caps, j);
        }
        hj_set(bos, "capabilities", caps);
        hj_set(o, "bos", bos);
        hilda_desc_list_free(&l);
    } else {
        hj_set(o, "bos", json_null());
    }
    json_t *langids = json_array();
    if (s->string0.present) {
        uint16_t langs[HILDA_SET_LANGIDS_MAX];
        size_t n = hilda_parse_langids(s->string0.data, s->string0.len, langs, HILDA_SET_LANGIDS_MAX, NULL);
        for (size_t i = 0; i < n; i++)
            hj_append(langids, hj_uint(langs[i]));
    }
    hj_set(o, "langids", langids);
    json_t *strings = json_array();
    for (size_t i = 0; i < s->n_strings; i++) {
        const struct hilda_string_entry *x = &s->strings[i];
        json_t *j = json_object();
        hj_set_uint(j, "index", x->index);
        hj_set_uint(j, "langid", x->langid);
        hj_set(j, "raw", json_raw(&x->raw));
        if (x->raw.present) {
            char text[TEXT_MAX];
            hilda_parse_string(x->raw.data, x->raw.len, NULL, text, sizeof text, NULL);
            hj_set_str(j, "text", text);
        } else {
            hj_set_str(j, "error", hilda_status_name(x->raw.status));
        }
        hj_append(strings, j);
    }
    hj_set(o, "strings", strings);
    if (s->from_device) {
        hj_set(o, "device_qualifier", json_raw(&s->qualifier));
        hj_set(o, "other_speed_configuration", json_raw(&s->other_speed));
        hj_set(o, "status", json_raw(&s->status));
        hj_set(o, "active_configuration", s->active_config >= 0 ? json_integer(s->active_config) : json_null());
        hj_set_str(o, "speed", hilda_speed_name(s->speed));
    }
    return o;
}

json_t *hilda_json_findings(const struct hilda_findings *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->n; i++) {
        const struct hilda_finding *x = &f->v[i];
        json_t *j = json_object();
        hj_set_str(j, "id", x->id);
        hj_set_str(j, "severity", hilda_severity_name(x->severity));
        hj_set_str(j, "where", x->where);
        hj_set_str(j, "message", x->message);
        hj_append(a, j);
    }
    return a;
}

#include "descset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setups.h"
#include "xfer.h"

#define LONGEST_CONFIG 65535u

void hilda_desc_set_init(struct hilda_desc_set *s)
{
    memset(s, 0, sizeof *s);
    s->speed = LIBUSB_SPEED_UNKNOWN;
    s->active_config = -1;
}

static void raw_free(struct hilda_raw *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

void hilda_desc_set_free(struct hilda_desc_set *s)
{
    raw_free(&s->device);
    for (size_t i = 0; i < HILDA_SET_CONFIGS_MAX; i++)
        raw_free(&s->configs[i]);
    raw_free(&s->bos);
    raw_free(&s->qualifier);
    raw_free(&s->other_speed);
    raw_free(&s->string0);
    for (size_t i = 0; i < s->n_strings; i++)
        raw_free(&s->strings[i].raw);
    raw_free(&s->status);
    hilda_desc_set_init(s);
}

static bool raw_set(struct hilda_raw *r, const uint8_t *data, size_t len)
{
    raw_free(r);
    r->data = malloc(len ? len : 1);
    if (!r->data)
        return false;
    if (len)
        memcpy(r->data, data, len);
    r->len = len;
    r->present = true;
    r->status = HILDA_OK;
    return true;
}

/* One GET_DESCRIPTOR into r. A refusal is recorded, not an error; only a
 * device that is gone (or a hopeless stack) makes it return an error. */
static enum hilda_status get_desc(struct hilda_device *d, uint8_t type, uint8_t index, uint16_t langid,
                                  uint16_t wLength, struct hilda_raw *r, struct hilda_error *e)
{
    uint8_t *buf = malloc(wLength ? wLength : 1);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading descriptors");
    struct usb_setup s = hilda_setup_get_descriptor(type, index, langid, wLength);
    size_t got = 0;
    struct hilda_error local;
    enum hilda_status st = hilda_ctrl(d, &s, buf, 0, &got, &local);
    if (st == HILDA_OK) {
        bool ok = raw_set(r, buf, got);
        free(buf);
        return ok ? HILDA_OK : hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading descriptors");
    }
    free(buf);
    raw_free(r);
    r->status = st;
    if (st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) {
        if (e)
            *e = local;
        return st;
    }
    return HILDA_OK;
}

static void add_string_ref(uint8_t *refs, size_t *n, size_t max, uint8_t index)
{
    if (!index)
        return;
    for (size_t i = 0; i < *n; i++)
        if (refs[i] == index)
            return;
    if (*n < max)
        refs[(*n)++] = index;
}

static int cmp_u8(const void *a, const void *b)
{
    return *(const uint8_t *)a - *(const uint8_t *)b;
}

size_t hilda_desc_set_string_refs(const struct hilda_desc_set *s, uint8_t *refs, size_t max)
{
    size_t n = 0;
    struct hilda_device_desc dd;
    if (s->device.present && hilda_parse_device(s->device.data, s->device.len, &dd, NULL)) {
        add_string_ref(refs, &n, max, dd.iManufacturer);
        add_string_ref(refs, &n, max, dd.iProduct);
        add_string_ref(refs, &n, max, dd.iSerialNumber);
    }
    for (size_t c = 0; c < s->n_configs && c < HILDA_SET_CONFIGS_MAX; c++) {
        if (!s->configs[c].present)
            continue;
        struct hilda_desc_list l;
        hilda_desc_list_init(&l);
        hilda_parse_config(s->configs[c].data, s->configs[c].len, NULL, &l, NULL);
        for (size_t i = 0; i < l.n; i++) {
            const struct hilda_desc *x = &l.v[i];
            if (!x->decoded)
                continue;
            if (x->kind == HILDA_KIND_CONFIG)
                add_string_ref(refs, &n, max, x->u.config.iConfiguration);
            else if (x->kind == HILDA_KIND_INTERFACE)
                add_string_ref(refs, &n, max, x->u.intf.iInterface);
            else if (x->kind == HILDA_KIND_IAD)
                add_string_ref(refs, &n, max, x->u.iad.iFunction);
        }
        hilda_desc_list_free(&l);
    }
    qsort(refs, n, 1, cmp_u8);
    return n;
}

enum hilda_status hilda_fetch_descriptors(struct hilda_device *d, struct hilda_desc_set *s,
                                          struct hilda_findings *f, struct hilda_error *e)
{
    hilda_desc_set_free(s);
    s->from_device = true;
    s->speed = d->info.speed;
    enum hilda_status st = get_desc(d, USB_DT_DEVICE, 0, 0, USB_DT_DEVICE_SIZE, &s->device, e);
    if (st)
        return st;
    if (!s->device.present) {
        return hilda_fail(e, s->device.status == HILDA_ERR_STALL ? HILDA_ERR_PROTOCOL : s->device.status,
                          "the device did not give its device descriptor (%s)", hilda_status_name(s->device.status));
    }
    struct hilda_device_desc dd;
    hilda_parse_device(s->device.data, s->device.len, &dd, NULL);
    /* What the OS read at enumeration must be what the device says now. */
    struct libusb_device_descriptor os;
    if (libusb_get_device_descriptor(d->dev, &os) == 0 && s->device.len >= USB_DT_DEVICE_SIZE &&
        (os.idVendor != dd.idVendor || os.idProduct != dd.idProduct || os.bcdUSB != dd.bcdUSB ||
         os.bNumConfigurations != dd.bNumConfigurations || os.bMaxPacketSize0 != dd.bMaxPacketSize0))
        hilda_findings_add(f, HILDA_SEV_ERROR, "C9-DEV-CHANGED", "device descriptor",
                           "differs from what the host read at enumeration");

    s->n_configs = dd.bNumConfigurations > HILDA_SET_CONFIGS_MAX ? HILDA_SET_CONFIGS_MAX : dd.bNumConfigurations;
    if (dd.bNumConfigurations > HILDA_SET_CONFIGS_MAX)
        hilda_findings_add(f, HILDA_SEV_WARNING, "P-MANY-CONFIGS", "device descriptor",
                           "%u configurations: only the first %d are read", dd.bNumConfigurations,
                           HILDA_SET_CONFIGS_MAX);
    for (uint8_t c = 0; c < s->n_configs; c++) {
        struct hilda_raw head = { 0 };
        st = get_desc(d, USB_DT_CONFIG, c, 0, USB_DT_CONFIG_SIZE, &head, e);
        if (st)
            return st;
        if (!head.present || head.len < 4) {
            s->configs[c] = head;   /* keeps the status, or the short answer for the parser */
            continue;
        }
        uint16_t total = hilda_le16(head.data, head.len, 2);
        if (total <= head.len) {
            s->configs[c] = head;
            continue;
        }
        st = get_desc(d, USB_DT_CONFIG, c, 0, total, &s->configs[c], e);
        if (st == HILDA_OK && s->configs[c].present && s->configs[c].len >= head.len &&
            memcmp(s->configs[c].data, head.data, head.len) != 0) {
            char where[32];
            snprintf(where, sizeof where, "configuration index %u", c);
            hilda_findings_add(f, HILDA_SEV_ERROR, "C9-CFG-UNSTABLE", where,
                               "the first 9 bytes differ between the 9-byte read and the full read");
        }
        raw_free(&head);
        if (st)
            return st;
    }

    /* BOS: asked whatever bcdUSB says; the validator judges the answer. */
    struct hilda_raw bos_head = { 0 };
    st = get_desc(d, USB_DT_BOS, 0, 0, USB_DT_BOS_SIZE, &bos_head, e);
    if (st)
        return st;
    if (bos_head.present && bos_head.len >= 4 && hilda_le16(bos_head.data, bos_head.len, 2) > bos_head.len) {
        st = get_desc(d, USB_DT_BOS, 0, 0, hilda_le16(bos_head.data, bos_head.len, 2), &s->bos, e);
        raw_free(&bos_head);
        if (st)
            return st;
    } else {
        s->bos = bos_head;
    }
    if ((st = get_desc(d, USB_DT_DEVICE_QUALIFIER, 0, 0, 10, &s->qualifier, e)) ||
        (st = get_desc(d, USB_DT_OTHER_SPEED_CONFIG, 0, 0, 255, &s->other_speed, e)) ||
        (st = get_desc(d, USB_DT_STRING, 0, 0, 255, &s->string0, e)))
        return st;

    uint16_t langids[HILDA_SET_LANGIDS_MAX];
    size_t nlang = s->string0.present ? hilda_parse_langids(s->string0.data, s->string0.len, langids,
                                                            HILDA_SET_LANGIDS_MAX, NULL) : 0;
    uint8_t refs[HILDA_SET_STRINGS_MAX];
    size_t nrefs = hilda_desc_set_string_refs(s, refs, HILDA_SET_STRINGS_MAX);
    for (size_t i = 0; i < nrefs; i++) {
        struct hilda_string_entry *x = &s->strings[s->n_strings++];
        x->index = refs[i];
        x->langid = nlang ? langids[0] : HILDA_LANGID_EN_US;
        if ((st = get_desc(d, USB_DT_STRING, x->index, x->langid, 255, &x->raw, e)))
            return st;
    }

    struct usb_setup gs = hilda_setup_get_status(USB_RT_DEVICE_IN, 0);
    uint8_t status[2];
    size_t got;
    struct hilda_error local;
    st = hilda_ctrl(d, &gs, status, 0, &got, &local);
    if (st == HILDA_OK)
        raw_set(&s->status, status, got);
    else if (st == HILDA_ERR_NO_DEVICE) {
        if (e)
            *e = local;
        return st;
    } else
        s->status.status = st;

    uint8_t cfg;
    struct usb_setup gc = hilda_setup_get_configuration();
    if (hilda_ctrl(d, &gc, &cfg, 0, &got, NULL) == HILDA_OK && got == 1)
        s->active_config = cfg;
    return HILDA_OK;
}

void hilda_desc_set_from_blob(struct hilda_desc_set *s, const uint8_t *buf, size_t len, struct hilda_findings *f)
{
    hilda_desc_set_free(s);
    size_t dlen = len < USB_DT_DEVICE_SIZE ? len : USB_DT_DEVICE_SIZE;
    raw_set(&s->device, buf, dlen);
    size_t starts[HILDA_SET_CONFIGS_MAX], lens[HILDA_SET_CONFIGS_MAX];
    size_t n = hilda_split_usbfs_blob(buf, len, starts, lens, HILDA_SET_CONFIGS_MAX, f);
    for (size_t i = 0; i < n; i++)
        raw_set(&s->configs[i], buf + starts[i], lens[i]);
    s->n_configs = (uint8_t)n;
}

const struct hilda_string_entry *hilda_desc_set_string(const struct hilda_desc_set *s, uint8_t index)
{
    for (size_t i = 0; i < s->n_strings; i++)
        if (s->strings[i].index == index && s->strings[i].raw.present)
            return &s->strings[i];
    return NULL;
}

void hilda_desc_set_string_text(const struct hilda_desc_set *s, uint8_t index, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    const struct hilda_string_entry *x = index ? hilda_desc_set_string(s, index) : NULL;
    if (x)
        hilda_parse_string(x->raw.data, x->raw.len, NULL, out, cap, NULL);
}

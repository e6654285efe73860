#include "requests.h"

#include <stdio.h>
#include <strings.h>

#include "hilda/protocol.h"

struct request_name {
    const char *name;
    uint8_t code;
};

#define STANDARD_ROW(name, code) { #name, code },
static const struct request_name standard[] = { USB_STANDARD_REQUESTS(STANDARD_ROW) };
#undef STANDARD_ROW

#define VENDOR_ROW(name, code, stage, summary) { #name, code },
static const struct request_name vendor[] = { HILDA_VENDOR_REQUESTS(VENDOR_ROW) };
#undef VENDOR_ROW

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static const char *name_of(const struct request_name *t, size_t n, uint8_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

static bool code_of(const struct request_name *t, size_t n, const char *name, uint8_t *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].name, name) == 0) {
            *code = t[i].code;
            return true;
        }
    return false;
}

const char *hilda_standard_request_name(uint8_t bRequest)
{
    return name_of(standard, COUNT(standard), bRequest);
}

const char *hilda_vendor_request_name(uint8_t bRequest)
{
    return name_of(vendor, COUNT(vendor), bRequest);
}

bool hilda_vendor_request_known(uint8_t bRequest)
{
    return hilda_vendor_request_name(bRequest) != NULL;
}

bool hilda_request_by_name(const char *name, uint8_t *bRequest, bool *vendor_request)
{
    if (code_of(standard, COUNT(standard), name, bRequest)) {
        *vendor_request = false;
        return true;
    }
    if (code_of(vendor, COUNT(vendor), name, bRequest)) {
        *vendor_request = true;
        return true;
    }
    return false;
}

#define STANDARD_WORD(name, code) " " #name
#define VENDOR_WORD(name, code, stage, summary) " " #name
static const char all_names[] = USB_STANDARD_REQUESTS(STANDARD_WORD) HILDA_VENDOR_REQUESTS(VENDOR_WORD);
#undef STANDARD_WORD
#undef VENDOR_WORD

const char *hilda_request_names(void)
{
    static char lower[sizeof all_names];
    if (!lower[0]) {
        for (size_t i = 0; i + 1 < sizeof all_names; i++)
            lower[i] = (char)(all_names[i + 1] >= 'A' && all_names[i + 1] <= 'Z' ? all_names[i + 1] | 0x20
                                                                                  : all_names[i + 1]);
    }
    return lower;
}

void hilda_describe_request(const struct usb_setup *s, char *out, size_t cap)
{
    static const char *const types[] = { "standard", "class", "vendor", "reserved-type" };
    char name[64];
    uint8_t type = usb_setup_type(s);
    const char *n = type == USB_TYPE_STANDARD ? hilda_standard_request_name(s->bRequest)
                    : type == USB_TYPE_VENDOR ? hilda_vendor_request_name(s->bRequest)
                                              : NULL;
    if (type == USB_TYPE_STANDARD && s->bRequest == USB_REQ_GET_DESCRIPTOR && usb_setup_is_in(s))
        snprintf(name, sizeof name, "GET_DESCRIPTOR(type 0x%02X index %u)", s->wValue >> 8, s->wValue & 0xFF);
    else if (n)
        snprintf(name, sizeof name, "%s%s", type == USB_TYPE_VENDOR ? "vendor " : "", n);
    else
        snprintf(name, sizeof name, "%s request 0x%02X", types[type >> 5], s->bRequest);
    snprintf(out, cap, "%s [%02x %02x %04x %04x %04x]", name, s->bmRequestType, s->bRequest, s->wValue,
             s->wIndex, s->wLength);
}

/* Chapter 9 checks of the device and configuration descriptors and of the
 * requests that must STALL (USBCV TD 9.1, 9.2, 9.10, 9.19; usbtest 9 and
 * the descriptor reads of usbtest 10). One function per registry entry. */
#include <stdio.h>
#include <string.h>

#include "ch9_battery.h"
#include "findings.h"
#include "validate.h"

/* A standard request code chapter 9 does not define (table 9-4 ends at
 * SYNCH_FRAME, 0x0C): deliberately undefined, so it must STALL. */
#define CH9_UNDEFINED_REQUEST 0x0D

/* ---- TD 9.1: the device descriptor, read at several lengths ---- */

CH9_CHECK(ch9_device)
{
    ch9_expect_read(c, k, USB_DT_DEVICE, 0, USB_DT_DEVICE_SIZE, USB_DT_DEVICE_SIZE, ch9_device_ref(c));
}

CH9_CHECK(ch9_device_short)
{
    ch9_expect_read(c, k, USB_DT_DEVICE, 0, 8, 8, ch9_device_ref(c));
}

CH9_CHECK(ch9_device_long)
{
    ch9_expect_read(c, k, USB_DT_DEVICE, 0, 255, USB_DT_DEVICE_SIZE, ch9_device_ref(c));
}

CH9_CHECK(ch9_device_maxp0)
{
    uint8_t maxp = c->dd.bMaxPacketSize0;
    ch9_expect_read(c, k, USB_DT_DEVICE, 0, maxp, maxp < USB_DT_DEVICE_SIZE ? maxp : USB_DT_DEVICE_SIZE,
                    ch9_device_ref(c));
}

CH9_CHECK(ch9_device_os)
{
    if (!ch9_device_ref(c) || c->fatal)
        return;
    struct libusb_device_descriptor os;
    if (libusb_get_device_descriptor(c->d->dev, &os) == 0 && os.idVendor == c->dd.idVendor &&
        os.idProduct == c->dd.idProduct && os.bcdUSB == c->dd.bcdUSB && os.bcdDevice == c->dd.bcdDevice &&
        os.bMaxPacketSize0 == c->dd.bMaxPacketSize0 && os.bNumConfigurations == c->dd.bNumConfigurations)
        ch9_add(c, k, HILDA_PASS, "the same as the host OS read at enumeration");
    else
        ch9_add(c, k, HILDA_FAIL, "differs from what the host OS read at enumeration");
}

/* ---- TD 9.2: configuration 0, read at several lengths ---- */

static size_t at_most(size_t total, size_t len)
{
    return total < len ? total : len;
}

CH9_CHECK(ch9_config_header)
{
    ch9_expect_read(c, k, USB_DT_CONFIG, 0, USB_DT_CONFIG_SIZE, USB_DT_CONFIG_SIZE, c->cfg);
}

CH9_CHECK(ch9_config_full)
{
    ch9_expect_read(c, k, USB_DT_CONFIG, 0, (uint16_t)c->cfg_len, c->cfg_len, c->cfg);
}

CH9_CHECK(ch9_config_long)
{
    ch9_expect_read(c, k, USB_DT_CONFIG, 0, 1024, at_most(c->cfg_len, 1024), c->cfg);
}

CH9_CHECK(ch9_config_18)
{
    ch9_expect_read(c, k, USB_DT_CONFIG, 0, 18, at_most(c->cfg_len, 18), c->cfg);
}

CH9_CHECK(ch9_config_minus1)
{
    if (c->cfg_len > 1)
        ch9_expect_read(c, k, USB_DT_CONFIG, 0, (uint16_t)(c->cfg_len - 1), c->cfg_len - 1, c->cfg);
}

CH9_CHECK(ch9_config_1024_maxp0)
{
    uint16_t less = (uint16_t)(1024 - c->dd.bMaxPacketSize0);
    ch9_expect_read(c, k, USB_DT_CONFIG, 0, less, at_most(c->cfg_len, less), c->cfg);
}

CH9_CHECK(ch9_config_index)
{
    ch9_expect_stall(c, k, hilda_setup_get_descriptor(USB_DT_CONFIG, c->dd.bNumConfigurations, 0, 255), false);
}

/* Every descriptor of the device through the validator (`hilda desc`). */
CH9_CHECK(ch9_validate)
{
    struct hilda_desc_set s;
    struct hilda_findings f;
    struct hilda_error e;
    hilda_desc_set_init(&s);
    hilda_findings_init(&f);
    if (hilda_fetch_descriptors(c->d, &s, &f, &e) != HILDA_OK) {
        if (!c->fatal && c->d->gone) {
            c->fatal = true;
            c->err = e;
        }
        ch9_add(c, k, HILDA_FAIL, "%s", e.message);
    } else {
        hilda_validate(&s, &f);
        size_t errors = hilda_findings_count(&f, HILDA_SEV_ERROR);
        char ids[200] = "";
        size_t at = 0;
        for (size_t i = 0; i < f.n && at < sizeof ids; i++)
            if (f.v[i].severity == HILDA_SEV_ERROR)
                at += (size_t)snprintf(ids + at, sizeof ids - at, "%s%s", at ? ", " : "", f.v[i].id);
        if (errors)
            ch9_add(c, k, HILDA_FAIL, "%zu errors (%s); `hilda desc` explains them", errors, ids);
        else
            ch9_add(c, k, HILDA_PASS, "device, configuration, BOS and strings: no errors (%zu warnings or notes)",
                    f.n);
    }
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

/* ---- TD 9.10 and usbtest 10 #7, #11: bad requests STALL and the device recovers ---- */

CH9_CHECK(ch9_bad_type)
{
    ch9_expect_stall(c, k, hilda_setup_get_descriptor(HILDA_DT_UNDEFINED, 0, 0, 64), false);
}

CH9_CHECK(ch9_bad_interface)
{
    ch9_expect_stall(c, k, hilda_setup_get_descriptor(USB_DT_INTERFACE, 0, 0, 64), false);
}

CH9_CHECK(ch9_bad_endpoint)
{
    ch9_expect_stall(c, k, hilda_setup_get_descriptor(USB_DT_ENDPOINT, 0, 0, 64), false);
}

CH9_CHECK(ch9_set_descriptor)
{
    struct usb_setup s = { USB_RT_DEVICE_OUT, USB_REQ_SET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, 0 };
    ch9_expect_stall(c, k, s, false);
}

CH9_CHECK(ch9_unknown_request)
{
    struct usb_setup s = { USB_RT_DEVICE_IN, CH9_UNDEFINED_REQUEST, 0, 0, 2 };
    ch9_expect_stall(c, k, s, false);
}

/* ---- TD 9.19: a full-speed device has no other speed; at high speed the qualifier is 10 bytes ---- */

CH9_CHECK(ch9_qualifier)
{
    if (ch9_full_speed(c)) {
        ch9_expect_stall(c, k, hilda_setup_get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, USB_DT_DEVICE_QUALIFIER_SIZE),
                         false);
    } else {
        const struct hilda_ch9_check high = { k->id, "high speed: GET_DESCRIPTOR(DEVICE_QUALIFIER) gives 10 bytes",
                                              k->run, k->stage };
        ch9_expect_read(c, &high, USB_DT_DEVICE_QUALIFIER, 0, USB_DT_DEVICE_QUALIFIER_SIZE,
                        USB_DT_DEVICE_QUALIFIER_SIZE, NULL);
    }
}

CH9_CHECK(ch9_other_speed)
{
    if (ch9_full_speed(c))
        ch9_expect_stall(c, k, hilda_setup_get_descriptor(USB_DT_OTHER_SPEED_CONFIG, 0, 0, 255), false);
}

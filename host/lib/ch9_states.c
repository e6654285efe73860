/* Chapter 9 checks of the device states: SET_CONFIGURATION and the Address
 * state it passes through (USBCV TD 9.13), GET_STATUS(device) against the
 * configuration's bmAttributes (TD 9.18), and one bus reset (TD 9.16). */
#include <stdio.h>
#include <string.h>

#include "ch9_battery.h"

/* GET_STATUS(device) bits that chapter 9 reserves (figure 9-4): must read 0 */
#define DEVICE_STATUS_RESERVED ((uint16_t)~(USB_STATUS_SELF_POWERED | USB_STATUS_REMOTE_WAKEUP))

/* TD 9.18: GET_STATUS(device) must agree with bmAttributes; k's title names the state. */
static void check_device_status(struct hilda_ch9 *c, const struct hilda_ch9_check *k)
{
    uint8_t b[2];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_status(USB_RT_DEVICE_IN, 0), b, &got, &e);
    if (st) {
        ch9_add(c, k, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
        return;
    }
    uint16_t v = hilda_le16(b, got, 0);
    uint8_t attr = c->cl.n && c->cl.v[0].decoded ? c->cl.v[0].u.config.bmAttributes : USB_CONFIG_ATT_ONE;
    if (got != 2)
        ch9_add(c, k, HILDA_FAIL, "%zu bytes; GET_STATUS returns 2", got);
    else if (v & DEVICE_STATUS_RESERVED)
        ch9_add(c, k, HILDA_FAIL, "status 0x%04X: bits 15..2 are reserved (0)", v);
    else if ((v & USB_STATUS_SELF_POWERED) && !(attr & USB_CONFIG_ATT_SELFPOWER))
        ch9_add(c, k, HILDA_FAIL, "self-powered bit set but bmAttributes 0x%02X says bus-powered", attr);
    else if ((v & USB_STATUS_REMOTE_WAKEUP) && !(attr & USB_CONFIG_ATT_WAKEUP))
        ch9_add(c, k, HILDA_FAIL, "remote wakeup enabled but not supported by the configuration");
    else
        ch9_add(c, k, HILDA_PASS, "0x%04X (%s-powered%s), consistent with bmAttributes 0x%02X", v,
                v & USB_STATUS_SELF_POWERED ? "self" : "bus", v & USB_STATUS_REMOTE_WAKEUP ? ", remote wakeup on" : "",
                attr);
}

/* ---- TD 9.13: SET_CONFIGURATION 1, 1, 0, 1 ---- */

/* Not a check of its own: the way through the states. It sets the
 * configurations in turn through the OS (so that its state follows), checks
 * each with GET_CONFIGURATION, runs the Address-state checks while the
 * configuration is 0, and leaves its verdict for 9.13-set-configuration. */
void ch9_set_configuration_sequence(struct hilda_ch9 *c)
{
    uint8_t v = c->cfg_value ? c->cfg_value : 1;
    int seq[4] = { v, v, 0, v };
    char trail[128] = "";
    size_t at = 0;
    c->setcfg.value = v;
    c->setcfg.ok = true;
    for (int k = 0; k < 4 && !c->fatal; k++) {
        int rc = libusb_set_configuration(c->d->h, seq[k] ? seq[k] : -1);
        if (rc < 0) {
            enum hilda_status st = hilda_status_from_libusb(rc);
            if (st == HILDA_ERR_NO_DEVICE) {
                c->fatal = true;
                hilda_fail(&c->err, st, "the device went away during SET_CONFIGURATION(%d)", seq[k]);
                return;
            }
            snprintf(c->setcfg.reason, sizeof c->setcfg.reason, "SET_CONFIGURATION(%d) failed: %s", seq[k],
                     libusb_error_name(rc));
            c->setcfg.ok = false;
            break;
        }
        struct hilda_error e;
        int now = ch9_get_configuration(c, &e);
        at += (size_t)snprintf(trail + at, sizeof trail - at, "%s%d->%d", k ? ", " : "", seq[k], now);
        if (now != seq[k]) {
            snprintf(c->setcfg.reason, sizeof c->setcfg.reason,
                     "after SET_CONFIGURATION(%d), GET_CONFIGURATION says %d%s%.230s", seq[k], now,
                     now < 0 ? ": " : "", now < 0 ? e.message : "");
            c->setcfg.ok = false;
            break;
        }
        if (seq[k] == 0)
            ch9_run_stage(c, HILDA_CH9_ADDRESS);
    }
    if (c->setcfg.ok)
        snprintf(c->setcfg.reason, sizeof c->setcfg.reason, "set->get: %s", trail);
    c->setcfg.done = true;
    /* A device lost on the way ends the battery before 9.13-set-configuration's turn: its failure now. */
    if (!c->setcfg.ok && c->fatal)
        ch9_set_configuration(c, ch9_find_check("9.13-set-configuration"));
}

CH9_CHECK(ch9_set_configuration)
{
    if (c->setcfg.done && ch9_wanted(c, k->id))
        ch9_add(c, k, c->setcfg.ok ? HILDA_PASS : HILDA_FAIL, "%s", c->setcfg.reason);
}

uint8_t hilda_ch9_unused_config_value(uint8_t configured, uint8_t n_configs)
{
    unsigned above = (configured > n_configs ? configured : n_configs) + 1u;
    if (above <= UINT8_MAX)
        return (uint8_t)above;
    /* 255 is taken: the largest free value below it (there is one unless all 255 are configurations) */
    unsigned v = UINT8_MAX;
    while (v > 1 && (v == configured || v <= n_configs))
        v--;
    return (uint8_t)v;
}

CH9_CHECK(ch9_set_configuration_invalid)
{
    uint8_t v = hilda_ch9_unused_config_value(c->setcfg.value, c->dd.bNumConfigurations);
    struct usb_setup s = { USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, v, 0, 0 };
    ch9_expect_stall(c, k, s, false);
}

CH9_CHECK(ch9_get_configuration_unchanged)
{
    struct hilda_error e;
    int now = ch9_get_configuration(c, &e);
    ch9_add(c, k, now == c->setcfg.value ? HILDA_PASS : HILDA_FAIL, "%d (expected %u)", now, c->setcfg.value);
}

/* ---- in the Address state (USB 2.0 §9.4): what must work and what must be refused ---- */

CH9_CHECK(ch9_address_status_device)
{
    check_device_status(c, k);
}

CH9_CHECK(ch9_address_status_ep0)
{
    ch9_expect_status(c, k, USB_RT_ENDPOINT_IN, 0, 0, false);
}

CH9_CHECK(ch9_address_status_interface)
{
    ch9_expect_stall(c, k, hilda_setup_get_status(USB_RT_INTERFACE_IN, 0), true);
}

CH9_CHECK(ch9_address_get_interface)
{
    ch9_expect_stall(c, k, hilda_setup_get_interface(0), true);
}

CH9_CHECK(ch9_address_status_ep)
{
    if (c->neps)
        ch9_expect_stall(c, k, hilda_setup_get_status(USB_RT_ENDPOINT_IN, c->eps[0]), true);
}

CH9_CHECK(ch9_address_descriptor)
{
    ch9_expect_read(c, k, USB_DT_DEVICE, 0, USB_DT_DEVICE_SIZE, USB_DT_DEVICE_SIZE, NULL);
}

/* ---- TD 9.18 in the Configured state ---- */

CH9_CHECK(ch9_status_device)
{
    check_device_status(c, k);
}

/* ---- TD 9.16 (one cycle): a bus reset and re-enumeration keep the device the same ---- */

CH9_CHECK(ch9_reset)
{
    if (c->o->skip_reset)
        return;
    int rc = libusb_reset_device(c->d->h);
    if (rc == LIBUSB_ERROR_NOT_FOUND) {
        ch9_add(c, k, HILDA_FAIL, "after the reset the device re-enumerated as a different device");
        c->fatal = true;
        c->d->gone = true;
        hilda_fail(&c->err, HILDA_ERR_NO_DEVICE, "the device changed across a bus reset; select it again");
        return;
    }
    if (rc < 0) {
        ch9_add(c, k, HILDA_FAIL, "the reset failed: %s", libusb_error_name(rc));
        return;
    }
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, sizeof b), b, &got, &e);
    struct hilda_device_desc dd;
    hilda_parse_device(b, got, &dd, NULL);
    int cfg = st ? -1 : ch9_get_configuration(c, &e);
    if (st)
        ch9_add(c, k, HILDA_FAIL, "after the reset: %s", e.message);
    else if (memcmp(&dd, &c->dd, sizeof dd) != 0)
        ch9_add(c, k, HILDA_FAIL, "the device descriptor changed across the reset");
    else if (cfg != c->cfg_value)
        ch9_add(c, k, HILDA_FAIL, "configuration %d after the reset (the host restores %u)", cfg, c->cfg_value);
    else
        ch9_add(c, k, HILDA_PASS, "same device descriptor, configuration %d restored", cfg);
}

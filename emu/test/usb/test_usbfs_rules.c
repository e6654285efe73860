/* usbfs's argument rules (emu/bridge/usbfs_rules.c) on a hand-built
 * configuration with alternate settings, which the project firmware does
 * not have: an endpoint that exists only in alternate setting 1 is found for
 * control requests and claims (findintfep looks at every alternate
 * setting), but a URB needs it in the current one; isochronous URBs get the
 * errno documented in usbfs_rules.h. The expected values are Linux 6.16's
 * devio.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>

#include <cmocka.h>

#include "descriptors.h"
#include "usbfs_rules.h"

#define PRINTER_CLASS 0x07
#define PRINTER_GET_DEVICE_ID 0x00
#define ISO_MAX_PACKET 192

#define IFACE(num, alt, neps, cls) USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, num, alt, neps, cls, 0, 0, 0
#define EP(addr, xfer, mps) USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, addr, xfer, (mps) & 0xFF, (mps) >> 8, 1
#define TOTAL (USB_DT_CONFIG_SIZE + 5 * USB_DT_INTERFACE_SIZE + 5 * USB_DT_ENDPOINT_SIZE)

/* Interface 0: alternate 0 has no endpoints (zero bandwidth), 1 has an
 * isochronous IN 0x81 and a bulk OUT 0x02, 2 has 0x81 again with packet
 * size 0. Interface 1: interrupt IN 0x83 and bulk OUT 0x03. Interface 2: a
 * printer, no endpoints. */
static const uint8_t config[TOTAL] = {
    USB_DT_CONFIG_SIZE, USB_DT_CONFIG, TOTAL & 0xFF, TOTAL >> 8, 3, 1, 0, 0x80, 50,
    IFACE(0, 0, 0, USB_CLASS_VENDOR_SPEC),
    IFACE(0, 1, 2, USB_CLASS_VENDOR_SPEC),
    EP(0x81, USB_EP_XFER_ISOC, ISO_MAX_PACKET),
    EP(0x02, USB_EP_XFER_BULK, 64),
    IFACE(0, 2, 1, USB_CLASS_VENDOR_SPEC),
    EP(0x81, USB_EP_XFER_ISOC, 0),
    IFACE(1, 0, 2, USB_CLASS_VENDOR_SPEC),
    EP(0x83, USB_EP_XFER_INT, 8),
    EP(0x03, USB_EP_XFER_BULK, 64),
    IFACE(2, 0, 0, PRINTER_CLASS),
};

static uint8_t alts[HOST_MAX_INTERFACES];

static struct usbfs_view configured(uint8_t alt0)
{
    memset(alts, 0, sizeof alts);
    alts[0] = alt0;
    return (struct usbfs_view){ config, sizeof config, alts };
}

static const struct usbfs_view unconfigured = { NULL, 0, alts };

static void the_configuration_is_valid(void **state)
{
    (void)state;
    char err[160] = "";
    assert_int_equal(usbdesc_check_config(config, sizeof config, err, sizeof err), 0);
    assert_int_equal(usbdesc_alt_count(config, sizeof config, 0), 3);
}

static void endpoint_lookups(void **state)
{
    (void)state;
    struct usb_ep_info ep;
    memset(alts, 0, sizeof alts);
    assert_false(usbdesc_find_endpoint(config, sizeof config, alts, 0x81, &ep));
    assert_true(usbdesc_find_endpoint_any_alt(config, sizeof config, 0x81, &ep));
    assert_int_equal(ep.interface, 0);
    assert_int_equal(ep.alt, 1);
    assert_int_equal(ep.attributes, USB_EP_XFER_ISOC);
    assert_int_equal(ep.max_packet, ISO_MAX_PACKET);
    alts[0] = 2;
    assert_true(usbdesc_find_endpoint(config, sizeof config, alts, 0x81, &ep));
    assert_int_equal(ep.alt, 2);
    assert_int_equal(ep.max_packet, 0);
    assert_false(usbdesc_find_endpoint_any_alt(config, sizeof config, 0x84, &ep));
    const uint8_t *printer = usbdesc_find_alt(config, sizeof config, 2, 0);
    assert_non_null(printer);
    assert_int_equal(printer[5], PRINTER_CLASS);
    assert_null(usbdesc_find_alt(config, sizeof config, 2, 1));
}

static void findintfep_looks_at_every_alternate_setting(void **state)
{
    (void)state;
    struct usbfs_view v = configured(0);
    assert_int_equal(usbfs_findintfep(&v, 0x81), 0);   /* only in alternate settings 1 and 2 */
    assert_int_equal(usbfs_findintfep(&v, 0x02), 0);
    assert_int_equal(usbfs_findintfep(&v, 0x83), 1);
    assert_int_equal(usbfs_findintfep(&v, 0x03), 1);
    assert_int_equal(usbfs_findintfep(&v, 0x84), -ENOENT);
    assert_int_equal(usbfs_findintfep(&v, 0x01), -ENOENT);
    assert_int_equal(usbfs_findintfep(&v, 0x91), -EINVAL);
    assert_int_equal(usbfs_findintfep(&v, 0x181), -EINVAL);
    assert_int_equal(usbfs_findintfep(&unconfigured, 0x81), -ESRCH);
    assert_int_equal(usbfs_findintfep(&unconfigured, 0x91), -EINVAL);   /* the address is checked first */
}

static void checkintf_order(void **state)
{
    (void)state;
    struct usbfs_view v = configured(0);
    assert_int_equal(usbfs_checkintf(&unconfigured, 0, USBFS_FREE), -EHOSTUNREACH);
    assert_int_equal(usbfs_checkintf(&unconfigured, 40, USBFS_FREE), -EHOSTUNREACH);
    assert_int_equal(usbfs_checkintf(&v, 40, USBFS_FREE), -EINVAL);
    assert_int_equal(usbfs_checkintf(&v, 5, USBFS_FREE), -ENOENT);
    assert_int_equal(usbfs_checkintf(&v, 1, USBFS_FREE), 0);
    assert_int_equal(usbfs_checkintf(&v, 1, USBFS_MINE), 0);
    assert_int_equal(usbfs_checkintf(&v, 1, USBFS_OTHER), -EBUSY);
}

static int recip(const struct usbfs_view *v, uint8_t type, uint8_t request, uint16_t index, int *ifnum)
{
    *ifnum = 99;
    return usbfs_ctrlrecip(v, type, request, index, ifnum);
}

static void control_to_an_endpoint(void **state)
{
    (void)state;
    struct usbfs_view v = configured(0);
    int ifnum;
    /* GET_STATUS and CLEAR_FEATURE(HALT) to 0x81, which alternate setting 0 does not have */
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x81, &ifnum), 0);
    assert_int_equal(ifnum, 0);
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE, 0x81, &ifnum), 0);
    assert_int_equal(ifnum, 0);
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x0183, &ifnum), 0);   /* high byte ignored */
    assert_int_equal(ifnum, 1);
    /* the endpoint number with the wrong direction goes through to its interface */
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x01, &ifnum), 0);
    assert_int_equal(ifnum, 0);
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x80, &ifnum), 0);   /* EP0 */
    assert_int_equal(ifnum, -1);
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x84, &ifnum), -ENOENT);
    assert_int_equal(recip(&v, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x91, &ifnum), -EINVAL);
    assert_int_equal(recip(&unconfigured, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0x81, &ifnum), -ESRCH);
    assert_int_equal(recip(&v, USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_ENDPOINT, 1, 0x84, &ifnum), -ENOENT);
    /* vendor requests go through, whatever they name */
    assert_int_equal(recip(&v, USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_ENDPOINT, 1, 0x84, &ifnum), 0);
    assert_int_equal(ifnum, -1);
    assert_int_equal(recip(&unconfigured, USB_DIR_OUT | USB_TYPE_VENDOR | USB_RECIP_INTERFACE, 1, 7, &ifnum), 0);
    assert_int_equal(ifnum, -1);
}

static void control_to_an_interface(void **state)
{
    (void)state;
    struct usbfs_view v = configured(0);
    int ifnum;
    assert_int_equal(recip(&v, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0x0105, &ifnum), 0);
    assert_int_equal(ifnum, 5);                        /* checkintf says ENOENT */
    assert_int_equal(recip(&unconfigured, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0, &ifnum), 0);
    assert_int_equal(ifnum, 0);                        /* checkintf says EHOSTUNREACH */
    assert_int_equal(recip(&v, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0x81, &ifnum), 0);
    assert_int_equal(ifnum, -1);
    assert_int_equal(recip(&v, USB_DIR_IN | USB_RECIP_OTHER, USB_REQ_GET_STATUS, 3, &ifnum), 0);
    assert_int_equal(ifnum, -1);
    /* the printer class's GET_DEVICE_ID: wIndex = interface << 8 | alternate setting */
    uint8_t get_id = USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE;
    assert_int_equal(recip(&v, get_id, PRINTER_GET_DEVICE_ID, 0x0200, &ifnum), 0);
    assert_int_equal(ifnum, -1);
    assert_int_equal(recip(&v, get_id, PRINTER_GET_DEVICE_ID, 0x0000, &ifnum), 0);   /* not a printer */
    assert_int_equal(ifnum, 0);
    assert_int_equal(recip(&v, get_id, PRINTER_GET_DEVICE_ID + 1, 0x0200, &ifnum), 0);
    assert_int_equal(ifnum, 0);                        /* another request: the low byte is the interface */
}

static void urbs_need_the_current_alternate_setting(void **state)
{
    (void)state;
    struct usb_ep_info ep;
    struct usbfs_view v = configured(0);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x81, 8, &ep), -ENOENT);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_BULK, 0x02, 0, &ep), -ENOENT);
    assert_int_equal(usbfs_bulk_endpoint(&v, 0x02, &ep), -EINVAL);   /* do_proc_bulk: no usb_pipe_endpoint */
    v = configured(1);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_BULK, 0x02, 0, &ep), 0);
    assert_int_equal(ep.interface, 0);
    assert_int_equal(usbfs_bulk_endpoint(&v, 0x02, &ep), 0);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_INTERRUPT, 0x02, 0, &ep), -EINVAL);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_BULK, 0x83, 0, &ep), 0);   /* made an interrupt URB */
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_INTERRUPT, 0x83, 0, &ep), 0);
    assert_int_equal(usbfs_bulk_endpoint(&v, 0x83, &ep), 0);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_CONTROL, 0x03, 0, &ep), -EINVAL);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_CONTROL, 0x00, 0, &ep), 0);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_CONTROL, 0x80, 0, &ep), 0);
    assert_int_equal(usbfs_urb_endpoint(&v, 9, 0x02, 0, &ep), -EINVAL);
}

static void isochronous_urbs(void **state)
{
    (void)state;
    struct usb_ep_info ep;
    struct usbfs_view v = configured(1);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x81, 0, &ep), -EINVAL);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x81, 129, &ep), -EINVAL);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x81, 8, &ep), -ENXIO);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x03, 8, &ep), -EINVAL);   /* a bulk endpoint */
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_BULK, 0x81, 0, &ep), -EINVAL);
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_INTERRUPT, 0x81, 0, &ep), -EINVAL);
    assert_int_equal(usbfs_bulk_endpoint(&v, 0x81, &ep), -EINVAL);
    v = configured(2);                                /* 0x81 with packet size 0 */
    assert_int_equal(usbfs_urb_endpoint(&v, USBDEVFS_URB_TYPE_ISO, 0x81, 8, &ep), -EMSGSIZE);
    assert_int_equal(usbfs_bulk_endpoint(&v, 0x81, &ep), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_configuration_is_valid),
        cmocka_unit_test(endpoint_lookups),
        cmocka_unit_test(findintfep_looks_at_every_alternate_setting),
        cmocka_unit_test(checkintf_order),
        cmocka_unit_test(control_to_an_endpoint),
        cmocka_unit_test(control_to_an_interface),
        cmocka_unit_test(urbs_need_the_current_alternate_setting),
        cmocka_unit_test(isochronous_urbs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The byte transport of a Secure DFU update over a bootloader's CDC ACM
 * interfaces, spoken directly with libusb: no tty, no cdc_acm driver needed
 * (the kernel's driver is detached for the update and attached again after),
 * so it works the same on a bench, under the emulator and on hosts without
 * cdc_acm. DTR is raised with SET_CONTROL_LINE_STATE first: Nordic's
 * bootloader ignores bulk OUT data until it sees DTR. */
#ifndef HILDA_DFU_USB_H
#define HILDA_DFU_USB_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "dfu.h"
#include "status.h"

struct hilda_dfu_usb {
    struct hilda_device *d;
    uint8_t comm_if, data_if;
    uint8_t ep_in, ep_out;
    bool claimed_comm, claimed_data;
    bool reattach_comm, reattach_data;
};

/* Finds the CDC ACM interfaces, detaches kernel drivers, claims, sets DTR. */
enum hilda_status hilda_dfu_usb_open(struct hilda_device *d, struct hilda_dfu_usb *u, struct hilda_error *e);
struct hilda_dfu_transport hilda_dfu_usb_transport(struct hilda_dfu_usb *u);
/* Releases the interfaces and gives them back to the kernel's drivers
 * (quietly: after the last EXECUTE the device is usually gone). */
void hilda_dfu_usb_close(struct hilda_dfu_usb *u);

#endif

/* Secure DFU's serial transport on the CDC ACM data pipe: SLIP packets in on
 * EP1 OUT, each handed to secure_dfu, the responses SLIP-encoded out on
 * EP1 IN. Bulk OUT is read only while the host holds DTR (as Nordic's
 * bootloader: until then the endpoint NAKs). */
#ifndef HILDA_BOOT_DFU_SERIAL_H
#define HILDA_BOOT_DFU_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* update_done runs once the response to the EXECUTE that completed an
 * update has been taken by the host. */
void dfu_serial_init(void (*update_done)(void));

void dfu_serial_endpoint_event(uint8_t ep_addr);  /* struct usbd_endpoints.event */
void dfu_serial_dtr(bool dtr);                     /* cdc_acm_init's dtr_changed */

#endif

/* The bootloader's USB function: a CDC ACM device (include/hilda/bootloader.h)
 * with the class requests a serial port needs. The data it carries is the
 * Secure DFU transport's business (dfu_serial.h). */
#ifndef HILDA_BOOT_CDC_ACM_H
#define HILDA_BOOT_CDC_ACM_H

#include <stdbool.h>
#include <stdint.h>

#include "usb_device.h"

extern const struct usb_function cdc_acm_function;

/* device_id: FICR DEVICEID as for the application (the same serial number
 * string). dtr_changed runs when the host sets or clears DTR, and with false
 * when the configuration goes away. */
void cdc_acm_init(const uint8_t device_id[8], void (*dtr_changed)(bool dtr));

#endif

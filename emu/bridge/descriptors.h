/* USB descriptors as a host must read them: untrusted bytes from the device.
 * Every check here is one the bridge needs before it publishes what the
 * firmware answered (enumeration) or before it routes a client's request to
 * an endpoint (usbfs). Pure functions on byte arrays: no glib, no model. */
#ifndef EMU_BRIDGE_DESCRIPTORS_H
#define EMU_BRIDGE_DESCRIPTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hilda/usb.h>

/* Limits of the Linux host the bridge plays (not USB's own). */
#define HOST_MAX_CONFIGS 8          /* what Linux reads at most (USB_MAXCONFIG) */
#define HOST_MAX_INTERFACES 32      /* Linux USB_MAXINTERFACES */

/* The first 8 bytes of a device descriptor (what a host reads before it
 * knows bMaxPacketSize0). 0, or -1 with a sentence in err. */
int usbdesc_check_device_head(const uint8_t *d, size_t len, char *err, size_t errlen);

/* A full device descriptor: bLength 18, type DEVICE, a full-speed EP0
 * packet size (8, 16, 32, 64) and 1..8 configurations. */
int usbdesc_check_device(const uint8_t *d, size_t len, char *err, size_t errlen);

/* The 9-byte head of a configuration descriptor: gives wTotalLength. */
int usbdesc_check_config_head(const uint8_t *c, size_t len, char *err, size_t errlen);

/* A whole configuration: exactly wTotalLength bytes, a chain of descriptors
 * whose bLengths stay inside it, interface and endpoint descriptors of the
 * right size, bNumInterfaces distinct interface numbers, each alternate
 * setting with as many endpoints as it declares, endpoint addresses other
 * than 0 and packet sizes a full-speed device may use. */
int usbdesc_check_config(const uint8_t *c, size_t len, char *err, size_t errlen);

/* A string descriptor answer: type STRING, 2 <= bLength <= what arrived.
 * utf8 gets the text (UTF-16LE decoded; an odd last byte and unpaired
 * surrogates become U+FFFD; C0 controls and DEL become '?', so the text is
 * safe on one line). Returns the number of UTF-16 units, or -1. */
int usbdesc_string_utf8(const uint8_t *s, size_t len, char *utf8, size_t cap, char *err, size_t errlen);

/* String 0: the first LANGID. 0 and -1 if the answer is not usable. */
int usbdesc_first_langid(const uint8_t *s, size_t len, uint16_t *langid, char *err, size_t errlen);

/* Queries on configurations that passed usbdesc_check_config. */
struct usb_ep_info {
    uint8_t address, attributes, interface, alt;
    uint16_t max_packet;
};
/* The endpoint with this address in interface `ifnum`'s alternate setting
 * alts[ifnum] (alts may be NULL: setting 0 everywhere). */
bool usbdesc_find_endpoint(const uint8_t *c, size_t len, const uint8_t *alts, uint8_t address,
                           struct usb_ep_info *out);
/* The endpoint with this address in ANY alternate setting of any interface
 * (the first in descriptor order), as Linux's usbfs looks endpoints up for
 * control requests and claims (devio.c findintfep). */
bool usbdesc_find_endpoint_any_alt(const uint8_t *c, size_t len, uint8_t address, struct usb_ep_info *out);
/* Number of alternate settings of interface ifnum (0: no such interface). */
unsigned usbdesc_alt_count(const uint8_t *c, size_t len, uint8_t ifnum);
/* The interface descriptor of interface ifnum, alternate setting alt; NULL
 * if there is none (Linux's usb_find_alt_setting). */
const uint8_t *usbdesc_find_alt(const uint8_t *c, size_t len, uint8_t ifnum, uint8_t alt);
bool usbdesc_has_alt(const uint8_t *c, size_t len, uint8_t ifnum, uint8_t alt);

/* The configuration with bConfigurationValue `value` in a concatenation of
 * checked configurations; NULL if none. */
const uint8_t *usbdesc_config_by_value(const uint8_t *configs, size_t len, uint8_t value, size_t *config_len);

#endif

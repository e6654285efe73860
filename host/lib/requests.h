/* Names of control requests, for people: every table is generated from the
 * one list of each kind (USB_STANDARD_REQUESTS in hilda/usb.h,
 * HILDA_VENDOR_REQUESTS in hilda/protocol.h), so a request added there is
 * known here without another edit. */
#ifndef HILDA_REQUESTS_H
#define HILDA_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/usb.h"

/* "GET_DESCRIPTOR" for bRequest 6; NULL for a code chapter 9 does not define. */
const char *hilda_standard_request_name(uint8_t bRequest);

/* "ECHO_WRITE" for bRequest 0x10; NULL for a code hilda's protocol does not define. */
const char *hilda_vendor_request_name(uint8_t bRequest);

/* A request named as a person types it ("get_descriptor", "ECHO_WRITE":
 * case does not matter): its bRequest, and whether it is one of hilda's
 * vendor requests (false: a standard request). */
bool hilda_request_by_name(const char *name, uint8_t *bRequest, bool *vendor);

/* Every name hilda_request_by_name knows, lower case, separated by spaces,
 * standard requests first: for usage texts. */
const char *hilda_request_names(void);

/* True when bRequest is one of hilda's vendor requests. */
bool hilda_vendor_request_known(uint8_t bRequest);

/* One line for a person: "GET_DESCRIPTOR(type 0x01 index 0) [80 06 0100 0000 0012]". */
void hilda_describe_request(const struct usb_setup *s, char *out, size_t cap);

#endif

/* Inside the chapter 9 battery: what one run knows (struct hilda_ch9), the
 * steps every check is made of (one request, expect a STALL, expect a
 * read...), and the check functions the registry in ch9.c names. Only the
 * ch9*.c files include this; the CLI sees ch9.h. */
#ifndef HILDA_CH9_BATTERY_H
#define HILDA_CH9_BATTERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ch9.h"
#include "desc.h"
#include "descset.h"
#include "setups.h"

#define CH9_MAX_EPS 30

struct hilda_ch9 {
    struct hilda_device *d;
    const struct hilda_ch9_options *o;
    struct hilda_checks *out;
    /* read before the first check (ch9.c: load_basics) */
    struct hilda_device_desc dd;
    uint8_t *cfg;            /* configuration 0, full */
    size_t cfg_len;
    struct hilda_desc_list cl;
    uint8_t eps[CH9_MAX_EPS];   /* bulk and interrupt endpoints of the first configuration, alt setting 0 */
    unsigned neps;
    unsigned n_interfaces;
    uint8_t cfg_value;
    bool hilda;              /* the hilda firmware: its loopback can be used */
    bool fatal;              /* the device is gone or the user interrupted: no more checks */
    size_t next_check;       /* registry index after the last check started: those from here on did not run */
    struct hilda_error err;
    bool claimed;
    /* read once, by whichever check needs them first (ch9_device_ref, ch9_strings) */
    struct {
        bool read;
        bool ok;             /* 18 bytes came */
        uint8_t data[USB_DT_DEVICE_SIZE];
    } device;
    struct {
        bool read;
        enum hilda_status st;   /* of string 0; HILDA_ERR_STALL when it could not be asked */
        struct hilda_error e;
        uint8_t s0[USB_DT_STRING_MAX];
        size_t n0;
        uint16_t lang;       /* the first LANGID, HILDA_LANGID_EN_US without a usable string 0 */
        uint8_t refs[HILDA_SET_STRINGS_MAX];   /* string indexes the descriptors name */
        size_t nrefs;
        uint8_t highest;
    } strings;
    /* what the SET_CONFIGURATION sequence (ch9_set_configuration_sequence) saw, for 9.13-set-configuration */
    struct {
        bool done;           /* it ran to its end or to its first failure */
        bool ok;
        uint8_t value;       /* the configuration it set */
        char reason[288];
    } setcfg;
};

/* ---- steps (ch9_steps.c) ---- */

/* Today's --only rule on one concrete id (ch9.c). */
bool ch9_wanted(const struct hilda_ch9 *c, const char *id);

/* Reports a result of check k (its id and title). */
void ch9_add(struct hilda_ch9 *c, const struct hilda_ch9_check *k, enum hilda_result r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One control transfer; a device that is gone (or a signal) ends the battery. e may be NULL. */
enum hilda_status ch9_req(struct hilda_ch9 *c, struct usb_setup s, uint8_t *buf, size_t *got, struct hilda_error *e);

/* After a STALL the next request must be served (a protocol stall, §7.4). */
bool ch9_recovers(struct hilda_ch9 *c, char *why, size_t cap);

/* The request must STALL, and the device must serve the next one. host_may_refuse: Linux usbfs
 * may refuse it before it reaches the device (interface and endpoint requests): a skip, not a fail. */
void ch9_expect_stall(struct hilda_ch9 *c, const struct hilda_ch9_check *k, struct usb_setup s, bool host_may_refuse);

/* GET_DESCRIPTOR(type, index) with wLength len must return exactly `want` bytes, equal to the first
 * bytes of ref when ref is given. */
void ch9_expect_read(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t type, uint8_t index,
                     uint16_t len, size_t want, const uint8_t *ref);

/* GET_STATUS with bmRequestType rt and wIndex index must answer `want`. */
void ch9_expect_status(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t rt, uint16_t index,
                       uint16_t want, bool host_may_refuse);

/* GET_CONFIGURATION: the value, or -1 (e says why). */
int ch9_get_configuration(struct hilda_ch9 *c, struct hilda_error *e);

/* Bulk or interrupt transfer with a short timeout; a device that is gone ends the battery. */
enum hilda_status ch9_bulk_io(struct hilda_ch9 *c, uint8_t ep, uint8_t *buf, int len, int *done);

/* The device descriptor read again at the start of the checks (NULL if it did not come whole). */
const uint8_t *ch9_device_ref(struct hilda_ch9 *c);

/* String 0 and the string indexes the descriptors name, read on first use. */
void ch9_strings(struct hilda_ch9 *c);

static inline bool ch9_full_speed(const struct hilda_ch9 *c)
{
    return c->d->info.speed == LIBUSB_SPEED_FULL || c->d->info.speed == LIBUSB_SPEED_LOW;
}

/* ---- the runner (ch9.c) ---- */

/* Runs the registry's checks of one stage, in registry order. */
void ch9_run_stage(struct hilda_ch9 *c, enum hilda_ch9_stage stage);

/* The registry entry with this id (which must be there). */
const struct hilda_ch9_check *ch9_find_check(const char *id);

/* ---- the checks: one function each, named in the registry (ch9.c) ---- */
#define CH9_CHECK(name) void name(struct hilda_ch9 *c, const struct hilda_ch9_check *k)

/* ch9_descriptors.c: TD 9.1, 9.2, 9.10, 9.19; usbtest 9 and 10 */
CH9_CHECK(ch9_device);
CH9_CHECK(ch9_device_short);
CH9_CHECK(ch9_device_long);
CH9_CHECK(ch9_device_maxp0);
CH9_CHECK(ch9_device_os);
CH9_CHECK(ch9_config_header);
CH9_CHECK(ch9_config_full);
CH9_CHECK(ch9_config_long);
CH9_CHECK(ch9_config_18);
CH9_CHECK(ch9_config_minus1);
CH9_CHECK(ch9_config_1024_maxp0);
CH9_CHECK(ch9_config_index);
CH9_CHECK(ch9_validate);
CH9_CHECK(ch9_bad_type);
CH9_CHECK(ch9_bad_interface);
CH9_CHECK(ch9_bad_endpoint);
CH9_CHECK(ch9_set_descriptor);
CH9_CHECK(ch9_unknown_request);
CH9_CHECK(ch9_qualifier);
CH9_CHECK(ch9_other_speed);

/* ch9_strings.c: TD 9.8 and TD 9.7 (BOS) */
CH9_CHECK(ch9_string0);
CH9_CHECK(ch9_string0_short);
CH9_CHECK(ch9_string_each);
CH9_CHECK(ch9_string_missing);
CH9_CHECK(ch9_string_langid);
CH9_CHECK(ch9_bos);

/* ch9_states.c: TD 9.13, 9.18, 9.16 */
void ch9_set_configuration_sequence(struct hilda_ch9 *c);
CH9_CHECK(ch9_address_status_device);
CH9_CHECK(ch9_address_status_ep0);
CH9_CHECK(ch9_address_status_interface);
CH9_CHECK(ch9_address_get_interface);
CH9_CHECK(ch9_address_status_ep);
CH9_CHECK(ch9_address_descriptor);
CH9_CHECK(ch9_set_configuration);
CH9_CHECK(ch9_set_configuration_invalid);
CH9_CHECK(ch9_get_configuration_unchanged);
CH9_CHECK(ch9_status_device);
CH9_CHECK(ch9_reset);

/* ch9_interfaces.c: TD 9.4, 9.9, 9.12; usbtest 13 and 29 */
CH9_CHECK(ch9_status_interface);
CH9_CHECK(ch9_status_ep0_out);
CH9_CHECK(ch9_status_ep0_in);
CH9_CHECK(ch9_clear_halt_ep0);
CH9_CHECK(ch9_status_interface_missing);
CH9_CHECK(ch9_status_ep_missing);
CH9_CHECK(ch9_set_feature_interface);
CH9_CHECK(ch9_remote_wakeup);
CH9_CHECK(ch9_get_interface);
CH9_CHECK(ch9_set_interface);
CH9_CHECK(ch9_set_interface_invalid);
CH9_CHECK(ch9_get_interface_missing);
CH9_CHECK(ch9_set_halt_ep0);
CH9_CHECK(ch9_halt_each);
CH9_CHECK(ch9_loopback);

/* ch9_queue.c: usbtest 10 */
CH9_CHECK(ch9_queue);

#endif

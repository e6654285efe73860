/* Kernel-like enumeration of the running firmware, with real control
 * transfers through the USBD model (CPU thread, virtual time).
 *
 * Attach (what Linux's hub driver and usb_new_device do, in one documented
 * sequence): bus reset, 10 ms reset recovery, GET_DESCRIPTOR(device, 8) at
 * address 0, SET_ADDRESS(n), 2 ms, GET_DESCRIPTOR(device, 18), for each
 * configuration GET_DESCRIPTOR(configuration, 9) then (wTotalLength),
 * GET_DESCRIPTOR(string 0, 255) for the LANGID, the manufacturer, product
 * and serial strings the device descriptor names (255 each), and
 * SET_CONFIGURATION(bConfigurationValue of the first configuration).
 * Every answer is checked (descriptors.h); a failure is retried once from
 * the bus reset, as the kernel retries, unless the device went away.
 * A string that cannot be read is left out (as Linux does), with a warning.
 * A SET_CONFIGURATION the device refuses leaves it unconfigured, with a
 * warning (Linux publishes such a device too).
 *
 * Reset (USBDEVFS_RESET, like usb_reset_and_verify_device): the same up to
 * the configurations at the same address, the serial string again, then
 * SET_CONFIGURATION(the configuration in use) if it was not 0. The caller
 * compares the answers with what it published. */
#ifndef EMU_BRIDGE_ENUMERATE_H
#define EMU_BRIDGE_ENUMERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptors.h"
#include "soc.h"
#include "usbd_host.h"

#define ENUM_STRING_MAX 512           /* UTF-8 bytes: 126 UTF-16 units need at most 378 */
#define ENUM_XFER_TIMEOUT_MS 5000     /* Linux USB_CTRL_GET_TIMEOUT */

/* How the enumerator reaches the bus (the bridge, which also captures). */
struct enum_host {
    bool (*submit)(void *ctx, struct usb_xfer *x);       /* false: not connected, done() not called */
    void (*completed)(void *ctx, struct usb_xfer *x);    /* every finished transfer, for the capture */
    bool (*cancel)(void *ctx, struct usb_xfer *x);
    void (*bus_reset)(void *ctx);
    void *ctx;
};

struct enum_result {
    uint8_t device[USB_DT_DEVICE_SIZE];
    uint8_t *configs;                 /* all configurations, concatenated; owned by the enumerator */
    size_t configs_len;
    uint16_t langid;                  /* 0: no usable string 0, so no strings */
    bool has_manufacturer, has_product, has_serial;
    char manufacturer[ENUM_STRING_MAX], product[ENUM_STRING_MAX], serial[ENUM_STRING_MAX];
    uint8_t config_value;             /* what SET_CONFIGURATION set (0: unconfigured) */
};

enum enum_mode { ENUM_ATTACH, ENUM_RESET };

/* ok false: why says what failed, in one sentence. gone: the device went
 * away during it (no point in reporting it as a firmware error). */
typedef void (*enum_done_fn)(void *ctx, bool ok, bool gone, const struct enum_result *r, const char *why);

struct enumerator;

struct enumerator *enumerator_new(struct soc *soc, const struct enum_host *host);
void enumerator_free(struct enumerator *e);

/* Starts at once with the bus reset. reset mode: config_value is the
 * configuration to restore, langid the one to read the serial with. */
void enumerator_start(struct enumerator *e, enum enum_mode mode, uint8_t address, uint8_t config_value,
                      uint16_t langid, enum_done_fn done, void *ctx);
/* Stops without calling done (the device went away and the caller knows). */
void enumerator_abort(struct enumerator *e);
bool enumerator_busy(const struct enumerator *e);

#endif

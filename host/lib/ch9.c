/* The chapter 9 battery: its registry (every check with its id, title and
 * function, in run order) and the runner that walks it through the device
 * states. The checks themselves are in ch9_descriptors.c, ch9_strings.c,
 * ch9_states.c, ch9_interfaces.c and ch9_queue.c; their steps in
 * ch9_steps.c. */
#include "ch9.h"

#include <stdlib.h>
#include <string.h>

#include "ch9_battery.h"

#define D HILDA_CH9_DESCRIPTORS
#define A HILDA_CH9_ADDRESS
#define C HILDA_CH9_CONFIGURED
#define I HILDA_CH9_INTERFACE
#define R HILDA_CH9_RELEASED

static const struct hilda_ch9_check registry[] = {
    /* TD 9.1: the device descriptor */
    { "9.1-device", "GET_DESCRIPTOR(device), 18 bytes", ch9_device, D },
    { "9.1-device-short", "device descriptor read short (wLength 8)", ch9_device_short, D },
    { "9.1-device-long", "device descriptor read long (wLength 255)", ch9_device_long, D },
    { "9.1-device-maxp0", "device descriptor with wLength = bMaxPacketSize0 (usbtest 10 #14)", ch9_device_maxp0, D },
    { "9.1-device-os", "device descriptor equals the one read at enumeration", ch9_device_os, D },
    /* TD 9.2: the configuration descriptor */
    { "9.2-config-header", "GET_DESCRIPTOR(configuration 0), 9 bytes", ch9_config_header, D },
    { "9.2-config-full", "configuration 0 with wLength = wTotalLength", ch9_config_full, D },
    { "9.2-config-long", "configuration 0 read long (wLength 1024, usbtest 10 #10)", ch9_config_long, D },
    { "9.2-config-18", "configuration 0 read short (wLength 18, usbtest 10 #6)", ch9_config_18, D },
    { "9.2-config-minus1", "configuration 0 read one byte short", ch9_config_minus1, D },
    { "9.2-config-1024-maxp0", "configuration 0 with wLength 1024 - bMaxPacketSize0 (usbtest 10 #13)",
      ch9_config_1024_maxp0, D },
    { "9.2-config-index", "configuration index = bNumConfigurations must STALL", ch9_config_index, D },
    { "9.2-validate", "every descriptor passes the validator", ch9_validate, D },
    /* TD 9.10 and usbtest 10 #7, #11: bad requests STALL and the device recovers */
    { "9.10-bad-type", "GET_DESCRIPTOR of type 0x42 must STALL (TD 9.10)", ch9_bad_type, D },
    { "9.10-interface", "GET_DESCRIPTOR(INTERFACE) must STALL", ch9_bad_interface, D },
    { "9.10-endpoint", "GET_DESCRIPTOR(ENDPOINT) must STALL", ch9_bad_endpoint, D },
    { "9.10-set-descriptor", "SET_DESCRIPTOR must STALL (optional request, not implemented)", ch9_set_descriptor, D },
    { "9.10-unknown-request", "standard request code 0x0D must STALL", ch9_unknown_request, D },
    /* TD 9.19: a full-speed device has no other speed */
    { "9.19-qualifier", "full speed only: GET_DESCRIPTOR(DEVICE_QUALIFIER) must STALL", ch9_qualifier, D },
    { "9.19-other-speed", "full speed only: GET_DESCRIPTOR(OTHER_SPEED_CONFIGURATION) must STALL", ch9_other_speed,
      D },
    /* TD 9.8: strings */
    { "9.8-string0", "string 0: at least one LANGID, even length, bLength = bytes returned", ch9_string0, D },
    { "9.8-string0-short", "string 0 with wLength 9 (usbtest 10 #12)", ch9_string0_short, D },
    { "9.8-string-N", "string N: bLength = bytes returned, even, type 3, UTF-16", ch9_string_each, D },
    { "9.8-string-missing", "a string index nothing refers to STALLs", ch9_string_missing, D },
    { "9.8-string-langid", "a LANGID not in string 0 STALLs", ch9_string_langid, D },
    /* TD 9.7 and usbtest 9, 10 #15: BOS */
    { "9.7-bos", "bcdUSB >= 0x0201: BOS header, then wTotalLength, well-formed", ch9_bos, D },
    /* TD 9.13: the Address state, reached by SET_CONFIGURATION(0) */
    { "9.13-address-status-device", "GET_STATUS(device) in the Address state (TD 9.18)", ch9_address_status_device, A },
    { "9.13-address-status-ep0", "GET_STATUS(endpoint 0) in the Address state", ch9_address_status_ep0, A },
    { "9.13-address-status-interface", "GET_STATUS(interface 0) in the Address state must STALL",
      ch9_address_status_interface, A },
    { "9.13-address-get-interface", "GET_INTERFACE in the Address state must STALL", ch9_address_get_interface, A },
    { "9.13-address-status-ep", "GET_STATUS(a bulk endpoint) in the Address state must STALL",
      ch9_address_status_ep, A },
    { "9.13-address-descriptor", "GET_DESCRIPTOR(device) in the Address state", ch9_address_descriptor, A },
    /* TD 9.13: SET_CONFIGURATION */
    { "9.13-set-configuration", "SET_CONFIGURATION 1, 1, 0, 1, each checked with GET_CONFIGURATION",
      ch9_set_configuration, C },
    { "9.13-set-configuration-invalid", "SET_CONFIGURATION of a value no configuration has must STALL",
      ch9_set_configuration_invalid, C },
    { "9.13-get-configuration", "GET_CONFIGURATION unchanged by the refused request", ch9_get_configuration_unchanged,
      C },
    /* TD 9.18, 9.4, 9.9, 9.12: the Configured state, interface 0 claimed */
    { "9.18-status-device", "GET_STATUS(device) in the Configured state (TD 9.18)", ch9_status_device, I },
    { "9.4-status-interface", "GET_STATUS(interface 0) in the Configured state", ch9_status_interface, I },
    { "9.9-status-ep0-out", "GET_STATUS(endpoint 0x00)", ch9_status_ep0_out, I },
    { "9.9-status-ep0-in", "GET_STATUS(endpoint 0x80, usbtest 10 #9)", ch9_status_ep0_in, I },
    { "9.9-clear-halt-ep0", "CLEAR_FEATURE(HALT) on endpoint 0: accepted or STALL (usbtest 10 #8)",
      ch9_clear_halt_ep0, I },
    { "9.4-status-interface-missing", "GET_STATUS of an interface that does not exist must STALL",
      ch9_status_interface_missing, I },
    { "9.9-status-ep-missing", "GET_STATUS of an endpoint that does not exist must STALL", ch9_status_ep_missing, I },
    { "9.4-set-feature-interface", "SET_FEATURE on an interface (no interface features) must STALL",
      ch9_set_feature_interface, I },
    { "9.12-remote-wakeup", "SET_FEATURE(DEVICE_REMOTE_WAKEUP) without the capability must STALL", ch9_remote_wakeup,
      I },
    { "9.4-get-interface", "GET_INTERFACE(0) returns the current alternate setting (0)", ch9_get_interface, I },
    { "9.4-set-interface", "SET_INTERFACE(0, 0), then GET_INTERFACE says 0", ch9_set_interface, I },
    { "9.4-set-interface-invalid", "SET_INTERFACE to an alternate setting that does not exist must STALL",
      ch9_set_interface_invalid, I },
    { "9.4-get-interface-missing", "GET_INTERFACE of an interface that does not exist must STALL",
      ch9_get_interface_missing, I },
    { "9.9-set-halt-ep0", "SET_FEATURE(HALT) on endpoint 0 (hilda: not supported, STALL)", ch9_set_halt_ep0, I },
    /* usbtest 13 and 29 */
    { "9.9-halt-0xNN", "endpoint 0xNN: GET_STATUS, SET_FEATURE(HALT), I/O stalls, CLEAR_FEATURE", ch9_halt_each, I },
    { "9.9-loopback-toggle", "bulk loopback after the halts: 3 packets each way (data toggle in step)", ch9_loopback,
      I },
    /* usbtest 10 */
    { "10-queue", "usbtest 10: 16 control requests queued at once complete in order with the right results",
      ch9_queue, I },
    /* TD 9.16 (one cycle) */
    { "9.16-reset", "bus reset (USBDEVFS_RESET): the device comes back the same and configured", ch9_reset, R },
};

#undef D
#undef A
#undef C
#undef I
#undef R

const struct hilda_ch9_check *hilda_ch9_checks(size_t *count)
{
    if (count)
        *count = sizeof registry / sizeof registry[0];
    return registry;
}

/* ---- --only ---- */

static bool boundary(char ch)
{
    return ch == '-' || ch == '.';
}

/* "9.1" selects 9.1-device..., not 9.10-...: a prefix ends at '-' or '.' (in the id or in the prefix). */
bool hilda_ch9_id_selected(const char *id, const char *only)
{
    if (!only)
        return true;
    size_t n = strlen(only);
    if (n == 0 || strncmp(id, only, n) != 0)
        return false;
    return id[n] == '\0' || boundary(id[n]) || boundary(only[n - 1]);
}

/* The placeholder at the end of an id that stands for several results: "N"
 * a decimal string index, "NN" an endpoint address in two hex digits. */
static size_t placeholder_len(const char *id)
{
    size_t n = strlen(id), k = 0;
    while (k < n && id[n - 1 - k] == 'N')
        k++;
    return k;
}

static bool is_instance(const char *s, size_t placeholder)
{
    size_t n = strlen(s);
    if (placeholder == 2)
        return n == 2 && strspn(s, "0123456789abcdef") == 2;
    return n >= 1 && n <= 3 && strspn(s, "0123456789") == n;
}

bool hilda_ch9_check_selected(const struct hilda_ch9_check *k, const char *only)
{
    size_t ph = placeholder_len(k->id);
    if (!ph || !only)
        return hilda_ch9_id_selected(k->id, only);
    size_t stem = strlen(k->id) - ph, n = strlen(only);
    if (n > stem)   /* a prefix reaching into the placeholder must name one result whole */
        return strncmp(k->id, only, stem) == 0 && is_instance(only + stem, ph);
    /* shorter: the rule on the stem, where what follows it is a digit (no boundary) */
    if (n == 0 || strncmp(k->id, only, n) != 0)
        return false;
    return (n < stem && boundary(k->id[n])) || boundary(only[n - 1]);
}

bool hilda_ch9_only_matches_any(const char *only)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (hilda_ch9_check_selected(&registry[i], only))
            return true;
    return false;
}

const struct hilda_ch9_check *ch9_find_check(const char *id)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i].id, id) == 0)
            return &registry[i];
    abort();   /* a check function naming an id the registry lacks: a bug caught by the unit tests */
}

bool ch9_wanted(const struct hilda_ch9 *c, const char *id)
{
    return hilda_ch9_id_selected(id, c->o->only);
}

/* ---- the run ---- */

/* Ctrl-C stops the battery between two checks (a check's own requests run
 * to their end): the checks not started are reported as not run. */
void ch9_run_stage(struct hilda_ch9 *c, enum hilda_ch9_stage stage)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0] && !c->fatal; i++) {
        if (registry[i].stage != stage || !hilda_ch9_check_selected(&registry[i], c->o->only))
            continue;
        if (hilda_interrupted) {
            c->fatal = true;
            hilda_fail(&c->err, HILDA_ERR_INTERRUPTED, "interrupted");
            return;
        }
        c->next_check = i + 1;
        registry[i].run(c, &registry[i]);
    }
}

/* After a stop: every selected check the battery did not start, as not run. */
static void report_not_run(struct hilda_ch9 *c)
{
    bool interrupted = c->err.status == HILDA_ERR_INTERRUPTED;
    const char *why = interrupted ? "not run: the battery was interrupted before it"
                                  : "not run: the device went away before it";
    size_t n = 0;
    for (size_t i = c->next_check; i < sizeof registry / sizeof registry[0]; i++)
        if (hilda_ch9_check_selected(&registry[i], c->o->only)) {
            hilda_checks_add(c->out, registry[i].id, registry[i].title, HILDA_NOT_RUN, "%s", why);
            n++;
        }
    if (interrupted)
        hilda_fail(&c->err, HILDA_ERR_INTERRUPTED, "interrupted: the battery stopped after %zu results, %zu checks "
                   "not run", c->out->n - n, n);
}

/* The device descriptor, configuration 0 and what the checks need from it. */
static bool load_basics(struct hilda_ch9 *c, struct hilda_error *e)
{
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, sizeof b), b, &got, e);
    if (st || got != sizeof b) {
        if (!st)
            hilda_fail(e, HILDA_ERR_PROTOCOL, "the device descriptor came back with %zu bytes, not 18", got);
        return false;
    }
    hilda_parse_device(b, got, &c->dd, NULL);
    uint8_t h[USB_DT_CONFIG_SIZE];
    st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, sizeof h), h, &got, e);
    if (st || got < 4) {
        if (!st)
            hilda_fail(e, HILDA_ERR_PROTOCOL, "the configuration header came back with %zu bytes", got);
        return false;
    }
    uint16_t total = hilda_le16(h, got, 2);
    c->cfg = malloc(total ? total : 1);
    if (!c->cfg)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory"), false;
    st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, total), c->cfg, &c->cfg_len, e);
    if (st)
        return false;
    hilda_parse_config(c->cfg, c->cfg_len, NULL, &c->cl, NULL);
    /* Only the endpoints of alternate setting 0, the one every interface is in after SET_CONFIGURATION:
     * usbfs refuses I/O on an endpoint of another alternate setting (ENOENT, proc_do_submiturb). */
    bool default_alt = true;
    for (size_t i = 0; i < c->cl.n; i++) {
        const struct hilda_desc *x = &c->cl.v[i];
        if (!x->decoded)
            continue;
        if (x->kind == HILDA_KIND_CONFIG) {
            c->cfg_value = x->u.config.bConfigurationValue;
            c->n_interfaces = x->u.config.bNumInterfaces;
        }
        if (x->kind == HILDA_KIND_INTERFACE)
            default_alt = x->u.intf.bAlternateSetting == 0;
        if (x->kind == HILDA_KIND_ENDPOINT && default_alt &&
            (x->u.ep.bmAttributes & USB_EP_XFER_MASK) >= USB_EP_XFER_BULK && c->neps < CH9_MAX_EPS) {
            bool dup = false;
            for (unsigned k = 0; k < c->neps; k++)
                dup |= c->eps[k] == x->u.ep.bEndpointAddress;
            if (!dup)
                c->eps[c->neps++] = x->u.ep.bEndpointAddress;
        }
    }
    c->hilda = c->dd.idVendor == HILDA_USB_VID && c->dd.idProduct == HILDA_USB_PID;
    return true;
}

/* Interface and endpoint requests reach the device only for a claimed interface (Linux usbfs). */
static void claim_interface(struct hilda_ch9 *c)
{
    int rc = libusb_claim_interface(c->d->h, 0);
    c->claimed = rc == 0;
    if (rc < 0 && rc != LIBUSB_ERROR_NOT_FOUND)   /* a note of the runner, not a check of the registry */
        hilda_checks_add(c->out, "setup-claim", "claim interface 0", HILDA_WARN,
                         "claiming interface 0 failed (%s): interface and endpoint checks may be refused",
                         libusb_error_name(rc));
}

enum hilda_status hilda_ch9_run(struct hilda_device *d, const struct hilda_ch9_options *o, struct hilda_checks *out,
                                struct hilda_error *e)
{
    static const struct hilda_ch9_options defaults = { 0 };
    struct hilda_ch9 c = { .d = d, .o = o ? o : &defaults, .out = out };
    hilda_desc_list_init(&c.cl);
    struct hilda_error le;
    if (!load_basics(&c, &le)) {
        hilda_desc_list_free(&c.cl);
        free(c.cfg);
        if (e)
            *e = le;
        return le.status ? le.status : HILDA_ERR_PROTOCOL;
    }
    /* Start from the Configured state, as a host leaves it. */
    struct hilda_error ge;
    int cur = ch9_get_configuration(&c, &ge);
    if (cur == 0 && c.cfg_value)
        libusb_set_configuration(d->h, c.cfg_value);

    ch9_run_stage(&c, HILDA_CH9_DESCRIPTORS);
    /* SET_CONFIGURATION needs every interface released (the OS refuses
     * otherwise), so it runs before the interface requests claim one; the
     * Address-state checks run inside it. */
    if (!c.fatal)
        ch9_set_configuration_sequence(&c);
    ch9_run_stage(&c, HILDA_CH9_CONFIGURED);
    if (!c.fatal)
        claim_interface(&c);
    ch9_run_stage(&c, HILDA_CH9_INTERFACE);
    /* the device is still there after Ctrl-C: it is left as found all the same */
    bool present = !c.fatal || c.err.status == HILDA_ERR_INTERRUPTED;
    if (c.claimed && present)
        libusb_release_interface(d->h, 0);
    c.claimed = false;
    ch9_run_stage(&c, HILDA_CH9_RELEASED);
    /* Leave it as found: configured. */
    if (present && ch9_get_configuration(&c, &ge) != c.cfg_value && c.cfg_value)
        libusb_set_configuration(d->h, c.cfg_value);
    hilda_desc_list_free(&c.cl);
    free(c.cfg);
    if (c.fatal) {
        report_not_run(&c);
        if (e)
            *e = c.err;
        return c.err.status ? c.err.status : HILDA_ERR_NO_DEVICE;
    }
    return HILDA_OK;
}

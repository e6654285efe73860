/* usbmon capture writer: see pcap.h. The header layout is the kernel's
 * binary usbmon record (Documentation/usb/usbmon.rst, "mmapped" form with
 * 64 bytes), written field by field in little-endian order, which is what
 * the pcap magic below declares. */
#include "pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hilda/usb.h>

#define LINKTYPE_USB_LINUX_MMAPPED 220
#define USBMON_HEADER 64
#define SNAPLEN (USBMON_HEADER + 65536)
#define FLUSH_EVERY 64               /* records between flushes */

/* usbmon transfer types and URB flags */
#define XFER_CONTROL 2
#define XFER_BULK 3
#define URB_DIR_IN 0x0200
#define EINPROGRESS_STATUS (-115)

struct usb_pcap {
    FILE *f;
    unsigned unflushed;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

struct usb_pcap *usb_pcap_open(const char *path)
{
    FILE *f = fopen(path, "wbe");   /* e: not inherited by run's command */
    if (!f)
        return NULL;
    struct usb_pcap *p = calloc(1, sizeof *p);
    if (!p) {
        fclose(f);
        errno = ENOMEM;
        return NULL;
    }
    p->f = f;
    uint8_t h[24];
    put32(h, 0xA1B2C3D4u);           /* microsecond time stamps */
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 8, 0);                 /* thiszone */
    put32(h + 12, 0);                /* sigfigs */
    put32(h + 16, SNAPLEN);
    put32(h + 20, LINKTYPE_USB_LINUX_MMAPPED);
    fwrite(h, 1, sizeof h, f);
    fflush(f);
    return p;
}

void usb_pcap_close(struct usb_pcap *p)
{
    if (!p)
        return;
    fclose(p->f);
    free(p);
}

static void record(struct usb_pcap *p, vtime_t now, uint64_t id, char type, uint8_t busnum, uint8_t devnum,
                   const struct usb_xfer *x, int status, uint32_t length, const uint8_t *data, uint32_t captured)
{
    bool control = (x->ep & USB_EP_NUM_MASK) == 0;
    bool in = control ? (x->setup[0] & USB_DIR_MASK) == USB_DIR_IN : (x->ep & USB_EP_DIR_IN) != 0;
    uint64_t us = now / SOC_CYCLES_PER_US;
    uint8_t h[USBMON_HEADER] = { 0 };
    put64(h, id);
    h[8] = (uint8_t)type;
    h[9] = control ? XFER_CONTROL : XFER_BULK;
    h[10] = (uint8_t)((x->ep & USB_EP_NUM_MASK) | (in ? USB_EP_DIR_IN : 0));
    h[11] = devnum;
    put16(h + 12, busnum);
    bool setup = control && type == 'S';
    h[14] = setup ? 0 : '-';
    h[15] = captured ? 0 : (type == 'S' ? (in ? '<' : '=') : (in ? '=' : '>'));
    put64(h + 16, us / 1000000);
    put32(h + 24, (uint32_t)(us % 1000000));
    put32(h + 28, (uint32_t)status);
    put32(h + 32, length);
    put32(h + 36, captured);
    if (setup)
        memcpy(h + 40, x->setup, 8);
    put32(h + 56, in ? URB_DIR_IN : 0);

    uint8_t r[16];
    put32(r, (uint32_t)(us / 1000000));
    put32(r + 4, (uint32_t)(us % 1000000));
    put32(r + 8, USBMON_HEADER + captured);
    put32(r + 12, USBMON_HEADER + captured);
    fwrite(r, 1, sizeof r, p->f);
    fwrite(h, 1, sizeof h, p->f);
    if (captured)
        fwrite(data, 1, captured, p->f);
    if (++p->unflushed >= FLUSH_EVERY) {
        fflush(p->f);
        p->unflushed = 0;
    }
}

static uint32_t clamp_capture(uint32_t n)
{
    return n > SNAPLEN - USBMON_HEADER ? SNAPLEN - USBMON_HEADER : n;
}

void usb_pcap_submit(struct usb_pcap *p, vtime_t now, uint64_t id, uint8_t busnum, uint8_t devnum,
                     const struct usb_xfer *x)
{
    if (!p)
        return;
    bool control = (x->ep & USB_EP_NUM_MASK) == 0;
    bool in = control ? (x->setup[0] & USB_DIR_MASK) == USB_DIR_IN : (x->ep & USB_EP_DIR_IN) != 0;
    uint32_t length = control ? usb_setup_decode(x->setup).wLength : x->len;
    record(p, now, id, 'S', busnum, devnum, x, EINPROGRESS_STATUS, length, x->buf, in ? 0 : clamp_capture(length));
}

void usb_pcap_complete(struct usb_pcap *p, vtime_t now, uint64_t id, uint8_t busnum, uint8_t devnum,
                       const struct usb_xfer *x, int status)
{
    if (!p)
        return;
    bool control = (x->ep & USB_EP_NUM_MASK) == 0;
    bool in = control ? (x->setup[0] & USB_DIR_MASK) == USB_DIR_IN : (x->ep & USB_EP_DIR_IN) != 0;
    record(p, now, id, 'C', busnum, devnum, x, status, x->actual, x->buf, in ? clamp_capture(x->actual) : 0);
}

/* The bulk pair loops back one packet at a time. An OUT packet waits in the
 * endpoint buffer until its DMA drains it (usbd_ep_read), and the endpoint
 * NAKs further OUT packets until then; after that DMA the hardware accepts
 * the next one by itself (nRF52840 PS USBD "Bulk and interrupt transactions"). So the OUT packet is
 * drained only when EP1 IN is free to send it back: while the host has not
 * yet taken the previous IN packet, the next OUT packet stays in the endpoint
 * buffer, and that is the flow control. */
#include "usb_loopback.h"

#include "dma.h"
#include "usb_descriptors.h"
#include "usbd.h"
#include "hilda/usb.h"

DMA_BUFFER static uint8_t bulk_buf[USB_FS_BULK_MAX_PACKET];

void usb_loopback_event(uint8_t ep_addr)
{
    (void)ep_addr;
    if (!usbd_ep_out_waiting(USB_DESC_EP_BULK_OUT) || usbd_ep_in_busy(USB_DESC_EP_BULK_IN))
        return;
    int got = usbd_ep_read(USB_DESC_EP_BULK_OUT, bulk_buf, sizeof bulk_buf);
    if (got >= 0)
        (void)usbd_ep_write(USB_DESC_EP_BULK_IN, bulk_buf, (uint16_t)got);
}

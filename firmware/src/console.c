#include "console.h"

#include "hilda/protocol.h"
#include "uarte.h"
#include "usb_device.h"

/* "hilda 0.1 0123456789ABCDEF\r\n" */
static char banner[48];
static uint32_t banner_len;

static void put(const char *s)
{
    while (*s && banner_len < sizeof banner)
        banner[banner_len++] = *s++;
}

static void put_number(unsigned v)
{
    char digits[4];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 4);
    while (n && banner_len < sizeof banner)
        banner[banner_len++] = digits[--n];
}

void console_init(const uint8_t device_id[8])
{
    static const char hex[] = "0123456789ABCDEF";
    put("hilda ");
    put_number(HILDA_FW_MAJOR);
    put(".");
    put_number(HILDA_FW_MINOR);
    put(" ");
    /* the serial number as the USB string shows it: DEVICEID1 then DEVICEID0, MSB first */
    for (int i = 7; i >= 0 && banner_len + 2 <= sizeof banner; i--) {
        banner[banner_len++] = hex[device_id[i] >> 4];
        banner[banner_len++] = hex[device_id[i] & 0xF];
    }
    put("\r\n");
    uarte_write((const uint8_t *)banner, banner_len);
}

void console_poll(void)
{
    if (usb_device_state() == USB_STATE_CONFIGURED)
        return;
    uint8_t chunk[32];
    size_t n;
    /* The RX ring's reader is otherwise the USBD interrupt: keep it out while
     * this thread-mode reader takes bytes. */
    do {
        __asm__ volatile("cpsid i" ::: "memory");
        n = uarte_read(chunk, sizeof chunk);
        __asm__ volatile("cpsie i" ::: "memory");
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] == CONSOLE_ENQ)
                uarte_write((const uint8_t *)banner, banner_len);
        }
    } while (n == sizeof chunk);
}

#include "fake_device_hw.h"

#include <string.h>

#include "usb_descriptors.h"
#include "usb_vendor.h"

struct fake_device_hw fake;

static void set_halt(uint8_t ep_addr, bool halt)
{
    fake.halt[ep_addr >> 7][ep_addr & 0x0F] = halt;
    fake.last_halt_ep = ep_addr;
    fake.set_halt_calls++;
}

static bool halted(uint8_t ep_addr)
{
    return fake.halt[ep_addr >> 7][ep_addr & 0x0F];
}

static void set_configured(bool configured)
{
    fake.configured = configured;
    fake.set_configured_calls++;
}

/* All or nothing, like uarte_write. */
static size_t uart_write(const uint8_t *data, size_t len)
{
    if (len > fake.tx_free || fake.tx_len + len > sizeof fake.tx)
        return 0;
    memcpy(fake.tx + fake.tx_len, data, len);
    fake.tx_len += len;
    fake.tx_free -= (uint32_t)len;
    return len;
}

static size_t uart_read(uint8_t *data, size_t len)
{
    size_t n = fake.rx_len - fake.rx_pos;

    fake.uart_read_calls++;
    if (n > len)
        n = len;
    memcpy(data, fake.rx + fake.rx_pos, n);
    fake.rx_pos += n;
    return n;
}

static bool uart_set_baud(uint32_t baud)
{
    static const uint32_t bauds[] = { HILDA_UART_BAUDS };

    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++) {
        if (bauds[i] == baud) {
            fake.baud = baud;
            return true;
        }
    }
    return false;
}

static void uart_status(struct hilda_uart_status *status)
{
    status->baud = fake.baud;
    status->tx_free = fake.tx_free;
    status->rx_available = (uint32_t)(fake.rx_len - fake.rx_pos);
    status->errorsrc = fake.errorsrc;
}

static void reboot(bool into_bootloader)
{
    fake.reboots++;
    fake.reboot_into_bootloader = into_bootloader;
}

static void set_personality(uint8_t personality, uint8_t pattern)
{
    fake.personality_calls++;
    fake.personality = personality;
    fake.pattern = pattern;
}

static const struct usb_device_hw hooks = {
    .set_halt = set_halt,
    .halted = halted,
    .set_configured = set_configured,
};

static const struct usb_vendor_hw vendor_hooks = {
    .uart_write = uart_write,
    .uart_read = uart_read,
    .uart_set_baud = uart_set_baud,
    .uart_status = uart_status,
    .reboot = reboot,
    .set_personality = set_personality,
};

const struct usb_device_hw *fake_device_hw_reset(void)
{
    memset(&fake, 0, sizeof fake);
    fake.tx_free = HILDA_UART_TX_CAPACITY;
    fake.baud = HILDA_UART_DEFAULT_BAUD;
    return &hooks;
}

void fake_device_start(const uint8_t device_id[8])
{
    const struct usb_device_hw *hw = fake_device_hw_reset();

    usb_descriptors_init(device_id);
    usb_vendor_init(&vendor_hooks);
    usb_device_init(hw, &usb_vendor_function);
}

void fake_uart_receive(const uint8_t *data, size_t len)
{
    if (fake.rx_len + len > sizeof fake.rx)
        len = sizeof fake.rx - fake.rx_len;
    memcpy(fake.rx + fake.rx_len, data, len);
    fake.rx_len += len;
}

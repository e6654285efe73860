/* hilda firmware: wires the drivers to the interrupt vectors and the device
 * logic to the drivers, then sleeps. All USB and UART work happens in
 * interrupt handlers of one priority (board_nvic_enable), so they never
 * preempt each other; thread mode only answers the UART console. */
#include "board.h"
#include "console.h"
#include "counters.h"
#include "nrf52840.h"
#include "timer.h"
#include "uarte.h"
#include "usb_descriptors.h"
#include "usb_device.h"
#include "usb_gadget_zero.h"
#include "usb_loopback.h"
#include "usb_vendor.h"
#include "usbd.h"

/* 10 ms: the status stage of the request that asked for the reboot must
 * reach the host first (there is no status-stage event to wait for, §8 p. 7). */
#define REBOOT_DELAY_US 10000u
#define BUTTON_POLL_US 20000u
/* HILDA_REQ_SET_PERSONALITY: the same wait for the status stage, then as
 * long detached, so that the host sees an unplug and enumerates anew. */
#define PERSONALITY_DETACH_US 10000u
#define PERSONALITY_ATTACH_US 10000u

static bool reboot_to_bootloader;
static bool button_was_down;
static uint8_t next_personality, next_pattern;

static const struct usbd_endpoints loopback = {
    .in_mask = 1u << (USB_DESC_EP_BULK_IN & USB_EP_NUM_MASK),
    .out_mask = 1u << USB_DESC_EP_BULK_OUT,
    .event = usb_loopback_event,
};

/* Gadget Zero's source and sink use the same pair. */
static const struct usbd_endpoints source_sink = {
    .in_mask = 1u << (USB_DESC_EP_BULK_IN & USB_EP_NUM_MASK),
    .out_mask = 1u << USB_DESC_EP_BULK_OUT,
    .event = usb_gadget_zero_event,
};

static void reboot_now(void)
{
    board_reboot(reboot_to_bootloader);
}

static void schedule_reboot(bool into_bootloader)
{
    reboot_to_bootloader = into_bootloader;
    timer_start(TIMER_SLOT_REBOOT, REBOOT_DELAY_US, reboot_now);
}

/* Polled rather than GPIOTE-driven: 50 Hz is cheap, and two equal samples
 * 20 ms apart debounce the switch. */
static void poll_button(void)
{
    bool down = board_button_pressed();
    if (down && !button_was_down)
        counters.button_presses++;
    button_was_down = down;
    timer_start(TIMER_SLOT_BUTTON, BUTTON_POLL_US, poll_button);
}

static const struct usb_device_hw device_hw = {
    .set_halt = usbd_set_halt,
    .halted = usbd_halted,
    .set_configured = usbd_set_configured,
};

static const struct usb_gadget_zero_hw gadget_zero_hw = {
    .ep_write = usbd_ep_write,
    .ep_in_busy = usbd_ep_in_busy,
    .ep_read = usbd_ep_read,
    .ep_out_waiting = usbd_ep_out_waiting,
    .device = { .set_halt = usbd_set_halt, .halted = usbd_halted, .set_configured = usbd_set_configured },
};

static const struct usb_vendor_hw vendor_hw;

static void attach(void)
{
    usbd_init(next_personality == HILDA_PERSONALITY_GADGET_ZERO ? &source_sink : &loopback);
}

/* Pull-up off (usbd_deinit leaves the old function unconfigured), the new
 * function in place, and the pull-up back on a little later. The echo buffer
 * and an armed fault are forgotten. */
static void switch_personality(void)
{
    usbd_deinit();
    usb_vendor_init(&vendor_hw);
    if (next_personality == HILDA_PERSONALITY_GADGET_ZERO) {
        usb_gadget_zero_init(&gadget_zero_hw, next_pattern);
        usb_device_init(&usb_gadget_zero_device_hw, &usb_gadget_zero_function);
    } else {
        usb_device_init(&device_hw, &usb_vendor_function);
    }
    timer_start(TIMER_SLOT_REBOOT, PERSONALITY_ATTACH_US, attach);
}

/* Shares the reboot's timer slot: whichever was asked last happens. */
static void schedule_personality(uint8_t personality, uint8_t pattern)
{
    next_personality = personality;
    next_pattern = pattern;
    timer_start(TIMER_SLOT_REBOOT, PERSONALITY_DETACH_US, switch_personality);
}

static const struct usb_vendor_hw vendor_hw = {
    .uart_write = uarte_write,
    .uart_read = uarte_read,
    .uart_set_baud = uarte_set_baud,
    .uart_status = uarte_status,
    .reboot = schedule_reboot,
    .set_personality = schedule_personality,
};

/* vector table entries (startup.c) */
void power_clock_vector(void);
void uarte0_vector(void);
void timer0_vector(void);
void usbd_vector(void);

void power_clock_vector(void)
{
    usbd_power_irq();
}

void uarte0_vector(void)
{
    uarte_irq();
}

void timer0_vector(void)
{
    timer_irq();
}

void usbd_vector(void)
{
    usbd_irq();
}

int main(void)
{
    board_init();
    counters_reset();
    timer_init();

    const struct uarte_config uart = {
        .base = NRF_UARTE0_BASE,
        .pin_tx = BOARD_UART_TX_PIN,
        .pin_rx = BOARD_UART_RX_PIN,
        .hwfc = true,
        .pin_rts = BOARD_UART_RTS_PIN,
        .pin_cts = BOARD_UART_CTS_PIN,
        .baud = HILDA_UART_DEFAULT_BAUD,
    };
    uarte_init(&uart);
    board_nvic_enable(NRF_IRQ_UARTE0);

    uint8_t id[8];
    board_device_id(id);
    usb_descriptors_init(id);
    usb_vendor_init(&vendor_hw);
    usb_device_init(&device_hw, &usb_vendor_function);
    console_init(id);
    usbd_init(&loopback);
    poll_button();

    for (;;) {
        __asm__ volatile("wfi");
        console_poll();
    }
}

/* hilda's Secure DFU bootloader: decides at reset whether to start the
 * application (boot.h), and otherwise runs DFU mode: a CDC ACM device
 * (cdc_acm.c) carrying Secure DFU (dfu_serial.c, secure_dfu.c) on the same
 * USBD driver, DMA API and chapter-9 core as the application, with LD2 red
 * blinking. docs/firmware.md describes the rules and the layouts. */
#include "board.h"
#include "boot.h"
#include "cdc_acm.h"
#include "counters.h"
#include "dfu_serial.h"
#include "hilda/bootloader.h"
#include "hilda/dfu.h"
#include "nrf52840.h"
#include "nvmc.h"
#include "git_hash.h"
#include "secure_dfu.h"
#include "settings.h"
#include "timer.h"
#include "usb_device.h"
#include "usbd.h"

/* FIRMWARE_VERSION reports the bootloader's version as its git hash. */
#define BOOTLOADER_VERSION ((uint32_t)(HILDA_GIT_HASH))

#define BLINK_US 250000u
/* The response to the last EXECUTE left; give the host a moment to read it
 * before the device disappears from the bus. */
#define RESET_DELAY_US 10000u

extern uint8_t __flash_start[], __flash_end[];

static const struct usb_device_hw device_hw = {
    .set_halt = usbd_set_halt,
    .halted = usbd_halted,
    .set_configured = usbd_set_configured,
};

/* vector table entries (src/startup.c) */
void power_clock_vector(void);
void timer0_vector(void);
void usbd_vector(void);

void power_clock_vector(void)
{
    usbd_power_irq();
}

void timer0_vector(void)
{
    timer_irq();
}

void usbd_vector(void)
{
    usbd_irq();
}

static void blink(void)
{
    board_led_toggle(LED_DFU);
    timer_start(TIMER_SLOT_LED, BLINK_US, blink);
}

static void reset_now(void)
{
    usbd_deinit();
    board_reboot(false);
}

static void update_done(void)
{
    timer_start(TIMER_SLOT_REBOOT, RESET_DELAY_US, reset_now);
}

/* Hands the chip over as a reset would leave it for the application: no
 * interrupt enabled or pending, SysTick off, its vector table in VTOR, its
 * stack in MSP. Only the boot decision ran before (nothing was enabled). */
__attribute__((noreturn)) static void start_application(uint32_t sp, uint32_t reset)
{
    __asm__ volatile("cpsid i" ::: "memory");
    NRF_REG(0, SCS_SYST_CSR) = 0;
    for (unsigned i = 0; i < 8; i++) {
        NRF_REG(0, SCS_NVIC_ICER(i)) = 0xFFFFFFFFu;
        NRF_REG(0, SCS_NVIC_ICPR(i)) = 0xFFFFFFFFu;
    }
    NRF_REG(0, SCS_ICSR) = SCS_ICSR_PENDSTCLR | SCS_ICSR_PENDSVCLR;
    NRF_REG(0, SCS_VTOR) = DFU_APP_START;
    __asm__ volatile("dsb\n isb" ::: "memory");
    __asm__ volatile("msr msp, %0\n"
                     "cpsie i\n"
                     "bx %1\n" ::"r"(sp), "r"(reset) : "memory");
    __builtin_unreachable();
}

static enum boot_choice decide(void)
{
    struct settings s;
    const uint32_t *app = (const uint32_t *)(uintptr_t)DFU_APP_START;
    settings_load(&nvmc_flash, &s);
    struct boot_inputs in = {
        .app_valid = s.app_valid,
        .app_sp = app[0],
        .app_reset = app[1],
        .resetreas = NRF_REG(NRF_POWER_BASE, POWER_RESETREAS),
        .gpregret = NRF_REG(NRF_POWER_BASE, POWER_GPREGRET),
        .button = board_button_sample(),
    };
    /* Both are one-shot: RESETREAS accumulates until cleared (write 1s),
     * and the next reset must not find the request again. */
    NRF_REG(NRF_POWER_BASE, POWER_RESETREAS) = in.resetreas;
    NRF_REG(NRF_POWER_BASE, POWER_GPREGRET) = 0;
    enum boot_choice choice = boot_decide(&in);
    if (choice == BOOT_APP)
        start_application(in.app_sp, in.app_reset);
    return choice;
}

int main(void)
{
    (void)decide();

    board_init();
    board_led(LED_ALIVE, false);      /* LD2 shows red alone */
    counters_reset();
    timer_init();
    blink();

    const struct dfu_device_info info = {
        .part = NRF_REG(NRF_FICR_BASE, FICR_INFO_PART),
        .variant = NRF_REG(NRF_FICR_BASE, FICR_INFO_VARIANT),
        .bootloader_version = BOOTLOADER_VERSION,
        // cppcheck-suppress comparePointers ; the linker's bounds of the bootloader's flash
        .bootloader_size = (uint32_t)(__flash_end - __flash_start),
    };
    dfu_init(&nvmc_flash, &info);
    dfu_serial_init(update_done);

    uint8_t id[8];
    board_device_id(id);
    cdc_acm_init(id, dfu_serial_dtr);
    usb_device_init(&device_hw, &cdc_acm_function);
    const struct usbd_endpoints endpoints = {
        .in_mask = 1u << (HILDA_BOOTLOADER_EP_IN & USB_EP_NUM_MASK) | 1u << (HILDA_BOOTLOADER_EP_NOTIFY & USB_EP_NUM_MASK),
        .out_mask = 1u << HILDA_BOOTLOADER_EP_OUT,
        .event = dfu_serial_endpoint_event,
    };
    usbd_init(&endpoints);

    for (;;)
        __asm__ volatile("wfi");
}

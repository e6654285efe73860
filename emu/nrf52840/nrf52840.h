/* The nRF52840's peripheral models, assembled on a struct soc, and the
 * handles the control channel and the USB bridge need. Each model is one file
 * in emu/nrf52840/. */
#ifndef EMU_NRF52840_H
#define EMU_NRF52840_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

struct nrf52840;

struct nrf52840_config {
    const char *uart_mode;     /* UARTE0: "pty" (NULL = "pty"), "stdio", "none" or "fd" */
    uint64_t device_id;        /* FICR DEVICEID (DEVICEID1 << 32 | DEVICEID0); 0 = a fixed default */
    bool vbus;                 /* USB plugged in at power-on */
    /* Everything below may stay zero. */
    const char *uart1_mode;    /* UARTE1, same choices; NULL = "none" */
    int uart_fd[2];            /* mode "fd": a socket or pipe end per instance (caller-owned) */
    void *ctx;                 /* passed to the callbacks */
    /* The firmware wrote POWER.SYSTEMOFF: the chip is off until a reset
     * (nrf52840_system_off() tells it too). The core should stop running. */
    void (*system_off)(void *ctx);
    /* NVMC erased [addr, addr + len) of flash (translated code is stale). */
    void (*flash_erased)(void *ctx, uint32_t addr, uint32_t len);
    /* The watchdog timed out: the chip has noted RESETREAS.DOG; the caller
     * resets the CPU and the chip (RESET_SYSTEM) now. NULL: only logged. */
    void (*watchdog_reset)(void *ctx);
};

/* The chip's state must be freed before the soc (nrf52840_free), and the
 * soc must not run afterwards. */
struct nrf52840 *nrf52840_new(struct soc *soc, const struct nrf52840_config *cfg);
void nrf52840_free(struct nrf52840 *chip);

/* GPIO: port 0 or 1. OUT and DIR registers, and the level a pin shows. */
uint32_t nrf52840_gpio_out(const struct nrf52840 *chip, unsigned port);
uint32_t nrf52840_gpio_dir(const struct nrf52840 *chip, unsigned port);
/* What the IN register reads (outputs, external drive, pulls). */
uint32_t nrf52840_gpio_in(const struct nrf52840 *chip, unsigned port);
/* Drive an input from outside (a button): level true = high. */
void nrf52840_gpio_drive(struct nrf52840 *chip, unsigned port, unsigned pin, bool level);
/* Stop driving it: the pin shows its pull again. */
void nrf52840_gpio_release(struct nrf52840 *chip, unsigned port, unsigned pin);

/* USB cable: VBUS on/off raises USBDETECTED/USBREMOVED (and USBPWRRDY
 * once the regulator would be up) in the POWER model. */
void nrf52840_set_vbus(struct nrf52840 *chip, bool present);

/* The pseudo-terminal of UARTE instance 0 or 1 ("" if not a pty). */
const char *nrf52840_uart_path(const struct nrf52840 *chip, unsigned instance);

struct nrf52840_uart_stats {
    uint64_t tx_bytes;          /* bytes the UARTE shifted out */
    uint64_t tx_dropped;        /* of those, not taken by the backend (no reader, buffer full) */
    uint64_t tx_cts_waits;      /* times a byte waited for CTS (HWFC: the backend's buffer was full) */
    uint64_t rx_bytes;          /* bytes that entered the RX FIFO */
    uint64_t rx_overruns;       /* bytes lost with ERRORSRC.OVERRUN (FIFO full, no buffer) */
    uint64_t rx_lost_disabled;  /* bytes that arrived while the UARTE was not enabled */
    uint64_t rx_queue_dropped;  /* input beyond the 64 KiB line queue */
};
void nrf52840_uart_stats(const struct nrf52840 *chip, unsigned instance, struct nrf52840_uart_stats *out);

/* POWER.RESETREAS bits to record for the next reset (pin reset, SREQ...).
 * A RESET_SYSTEM with nothing noted records SREQ. */
#define POWER_RESETREAS_RESETPIN (1u << 0)
#define POWER_RESETREAS_DOG      (1u << 1)
#define POWER_RESETREAS_SREQ     (1u << 2)
#define POWER_RESETREAS_LOCKUP   (1u << 3)
#define POWER_RESETREAS_OFF      (1u << 16)
#define POWER_RESETREAS_VBUS     (1u << 20)
void nrf52840_note_reset_reason(struct nrf52840 *chip, uint32_t resetreas_bits);

/* The CPU entered (true) or left (false) sleep (WFI/WFE): the watchdog
 * pauses in sleep if its CONFIG says so. Every reset leaves it awake. */
void nrf52840_cpu_sleeping(struct nrf52840 *chip, bool sleeping);

/* The die temperature TEMP measures, in 0.25 degree C steps (default 100:
 * 25 C); kept across resets. */
void nrf52840_set_die_temperature(struct nrf52840 *chip, int32_t quarter_degrees);

/* True after the firmware wrote POWER.SYSTEMOFF, until the next reset. */
bool nrf52840_system_off(const struct nrf52840 *chip);

/* The address windows of the memory map where peripherals answer (FICR and
 * UICR, APB, AHB GPIO: nRF52840 PS "Memory"): a CPU sends accesses there to the soc
 * bus. Returns how many; *out points to a static table. */
struct nrf52840_window {
    uint32_t base, size;
};
unsigned nrf52840_bus_windows(const struct nrf52840_window **out);

/* NVMC CONFIG.WEN: the CPU's stores to flash program it now. */
bool nrf52840_flash_writable(const struct nrf52840 *chip);

/* The CLOCK/POWER slot (clock_power_power() gives the USBD model its POWER). */
struct periph *nrf52840_clock_power(struct nrf52840 *chip);

/* The USBD model (usbd.h): the USB bridge drives its host side. */
struct periph *nrf52840_usbd(struct nrf52840 *chip);

/* The UICR's 4 KiB at NRF52840_UICR_BASE (non-volatile: kept across
 * resets), for a loader that programs UICR records from a HEX file. */
#define NRF52840_UICR_BASE 0x10001000u
#define NRF52840_UICR_SIZE 0x1000u
uint8_t *nrf52840_uicr(struct nrf52840 *chip);

#endif

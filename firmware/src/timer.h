/* One-shot timeouts on TIMER0, free-running at 1 MHz in 32-bit mode, one
 * compare channel per slot. Callbacks run in the TIMER0 interrupt. */
#ifndef HILDA_TIMER_H
#define HILDA_TIMER_H

#include <stdint.h>

enum timer_slot {
    TIMER_SLOT_USB_DELAY,   /* fault injection: delayed EP0 stage */
    TIMER_SLOT_UART_IDLE,   /* UARTE RX line-idle flush */
    TIMER_SLOT_REBOOT,      /* reboot after the status stage went out */
    TIMER_SLOT_BUTTON,      /* SW1 debounce polling */
    TIMER_SLOT_COUNT,       /* TIMER0 has 4 compare channels: at most 4 slots */
    /* the bootloader has no UART: its DFU-mode LED blinks on that slot */
    TIMER_SLOT_LED = TIMER_SLOT_UART_IDLE,
};

void timer_init(void);
void timer_start(enum timer_slot slot, uint32_t microseconds, void (*callback)(void));
void timer_cancel(enum timer_slot slot);
void timer_irq(void);

#endif

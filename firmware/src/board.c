#include "board.h"

#include "dma.h"
#include "nrf52840.h"
#include "hilda/protocol.h"

extern uint8_t __start_dma_buffers[], __stop_dma_buffers[];

struct led_pin {
    uintptr_t port;
    uint8_t pin;
};

/* §6.1: all four LEDs are active low */
static const struct led_pin leds[] = {
    [LED_CONFIGURED] = { NRF_P0_BASE, 6 },
    [LED_ALIVE] = { NRF_P1_BASE, 9 },
    [LED_ACTIVITY] = { NRF_P0_BASE, 12 },
    [LED_FAULT] = { NRF_P0_BASE, 8 },
};

#define BUTTON_PORT NRF_P1_BASE   /* SW1 on P1.06, active low, needs the pull-up */
#define BUTTON_PIN  6u

/* Bounded: on a chip whose crystal never starts, USB cannot work, but the
 * UART bridge and the LEDs still can, so we carry on. */
#define HFXO_SPIN_LIMIT 1000000u

static void start_hfxo(void)
{
    /* USB needs the 32 MHz crystal (§3.6 step 3) */
    NRF_REG(NRF_CLOCK_BASE, CLOCK_EVENTS_HFCLKSTARTED) = 0;
    NRF_REG(NRF_CLOCK_BASE, CLOCK_TASKS_HFCLKSTART) = 1;
    for (uint32_t i = 0; i < HFXO_SPIN_LIMIT; i++) {
        if (NRF_REG(NRF_CLOCK_BASE, CLOCK_EVENTS_HFCLKSTARTED))
            break;
    }
    NRF_REG(NRF_CLOCK_BASE, CLOCK_EVENTS_HFCLKSTARTED) = 0;
}

static void init_gpio(void)
{
    for (unsigned i = 0; i < sizeof leds / sizeof leds[0]; i++) {
        NRF_REG(leds[i].port, GPIO_OUTSET) = 1u << leds[i].pin;   /* off first */
        NRF_REG(leds[i].port, GPIO_PIN_CNF(leds[i].pin)) = GPIO_PIN_CNF_DIR_OUT;
    }
    NRF_REG(BUTTON_PORT, GPIO_PIN_CNF(BUTTON_PIN)) = GPIO_PIN_CNF_PULLUP;   /* input, connected */
    /* UART TX and RTS idle high and are outputs before the UARTE takes the
     * pins; RX and CTS are inputs with a pull-up so an unconnected pin reads
     * idle (§4.2) */
    NRF_REG(NRF_P0_BASE, GPIO_OUTSET) = 1u << BOARD_UART_TX_PIN | 1u << BOARD_UART_RTS_PIN;
    NRF_REG(NRF_P0_BASE, GPIO_PIN_CNF(BOARD_UART_TX_PIN)) = GPIO_PIN_CNF_DIR_OUT;
    NRF_REG(NRF_P0_BASE, GPIO_PIN_CNF(BOARD_UART_RTS_PIN)) = GPIO_PIN_CNF_DIR_OUT;
    NRF_REG(NRF_P0_BASE, GPIO_PIN_CNF(BOARD_UART_RX_PIN)) = GPIO_PIN_CNF_PULLUP;
    NRF_REG(NRF_P0_BASE, GPIO_PIN_CNF(BOARD_UART_CTS_PIN)) = GPIO_PIN_CNF_PULLUP;
}

static void init_cycle_counter(void)
{
    NRF_REG(0, SCS_DEMCR) |= SCS_DEMCR_TRCENA;
    NRF_REG(0, DWT_CYCCNT) = 0;
    NRF_REG(0, DWT_CTRL) |= DWT_CTRL_CYCCNTENA;
}

void board_init(void)
{
    const struct dma_memory mem = {
        .ram_start = NRF_RAM_BASE,
        .ram_end = NRF_RAM_BASE + NRF_RAM_SIZE,
        .pool_start = (uintptr_t)__start_dma_buffers,
        .pool_end = (uintptr_t)__stop_dma_buffers,
    };
    dma_memory_set(&mem);
    init_gpio();
    init_cycle_counter();
    start_hfxo();
    board_led(LED_ALIVE, true);
}

void board_led(enum board_led led, bool on)
{
    NRF_REG(leds[led].port, on ? GPIO_OUTCLR : GPIO_OUTSET) = 1u << leds[led].pin;
}

void board_led_toggle(enum board_led led)
{
    bool lit = !(NRF_REG(leds[led].port, GPIO_OUT) & (1u << leds[led].pin));
    board_led(led, !lit);
}

bool board_button_pressed(void)
{
    return !(NRF_REG(BUTTON_PORT, GPIO_IN) & (1u << BUTTON_PIN));
}

/* The pull-up charges the pin within microseconds; 1000 loop turns are
 * tens of them at 64 MHz. */
bool board_button_sample(void)
{
    NRF_REG(BUTTON_PORT, GPIO_PIN_CNF(BUTTON_PIN)) = GPIO_PIN_CNF_PULLUP;
    for (volatile unsigned i = 0; i < 1000; i++)
        ;
    bool pressed = board_button_pressed();
    NRF_REG(BUTTON_PORT, GPIO_PIN_CNF(BUTTON_PIN)) = GPIO_PIN_CNF_INPUT_DISC;
    return pressed;
}

uint32_t board_cycles(void)
{
    return NRF_REG(0, DWT_CYCCNT);
}

void board_device_id(uint8_t id[8])
{
    uint32_t w[2] = { NRF_REG(NRF_FICR_BASE, FICR_DEVICEID0), NRF_REG(NRF_FICR_BASE, FICR_DEVICEID1) };
    for (unsigned i = 0; i < 8; i++)
        id[i] = (uint8_t)(w[i / 4] >> (8 * (i % 4)));
}

void board_nvic_enable(unsigned irq)
{
    /* every hilda interrupt keeps the reset priority 0: none preempts another,
     * which is what lets the drivers share state without locks */
    NRF_REG(0, SCS_NVIC_ICPR(irq / 32)) = 1u << (irq % 32);
    NRF_REG(0, SCS_NVIC_ISER(irq / 32)) = 1u << (irq % 32);
}

void board_reboot(bool into_bootloader)
{
    /* GPREGRET survives a soft reset; 0xB1 asks a buttonless-DFU bootloader
     * to stay in DFU mode (§6.2: the dongle's stock open bootloader may ignore
     * it and enters DFU on a pin reset instead). */
    NRF_REG(NRF_POWER_BASE, POWER_GPREGRET) = into_bootloader ? HILDA_BOOTLOADER_GPREGRET : 0;
    __asm__ volatile("dsb" ::: "memory");
    NRF_REG(0, SCS_AIRCR) = SCS_AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;)
        ;
}

void board_fault(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
    board_led(LED_FAULT, true);
    for (;;)
        __asm__ volatile("wfi");
}

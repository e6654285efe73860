/* nRF52840 register definitions used by hilda, written from the nRF52840
 * Product Specification (section numbers below name its topics: docs/sources.md).
 *
 * Registers are addressed as base + offset rather than through structs: the
 * offsets are the ones the product specification tables give, each driver
 * takes its peripheral's base address as a value, and host unit tests can
 * point a driver at a fake register block in ordinary memory. */
#ifndef NRF52840_H
#define NRF52840_H

#include <stdint.h>

#define NRF_REG(base, off) (*(volatile uint32_t *)((uintptr_t)(base) + (uintptr_t)(off)))

/* §1.1 memories */
#define NRF_FLASH_BASE      0x00000000u
#define NRF_FLASH_SIZE      0x00100000u
#define NRF_RAM_BASE        0x20000000u
#define NRF_RAM_SIZE        0x00040000u

/* §1.2 peripheral bases */
#define NRF_CLOCK_BASE      0x40000000u
#define NRF_POWER_BASE      0x40000000u
#define NRF_UARTE0_BASE     0x40002000u
#define NRF_TIMER0_BASE     0x40008000u
#define NRF_NVMC_BASE       0x4001E000u
#define NRF_USBD_BASE       0x40027000u
#define NRF_UARTE1_BASE     0x40028000u
#define NRF_P0_BASE         0x50000000u
#define NRF_P1_BASE         0x50000300u
#define NRF_FICR_BASE       0x10000000u
#define NRF_UICR_BASE       0x10001000u

/* §1.3 IRQ numbers */
#define NRF_IRQ_CLOCK_POWER 0
#define NRF_IRQ_UARTE0      2
#define NRF_IRQ_TIMER0      8
#define NRF_IRQ_USBD        39
#define NRF_IRQ_UARTE1      40
#define NRF_IRQ_COUNT       48

/* §1.4 common: INTEN set/clear registers sit at the same offsets everywhere */
#define NRF_SHORTS          0x200u
#define NRF_INTEN           0x300u
#define NRF_INTENSET        0x304u
#define NRF_INTENCLR        0x308u

/* §1.5 CLOCK */
#define CLOCK_TASKS_HFCLKSTART    0x000u
#define CLOCK_TASKS_HFCLKSTOP     0x004u
#define CLOCK_EVENTS_HFCLKSTARTED 0x100u
#define CLOCK_HFCLKSTAT           0x40Cu
#define CLOCK_HFCLKSTAT_SRC_XTAL  (1u << 0)
#define CLOCK_HFCLKSTAT_RUNNING   (1u << 16)

/* §1.5 POWER */
#define POWER_EVENTS_USBDETECTED  0x11Cu
#define POWER_EVENTS_USBREMOVED   0x120u
#define POWER_EVENTS_USBPWRRDY    0x124u
#define POWER_INT_USBDETECTED     (1u << 7)
#define POWER_INT_USBREMOVED      (1u << 8)
#define POWER_INT_USBPWRRDY       (1u << 9)
#define POWER_RESETREAS           0x400u
#define POWER_USBREGSTATUS        0x438u
#define POWER_USBREGSTATUS_VBUSDETECT (1u << 0)
#define POWER_USBREGSTATUS_OUTPUTRDY  (1u << 1)
#define POWER_GPREGRET            0x51Cu

/* §1.5 GPIO (offsets from the port base) */
#define GPIO_OUT        0x504u
#define GPIO_OUTSET     0x508u
#define GPIO_OUTCLR     0x50Cu
#define GPIO_IN         0x510u
#define GPIO_DIRSET     0x518u
#define GPIO_PIN_CNF(n) (0x700u + 4u * (n))
#define GPIO_PIN_CNF_DIR_OUT      (1u << 0)
#define GPIO_PIN_CNF_INPUT_DISC   (1u << 1)
#define GPIO_PIN_CNF_PULLUP       (3u << 2)

/* §1.5 TIMER */
#define TIMER_TASKS_START      0x000u
#define TIMER_TASKS_STOP       0x004u
#define TIMER_TASKS_CLEAR      0x00Cu
#define TIMER_TASKS_CAPTURE(n) (0x040u + 4u * (n))
#define TIMER_EVENTS_COMPARE(n) (0x140u + 4u * (n))
#define TIMER_INT_COMPARE(n)   (1u << (16 + (n)))
#define TIMER_MODE             0x504u
#define TIMER_BITMODE          0x508u
#define TIMER_BITMODE_32       3u
#define TIMER_PRESCALER        0x510u
#define TIMER_CC(n)            (0x540u + 4u * (n))

/* NVMC (base §1.2; offsets from the nRF52840 PS NVMC chapter): CONFIG 1 =
 * write enable, 2 = erase enable, 0 = read only; READY reads 1 when idle */
#define NVMC_READY        0x400u
#define NVMC_CONFIG       0x504u
#define NVMC_CONFIG_REN   0u
#define NVMC_CONFIG_WEN   1u
#define NVMC_CONFIG_EEN   2u
#define NVMC_ERASEPAGE    0x508u

/* §1.1 / §8 point 8: FICR words */
#define FICR_DEVICEID0    0x060u
#define FICR_DEVICEID1    0x064u
#define FICR_INFO_PART    0x100u
#define FICR_INFO_VARIANT 0x104u
#define FICR_ERRATA_PART  0x130u  /* undocumented: read by errata checks */
#define FICR_ERRATA_REV   0x134u

/* §2 USBD */
#define USBD_TASKS_STARTEPIN(n)   (0x004u + 4u * (n))
#define USBD_TASKS_STARTEPOUT(n)  (0x028u + 4u * (n))
#define USBD_TASKS_EP0RCVOUT      0x04Cu
#define USBD_TASKS_EP0STATUS      0x050u
#define USBD_TASKS_EP0STALL       0x054u
#define USBD_TASKS_DPDMDRIVE      0x058u
#define USBD_TASKS_DPDMNODRIVE    0x05Cu
#define USBD_EVENTS_USBRESET      0x100u
#define USBD_EVENTS_STARTED       0x104u
#define USBD_EVENTS_ENDEPIN(n)    (0x108u + 4u * (n))
#define USBD_EVENTS_EP0DATADONE   0x128u
#define USBD_EVENTS_ENDEPOUT(n)   (0x130u + 4u * (n))
#define USBD_EVENTS_SOF           0x154u
#define USBD_EVENTS_USBEVENT      0x158u
#define USBD_EVENTS_EP0SETUP      0x15Cu
#define USBD_EVENTS_EPDATA        0x160u
/* INTEN bit = (event offset - 0x100) / 4 (§1.4) */
#define USBD_INT(event_off)       (1u << (((event_off) - 0x100u) / 4u))
/* §2.3 SHORTS */
#define USBD_SHORT_EP0DATADONE_STARTEPIN0  (1u << 0)
#define USBD_SHORT_EP0DATADONE_STARTEPOUT0 (1u << 1)
#define USBD_SHORT_EP0DATADONE_EP0STATUS   (1u << 2)
#define USBD_SHORT_ENDEPOUT0_EP0STATUS     (1u << 3)
#define USBD_SHORT_ENDEPOUT0_EP0RCVOUT     (1u << 4)
/* §2.5 */
#define USBD_EVENTCAUSE           0x400u
#define USBD_EVENTCAUSE_SUSPEND   (1u << 8)
#define USBD_EVENTCAUSE_RESUME    (1u << 9)
#define USBD_EVENTCAUSE_USBWUALLOWED (1u << 10)
#define USBD_EVENTCAUSE_READY     (1u << 11)
#define USBD_HALTED_EPIN(n)       (0x420u + 4u * (n))
#define USBD_HALTED_EPOUT(n)      (0x444u + 4u * (n))
#define USBD_EPSTATUS             0x468u
#define USBD_EPDATASTATUS         0x46Cu
#define USBD_EPDATASTATUS_EPIN(n)  (1u << (n))
#define USBD_EPDATASTATUS_EPOUT(n) (1u << (16 + (n)))
#define USBD_USBADDR              0x470u
#define USBD_BMREQUESTTYPE        0x480u
#define USBD_BREQUEST             0x484u
#define USBD_WVALUEL              0x488u
#define USBD_WVALUEH              0x48Cu
#define USBD_WINDEXL              0x490u
#define USBD_WINDEXH              0x494u
#define USBD_WLENGTHL             0x498u
#define USBD_WLENGTHH             0x49Cu
#define USBD_SIZE_EPOUT(n)        (0x4A0u + 4u * (n))
#define USBD_ENABLE               0x500u
#define USBD_USBPULLUP            0x504u
#define USBD_DTOGGLE              0x50Cu
#define USBD_DTOGGLE_IN           (1u << 7)
#define USBD_DTOGGLE_DATA0        (1u << 8)
#define USBD_EPINEN               0x510u
#define USBD_EPOUTEN              0x514u
#define USBD_EPSTALL              0x518u
#define USBD_EPSTALL_IN           (1u << 7)
#define USBD_EPSTALL_STALL        (1u << 8)
#define USBD_FRAMECNTR            0x520u
#define USBD_LOWPOWER             0x52Cu
#define USBD_EPIN_PTR(n)          (0x600u + 0x14u * (n))
#define USBD_EPIN_MAXCNT(n)       (0x604u + 0x14u * (n))
#define USBD_EPIN_AMOUNT(n)       (0x608u + 0x14u * (n))
#define USBD_EPOUT_PTR(n)         (0x700u + 0x14u * (n))
#define USBD_EPOUT_MAXCNT(n)      (0x704u + 0x14u * (n))
#define USBD_EPOUT_AMOUNT(n)      (0x708u + 0x14u * (n))
#define USBD_ERRATA199_REG        0xC1Cu   /* undocumented, §2.8 */
#define USBD_EP_MAXPACKET         64u

/* §3.7 errata 171/187/211 use an undocumented unlock-and-poke window */
#define NRF_ERRATA_UNLOCK   0x4006EC00u
#define NRF_ERRATA_171_REG  0x4006EC14u
#define NRF_ERRATA_187_REG  0x4006ED14u
#define NRF_ERRATA_KEY      0x00009375u

/* §4.1 UARTE */
#define UARTE_TASKS_STARTRX   0x000u
#define UARTE_TASKS_STOPRX    0x004u
#define UARTE_TASKS_STARTTX   0x008u
#define UARTE_TASKS_STOPTX    0x00Cu
#define UARTE_TASKS_FLUSHRX   0x02Cu
#define UARTE_EVENTS_RXDRDY   0x108u
#define UARTE_EVENTS_ENDRX    0x110u
#define UARTE_EVENTS_TXDRDY   0x11Cu
#define UARTE_EVENTS_ENDTX    0x120u
#define UARTE_EVENTS_ERROR    0x124u
#define UARTE_EVENTS_RXTO     0x144u
#define UARTE_EVENTS_RXSTARTED 0x14Cu
#define UARTE_EVENTS_TXSTARTED 0x150u
#define UARTE_EVENTS_TXSTOPPED 0x158u
#define UARTE_INT(event_off)  (1u << (((event_off) - 0x100u) / 4u))
#define UARTE_SHORT_ENDRX_STARTRX (1u << 5)
#define UARTE_SHORT_ENDRX_STOPRX  (1u << 6)
#define UARTE_ERRORSRC        0x480u
#define UARTE_ERRORSRC_OVERRUN (1u << 0)
#define UARTE_ENABLE          0x500u
#define UARTE_ENABLE_UARTE    8u
#define UARTE_PSEL_RTS        0x508u
#define UARTE_PSEL_TXD        0x50Cu
#define UARTE_PSEL_CTS        0x510u
#define UARTE_PSEL_RXD        0x514u
#define UARTE_PSEL_DISCONNECTED 0xFFFFFFFFu
#define UARTE_BAUDRATE        0x524u
#define UARTE_RXD_PTR         0x534u
#define UARTE_RXD_MAXCNT      0x538u
#define UARTE_RXD_AMOUNT      0x53Cu
#define UARTE_TXD_PTR         0x544u
#define UARTE_TXD_MAXCNT      0x548u
#define UARTE_TXD_AMOUNT      0x54Cu
#define UARTE_CONFIG          0x56Cu
#define UARTE_CONFIG_HWFC     (1u << 0)
#define UARTE_MAXCNT_LIMIT    0xFFFFu   /* 16-bit MAXCNT on nRF52840 */

/* Cortex-M4 system control space (ARMv7-M ARM) */
#define SCS_NVIC_ISER(n)   (0xE000E100u + 4u * (n))
#define SCS_NVIC_ICER(n)   (0xE000E180u + 4u * (n))
#define SCS_NVIC_ISPR(n)   (0xE000E200u + 4u * (n))
#define SCS_NVIC_ICPR(n)   (0xE000E280u + 4u * (n))
#define SCS_NVIC_IPR(n)    (0xE000E400u + (n))      /* byte per IRQ */
#define SCS_VTOR           0xE000ED08u
#define SCS_SYST_CSR       0xE000E010u   /* SysTick control */
#define SCS_ICSR           0xE000ED04u
#define SCS_ICSR_PENDSTCLR (1u << 25)
#define SCS_ICSR_PENDSVCLR (1u << 27)
#define SCS_AIRCR          0xE000ED0Cu
#define SCS_AIRCR_SYSRESETREQ (0x05FA0000u | (1u << 2))
#define SCS_SCR            0xE000ED10u
#define SCS_CPACR          0xE000ED88u
#define SCS_DEMCR          0xE000EDFCu
#define SCS_DEMCR_TRCENA   (1u << 24)
#define DWT_CTRL           0xE0001000u
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT         0xE0001004u

#endif

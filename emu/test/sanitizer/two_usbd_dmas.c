/* Breaks rule 6: a second USBD EasyDMA transfer started while the first
 * still runs (nRF52840 PS "USBD EasyDMA": one at a time, across all endpoints). */
#include "sanitizer_test.h"

static uint8_t ep0[64], ep1[64];

void test_main(void)
{
    NRF_REG(NRF_USBD_BASE, USBD_ENABLE) = 1;
    NRF_REG(NRF_USBD_BASE, USBD_EPINEN) = 0x3;
    NRF_REG(NRF_USBD_BASE, USBD_EPIN_PTR(0)) = (uint32_t)(uintptr_t)ep0;
    NRF_REG(NRF_USBD_BASE, USBD_EPIN_MAXCNT(0)) = sizeof ep0;
    NRF_REG(NRF_USBD_BASE, USBD_EPIN_PTR(1)) = (uint32_t)(uintptr_t)ep1;
    NRF_REG(NRF_USBD_BASE, USBD_EPIN_MAXCNT(1)) = sizeof ep1;
    NRF_REG(NRF_USBD_BASE, USBD_TASKS_STARTEPIN(0)) = 1;
    NRF_REG(NRF_USBD_BASE, USBD_TASKS_STARTEPIN(1)) = 1;   /* EP0's DMA has not ended */
}

/* The hilda vendor protocol (include/hilda/protocol.h, docs/protocol.md)
 * from the host side: each request with its reply decoded field by field
 * from little-endian bytes, the length checked. */
#ifndef HILDA_VENDOR_H
#define HILDA_VENDOR_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "hilda/protocol.h"
#include "status.h"

/* Reply sizes on the wire (protocol.h asserts the struct sizes). */
#define HILDA_VERSION_WIRE   8
#define HILDA_UART_STATUS_WIRE 16
#define HILDA_COUNTERS_WIRE  80
#define HILDA_COUNTERS_FIELDS 20
/* Protocol 1.0 firmware answers GET_COUNTERS with the first 16 fields only:
 * the UART loss counters it lacks read as 0. */
#define HILDA_COUNTERS_WIRE_1_0 64

enum hilda_status hilda_get_version(struct hilda_device *d, struct hilda_version *v, struct hilda_error *e);
enum hilda_status hilda_get_counters(struct hilda_device *d, struct hilda_counters *c, struct hilda_error *e);
enum hilda_status hilda_reset_counters(struct hilda_device *d, struct hilda_error *e);
/* Names of the counter fields in declaration order, and their values. */
extern const char *const hilda_counter_names[HILDA_COUNTERS_FIELDS];
uint32_t hilda_counter_value(const struct hilda_counters *c, size_t i);

enum hilda_status hilda_echo_write(struct hilda_device *d, const uint8_t *data, uint16_t len, struct hilda_error *e);
enum hilda_status hilda_echo_read(struct hilda_device *d, uint8_t *data, uint16_t cap, size_t *got,
                                  struct hilda_error *e);

enum hilda_status hilda_uart_status(struct hilda_device *d, struct hilda_uart_status *st, struct hilda_error *e);
enum hilda_status hilda_uart_set_baud(struct hilda_device *d, uint32_t baud, struct hilda_error *e);
bool hilda_uart_baud_supported(uint32_t baud);
/* "9600, 14400, ..., 1000000": the rates the firmware takes, for messages. */
const char *hilda_uart_bauds_text(void);
/* Sends len bytes, each UART_WRITE no larger than tx_free allows; waits
 * (polling UART_STATUS) while the TX buffer is full, up to timeout_ms
 * without progress. *sent says how many bytes the device took. */
enum hilda_status hilda_uart_send(struct hilda_device *d, const uint8_t *data, size_t len, unsigned timeout_ms,
                                  size_t *sent, struct hilda_error *e);
/* One UART_READ of up to cap bytes (fewer, even 0, if fewer are waiting). */
enum hilda_status hilda_uart_read(struct hilda_device *d, uint8_t *data, uint16_t cap, size_t *got,
                                  struct hilda_error *e);

/* Reads until cap bytes came, or none came for idle_ms, or max_ms passed. */
enum hilda_status hilda_uart_recv(struct hilda_device *d, uint8_t *data, size_t cap, unsigned idle_ms, unsigned max_ms,
                                  size_t *got, struct hilda_error *e);

enum hilda_status hilda_get_variant(struct hilda_device *d, uint16_t id, uint8_t *data, uint16_t cap, size_t *got,
                                    struct hilda_error *e);
const char *hilda_variant_name(unsigned id);

enum hilda_status hilda_fault_stall(struct hilda_device *d, struct hilda_error *e);
enum hilda_status hilda_fault_delay(struct hilda_device *d, uint16_t ms, struct hilda_error *e);
enum hilda_status hilda_reboot(struct hilda_device *d, bool bootloader, struct hilda_error *e);

#endif

"""UART over EasyDMA through the vendor bridge: the host sends with UART_WRITE
and the bytes leave on the dongle's TX pin; bytes on its RX pin come back with
UART_READ. The other end of the wire is the `uart` fixture (the emulator's
pseudo-terminal, or the rig's adapter on a bench). Nothing may be lost or
reordered, at 115200 and 1 Mbaud, from 1 byte to 64 KiB."""
import threading
import time

import pytest

from helpers import P, pattern, vendor_in, vendor_out

pytestmark = pytest.mark.needs("hilda_protocol")     # the UART reaches the host through UART_WRITE / UART_READ

SIZES = [1, 64, 4096, 65536]
BAUDS = [115200, 1000000]


@pytest.fixture
def baud(usb, uart, request):
    rate = request.param
    usb.call("uart_baud", baud=rate)
    uart.baudrate = rate
    uart.reset_input_buffer()
    usb.call("uart_recv", count=1 << 20, idle_ms=100, max_ms=2000)   # drain what is left
    yield rate
    usb.call("uart_baud", baud=P["HILDA_UART_DEFAULT_BAUD"])


def read_exactly(port, n, timeout_s):
    data = b""
    end = time.monotonic() + timeout_s
    while len(data) < n and time.monotonic() < end:
        data += port.read(n - len(data))
    return data


def byte_time_s(rate):
    return 10.0 / rate


LOSS_COUNTERS = ("uart_rx_fifo_overruns", "uart_rx_ring_overflows", "uart_tx_ring_overflows")


def loss_counters(usb):
    counters = usb.call("stats")["counters"]
    return {name: counters[name] for name in LOSS_COUNTERS + ("uart_rx_flow_stops",)}


def where_lost(before, after):
    """The device's own account of a loss (GET_COUNTERS, protocol 1.1)."""
    d = {name: after[name] - before[name] for name in after}
    return (f"the device counted {d['uart_rx_fifo_overruns']} FIFO overruns (flow control off or ignored), "
            f"{d['uart_rx_ring_overflows']} bytes overflowing the RX ring (the host did not drain in time), "
            f"{d['uart_tx_ring_overflows']} bytes refused by the TX ring; RX paused {d['uart_rx_flow_stops']} "
            "times for flow control")


@pytest.mark.parametrize("baud", BAUDS, indirect=True, ids=[f"{b}baud" for b in BAUDS])
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_host_to_uart(usb, uart, baud, size):
    data = pattern(size, seed=baud)
    before = loss_counters(usb)
    # the far end reads while the host sends, as a serial adapter's driver does
    received = []
    reader = threading.Thread(target=lambda: received.append(
        read_exactly(uart, size, timeout_s=10 + 3 * size * byte_time_s(baud))))
    reader.start()
    assert usb.call("uart_send", data=data.hex())["sent"] == size
    reader.join()
    got = received[0]
    after = loss_counters(usb)
    assert len(got) == size, f"{size - len(got)} bytes lost; {where_lost(before, after)}"
    assert got == data, f"bytes reordered or corrupted; {where_lost(before, after)}"
    assert all(after[n] == before[n] for n in LOSS_COUNTERS), where_lost(before, after)


@pytest.mark.parametrize("baud", BAUDS, indirect=True, ids=[f"{b}baud" for b in BAUDS])
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_uart_to_host(usb, uart, baud, size):
    data = pattern(size, seed=baud + 1)
    before = loss_counters(usb)
    writer = threading.Thread(target=lambda: (uart.write(data), uart.flush()))
    writer.start()
    # the call returns once `size` bytes came; the idle limit only ends a failing run (with flow
    # control the bytes come as fast as the host drains them, so a stalled runner pauses them)
    got = bytes.fromhex(usb.call("uart_recv", count=size, idle_ms=10000,
                                 max_ms=int(20000 + 3000 * size * byte_time_s(baud)))["data"])
    writer.join()
    after = loss_counters(usb)
    assert len(got) == size, f"{size - len(got)} of {size} bytes lost; {where_lost(before, after)}"
    assert got == data, f"bytes reordered or corrupted; {where_lost(before, after)}"
    assert all(after[n] == before[n] for n in LOSS_COUNTERS), where_lost(before, after)


def test_partial_buffer_is_flushed_on_rx_timeout(usb, uart):
    # 3 bytes never fill an RX DMA buffer: only the idle flush (STOPRX, RXTO,
    # FLUSHRX) delivers them
    usb.call("uart_recv", count=1 << 20, idle_ms=100, max_ms=2000)
    uart.write(b"abc")
    uart.flush()
    got = bytes.fromhex(usb.call("uart_recv", count=3, idle_ms=2000, max_ms=5000)["data"])
    assert got == b"abc"


@pytest.mark.parametrize("baud", [1000000], indirect=True, ids=["1000000baud"])
def test_full_rate_uart_while_control_transfers_run(usb, uart, baud):
    data = pattern(32768, seed=7)
    before = loss_counters(usb)
    writer = threading.Thread(target=lambda: (uart.write(data), uart.flush()))
    writer.start()
    got = b""
    echoes = 0
    deadline = time.monotonic() + 60
    while len(got) < len(data) and time.monotonic() < deadline:
        payload = pattern(256 + echoes % 512, seed=echoes)
        vendor_out(usb, "ECHO_WRITE", data=payload)
        assert vendor_in(usb, "ECHO_READ", wLength=len(payload)) == payload
        echoes += 1
        # at most one ring's worth per turn: with flow control the ring refills while it is read, so an
        # unbounded read would take the whole stream before the next control transfer
        chunk = min(len(data) - len(got), P["HILDA_UART_RX_CAPACITY"])
        got += bytes.fromhex(usb.call("uart_recv", count=chunk, idle_ms=0, max_ms=0)["data"])
    writer.join()
    got += bytes.fromhex(usb.call("uart_recv", count=len(data) - len(got), idle_ms=500, max_ms=5000)["data"])
    after = loss_counters(usb)
    assert echoes > 10, "control transfers did not run alongside"
    assert got == data, (f"{len(data) - len(got)} bytes lost or reordered under control traffic; "
                         f"{where_lost(before, after)}")
    assert all(after[n] == before[n] for n in LOSS_COUNTERS), where_lost(before, after)

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


# Waits on the UART end only when nothing moves for this long: a hang, not a loaded runner.
# The emulated dongle runs in virtual time and may be starved of the CPU for seconds; bytes
# are paced by flow control, not dropped, so waiting longer never turns a loss into a pass.
STALL_S = 30


def read_exactly(port, n, stall_s=STALL_S):
    """n bytes from the far end's port, or fewer once nothing came for stall_s."""
    data = b""
    last = time.monotonic()
    while len(data) < n and time.monotonic() - last < stall_s:
        chunk = port.read(n - len(data))
        if chunk:
            data += chunk
            last = time.monotonic()
    return data


def recv_exactly(usb, n, stall_s=STALL_S):
    """n bytes through UART_READ, or fewer once nothing came for stall_s."""
    return bytes.fromhex(usb.call("uart_recv", count=n, idle_ms=int(stall_s * 1000),
                                  max_ms=int(stall_s * 1000) * 20, timeout_s=stall_s * 25)["data"])


def describe_difference(sent, got):
    """Where the received stream parts from the sent one: a tail that never came, a hole
    (bytes missing mid-stream, the rest in order), or corruption."""
    same = next((i for i, (a, b) in enumerate(zip(sent, got)) if a != b), min(len(sent), len(got)))
    if same == len(got) and len(got) < len(sent):
        return f"the first {same} bytes came in order, the last {len(sent) - same} never came"
    rest = got[same:]
    hole = sent.find(rest[:16], same) if rest else -1
    if hole > same and sent[hole:hole + len(rest)] == rest:
        return (f"bytes {same}..{hole - 1} ({hole - same} bytes) are missing mid-stream; "
                f"the {len(rest)} bytes after them came in order")
    return f"the first {same} bytes came in order; byte {same} differs (stream corrupted or reordered)"


# uart_overruns is the catch-all (protocol 1.0's one loss count): beyond the FIFO and the ring it
# also counts bytes a handler late by a whole RX buffer let the receiver overwrite (uarte.c rx_recover)
LOSS_COUNTERS = ("uart_rx_fifo_overruns", "uart_rx_ring_overflows", "uart_tx_ring_overflows", "uart_overruns")


def loss_counters(usb):
    counters = usb.call("stats")["counters"]
    return {name: counters[name] for name in LOSS_COUNTERS + ("uart_rx_flow_stops",)}


def where_lost(before, after):
    """The device's own account of a loss (GET_COUNTERS, protocol 1.1)."""
    d = {name: after[name] - before[name] for name in after}
    return (f"the device counted {d['uart_rx_fifo_overruns']} FIFO overruns (flow control off or ignored), "
            f"{d['uart_rx_ring_overflows']} bytes overflowing the RX ring (the host did not drain in time), "
            f"{d['uart_tx_ring_overflows']} bytes refused by the TX ring, "
            f"{d['uart_overruns'] - d['uart_rx_fifo_overruns'] - d['uart_rx_ring_overflows']} bytes overwritten "
            f"in a buffer its handler took too late; RX paused {d['uart_rx_flow_stops']} times for flow control")


@pytest.mark.parametrize("baud", BAUDS, indirect=True, ids=[f"{b}baud" for b in BAUDS])
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_host_to_uart(usb, uart, baud, size):
    data = pattern(size, seed=baud)
    before = loss_counters(usb)
    # the far end reads while the host sends, as a serial adapter's driver does
    received = []
    reader = threading.Thread(target=lambda: received.append(read_exactly(uart, size)))
    reader.start()
    assert usb.call("uart_send", data=data.hex())["sent"] == size
    reader.join()
    got = received[0]
    after = loss_counters(usb)
    assert got == data, f"{describe_difference(data, got)}; {where_lost(before, after)}"
    assert all(after[n] == before[n] for n in LOSS_COUNTERS), where_lost(before, after)


@pytest.mark.parametrize("baud", BAUDS, indirect=True, ids=[f"{b}baud" for b in BAUDS])
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_uart_to_host(usb, uart, baud, size):
    data = pattern(size, seed=baud + 1)
    before = loss_counters(usb)
    writer = threading.Thread(target=lambda: (uart.write(data), uart.flush()))
    writer.start()
    # the call returns once `size` bytes came; the stall limit only ends a failing run (with flow
    # control the bytes come as fast as the host drains them, so a stalled runner pauses them)
    got = recv_exactly(usb, size)
    writer.join()
    after = loss_counters(usb)
    assert got == data, f"{describe_difference(data, got)}; {where_lost(before, after)}"
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
    last_progress = time.monotonic()
    while len(got) < len(data) and time.monotonic() - last_progress < STALL_S:
        payload = pattern(256 + echoes % 512, seed=echoes)
        vendor_out(usb, "ECHO_WRITE", data=payload)
        assert vendor_in(usb, "ECHO_READ", wLength=len(payload)) == payload
        echoes += 1
        # at most one ring's worth per turn: with flow control the ring refills while it is read, so an
        # unbounded read would take the whole stream before the next control transfer
        chunk = min(len(data) - len(got), P["HILDA_UART_RX_CAPACITY"])
        more = bytes.fromhex(usb.call("uart_recv", count=chunk, idle_ms=0, max_ms=0)["data"])
        if more:
            got += more
            last_progress = time.monotonic()
        if echoes % 8 == 0:     # progress, in the captured output the report shows on a failure
            print(f"{echoes} echo pairs, {len(got)} of {len(data)} UART bytes")
    writer.join()
    got += recv_exactly(usb, len(data) - len(got)) if len(got) < len(data) else b""
    after = loss_counters(usb)
    print(f"done: {echoes} echo pairs, {len(got)} of {len(data)} UART bytes")
    # each turn reads at most one ring (HILDA_UART_RX_CAPACITY), so the echoes cannot fall behind
    assert echoes >= len(data) // P["HILDA_UART_RX_CAPACITY"], "control transfers did not run alongside"
    assert got == data, (f"under control traffic: {describe_difference(data, got)}; "
                         f"{where_lost(before, after)}")
    assert all(after[n] == before[n] for n in LOSS_COUNTERS), where_lost(before, after)

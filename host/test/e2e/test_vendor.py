"""timing, echo, uart, stats: the vendor protocol from the CLI."""
import os
import select
import time


def test_timing_structure(hilda):
    j = hilda("timing", "--json", "-n", "40", "--sizes", "8,64,65,1024").json
    cells = {(c["kind"], c["size"]): c for c in j["cells"]}
    assert set(cells) == {("nodata", 0)} | {(k, s) for k in ("in", "out", "descriptor") for s in (8, 64, 65, 1024)}
    for c in cells.values():
        h = c["host_us"]
        assert c["errors"] == 0 and h["n"] == 40
        assert 0 < h["min"] <= h["p50"] <= h["p90"] <= h["p99"] <= h["max"]
        assert sum(b["count"] for b in c["histogram"]) == 40
        d = c["device_us"]
        assert d is not None and d["n"] == 40 and c["core_hz"] == 64000000
        assert 0 < c["device_cycles_min"] <= c["device_cycles_max"]
    # device-side cycle counts, not wall clock: copying 1024 bytes takes the firmware longer than 8
    assert cells[("in", 1024)]["device_cycles_max"] > cells[("in", 8)]["device_cycles_max"]


def test_timing_text_and_csv(hilda):
    r = hilda("timing", "-n", "20", "--kinds", "in,nodata", "--sizes", "0,64", "--histogram")
    assert r.rc == 0, r
    assert "p50" in r.out and "device EP0" in r.out and "#" in r.out
    r = hilda("timing", "-n", "20", "--kinds", "out", "--sizes", "1,2,3", "--csv", "--no-device")
    rows = r.out.strip().splitlines()
    assert rows[0].startswith("kind,size,count,errors,min_us,p50_us") and len(rows) == 4
    assert rows[1].startswith("out,1,20,0,") and rows[1].endswith(",,,,")


def test_echo(hilda):
    r = hilda("echo", "hello", "world")
    assert r.rc == 0 and "11 bytes written, 11 read back" in r.out and len(r.out.splitlines()) == 1, r
    r = hilda("echo", "--verbose", "hello", "world")
    assert r.rc == 0 and "|hello world|" in r.out
    j = hilda("echo", "--hex", "00ff10", "--json").json
    assert j["data"] == "00ff10" and j["match"]
    j = hilda("echo", "--length", "4096", "--json").json
    assert j["read"] == 4096 and j["match"]
    j = hilda("echo", "--length", "100", "--read-length", "64", "--json").json
    assert j["read"] == 64 and j["match"]
    j = hilda("echo", "--json").json
    assert j["written"] == 0 and j["read"] == 0


def test_stats(hilda):
    j = hilda("stats", "--json").json
    k = j["counters"]
    assert j["version"]["protocol"] == "1.1"
    assert k["core_hz"] == 64000000 and k["setups"] > 0 and "ep0_us_max" in k
    assert hilda("stats", "--reset").rc == 0
    k = hilda("stats", "--json").json["counters"]
    assert k["setups"] < 40 and k["stalls"] == 0
    hilda("ctrl", "0x80", "6", "0x4200", "0", "8")   # one STALL
    assert hilda("stats", "--json").json["counters"]["stalls"] == 1
    r = hilda("stats")
    assert "firmware 0.1" in r.out and "core_hz" in r.out


def read_pty(fd, n, timeout=30):   # bounds a hang only: a loaded runner may starve the emulator for seconds
    got = b""
    end = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                got += os.read(fd, 4096)
            except BlockingIOError:
                pass
    return got


def test_uart_send_recv(hilda, uart_pty):
    assert hilda("uart", "baud", "115200").rc == 0
    hilda("uart", "recv", "--idle", "100")   # drain
    r = hilda("uart", "send", "hello", "uart")
    assert r.rc == 0 and "10 bytes sent" in r.out
    assert read_pty(uart_pty, 10) == b"hello uart"
    data = bytes(range(0x20, 0x7F)) * 40   # 3800 bytes: more than tx_free, sent in pieces
    r = hilda("uart", "send", "-", input=data.decode())
    assert r.rc == 0, r
    assert read_pty(uart_pty, len(data)) == data
    os.write(uart_pty, b"from the other side")
    j = hilda("uart", "recv", "--count", "19", "--idle", "10000", "--json").json
    assert bytes.fromhex(j["data"]) == b"from the other side"
    os.write(uart_pty, b"\x1b[2Jok")
    r = hilda("uart", "recv", "--count", "6", "--idle", "10000")
    assert r.out.strip() == "\\x1b[2Jok"   # a terminal escape is shown, not obeyed


def test_uart_status_and_baud(hilda):
    j = hilda("uart", "status", "--json").json
    assert j["status"]["tx_free"] <= 2048 and j["status"]["baud"] in (9600, 115200, 1000000)
    assert j["status"]["rx_fifo_overruns"] == 0 and j["status"]["rx_ring_overflows"] == 0, j
    assert hilda("uart", "status").out.count("overflowed the RX ring") == 1
    assert hilda("uart", "baud", "1000000").rc == 0
    assert hilda("uart", "status", "--json").json["status"]["baud"] == 1000000
    assert hilda("uart", "baud", "115200").rc == 0
    r = hilda("ctrl", "out", "vendor", "device", "uart_set_baud", "1234", "0", "-")
    assert r.rc == 8   # a rate the firmware does not offer: STALL

"""batch: JSON lines in, JSON lines out, every command of the protocol."""
import json
import threading
import time

import pytest


class Session:
    def __init__(self, hilda, *args):
        self.p = hilda.popen("batch", *args)
        self.ready = json.loads(self.p.stdout.readline())
        self.n = 0

    def raw(self, line, timeout=120):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        got = []
        t = threading.Thread(target=lambda: got.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not got:
            self.p.kill()
            pytest.fail(f"no reply to {line!r} within {timeout} s")
        return json.loads(got[0])

    def __call__(self, cmd, **args):
        self.n += 1
        reply = self.raw(json.dumps(dict(id=self.n, cmd=cmd, **args)))
        assert reply["id"] == self.n, reply
        return reply

    def ok(self, cmd, **args):
        reply = self(cmd, **args)
        assert reply["ok"], reply
        return reply

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        err = self.p.stderr.read()
        assert "runtime error:" not in err and "AddressSanitizer" not in err, err
        return self.p.returncode


@pytest.fixture
def batch(hilda):
    s = Session(hilda)
    yield s
    assert s.close() == 0


def test_ready_and_hello(batch):
    assert batch.ready == {"event": "ready", "protocol": "hilda-batch/1", "version": batch.ready["version"]}
    assert batch.ok("hello")["protocol"] == "hilda-batch/1"


def test_example_from_the_issue(batch):
    r = batch.raw('{"id":1,"cmd":"ctrl","bmRequestType":192,"bRequest":1,"wValue":0,"wIndex":0,"wLength":8,'
                  '"timeout_ms":1000}')
    assert r["id"] == 1 and r["ok"] and len(r["data"]) == 16 and r["data"].startswith("01010100")


def test_errors(batch):
    r = batch.raw("this is not json")
    assert r == {"id": None, "ok": False, "error": "usage", "message": r["message"]}
    assert batch.raw("[1,2]")["error"] == "usage"
    r = batch.raw('{"id":"s","nocmd":1}')
    assert r["id"] == "s" and r["error"] == "usage"
    r = batch("launch")
    assert not r["ok"] and r["error"] == "usage" and "unknown cmd" in r["message"]
    r = batch("ctrl", bmRequestType=0x80, bRequest=6, wValue=0x4200, wLength=8)
    assert r["error"] == "stall" and "STALL" in r["message"]
    r = batch("ctrl", bmRequestType=300, bRequest=1)
    assert r["error"] == "usage"
    r = batch("ctrl", bmRequestType=0xC0, bRequest=1, wLength=8, data="00")
    assert r["error"] == "usage"
    r = batch("echo", data="xyz")
    assert r["error"] == "usage"
    batch.p.stdin.write("\n\n")   # blank lines are skipped: the next reply is for the next request
    assert batch.ok("hello")["id"] == batch.n


def test_device_commands(batch):
    dev = batch.ok("info")["device"]
    assert dev["id"] == "1209:0001" and dev["serial"] == "1209CAFE00D0BEEF"
    assert batch.ok("list")["devices"][0]["path"] == dev["path"]
    assert batch.ok("version")["version"]["protocol"] == "1.1"
    assert batch.ok("echo", data="a1b2c3")["data"] == "a1b2c3"
    e = batch.ok("echo", length=200, read_length=100)
    assert e["read"] == 100 and e["match"]
    assert batch.ok("ctrl", bmRequestType=0x40, bRequest=0x10, data="0102")["length"] == 2
    assert batch.ok("ctrl", bmRequestType="0xc0", bRequest="0x11", wLength=10)["data"] == "0102"
    d = batch.ok("desc")
    assert d["errors"] == 0 and d["descriptors"]["device"]["idProduct"] == 1
    d = batch.ok("desc", blob="12010102000000400912010001000102030109022000")
    assert d["errors"] > 0 and "P-TOTAL-SHORT" in [f["id"] for f in d["findings"]]
    c = batch.ok("ch9", only="9.1")
    assert c["failed"] == 0 and c["passed"] == 5
    c = batch.ok("ch9", no_reset=True, rounds=2)
    assert c["failed"] == 0 and "9.16-reset" not in [x["id"] for x in c["checks"]]
    assert batch.ok("reset_counters")
    k = batch.ok("stats")["counters"]
    assert k["setups"] == 1 and k["core_hz"] == 64000000


def test_stress_and_timing(batch):
    for piece, args in (("descriptors", dict(max_length=100, step=7)), ("echo", dict(echo_max=200, step=13)),
                        ("random", dict(seed=3, count=300)), ("async", dict(transfers=200, in_flight=50))):
        r = batch.ok("stress", piece=piece, **args)["report"]
        assert r["piece"] == piece and r["failures"] == 0 and r["verified"] > 0, r
    assert batch("stress", piece="all")["error"] == "usage"
    cells = batch.ok("timing", kinds="in,out", sizes="8,64", count=10)["cells"]
    assert [(c["kind"], c["size"]) for c in cells] == [("in", 8), ("in", 64), ("out", 8), ("out", 64)]
    assert all(c["host_us"]["n"] == 10 and c["device_us"]["n"] == 10 for c in cells)


def test_faults(batch):
    batch.ok("fault_stall")
    assert batch("version")["error"] == "stall"
    assert batch.ok("version")
    batch.ok("fault_delay", ms=500)
    r = batch("ctrl", bmRequestType=0xC0, bRequest=1, wLength=8, timeout_ms=100)
    assert r["error"] == "timeout" and "100 ms" in r["message"]
    assert batch("fault_delay")["error"] == "usage"
    time.sleep(0.6)
    assert batch.ok("version")


def test_uart(batch):
    assert batch.ok("uart_baud", baud=115200)["baud"] == 115200
    assert batch("uart_baud", baud=1)["error"] == "usage"
    st = batch.ok("uart_status")["status"]
    assert st["baud"] == 115200
    assert batch.ok("uart_send", data="68656c6c6f")["sent"] == 5
    r = batch.ok("uart_recv", count=10, idle_ms=50, max_ms=500)
    assert "data" in r and r["length"] == len(r["data"]) // 2
    assert batch("uart_send")["error"] == "usage"


def test_reset_wait_and_reopen(batch):
    r = batch.ok("reset", wait_ms=10000)
    assert r["before"]["address"] != r["after"]["address"]
    assert batch.ok("info")["device"]["address"] == r["after"]["address"]   # the session follows the dongle
    assert batch.ok("version")
    r = batch("bootloader", wait_ms=3000)
    assert r["error"] == "not_found" and "application mode" in r["message"]
    assert batch.ok("wait", wait_ms=10000)["device"]["mode"] == "application"
    assert batch.ok("version")
    r = batch.ok("bootloader")
    assert "after" not in r
    assert batch.ok("wait", wait_ms=10000)
    assert batch.ok("close")
    assert batch.ok("open", serial="1209CAFE00D0BEEF")["device"]["serial"] == "1209CAFE00D0BEEF"
    r = batch("open", serial="nope")
    assert r["error"] == "not_found"
    batch.ok("open", path="1-1")


def test_unplug_mid_session(batch, control):
    assert batch.ok("version")
    control("power", on=False)
    try:
        r = batch("version")
        assert r["error"] in ("no_device", "not_found"), r
        r = batch("version")
        assert r["error"] == "not_found", r   # closed after the loss; nothing to reopen yet
    finally:
        control("power", on=True)
    assert batch.ok("version", wait_ms=10000)


def test_quit(hilda):
    s = Session(hilda)
    assert s.ok("quit")
    assert s.p.wait(timeout=10) == 0


def test_selection_arguments(hilda):
    s = Session(hilda, "--serial", "nope")
    r = s("version")
    assert r["error"] == "not_found"
    assert s.close() == 0

"""reset, bootloader, waiting for re-enumeration, and a dongle unplugged in
the middle of a run: a clean error, never a hang. The timeouts below only
catch a hang (they are far above any transfer timeout involved): nothing
here asserts how fast anything is."""
import json
import re
import time

HANG = 60   # seconds
# EasyDMA transfers the dongle makes before the unplug in the partial-result tests: some tens of control
# transfers answered, whatever the machine's load (each transfer is a few DMAs)
TRAFFIC_DMAS = 400


def unplugged_mid_run(p, control, stdin_text=None):
    """Waits (bounded) until the dongle has answered some of p's transfers, unplugs it, and returns
    p's (stdout, stderr) once it ended; the dongle is plugged back in whatever happens."""
    start = control("counters")["dma_transfers"]
    end = time.monotonic() + HANG
    while control("counters")["dma_transfers"] - start < TRAFFIC_DMAS and time.monotonic() < end:
        time.sleep(0.05)
    control("power", on=False)
    try:
        return p.communicate(stdin_text, timeout=HANG)
    finally:
        control("power", on=True)


def test_reset_and_wait(hilda):
    j = hilda("reset", "--wait", "10", "--json").json
    assert j["before"]["serial"] == j["after"]["serial"] == "1209CAFE00D0BEEF"
    assert j["before"]["address"] != j["after"]["address"]
    r = hilda("reset", "--wait", "10")
    assert r.rc == 0 and "back as 1209:0001 (application mode) at 1-1" in r.out
    r = hilda("reset")
    assert r.rc == 0 and "is rebooting" in r.out
    r = hilda("stats", "--wait", "10")   # waits for it to come back
    assert r.rc == 0, r


def test_bootloader_without_a_bootloader(hilda):
    # the emulated flash holds no bootloader: the application comes back, and hilda says so
    r = hilda("bootloader", "--wait", "10")
    assert r.rc == 3, r
    assert "came back in application mode, not in bootloader mode" in r.err
    r = hilda("bootloader", "--json")
    assert r.rc == 0 and r.json["after"] is None


def test_unplugged_during_stress(hilda, control):
    p = hilda.popen("stress", "echo", "--echo-max", "4096")
    out, err = unplugged_mid_run(p, control)      # not a fixed sleep: under load the stress may not have begun
    assert p.returncode == 5, (out, err)
    assert "went away" in err or "is gone" in err
    assert hilda("list", "--wait", "10", "--json").json["devices"]


def test_unplugged_during_async_queue(hilda, control):
    p = hilda.popen("stress", "async", "--transfers", "100000", "--in-flight", "64", "--json")
    out, err = unplugged_mid_run(p, control)
    assert p.returncode == 5, (out, err)
    assert '"error":"no_device"' in out
    # what was verified before the loss survives, marked partial (an async queue verifies after it ends)
    j = json.loads(out.strip().splitlines()[-1])
    assert j["ok"] is False and j["error"] == "no_device" and j["exit_code"] == 5 and j["partial"] is True, j
    piece = j["pieces"][0]
    assert piece["piece"] == "async" and piece["partial"] is True, piece
    assert piece["verified"] > 0 and piece["failures"] == 0, piece
    assert piece["transfers"] == piece["verified"] == j["transfers"], j


def test_unplugged_during_async_queue_text_keeps_the_partial_summary(hilda, control):
    p = hilda.popen("stress", "async", "--transfers", "100000", "--in-flight", "64")
    out, err = unplugged_mid_run(p, control)
    assert p.returncode == 5, (out, err)
    m = re.search(r"^async +(\d+) transfers +(\d+) verified +0 failed .*PARTIAL: stopped early$", out, re.M)
    assert m and int(m.group(1)) == int(m.group(2)) > 0, out
    assert f"summary (PARTIAL: the run stopped early, see the error below): {m.group(1)} transfers, 0 failures: " \
           "every answer before the stop verified" in out, out
    assert "went away" in err, err


def test_batch_stress_reply_keeps_the_partial_report(hilda, control):
    p = hilda.popen("batch")
    assert json.loads(p.stdout.readline())["event"] == "ready"
    p.stdin.write(json.dumps({"id": 1, "cmd": "stress", "piece": "async", "transfers": 100000,
                              "in_flight": 64}) + "\n")
    p.stdin.flush()
    out, err = unplugged_mid_run(p, control, json.dumps({"id": 2, "cmd": "quit"}) + "\n")
    reply = json.loads(out.splitlines()[0])
    assert reply["id"] == 1 and reply["ok"] is False and reply["error"] == "no_device", reply
    report = reply["report"]
    assert report["partial"] is True and report["verified"] > 0 and report["failures"] == 0, reply


def test_unplugged_while_waiting_for_a_delayed_reply(hilda, control):
    assert hilda("ctrl", "out", "vendor", "device", "fault_delay", "3000", "0", "-").rc == 0
    p = hilda.popen("ctrl", "--timeout", "10000", "0xc0", "1", "0", "0", "8")
    time.sleep(0.5)
    control("power", on=False)
    try:
        out, err = p.communicate(timeout=HANG)
    finally:
        control("power", on=True)
    assert p.returncode in (5, 6), (p.returncode, out, err)   # gone (or the host's I/O error for it)


def test_absent_device_with_wait(hilda, control):
    control("power", on=False)
    try:
        r = hilda("stats", "--wait", "0.5", timeout=HANG)
        assert r.rc == 3 and "appeared within 0.5 s" in r.err
    finally:
        control("power", on=True)
    assert hilda("stats", "--wait", "10").rc == 0

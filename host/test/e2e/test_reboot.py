"""reset, bootloader, waiting for re-enumeration, and a dongle unplugged in
the middle of a run: a clean error, never a hang. The timeouts below only
catch a hang (they are far above any transfer timeout involved): nothing
here asserts how fast anything is."""
import time

HANG = 60   # seconds


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
    time.sleep(1.0)
    control("power", on=False)
    try:
        out, err = p.communicate(timeout=HANG)
    finally:
        control("power", on=True)
    assert p.returncode == 5, (out, err)
    assert "went away" in err or "is gone" in err
    assert hilda("list", "--wait", "10", "--json").json["devices"]


def test_unplugged_during_async_queue(hilda, control):
    p = hilda.popen("stress", "async", "--transfers", "100000", "--in-flight", "64", "--json")
    time.sleep(1.0)
    control("power", on=False)
    try:
        out, err = p.communicate(timeout=HANG)
    finally:
        control("power", on=True)
    assert p.returncode == 5, (out, err)
    assert '"error":"no_device"' in out


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

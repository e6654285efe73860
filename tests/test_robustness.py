"""Robustness: bad requests followed by normal service, host timeouts with
fault injection, reset during a transfer, re-enumeration."""
import threading

import pytest

from helpers import P, ctrl_in, device_descriptor

BAD_REQUESTS = [
    dict(bmRequestType=0x80, bRequest=6, wValue=0x4200, wLength=64),     # descriptor type 0x42
    dict(bmRequestType=0x80, bRequest=6, wValue=0x0600, wLength=10),     # device qualifier at full speed
    dict(bmRequestType=0x80, bRequest=6, wValue=0x0309, wIndex=0x0409, wLength=255),  # no string 9
    dict(bmRequestType=0x80, bRequest=6, wValue=0x0201, wLength=9),      # configuration index 1
    dict(bmRequestType=0xC0, bRequest=0x7F, wLength=8),                  # unknown vendor request
    dict(bmRequestType=0xA1, bRequest=0x01, wLength=8),                  # class request, no class
    dict(bmRequestType=0x00, bRequest=0x09, wValue=7),                   # SET_CONFIGURATION 7
]


def test_bad_requests_stall_and_service_continues(usb):
    before = usb.call("stats")["counters"]["stalls"]
    for req in BAD_REQUESTS:
        reply = usb.raw("ctrl", **req)
        assert not reply["ok"] and reply["error"] == "stall", (req, reply)
        assert len(device_descriptor(usb)) == 18, f"no service after {req}"
    assert usb.call("stats")["counters"]["stalls"] - before >= len(BAD_REQUESTS)


def test_host_timeout_with_fault_injection(usb):
    usb.call("fault_delay", ms=400)
    reply = usb.raw("ctrl", bmRequestType=0x80, bRequest=6, wValue=0x0100, wLength=18, timeout_ms=50)
    assert not reply["ok"] and reply["error"] == "timeout", reply
    assert len(device_descriptor(usb)) == 18


def test_injected_stall_hits_exactly_one_request(usb):
    usb.call("fault_stall")
    reply = usb.raw("ctrl", bmRequestType=0x80, bRequest=6, wValue=0x0100, wLength=18)
    assert not reply["ok"] and reply["error"] == "stall"
    assert len(device_descriptor(usb)) == 18


def test_reboot_and_reenumeration(usb):
    reply = usb.call("reset", wait_ms=20000)
    assert reply["after"]["serial"] == reply["before"]["serial"]
    assert len(device_descriptor(usb)) == 18


@pytest.mark.emu_only(reason="a pin reset timed against a transfer needs the emulator's control channel")
def test_reset_during_a_transfer(usb, emu):
    usb.call("fault_delay", ms=2000)      # keeps the next request in its data stage
    result = {}

    def slow_request():
        result["reply"] = usb.raw("ctrl", bmRequestType=0xC0, bRequest=P["HILDA_REQ_ECHO_READ"],
                                  wLength=64, timeout_ms=5000)
    t = threading.Thread(target=slow_request)
    t.start()
    emu.request("reset")
    t.join(15)
    assert not t.is_alive()
    reply = result["reply"]
    assert not reply["ok"] and reply["error"] in ("no_device", "io", "timeout"), reply
    usb.call("wait", wait_ms=20000)
    assert ctrl_in(usb, 0xC0, P["HILDA_REQ_GET_VERSION"], wLength=8)[:2] == \
        P["HILDA_PROTOCOL_VERSION"].to_bytes(2, "little")


@pytest.mark.emu_only(reason="unplugging on demand needs the emulator's control channel (hw: the rig test below)")
def test_power_cycle_reenumerates(usb, emu):
    emu.request("power", on=False)
    emu.request("power", on=True)
    usb.call("wait", wait_ms=20000)
    assert len(device_descriptor(usb)) == 18


@pytest.mark.hw_only(reason="switches the real dongle's VBUS through the FTDI rig (docs/rig.md)")
def test_power_cycle_through_the_rig(usb, dut):
    if dut.rig is None:
        pytest.skip("no FTDI rig: set HILDA_RIG_FTDI to its serial (docs/rig.md)")
    import time
    dut.rig.power(False)
    time.sleep(0.5)
    dut.rig.power(True)
    usb.call("wait", wait_ms=20000)
    assert len(device_descriptor(usb)) == 18


@pytest.mark.emu_only(reason="suspending the bus on demand needs the emulator's control channel")
def test_suspend_and_resume(usb, emu):
    before = usb.call("stats")["counters"]
    emu.request("usb", state="suspend")
    emu.request("usb", state="resume")
    after = usb.call("stats")["counters"]
    assert after["suspends"] == before["suspends"] + 1, (before, after)
    assert after["resumes"] == before["resumes"] + 1, (before, after)
    assert after["bus_resets"] == before["bus_resets"], "a suspend is not a reset"

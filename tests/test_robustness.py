"""Robustness: bad requests followed by normal service, host timeouts with
fault injection, reset during a transfer, re-enumeration after a reboot or a
power cycle, suspend and resume, the rig's pins. Reset, power and suspend go through the dut
(rig/target.py) and skip, saying why, on a target that cannot do them. Fault injection,
the device's counters and REBOOT are hilda's vendor protocol (needs hilda_protocol); the
standard requests, power cycles and suspend work on any firmware."""
import threading
import time

import pytest

from helpers import LANGID_EN_US, P, USB, VENDOR_IN, ctrl_in, device_descriptor, get_descriptor_request, vendor_in

UNKNOWN_DESCRIPTOR_TYPE = 0x42      # no type of chapter 9 or of any class
UNKNOWN_VENDOR_REQUEST = 0x7F       # not in HILDA_VENDOR_REQUESTS
CLASS_INTERFACE_IN = USB.DIR_IN | USB.TYPE_CLASS | USB.RECIP_INTERFACE     # 0xA1
CLASS_REQUEST = 0x01                # any: the device has no class interface
# How long the dongle stays unplugged in the long power cycle: a real unplug, seen by the host
POWER_OFF_S = 0.5

# Any full-speed device must refuse these (USB 2.0 9.4.3, 9.6.2: a request error)
STANDARD_BAD_REQUESTS = [
    get_descriptor_request(UNKNOWN_DESCRIPTOR_TYPE, wLength=64),                   # descriptor type 0x42
    get_descriptor_request(USB.DT_DEVICE_QUALIFIER, wLength=USB.DT_DEVICE_QUALIFIER_SIZE),  # at full speed
]
# ... and hilda's firmware these too, given what it has: four strings, one configuration, no class
BAD_REQUESTS = STANDARD_BAD_REQUESTS + [
    get_descriptor_request(USB.DT_STRING, 9, wIndex=LANGID_EN_US, wLength=255),   # no string 9
    get_descriptor_request(USB.DT_CONFIG, 1, wLength=USB.DT_CONFIG_SIZE),         # configuration index 1
    dict(bmRequestType=VENDOR_IN, bRequest=UNKNOWN_VENDOR_REQUEST, wLength=8),     # unknown vendor request
    dict(bmRequestType=CLASS_INTERFACE_IN, bRequest=CLASS_REQUEST, wLength=8),     # class request, no class
    dict(bmRequestType=USB.RT_DEVICE_OUT, bRequest=USB.REQ_SET_CONFIGURATION, wValue=7),  # SET_CONFIGURATION 7
]


def test_standard_bad_requests_stall_and_service_continues(usb):
    for req in STANDARD_BAD_REQUESTS:
        reply = usb.raw("ctrl", **req)
        assert not reply["ok"] and reply["error"] == "stall", (req, reply)
        assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE, f"no service after {req}"


@pytest.mark.needs("hilda_protocol")
def test_bad_requests_stall_and_service_continues(usb):
    before = usb.call("stats")["counters"]["stalls"]
    for req in BAD_REQUESTS:
        reply = usb.raw("ctrl", **req)
        assert not reply["ok"] and reply["error"] == "stall", (req, reply)
        assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE, f"no service after {req}"
    assert usb.call("stats")["counters"]["stalls"] - before >= len(BAD_REQUESTS)


@pytest.mark.needs("hilda_protocol")     # FAULT_DELAY
def test_host_timeout_with_fault_injection(usb):
    usb.call("fault_delay", ms=400)
    reply = usb.raw("ctrl", **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE, timeout_ms=50))
    assert not reply["ok"] and reply["error"] == "timeout", reply
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("hilda_protocol")     # FAULT_STALL
def test_injected_stall_hits_exactly_one_request(usb):
    usb.call("fault_stall")
    reply = usb.raw("ctrl", **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE))
    assert not reply["ok"] and reply["error"] == "stall"
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("hilda_protocol")     # REBOOT
def test_reboot_and_reenumeration(usb):
    reply = usb.call("reset", wait_ms=20000)
    assert reply["after"]["serial"] == reply["before"]["serial"]
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("reset", "hilda_protocol")     # FAULT_DELAY holds the data stage
def test_reset_during_a_transfer(usb, dut):
    usb.call("fault_delay", ms=2000)      # keeps the next request in its data stage
    result = {}

    def slow_request():
        result["reply"] = usb.raw("ctrl", bmRequestType=VENDOR_IN, bRequest=P["HILDA_REQ_ECHO_READ"],
                                  wLength=64, timeout_ms=5000)
    t = threading.Thread(target=slow_request)
    t.start()
    dut.reset()
    t.join(15)
    assert not t.is_alive()
    reply = result["reply"]
    assert not reply["ok"] and reply["error"] in ("no_device", "io", "timeout"), reply
    usb.call("wait", wait_ms=20000)
    assert vendor_in(usb, "GET_VERSION", wLength=8)[:2] == \
        P["HILDA_PROTOCOL_VERSION"].to_bytes(2, "little")


@pytest.mark.needs("power")
def test_power_cycle_reenumerates(usb, dut):
    dut.power(False)
    dut.power(True)
    usb.call("wait", wait_ms=20000)
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("power")
def test_power_cycle_with_the_dongle_unplugged_a_while(usb, dut):
    # VBUS off long enough for the host to see the dongle leave (on a bench:
    # the rig's load switch), then back: the dongle enumerates again
    dut.power(False)
    time.sleep(POWER_OFF_S)
    gone = usb.raw("ctrl", **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE))
    assert not gone["ok"] and gone["error"] in ("no_device", "not_found", "io"), gone
    dut.power(True)
    usb.call("wait", wait_ms=20000)
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("suspend")
def test_suspend_and_resume_keep_the_configuration(usb, dut):
    configuration = ctrl_in(usb, USB.RT_DEVICE_IN, USB.REQ_GET_CONFIGURATION, wLength=1)
    dut.suspend()
    dut.resume()
    assert ctrl_in(usb, USB.RT_DEVICE_IN, USB.REQ_GET_CONFIGURATION, wLength=1) == configuration, \
        "a suspend is not a reset: the device is still configured after the resume"
    assert configuration != bytes(1), "the device was not configured to begin with"
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.needs("suspend", "hilda_protocol")     # the device's own counters
def test_suspend_and_resume(usb, dut):
    before = usb.call("stats")["counters"]
    dut.suspend()
    dut.resume()
    after = usb.call("stats")["counters"]
    assert after["suspends"] == before["suspends"] + 1, (before, after)
    assert after["resumes"] == before["resumes"] + 1, (before, after)
    assert after["bus_resets"] == before["bus_resets"], "a suspend is not a reset"


@pytest.mark.needs("rig")
def test_the_rig_sees_reset_released_and_power_on(usb, dut):
    # between tests the bench leaves the dongle running: reset line let go, VBUS on (`hilda rig pins`)
    pins = dut.bench.pins()
    assert pins["reset_asserted"] is False and pins["power_on"] is True, pins
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE

"""Enumeration and descriptors: the dongle is there with the identity and the
descriptors the firmware defines, and they break no chapter 9 rule."""
import re

import pytest

from helpers import P, device_descriptor


def test_device_is_found_with_its_identity(usb):
    dev = usb.call("info")["device"]
    assert (dev["vid"], dev["pid"]) == (P["HILDA_USB_VID"], P["HILDA_USB_PID"])
    assert dev["mode"] == "application"
    assert re.fullmatch(r"[0-9A-F]{16}", dev["serial"]), dev


def test_protocol_version_matches_protocol_h(usb):
    version = usb.call("version")["version"]
    major, minor = P["HILDA_PROTOCOL_VERSION"] >> 8, P["HILDA_PROTOCOL_VERSION"] & 0xFF
    assert version["protocol"] == f"{major}.{minor}", version


def test_device_descriptor_fields(usb):
    d = device_descriptor(usb)
    assert len(d) == 18 and d[0] == 18 and d[1] == 1
    assert int.from_bytes(d[2:4], "little") == 0x0201          # a BOS exists
    assert d[7] == 64                                          # bMaxPacketSize0
    assert int.from_bytes(d[8:10], "little") == P["HILDA_USB_VID"]
    assert d[17] == 1                                          # one configuration


def test_descriptors_break_no_chapter9_rule(usb):
    reply = usb.call("desc")
    assert reply["errors"] == 0, reply["findings"]


@pytest.mark.emu_only(reason="a pin reset on demand needs the emulator's control channel (hw: the rig)")
def test_reenumerates_after_pin_reset(usb, emu):
    before = usb.call("info")["device"]
    emu.request("reset")
    after = usb.call("wait", wait_ms=20000)["device"]
    assert after["serial"] == before["serial"]
    assert after["address"] != before["address"], "a reconnect gets a new device number"
    assert len(device_descriptor(usb)) == 18

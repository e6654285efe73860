"""Enumeration and descriptors: the dongle is there with the identity and the
descriptors the firmware defines, and they break no chapter 9 rule."""
import re

import pytest

from helpers import P, USB, device_descriptor


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
    assert len(d) == USB.DT_DEVICE_SIZE and d[0] == USB.DT_DEVICE_SIZE and d[1] == USB.DT_DEVICE
    assert int.from_bytes(d[2:4], "little") == 0x0201          # bcdUSB 2.01: a BOS exists
    assert d[7] == USB.FS_EP0_MAX_PACKET                       # bMaxPacketSize0: 64
    assert int.from_bytes(d[8:10], "little") == P["HILDA_USB_VID"]
    assert d[17] == 1                                          # one configuration


def test_descriptors_break_no_chapter9_rule(usb):
    reply = usb.call("desc")
    assert reply["errors"] == 0, reply["findings"]


def test_firmware_identity_read_from_the_device(usb, dut, record_property):
    identity = dut.firmware_identity(usb)
    assert identity.protocol == P["HILDA_PROTOCOL_VERSION"], identity
    assert identity.serial == usb.call("info")["device"]["serial"], identity
    assert re.fullmatch(r"[0-9A-F]{16}", identity.serial), identity
    version = usb.call("version")["version"]      # the host tool's reading of the same GET_VERSION
    assert version["firmware"] == f"{identity.firmware >> 8}.{identity.firmware & 0xFF}", (version, identity)
    assert version["git_hash"] == f"{identity.git_hash:08x}", (version, identity)
    record_property("hilda_identity", str(identity))


@pytest.mark.needs("reset")
def test_reenumerates_after_pin_reset(usb, dut):
    before = usb.call("info")["device"]
    dut.reset()
    after = usb.call("wait", wait_ms=20000)["device"]
    assert after["serial"] == before["serial"]
    assert after["address"] != before["address"], "a reconnect gets a new device number"
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE

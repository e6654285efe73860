"""Enumeration and descriptors: the device is there with the identity it should
have, its descriptors break no chapter 9 rule, and every string they name can
be read. Generic, for any firmware (the IDs are --device's, or hilda's
1209:0001); hilda's own identity, protocol version and GET_VERSION need
hilda_protocol."""
import re

import pytest

from helpers import P, USB, device_descriptor

# bMaxPacketSize0 at full speed: USB 2.0 section 9.6.1
FULL_SPEED_EP0_SIZES = (8, 16, 32, 64)


def expected_ids(dut):
    return dut.device_id or (P["HILDA_USB_VID"], P["HILDA_USB_PID"])


@pytest.fixture(scope="module")
def descriptors(usb):
    return usb.call("desc")["descriptors"]


def test_device_is_found_with_its_ids(usb, dut):
    dev = usb.call("info")["device"]
    assert (dev["vid"], dev["pid"]) == expected_ids(dut), dev


@pytest.mark.needs("hilda_protocol")
def test_hilda_firmware_runs_in_application_mode_with_its_serial(usb):
    dev = usb.call("info")["device"]
    assert dev["mode"] == "application"
    assert re.fullmatch(r"[0-9A-F]{16}", dev["serial"]), dev


@pytest.mark.needs("hilda_protocol")
def test_protocol_version_matches_protocol_h(usb):
    version = usb.call("version")["version"]
    major, minor = P["HILDA_PROTOCOL_VERSION"] >> 8, P["HILDA_PROTOCOL_VERSION"] & 0xFF
    assert version["protocol"] == f"{major}.{minor}", version


def test_device_descriptor_fields(usb, dut):
    d = device_descriptor(usb)
    assert len(d) == USB.DT_DEVICE_SIZE and d[0] == USB.DT_DEVICE_SIZE and d[1] == USB.DT_DEVICE
    assert d[7] in FULL_SPEED_EP0_SIZES, f"bMaxPacketSize0 {d[7]}"
    ids = (int.from_bytes(d[8:10], "little"), int.from_bytes(d[10:12], "little"))
    assert ids == expected_ids(dut)
    assert d[17] >= 1, "bNumConfigurations 0"


@pytest.mark.needs("hilda_protocol")
def test_hilda_device_descriptor_fields(usb):
    d = device_descriptor(usb)
    assert int.from_bytes(d[2:4], "little") == 0x0201          # bcdUSB 2.01: a BOS exists
    assert d[7] == USB.FS_EP0_MAX_PACKET                       # bMaxPacketSize0: 64
    assert d[17] == 1                                          # one configuration


def test_descriptors_break_no_chapter9_rule(usb):
    reply = usb.call("desc")
    assert reply["errors"] == 0, reply["findings"]


def string_indexes(descriptors):
    """{index: where} of every string the device, configuration and interface descriptors name."""
    named = {}
    device = descriptors["device"]
    for field in ("iManufacturer", "iProduct", "iSerialNumber"):
        if device.get(field):
            named[device[field]] = f"device {field}"
    for config in descriptors.get("configurations", []):
        for d in config.get("descriptors", []):
            for field in ("iConfiguration", "iInterface", "iFunction"):
                if d.get(field):
                    named[d[field]] = f"configuration {config['index']} {d.get('type')} {field}"
    return named


def test_every_string_named_can_be_read(descriptors):
    named = string_indexes(descriptors)
    if not named:
        pytest.skip("the descriptors name no string")
    assert descriptors["langids"], "strings are named but string 0 lists no LANGID"
    read = {s["index"] for s in descriptors["strings"] if s.get("raw")}
    missing = [f"string {i} ({where})" for i, where in sorted(named.items()) if i not in read]
    assert not missing, f"named but not readable: {', '.join(missing)}"


@pytest.mark.needs("hilda_protocol")
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

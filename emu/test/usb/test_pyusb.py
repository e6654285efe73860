"""The emulated dongle through pyusb (libusb-1.0), run under
`hilda-emu run -- /usr/bin/python3 -m pytest --noconftest` (see usb-check;
the project's conftest.py is for the tests/ suites): standard
requests, stalls and recovery, halts, bulk loopback, vendor echo, a timeout,
a reset and a reboot (disconnect, new device number).

Everything here is written so that it holds on a real dongle under Linux too:
the bridge answers like usbfs, so a test that needs an interface claims it
and releases it before SET_CONFIGURATION (Linux refuses EBUSY otherwise).
The tests run in file order and share one device, like a bench session.
"""
import errno
import os
import sys
import time

import pytest
import usb.core
import usb.util

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
from rig.vocabulary import LANGID_EN_US, P, STRUCTS, USB, descriptor_value  # noqa: E402  (include/hilda)

OUT, IN = P["HILDA_REQTYPE_OUT"], P["HILDA_REQTYPE_IN"]
SERIAL = os.environ.get("HILDA_TEST_SERIAL", "1209CAFE00D0BEEF")

GET_STATUS, CLEAR_FEATURE, SET_FEATURE = USB.REQ_GET_STATUS, USB.REQ_CLEAR_FEATURE, USB.REQ_SET_FEATURE
GET_DESCRIPTOR, GET_CONFIGURATION, SET_CONFIGURATION = (USB.REQ_GET_DESCRIPTOR, USB.REQ_GET_CONFIGURATION,
                                                        USB.REQ_SET_CONFIGURATION)
GET_INTERFACE, SET_INTERFACE = USB.REQ_GET_INTERFACE, USB.REQ_SET_INTERFACE
ENDPOINT_HALT = USB.FEATURE_ENDPOINT_HALT
DEVICE_IN, DEVICE_OUT = USB.RT_DEVICE_IN, USB.RT_DEVICE_OUT
INTERFACE_IN = USB.RT_INTERFACE_IN
ENDPOINT_IN, ENDPOINT_OUT = USB.RT_ENDPOINT_IN, USB.RT_ENDPOINT_OUT
CLASS_INTERFACE_OUT = USB.DIR_OUT | USB.TYPE_CLASS | USB.RECIP_INTERFACE

# The firmware's bulk loopback endpoints and what configuration 1 declares (docs/protocol.md)
EP0 = 0
EP1_OUT = 1
EP1_IN = USB.EP_DIR_IN | EP1_OUT
BULK_PACKET = USB.FS_BULK_MAX_PACKET
HALTED = [USB.STATUS_ENDPOINT_HALT, 0]
PADDING_TYPE = 0xFF          # the stress variants' padding descriptor: vendor-specific type
# Numbers this device does not know
UNKNOWN_DESCRIPTOR_TYPE = 0x21   # HID's class descriptor: the device has no class interface
UNKNOWN_STANDARD_REQUEST = 0x42
UNKNOWN_VENDOR_REQUEST = 0x7F
LANGID_DE_DE = 0x0407
COUNTERS = STRUCTS["hilda_counters"]


def find():
    return usb.core.find(idVendor=P["HILDA_USB_VID"], idProduct=P["HILDA_USB_PID"])


@pytest.fixture(scope="module")
def dev():
    d = find()
    assert d is not None, "no 1209:0001 device: run this under hilda-emu run"
    yield d
    usb.util.dispose_resources(d)


def status(dev, recipient=DEVICE_IN, index=0):
    return list(dev.ctrl_transfer(recipient, GET_STATUS, 0, index, 2))


def stalls(dev, *args, **kw):
    with pytest.raises(usb.core.USBError) as e:
        dev.ctrl_transfer(*args, **kw)
    assert e.value.errno == errno.EPIPE, e.value
    # recovery: the next request is served normally
    assert status(dev) == [0, 0]


def get_descriptor(dev, dtype, index, length, lang=0):
    return bytes(dev.ctrl_transfer(DEVICE_IN, GET_DESCRIPTOR, descriptor_value(dtype, index), lang, length))


# ---- identity and descriptors ----

def test_device_descriptor(dev):
    assert dev.idVendor == P["HILDA_USB_VID"] and dev.idProduct == P["HILDA_USB_PID"]
    assert dev.bcdUSB == 0x0201                      # 2.01: the device has a BOS
    assert dev.bMaxPacketSize0 == USB.FS_EP0_MAX_PACKET
    assert dev.bNumConfigurations == 1
    assert dev.manufacturer == "hilda"
    assert dev.product == "hilda nRF52840 test dongle"
    assert dev.serial_number == SERIAL


def test_configuration_and_endpoints(dev):
    cfg = dev.get_active_configuration()
    assert cfg.bConfigurationValue == 1 and cfg.wTotalLength == 32
    intf = cfg[(0, 0)]
    assert intf.bInterfaceClass == USB.CLASS_VENDOR_SPEC
    eps = sorted((e.bEndpointAddress, usb.util.endpoint_type(e.bmAttributes), e.wMaxPacketSize) for e in intf)
    bulk = usb.util.ENDPOINT_TYPE_BULK
    assert eps == [(EP1_OUT, bulk, BULK_PACKET), (EP1_IN, bulk, BULK_PACKET)]
    assert usb.util.get_string(dev, 4) == "hilda vendor loopback"


@pytest.mark.parametrize("length, expect", [(8, 8), (18, 18), (64, 18), (255, 18), (4096, 18)])
def test_device_descriptor_lengths(dev, length, expect):
    d = get_descriptor(dev, USB.DT_DEVICE, 0, length)
    assert len(d) == expect and d[0] == USB.DT_DEVICE_SIZE and d[1] == USB.DT_DEVICE


@pytest.mark.parametrize("length, expect", [(9, 9), (31, 31), (32, 32), (33, 32), (255, 32)])
def test_configuration_descriptor_lengths(dev, length, expect):
    d = get_descriptor(dev, USB.DT_CONFIG, 0, length)
    assert len(d) == expect and d[:4] == bytes([USB.DT_CONFIG_SIZE, USB.DT_CONFIG, 32, 0])


def test_string_descriptors(dev):
    langids = bytes([4, USB.DT_STRING]) + LANGID_EN_US.to_bytes(2, "little")
    assert get_descriptor(dev, USB.DT_STRING, 0, 255) == langids
    assert get_descriptor(dev, USB.DT_STRING, 0, 2) == langids[:2]
    s = get_descriptor(dev, USB.DT_STRING, 1, 255, LANGID_EN_US)
    assert s[0] == len(s) == 12 and s[2:].decode("utf-16-le") == "hilda"
    assert len(get_descriptor(dev, USB.DT_STRING, 2, 7, LANGID_EN_US)) == 7


def test_bos(dev):
    usb20_extension = bytes([7, USB.DT_DEVICE_CAPABILITY, USB.CAP_USB20_EXT, 0, 0, 0, 0])
    bos = bytes([USB.DT_BOS_SIZE, USB.DT_BOS, 12, 0, 1]) + usb20_extension
    assert get_descriptor(dev, USB.DT_BOS, 0, 255) == bos


# Stress variants: served like GET_DESCRIPTOR; a reply shorter than wLength
# that is a multiple of 64 ends with a zero-length packet.
@pytest.mark.parametrize("variant, length, expect", [
    (0, 255, 64), (0, 64, 64), (0, 63, 63), (0, 65, 64),
    (1, 255, 128), (1, 128, 128), (1, 127, 127), (1, 129, 128),
    (2, 255, 254), (2, 254, 254),
    (3, 255, 255), (3, 4096, 255),
    (4, 255, 64), (4, 64, 64), (4, 1, 1), (4, 0, 0),
])
def test_variants(dev, variant, length, expect):
    d = bytes(dev.ctrl_transfer(IN, P["HILDA_REQ_GET_VARIANT"], variant, 0, length))
    assert len(d) == expect
    if variant in (0, 1) and expect >= 33:
        total = 64 if variant == 0 else 128
        assert d[2] | d[3] << 8 == total
        assert d[32] == total - 32 and d[33] == PADDING_TYPE and d[34:expect] == bytes(range(expect - 34))
    if variant in (2, 3, 4) and expect >= 2:
        assert d[0] == (254, 255, 64)[variant - 2] and d[1] == USB.DT_STRING
        assert d[2:8] == "ABC".encode("utf-16-le")[:min(6, expect - 2)]


# ---- chapter 9 ----

def test_get_status(dev):
    assert status(dev, DEVICE_IN) == [0, 0]
    assert status(dev, INTERFACE_IN, 0) == [0, 0]
    assert status(dev, ENDPOINT_IN, EP0) == [0, 0]
    assert status(dev, ENDPOINT_IN, EP1_IN) == [0, 0]
    assert status(dev, ENDPOINT_IN, EP1_OUT) == [0, 0]


def test_configuration_requests(dev):
    # GET_STATUS on interface/endpoints claimed interface 0 (as usbfs does):
    # release it before SET_CONFIGURATION, as a program must on Linux
    usb.util.claim_interface(dev, 0)
    usb.util.release_interface(dev, 0)
    assert list(dev.ctrl_transfer(DEVICE_IN, GET_CONFIGURATION, 0, 0, 1)) == [1]
    dev.set_configuration(1)
    assert dev.get_active_configuration().bConfigurationValue == 1
    assert list(dev.ctrl_transfer(DEVICE_IN, GET_CONFIGURATION, 0, 0, 1)) == [1]
    assert list(dev.ctrl_transfer(INTERFACE_IN, GET_INTERFACE, 0, 0, 1)) == [0]
    dev.set_interface_altsetting(0, 0)
    assert list(dev.ctrl_transfer(INTERFACE_IN, GET_INTERFACE, 0, 0, 1)) == [0]
    usb.util.release_interface(dev, 0)


def test_unconfigure_and_configure(dev):
    dev.ctrl_transfer(DEVICE_OUT, SET_CONFIGURATION, 0, 0, 0)
    assert list(dev.ctrl_transfer(DEVICE_IN, GET_CONFIGURATION, 0, 0, 1)) == [0]
    # the host now sees no bulk endpoints: Linux refuses transfers to them
    with pytest.raises(usb.core.USBError):
        dev.write(EP1_OUT, b"x", timeout=200)
    dev.ctrl_transfer(DEVICE_OUT, SET_CONFIGURATION, 1, 0, 0)
    assert list(dev.ctrl_transfer(DEVICE_IN, GET_CONFIGURATION, 0, 0, 1)) == [1]


def test_stalls_and_recovery(dev):
    def get_desc(dtype, index=0, lang=0, length=9):
        return (DEVICE_IN, GET_DESCRIPTOR, descriptor_value(dtype, index), lang, length)
    stalls(dev, *get_desc(USB.DT_DEVICE_QUALIFIER, length=USB.DT_DEVICE_QUALIFIER_SIZE))      # full speed only
    stalls(dev, *get_desc(USB.DT_OTHER_SPEED_CONFIG))
    stalls(dev, *get_desc(USB.DT_CONFIG, 1))                        # configuration index 1
    stalls(dev, *get_desc(USB.DT_STRING, 5, LANGID_EN_US, 255))     # string index 5
    stalls(dev, *get_desc(USB.DT_STRING, 1, LANGID_DE_DE, 255))     # another LANGID
    stalls(dev, *get_desc(UNKNOWN_DESCRIPTOR_TYPE))                 # unknown type
    stalls(dev, DEVICE_IN, UNKNOWN_STANDARD_REQUEST, 0, 0, 1)
    stalls(dev, IN, UNKNOWN_VENDOR_REQUEST, 0, 0, 1)
    stalls(dev, CLASS_INTERFACE_OUT, 0, 0, 0, 0)                    # class request
    dev.ctrl_transfer(OUT, P["HILDA_REQ_FAULT_STALL"], 0, 0, 0)
    stalls(dev, DEVICE_IN, GET_STATUS, 0, 0, 2)                     # the armed fault stalls any request


@pytest.mark.parametrize("ep", [EP1_IN, EP1_OUT])
def test_endpoint_halt(dev, ep):
    usb.util.claim_interface(dev, 0)
    dev.ctrl_transfer(ENDPOINT_OUT, SET_FEATURE, ENDPOINT_HALT, ep, 0)
    assert status(dev, ENDPOINT_IN, ep) == HALTED
    with pytest.raises(usb.core.USBError) as e:
        if ep & USB.EP_DIR_IN:
            dev.read(ep, BULK_PACKET, timeout=500)
        else:
            dev.write(ep, b"halted", timeout=500)
    assert e.value.errno == errno.EPIPE
    dev.clear_halt(ep)                      # CLEAR_FEATURE(ENDPOINT_HALT) through USBDEVFS_CLEAR_HALT
    assert status(dev, ENDPOINT_IN, ep) == [0, 0]
    # and through a plain control request
    dev.ctrl_transfer(ENDPOINT_OUT, SET_FEATURE, ENDPOINT_HALT, ep, 0)
    dev.ctrl_transfer(ENDPOINT_OUT, CLEAR_FEATURE, ENDPOINT_HALT, ep, 0)
    assert status(dev, ENDPOINT_IN, ep) == [0, 0]
    usb.util.release_interface(dev, 0)


# ---- bulk and vendor data ----

@pytest.mark.parametrize("size", [1, 2, 31, 63, 64])
def test_bulk_loopback(dev, size):
    # the firmware loops back one packet at a time (see firmware/src/usbd.c)
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    for _ in range(3):
        assert dev.write(EP1_OUT, data, timeout=1000) == size
        assert bytes(dev.read(EP1_IN, BULK_PACKET, timeout=1000)) == data


@pytest.mark.parametrize("size", [65, 100, 128, 200])
def test_bulk_loopback_multi_packet(dev, size):
    # a write of several packets: each next OUT packet waits in the endpoint
    # buffer (NAKing the host) until the previous one went back on EP1 IN
    data = bytes((i * 5 + size) & 0xFF for i in range(size))
    assert dev.write(EP1_OUT, data[:128], timeout=1000) == min(size, 128)
    got = b""
    while len(got) < min(size, 128):
        got += bytes(dev.read(EP1_IN, BULK_PACKET, timeout=1000))
    if size > 128:
        assert dev.write(EP1_OUT, data[128:], timeout=1000) == size - 128
        while len(got) < size:
            got += bytes(dev.read(EP1_IN, BULK_PACKET, timeout=1000))
    assert got == data


def test_bulk_zero_length_packet(dev):
    assert dev.write(EP1_OUT, b"", timeout=1000) == 0
    assert len(dev.read(EP1_IN, BULK_PACKET, timeout=1000)) == 0


ECHO_SIZES = sorted(set(range(0, 301)) | {511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096})


def test_vendor_echo(dev):
    for n in ECHO_SIZES:
        data = bytes((i * 13 + n) & 0xFF for i in range(n))
        assert dev.ctrl_transfer(OUT, P["HILDA_REQ_ECHO_WRITE"], 0, 0, data) == n
        back = bytes(dev.ctrl_transfer(IN, P["HILDA_REQ_ECHO_READ"], 0, 0, n))
        assert back == data, f"echo of {n} bytes"


@pytest.mark.parametrize("stored, asked", [(64, 4096), (128, 200), (0, 64), (4096, 4096), (100, 50)])
def test_vendor_echo_short_reads(dev, stored, asked):
    data = bytes(range(256)) * (stored // 256) + bytes(range(stored % 256))
    dev.ctrl_transfer(OUT, P["HILDA_REQ_ECHO_WRITE"], 0, 0, data)
    back = bytes(dev.ctrl_transfer(IN, P["HILDA_REQ_ECHO_READ"], 0, 0, asked))
    assert back == data[:asked]


def test_version_and_counters(dev):
    version = STRUCTS["hilda_version"]
    v = version.unpack(dev.ctrl_transfer(IN, P["HILDA_REQ_GET_VERSION"], 0, 0, version.size))
    assert v["protocol"] == P["HILDA_PROTOCOL_VERSION"]
    dev.ctrl_transfer(OUT, P["HILDA_REQ_RESET_COUNTERS"], 0, 0, 0)
    c = COUNTERS.unpack(dev.ctrl_transfer(IN, P["HILDA_REQ_GET_COUNTERS"], 0, 0, COUNTERS.size))
    assert c["setups"] == 1                               # this request
    assert c["core_hz"] == 64000000


# ---- timing, reset, disconnect ----

def test_timeout_then_recovery(dev):
    dev.ctrl_transfer(OUT, P["HILDA_REQ_FAULT_DELAY"], 200, 0, 0)
    with pytest.raises(usb.core.USBTimeoutError):
        dev.ctrl_transfer(DEVICE_IN, GET_STATUS, 0, 0, 2, timeout=50)
    assert status(dev) == [0, 0]
    # a delay shorter than the timeout is just a slow answer
    dev.ctrl_transfer(OUT, P["HILDA_REQ_FAULT_DELAY"], 30, 0, 0)
    assert status(dev) == [0, 0]


def test_reset_keeps_the_device_number(dev):
    address = dev.address
    dev.ctrl_transfer(OUT, P["HILDA_REQ_RESET_COUNTERS"], 0, 0, 0)
    dev.reset()
    assert status(dev) == [0, 0]
    c = COUNTERS.unpack(dev.ctrl_transfer(IN, P["HILDA_REQ_GET_COUNTERS"], 0, 0, COUNTERS.size))
    assert c["bus_resets"] == 1                           # the reset reached the firmware
    again = find()
    assert again is not None and again.address == address
    assert list(dev.ctrl_transfer(DEVICE_IN, GET_CONFIGURATION, 0, 0, 1)) == [1]   # configuration restored
    assert dev.write(EP1_OUT, b"after reset", timeout=1000) == 11
    assert bytes(dev.read(EP1_IN, BULK_PACKET, timeout=1000)) == b"after reset"
    usb.util.release_interface(dev, 0)


def test_reboot_is_a_new_device(dev):
    old = dev.address
    dev.ctrl_transfer(OUT, P["HILDA_REQ_REBOOT"], 0, 0, 0)
    deadline = time.monotonic() + 10
    new = None
    while time.monotonic() < deadline:
        new = find()
        if new is not None and new.address != old:
            break
        time.sleep(0.05)
    assert new is not None and new.address != old, "the rebooted dongle did not come back"
    # the old handle is dead: ENODEV, as after an unplug
    with pytest.raises(usb.core.USBError) as e:
        dev.ctrl_transfer(DEVICE_IN, GET_STATUS, 0, 0, 2)
    assert e.value.errno in (errno.ENODEV, errno.EIO), e.value
    assert status(new) == [0, 0]
    assert new.serial_number == SERIAL
    usb.util.dispose_resources(new)

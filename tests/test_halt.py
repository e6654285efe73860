"""Halt and clear-halt on the device's bulk endpoints (usbtest 13, USBCV 9.9): SET_FEATURE
makes GET_STATUS say halted, CLEAR_FEATURE clears it, and EP0 is never halted. Generic: the
endpoints are the ones the device's active configuration declares, whatever firmware it runs."""
import pytest

from helpers import EP0, EP1_IN, EP1_OUT, USB, bulk_endpoints, ctrl_in, ctrl_out

HALTED = USB.STATUS_ENDPOINT_HALT.to_bytes(2, "little")
NOT_HALTED = bytes(2)


def endpoint_status(usb, ep):
    return ctrl_in(usb, USB.RT_ENDPOINT_IN, USB.REQ_GET_STATUS, 0, ep, 2)


def halted(usb, ep):
    return endpoint_status(usb, ep) == HALTED


def set_halt(usb, ep):
    ctrl_out(usb, USB.RT_ENDPOINT_OUT, USB.REQ_SET_FEATURE, USB.FEATURE_ENDPOINT_HALT, ep)


def clear_halt(usb, ep):
    ctrl_out(usb, USB.RT_ENDPOINT_OUT, USB.REQ_CLEAR_FEATURE, USB.FEATURE_ENDPOINT_HALT, ep)


@pytest.fixture(scope="module")
def bulk(usb):
    """The device's bulk endpoints; the test skips on a device without any."""
    endpoints = bulk_endpoints(usb.call("desc")["descriptors"])
    if not endpoints:
        pytest.skip("the device declares no bulk endpoint in its active configuration")
    return endpoints


def test_set_status_clear(usb, bulk):
    for ep in bulk:
        assert not halted(usb, ep), f"endpoint 0x{ep:02x} is halted before any SET_FEATURE"
        set_halt(usb, ep)
        assert halted(usb, ep), f"endpoint 0x{ep:02x}: GET_STATUS does not say halted after SET_FEATURE"
        clear_halt(usb, ep)
        assert not halted(usb, ep), f"endpoint 0x{ep:02x}: still halted after CLEAR_FEATURE"


def test_clear_halt_when_not_halted_is_accepted(usb, bulk):
    clear_halt(usb, bulk[0])
    assert not halted(usb, bulk[0])


def test_ep0_status_is_never_halted(usb):
    assert endpoint_status(usb, EP0) == NOT_HALTED


@pytest.mark.needs("hilda_protocol")
def test_hilda_firmware_declares_its_bulk_loopback_pair(bulk):
    assert sorted(bulk) == sorted([EP1_IN, EP1_OUT]), [hex(ep) for ep in bulk]

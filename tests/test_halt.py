"""Halt and clear-halt on the bulk endpoints (usbtest 13, USBCV 9.9): SET_FEATURE
makes GET_STATUS say halted, CLEAR_FEATURE clears it, and EP0 is never halted."""
import pytest

from helpers import EP0, EP1_IN, EP1_OUT, USB, ctrl_in, ctrl_out

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


@pytest.mark.parametrize("ep", [EP1_IN, EP1_OUT], ids=["ep1-in", "ep1-out"])
def test_set_status_clear(usb, ep):
    assert not halted(usb, ep)
    set_halt(usb, ep)
    assert halted(usb, ep)
    clear_halt(usb, ep)
    assert not halted(usb, ep)


def test_clear_halt_when_not_halted_is_accepted(usb):
    clear_halt(usb, EP1_IN)
    assert not halted(usb, EP1_IN)


def test_ep0_status_is_never_halted(usb):
    assert endpoint_status(usb, EP0) == NOT_HALTED

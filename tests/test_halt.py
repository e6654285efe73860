"""Halt and clear-halt on the bulk endpoints (usbtest 13, USBCV 9.9): SET_FEATURE
makes GET_STATUS say halted, CLEAR_FEATURE clears it, and EP0 is never halted."""
import pytest

from helpers import (CLEAR_FEATURE, ENDPOINT_HALT, GET_STATUS, SET_FEATURE, STD_IN_ENDPOINT,
                     STD_OUT_ENDPOINT, ctrl_in, ctrl_out)


def halted(usb, ep):
    return ctrl_in(usb, STD_IN_ENDPOINT, GET_STATUS, 0, ep, 2) == b"\x01\x00"


@pytest.mark.parametrize("ep", [0x81, 0x01], ids=["ep1-in", "ep1-out"])
def test_set_status_clear(usb, ep):
    assert not halted(usb, ep)
    ctrl_out(usb, STD_OUT_ENDPOINT, SET_FEATURE, ENDPOINT_HALT, ep)
    assert halted(usb, ep)
    ctrl_out(usb, STD_OUT_ENDPOINT, CLEAR_FEATURE, ENDPOINT_HALT, ep)
    assert not halted(usb, ep)


def test_clear_halt_when_not_halted_is_accepted(usb):
    ctrl_out(usb, STD_OUT_ENDPOINT, CLEAR_FEATURE, ENDPOINT_HALT, 0x81)
    assert not halted(usb, 0x81)


def test_ep0_status_is_never_halted(usb):
    assert ctrl_in(usb, STD_IN_ENDPOINT, GET_STATUS, 0, 0x00, 2) == b"\x00\x00"

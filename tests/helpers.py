"""Small helpers shared by the suites: protocol numbers from protocol.h and
request builders for the hilda batch client."""
import random

from rig.vocabulary import P

VENDOR_IN = 0xC0
VENDOR_OUT = 0x40
STD_IN_DEVICE = 0x80
STD_OUT_ENDPOINT = 0x02
STD_IN_ENDPOINT = 0x82
GET_STATUS, CLEAR_FEATURE, SET_FEATURE, GET_DESCRIPTOR = 0x00, 0x01, 0x03, 0x06
ENDPOINT_HALT = 0


def ctrl_in(usb, bmRequestType, bRequest, wValue=0, wIndex=0, wLength=0, timeout_ms=2000):
    reply = usb.call("ctrl", bmRequestType=bmRequestType, bRequest=bRequest, wValue=wValue,
                     wIndex=wIndex, wLength=wLength, timeout_ms=timeout_ms)
    return bytes.fromhex(reply.get("data", ""))


def ctrl_out(usb, bmRequestType, bRequest, wValue=0, wIndex=0, data=b"", timeout_ms=2000):
    args = dict(bmRequestType=bmRequestType, bRequest=bRequest, wValue=wValue, wIndex=wIndex,
                timeout_ms=timeout_ms)
    if data:
        args["data"] = data.hex()
    return usb.call("ctrl", **args)


def pattern(n, seed=0):
    rng = random.Random(seed * 7919 + n)
    return bytes(rng.randrange(256) for _ in range(n))


def device_descriptor(usb):
    return ctrl_in(usb, STD_IN_DEVICE, GET_DESCRIPTOR, 0x0100, 0, 18)


__all__ = ["P", "ctrl_in", "ctrl_out", "pattern", "device_descriptor"]

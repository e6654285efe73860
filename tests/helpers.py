"""Small helpers shared by the suites: the vocabulary of include/hilda (through
rig/vocabulary.py: no number of chapter 9 or of the vendor protocol is written
here) and request builders for the hilda batch client."""
import random

from rig.vocabulary import LANGID_EN_US, P, USB, descriptor_value

VENDOR_IN = P["HILDA_REQTYPE_IN"]           # 0xC0
VENDOR_OUT = P["HILDA_REQTYPE_OUT"]         # 0x40

# The firmware's bulk loopback endpoints (configuration 1, docs/protocol.md)
BULK_EP = 1
EP1_IN = USB.EP_DIR_IN | BULK_EP
EP1_OUT = BULK_EP
EP0 = 0
EP0_IN = USB.EP_DIR_IN | EP0


def _timeout(timeout_ms):
    """timeout_ms=None: the session batch's own transfer limit (rig/batch.py), generous enough
    for a loaded runner; a test of timeouts passes its own."""
    return {} if timeout_ms is None else {"timeout_ms": timeout_ms}


def ctrl_in(usb, bmRequestType, bRequest, wValue=0, wIndex=0, wLength=0, timeout_ms=None):
    reply = usb.call("ctrl", bmRequestType=bmRequestType, bRequest=bRequest, wValue=wValue,
                     wIndex=wIndex, wLength=wLength, **_timeout(timeout_ms))
    return bytes.fromhex(reply.get("data", ""))


def ctrl_out(usb, bmRequestType, bRequest, wValue=0, wIndex=0, data=b"", timeout_ms=None):
    args = dict(bmRequestType=bmRequestType, bRequest=bRequest, wValue=wValue, wIndex=wIndex,
                **_timeout(timeout_ms))
    if data:
        args["data"] = data.hex()
    return usb.call("ctrl", **args)


def vendor_in(usb, name, wValue=0, wIndex=0, wLength=0, timeout_ms=None):
    """A vendor IN request by its protocol.h name: vendor_in(usb, "ECHO_READ", wLength=64)."""
    return ctrl_in(usb, VENDOR_IN, P["HILDA_REQ_" + name], wValue, wIndex, wLength, timeout_ms)


def vendor_out(usb, name, wValue=0, wIndex=0, data=b"", timeout_ms=None):
    """A vendor OUT (or no-data) request by its protocol.h name."""
    return ctrl_out(usb, VENDOR_OUT, P["HILDA_REQ_" + name], wValue, wIndex, data, timeout_ms)


def get_descriptor_request(dtype, index=0, wLength=0, wIndex=0, **extra):
    """The fields of a GET_DESCRIPTOR for usb.call/usb.raw("ctrl", ...)."""
    return dict(bmRequestType=USB.RT_DEVICE_IN, bRequest=USB.REQ_GET_DESCRIPTOR,
                wValue=descriptor_value(dtype, index), wIndex=wIndex, wLength=wLength, **extra)


def pattern(n, seed=0):
    rng = random.Random(seed * 7919 + n)
    return bytes(rng.randrange(256) for _ in range(n))


def device_descriptor(usb):
    return ctrl_in(usb, **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE))


def bulk_endpoints(descriptors):
    """The bEndpointAddress of every bulk endpoint of the active configuration's
    alternate settings 0 (where they are after SET_CONFIGURATION), from
    `hilda desc`'s "descriptors": whatever firmware the device runs."""
    active = descriptors.get("active_configuration")
    found = []
    for config in descriptors.get("configurations", []):
        parsed = config.get("descriptors", [])
        if not parsed or parsed[0].get("bConfigurationValue") != active:
            continue
        alternate = 0
        for d in parsed:
            if d.get("type") == "interface":
                alternate = d.get("bAlternateSetting", 0)
            elif d.get("type") == "endpoint" and alternate == 0 and d.get("transfer_type") == "Bulk":
                found.append(d["bEndpointAddress"])
    return found


__all__ = ["P", "USB", "LANGID_EN_US", "VENDOR_IN", "VENDOR_OUT", "EP1_IN", "EP1_OUT", "EP0", "EP0_IN",
           "ctrl_in", "ctrl_out", "vendor_in", "vendor_out", "get_descriptor_request", "descriptor_value",
           "pattern", "device_descriptor", "bulk_endpoints"]

"""The vocabulary the tests speak (rig/vocabulary.py, read from include/hilda)
against what people read: docs/protocol.md must list every vendor request of
protocol.h by name, code and direction, and the chapter 9 numbers must be the
USB 2.0 specification's. No device needed: this runs the same on every target.

The literals below are written on purpose: they are the specification's
values, the independent side of the comparison."""
import os
import re

import pytest

from rig.vocabulary import (DESCRIPTOR_TYPES, P, PROTOCOL_HEADER, STANDARD_REQUESTS, STRUCTS, USB,
                            VENDOR_REQUESTS, descriptor_value)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOCOL_DOC = os.path.join(ROOT, "docs", "protocol.md")


def vendor_table_rows():
    """{name: (bRequest, bmRequestType)} from the table of docs/protocol.md's "Vendor requests" section."""
    with open(PROTOCOL_DOC) as f:
        text = f.read()
    section = text.split("## Vendor requests", 1)[1].split("\n## ", 1)[0]
    row = re.compile(r"^\|\s*([A-Z][A-Z0-9_]*)\s*\|\s*(0x[0-9A-Fa-f]+)\s*\|\s*(0x[0-9A-Fa-f]+)\s*\|", re.M)
    return {m.group(1): (int(m.group(2), 16), int(m.group(3), 16)) for m in row.finditer(section)}


DOC_ROWS = vendor_table_rows()


def test_protocol_h_has_vendor_requests():
    assert len(VENDOR_REQUESTS) >= 10 and len(DOC_ROWS) >= 10, (VENDOR_REQUESTS, DOC_ROWS)


@pytest.mark.parametrize("vendor", VENDOR_REQUESTS, ids=[r.name for r in VENDOR_REQUESTS])
def test_protocol_md_lists_the_vendor_request(vendor):
    assert vendor.name in DOC_ROWS, f"docs/protocol.md's vendor table has no row for {vendor.name}"
    code, request_type = DOC_ROWS[vendor.name]
    assert code == vendor.code, f"{vendor.name}: docs say 0x{code:02X}, protocol.h 0x{vendor.code:02X}"
    want = P["HILDA_REQTYPE_IN"] if vendor.stage == "IN" else P["HILDA_REQTYPE_OUT"]
    assert request_type == want, f"{vendor.name}: docs say bmRequestType 0x{request_type:02X}, not 0x{want:02X}"


def test_protocol_md_lists_no_other_vendor_request():
    known = {r.name for r in VENDOR_REQUESTS}
    assert set(DOC_ROWS) <= known, f"documented but not in protocol.h: {sorted(set(DOC_ROWS) - known)}"


def test_vendor_request_codes_are_unique():
    codes = [r.code for r in VENDOR_REQUESTS]
    assert len(codes) == len(set(codes)), VENDOR_REQUESTS


# USB 2.0 table 9-4 (bRequest), 9-5 (descriptor types; BOS and DEVICE CAPABILITY from the 2.0 LPM ECN),
# 9-6 (feature selectors), 9-2 (bmRequestType bits)
SPEC_REQUESTS = {"GET_STATUS": 0, "CLEAR_FEATURE": 1, "SET_FEATURE": 3, "SET_ADDRESS": 5, "GET_DESCRIPTOR": 6,
                 "SET_DESCRIPTOR": 7, "GET_CONFIGURATION": 8, "SET_CONFIGURATION": 9, "GET_INTERFACE": 10,
                 "SET_INTERFACE": 11, "SYNCH_FRAME": 12}
SPEC_DESCRIPTOR_TYPES = {"DEVICE": 1, "CONFIG": 2, "STRING": 3, "INTERFACE": 4, "ENDPOINT": 5,
                         "DEVICE_QUALIFIER": 6, "OTHER_SPEED_CONFIG": 7, "INTERFACE_POWER": 8, "BOS": 15,
                         "DEVICE_CAPABILITY": 16}


def test_standard_requests_are_the_specifications():
    assert dict(STANDARD_REQUESTS) == SPEC_REQUESTS
    assert USB.REQ_GET_DESCRIPTOR == 0x06 and USB.REQ_SET_CONFIGURATION == 0x09


def test_descriptor_types_are_the_specifications():
    types = dict(DESCRIPTOR_TYPES)
    for name, code in SPEC_DESCRIPTOR_TYPES.items():
        assert types.get(name) == code, name
        assert getattr(USB, "DT_" + name) == code, name
    assert (USB.DT_DEVICE_SIZE, USB.DT_CONFIG_SIZE, USB.DT_INTERFACE_SIZE, USB.DT_ENDPOINT_SIZE) == (18, 9, 9, 7)
    assert descriptor_value(USB.DT_DEVICE) == 0x0100
    assert descriptor_value(USB.DT_STRING, 3) == 0x0303


def test_request_types_and_features_are_the_specifications():
    assert (USB.RT_DEVICE_IN, USB.RT_DEVICE_OUT) == (0x80, 0x00)
    assert (USB.RT_INTERFACE_IN, USB.RT_INTERFACE_OUT) == (0x81, 0x01)
    assert (USB.RT_ENDPOINT_IN, USB.RT_ENDPOINT_OUT) == (0x82, 0x02)
    assert (USB.RT_VENDOR_DEVICE_IN, USB.RT_VENDOR_DEVICE_OUT) == (0xC0, 0x40)
    assert (USB.DIR_IN, USB.TYPE_CLASS, USB.TYPE_VENDOR) == (0x80, 0x20, 0x40)
    assert (USB.FEATURE_ENDPOINT_HALT, USB.FEATURE_DEVICE_REMOTE_WAKEUP, USB.FEATURE_TEST_MODE) == (0, 1, 2)
    assert (P["HILDA_REQTYPE_IN"], P["HILDA_REQTYPE_OUT"]) == (0xC0, 0x40)


def test_wire_structures_have_protocol_h_sizes():
    # the sizes protocol.h itself asserts (_Static_assert(sizeof(struct X) == N, ...))
    with open(PROTOCOL_HEADER) as f:
        asserted = {name: int(size) for name, size in
                    re.findall(r"_Static_assert\(sizeof\(struct (\w+)\)\s*==\s*(\d+)", f.read())}
    assert asserted, "protocol.h asserts no structure size"
    for name, size in asserted.items():
        assert name in STRUCTS, f"rig/vocabulary.py does not read struct {name}"
        assert STRUCTS[name].size == size, (name, STRUCTS[name].format)
    version = STRUCTS["hilda_version"].unpack(bytes([0x00, 0x01, 0x02, 0x00, 0x78, 0x56, 0x34, 0x12]))
    assert version == {"protocol": 0x0100, "firmware": 0x0002, "git_hash": 0x12345678}

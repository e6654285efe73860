#!/usr/bin/python3
"""Writes the seed corpora of the libhilda fuzzers (host/fuzz/corpus/ and
host/fuzz/corpus-json/): the hilda dongle's real descriptors, as the firmware
answers them (docs/protocol.md; `hilda desc --json` shows the same bytes), and
malformed variants of them. The format of each file is described at the top
of fuzz_desc.c. Deterministic: running it again gives the same files.

usage: host/fuzz/make_corpus.py [OUT_DIR]   (default: next to this script)"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from rig.vocabulary import P  # noqa: E402  (the vendor protocol, read from include/hilda/protocol.h)

DEVICE = bytes.fromhex("120101020000004009120100010001020301")
CONFIG = bytes.fromhex("09022000010100803209040000" "02ff000004" "0705810240" "0000" "0705010240" "0000")
BOS = bytes.fromhex("050f0c0001" "07100200000000")
STRING0 = bytes.fromhex("04030904")
# the Nordic Open DFU bootloader's identity (1915:521f) with a CDC-ACM configuration: class-specific descriptors
BOOT_DEVICE = bytes.fromhex("120100020200004015191f52000101020301")
BOOT_CONFIG = bytes.fromhex("09024300020100c032" "090400000102020000" "0524001001" "0524010001" "04240202" "0524060001"
                            "07058103100010" "09040100020a000000" "07050202400000" "07058202400000")


def string(text):
    body = text.encode("utf-16-le")
    return bytes([2 + len(body), 3]) + body


STRINGS = {1: "hilda", 2: "hilda nRF52840 test dongle", 3: "1209CAFE00D0BEEF", 4: "hilda vendor loopback"}


def variant_config(total):
    pad = total - 32
    return CONFIG[:2] + struct.pack("<H", total) + CONFIG[4:] + bytes([pad, 0xFF]) + bytes(range(pad - 2))


def variant_string(length):
    body = bytes()
    for i in range((length - 2 + 1) // 2):
        body += bytes([ord("A") + i % 26, 0])
    return bytes([length, 3]) + body[: length - 2]


def tlv(records):
    out = bytes([3])
    for tag, value in records:
        out += bytes([tag]) + struct.pack("<H", len(value)) + value
    return out


def full_set(device=DEVICE, configs=(CONFIG,), bos=BOS, string0=STRING0, strings=None, status=b"\0\0", speed=2,
             qualifier=None, active=1):
    rec = [(0, device)] + [(1, c) for c in configs]
    if bos is not None:
        rec.append((2, bos))
    if string0 is not None:
        rec.append((3, string0))
    for index, raw in (strings if strings is not None else {i: string(t) for i, t in STRINGS.items()}).items():
        rec.append((4, bytes([index]) + raw))
    if qualifier is not None:
        rec.append((5, qualifier))
    rec += [(6, status), (7, bytes([speed])), (9, bytes([active]))]
    return tlv(rec)


def patch(data, offset, value):
    b = bytearray(data)
    b[offset] = value
    return bytes(b)


def corpus():
    blob = DEVICE + CONFIG
    files = {
        # mode 0: usbfs blobs
        "blob-hilda": bytes([0]) + blob,
        "blob-two-configs": bytes([0]) + DEVICE + CONFIG + patch(CONFIG, 5, 2),
        "blob-blength-zero": bytes([0]) + DEVICE + patch(CONFIG, 18, 0),
        "blob-blength-one": bytes([0]) + DEVICE + patch(CONFIG, 9, 1),
        "blob-past-end": bytes([0]) + DEVICE + patch(CONFIG, 25, 0x40),
        "blob-total-lies-long": bytes([0]) + DEVICE + patch(CONFIG, 2, 0x40),
        "blob-total-lies-short": bytes([0]) + DEVICE + patch(CONFIG, 2, 0x12),
        "blob-total-zero": bytes([0]) + DEVICE + patch(CONFIG, 2, 0),
        "blob-truncated": bytes([0]) + blob[:27],
        "blob-device-only": bytes([0]) + DEVICE,
        "blob-chain-of-twos": bytes([0]) + DEVICE + CONFIG[:2] + struct.pack("<H", 509) + CONFIG[4:9] + bytes([2, 0x24]) * 250,
        "blob-variant-config64": bytes([0]) + DEVICE + variant_config(64),
        "blob-variant-config128": bytes([0]) + DEVICE + variant_config(128),
        "blob-cdc-acm-bootloader": bytes([0]) + BOOT_DEVICE + BOOT_CONFIG,
        "blob-iad": bytes([0]) + DEVICE + CONFIG[:2] + b"\x28\x00" + CONFIG[4:9] + bytes.fromhex("080b0002ff000000") + CONFIG[9:],
        # mode 1: BOS
        "bos-hilda": bytes([1]) + BOS,
        "bos-numcaps-lies": bytes([1]) + patch(BOS, 4, 3),
        "bos-cap-short": bytes([1]) + patch(BOS, 5, 2),
        "bos-total-lies": bytes([1]) + patch(BOS, 2, 0xFF),
        "bos-platform-webusb": bytes([1]) + bytes.fromhex("050f1d0001")
            + bytes.fromhex("1810050038b60834a909a0478bfda0768815b665000101" "01"),
        # found by fuzz_desc (a 1-byte over-read in the validator, fixed): keep it as a regression seed
        "bos-container-id-truncated": bytes([1]) + bytes.fromhex("050f190001141004"),
        "bos-container-id": bytes([1]) + bytes.fromhex("050f190001") + bytes.fromhex("14100400") + bytes(range(16)),
        # mode 2: strings
        "string-hilda": bytes([2]) + string("hilda"),
        "string-254": bytes([2]) + variant_string(254),
        "string-255-odd": bytes([2]) + variant_string(255),
        "string-64": bytes([2]) + variant_string(64),
        "string-blength-lies": bytes([2]) + patch(string("hilda"), 0, 40),
        "string-surrogates": bytes([2]) + bytes([10, 3]) + bytes.fromhex("3dd800de00dc3dd8"),
        "string0": bytes([2]) + STRING0,
        "string-empty": bytes([2]) + bytes([2, 3]),
        # mode 3: whole sets as read from a device
        "set-hilda": full_set(),
        "set-missing-string": full_set(strings={1: string("hilda")}),
        "set-no-bos": full_set(bos=None),
        "set-no-string0": full_set(string0=None),
        "set-high-speed": full_set(speed=3),
        "set-qualifier-answered": full_set(qualifier=bytes.fromhex("0a060002000000400100")),
        "set-self-powered-lie": full_set(status=b"\x01\x00"),
        "set-bad-endpoints": full_set(configs=(patch(patch(CONFIG, 20, 0x80), 22, 100),)),
        "set-odd-strings": full_set(strings={1: variant_string(255), 2: patch(string("x"), 0, 3)}),
        "set-maxp0-7": full_set(device=patch(DEVICE, 7, 7)),
    }
    return files


def json_corpus():
    reqs = [
        {"id": 1, "cmd": "ctrl", "bmRequestType": P["HILDA_REQTYPE_IN"], "bRequest": P["HILDA_REQ_GET_VERSION"],
         "wValue": 0, "wIndex": 0, "wLength": 8, "timeout_ms": 1000},
        {"id": "a", "cmd": "echo", "data": "0102"},
        {"id": 3, "cmd": "stress", "piece": "random", "count": 100, "seed": 7},
        {"id": 4, "cmd": "desc", "blob": (DEVICE + CONFIG).hex()},
        {"id": None, "cmd": "list", "all": True, "x": [1, 2.5, -3e10, {"k": "\u00e9\ud83d\ude00"}]},
        {"id": 5, "cmd": "ch9", "only": "9.9", "no_reset": True, "rounds": 2},
        {"id": 6, "cmd": "ch9", "list": True},
        {"id": 7, "cmd": "timing", "kinds": "in,out", "sizes": "8,64", "count": 10, "device": False},
        {"id": 8, "cmd": "uart_send", "data": "68656c6c6f"},
        {"id": 9, "cmd": "uart_recv", "count": 10, "idle_ms": 50, "max_ms": 500},
        {"id": 10, "cmd": "uart_baud", "baud": "115200"},
        {"id": 11, "cmd": "fault_delay", "ms": 500},
        {"id": 12, "cmd": "reset", "wait_ms": 10000},
        {"id": 13, "cmd": "open", "vidpid": "1209:0001", "serial": "1209CAFE00D0BEEF"},
        {"id": 14, "cmd": "echo", "length": 200, "read_length": 100},
    ]
    files = {f"req-{i}": json.dumps(r).encode() for i, r in enumerate(reqs)}
    files["escapes"] = b'{"s":"\\u0000\\n\\t\\"\\\\\\/\\ud800","n":-0.0e-5}'
    files["nested"] = b"[" * 15 + b"]" * 15
    return files


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else here
    for sub, files in (("corpus", corpus()), ("corpus-json", json_corpus())):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{d}: {len(files)} files")


if __name__ == "__main__":
    main()

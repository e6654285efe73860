"""Control echo sweeps (usbtest 14 and 21): every OUT and IN data length the
firmware accepts, with aligned and unaligned buffers, verified byte for byte.
(A wLength above 4096 never reaches the device: Linux usbfs refuses it; the
firmware's own refusal is unit-tested.)"""
import pytest

from helpers import pattern, vendor_in, vendor_out

pytestmark = pytest.mark.needs("hilda_protocol")     # ECHO_WRITE / ECHO_READ

BOUNDARIES = [0, 1, 2, 63, 64, 65, 127, 128, 129, 255, 256, 511, 512, 513, 1023, 1024, 1025,
              2047, 2048, 2049, 4095, 4096]


@pytest.mark.parametrize("length", BOUNDARIES)
def test_echo_boundary_lengths(usb, length):
    data = pattern(length, seed=14)
    vendor_out(usb, "ECHO_WRITE", data=data)
    assert vendor_in(usb, "ECHO_READ", wLength=length) == data


def test_echo_sweep_aligned_and_unaligned(usb):
    report = usb.call("stress", piece="echo", echo_max=4096, step=7)["report"]
    assert report["failures"] == 0, report.get("failed")
    assert report["verified"] > 0


@pytest.mark.parametrize("stored, asked", [(64, 4096), (100, 50), (0, 64), (128, 200)])
def test_short_and_truncated_reads(usb, stored, asked):
    data = pattern(stored, seed=21)
    vendor_out(usb, "ECHO_WRITE", data=data)
    assert vendor_in(usb, "ECHO_READ", wLength=asked) == data[:asked]

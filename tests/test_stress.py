"""Descriptor stress: wLength sweeps over every descriptor and the ZLP-boundary
variants, queued control transfers, random requests from a seed (the seed is in
the test id, so a failure is replayed with -k)."""
import pytest

from helpers import USB, get_descriptor_request

SEEDS = [1, 2, 3, 20261121]


def assert_clean(report):
    assert report["failures"] == 0, report.get("failed")
    assert report["verified"] > 0 and report["transfers"] >= report["verified"]


def test_descriptor_length_sweeps_including_zlp_variants(usb):
    report = usb.call("stress", piece="descriptors", max_length=1024)["report"]
    assert_clean(report)


def test_queued_control_transfers_complete_in_order(usb):
    report = usb.call("stress", piece="async", transfers=2000, in_flight=16)["report"]
    assert_clean(report)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed={s}" for s in SEEDS])
def test_random_valid_and_invalid_requests(usb, seed):
    report = usb.call("stress", piece="random", seed=seed, count=1500)["report"]
    assert report["seed"] == seed
    assert_clean(report)
    # the device must still serve after whatever the random run did
    reply = usb.call("ctrl", **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE))
    assert len(reply["data"]) == 36

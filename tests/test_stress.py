"""Descriptor stress: wLength sweeps over every descriptor (generic; on hilda
firmware also its ZLP-boundary variants), queued control transfers and random
requests from a seed (the seed is in the test id, so a failure is replayed with
-k): those two mix in hilda's vendor requests."""
import pytest

from helpers import USB, get_descriptor_request

SEEDS = [1, 2, 3, 20261121]
# The whole sweep is one request (about 8000 transfers): hilda's firmware takes some 25 s on the
# emulator, a busy-polling firmware (TinyUSB's examples) several minutes on a loaded machine
SWEEP_TIMEOUT_S = 900


def assert_clean(report):
    assert report["failures"] == 0, report.get("failed")
    assert report["verified"] > 0 and report["transfers"] >= report["verified"]


def test_descriptor_length_sweeps_including_zlp_variants(usb):
    report = usb.call("stress", piece="descriptors", max_length=1024, timeout_s=SWEEP_TIMEOUT_S)["report"]
    assert_clean(report)


@pytest.mark.needs("hilda_protocol")     # ECHO_READ among the descriptors
def test_queued_control_transfers_complete_in_order(usb):
    report = usb.call("stress", piece="async", transfers=2000, in_flight=16)["report"]
    assert_clean(report)


@pytest.mark.needs("hilda_protocol")     # checked against a model of hilda's firmware
@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed={s}" for s in SEEDS])
def test_random_valid_and_invalid_requests(usb, seed):
    report = usb.call("stress", piece="random", seed=seed, count=1500)["report"]
    assert report["seed"] == seed
    assert_clean(report)
    # the device must still serve after whatever the random run did
    reply = usb.call("ctrl", **get_descriptor_request(USB.DT_DEVICE, wLength=USB.DT_DEVICE_SIZE))
    assert len(reply["data"]) == 36

"""`hilda flash` and the DFU path (host/flash/, firmware/bootloader): a full
update, buttonless entry, an update cut by a power loss and resumed, the
image checks, an nrfutil package whose init packet we encode ourselves
(tests/dfu_package.py), and a CRC mismatch that is sent again.

Every test that changes a dongle flashes its OWN short-lived emulated dongle,
started on the bootloader with no application (rig.emulator.EmulatedDongle),
so the session's dongle stays as it is. Assertions are on hilda's exit codes
and JSON only."""
import json
import math
import os
import struct
import subprocess

import pytest

from rig.emulator import EmulatedDongle
from rig.flasher import EXIT_IMAGE, EXIT_INTERRUPTED, Flasher
from rig.hardware import HILDA_BOOTLOADER_IDS
from rig.vocabulary import APP_PID, APP_VID
import dfu_package

pytestmark = [
    pytest.mark.emu_only(
        reason="each test flashes its own emulated dongle started on the bootloader; on a bench the session's "
               "own flash at start is the hardware test of hilda flash"),
    # the firmware under test is flashed and must report its git hash (GET_VERSION) afterwards
    pytest.mark.needs("hilda_protocol"),
]

APP_ADDRESS = 0x1000
BOOTLOADER_ADDRESS = 0xE0000
DATA_OBJECT_SIZE = 4096           # a Secure DFU data object is one flash page (docs/firmware.md)


def usb_id(vid, pid):
    return f"{vid:04x}:{pid:04x}"


BOOTLOADER_ID = usb_id(*HILDA_BOOTLOADER_IDS)
APPLICATION_ID = usb_id(APP_VID, APP_PID)


@pytest.fixture
def build(pytestconfig):
    return pytestconfig.hilda_build


@pytest.fixture
def image(pytestconfig):
    """The firmware under test (--firmware, default BUILD/hilda-dongle.elf)."""
    return pytestconfig.hilda_firmware


@pytest.fixture
def dongle(pytestconfig, build, tmp_path):
    """A fresh emulated dongle on hilda's bootloader, no application: in DFU mode."""
    target = EmulatedDongle(os.path.join(build, "emu", "hilda-emu"),
                            os.path.join(build, "hilda-bootloader-bare.elf"), bootloader=True,
                            sanitize=pytestconfig.getoption("--sanitize"), workdir=str(tmp_path / "emu"),
                            hilda=os.path.join(build, "host", "hilda"))
    yield target
    alive = target.alive()
    reports = target.sanitizer_reports() if alive else []
    log = "" if alive else target.describe_loss()
    target.stop()
    assert alive, log
    assert reports == [], reports


@pytest.fixture(scope="module")
def app_bin(pytestconfig, tmp_path_factory):
    """The application's bytes from 0x1000, as a flat .bin (objcopy -O binary)."""
    path = tmp_path_factory.mktemp("flash") / "app.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", pytestconfig.hilda_firmware, str(path)], check=True)
    return path.read_bytes()


def enumerated(dongle, wait_for=None):
    """The USB IDs the dongle shows now ("1209:0002" in DFU mode, ...);
    wait_for: an ID to wait for first (hilda's --wait), after a power cycle."""
    wait = ["--device", wait_for, "--wait", "20"] if wait_for else []
    proc = subprocess.run([dongle.hilda, *wait, "list", "--json"], env=dongle.client_env(), capture_output=True,
                          text=True, timeout=60)
    return [d["id"] for d in json.loads(proc.stdout)["devices"]]


def assert_refused_before_sending(dongle, code, result):
    assert code == EXIT_IMAGE, result
    assert result["ok"] is False and result["error"] == "image" and result["exit_code"] == EXIT_IMAGE, result
    assert result["message"], result
    assert "dfu" not in result, "nothing may have been sent"
    assert enumerated(dongle) == [BOOTLOADER_ID], "the dongle is still in DFU mode"


def assert_app_runs(dongle, result, expected_hash):
    assert result["application"] is not None, result
    assert result["application"]["git_hash"] == expected_hash, result
    assert enumerated(dongle) == [APPLICATION_ID]
    assert f"{dongle.firmware_identity().git_hash:08x}" == expected_hash


def test_full_update(dongle, image):
    result = Flasher(dongle).flash(image)
    assert result["ok"] and result["command"] == "flash", result
    assert result["entry"] == "already_in_dfu", result
    assert result["image"]["start"] == APP_ADDRESS, result
    assert result["dfu"]["objects"] == math.ceil(result["image"]["length"] / DATA_OBJECT_SIZE), result
    assert result["dfu"]["resumed_from"] == 0 and result["dfu"]["crc_retries"] == 0, result
    assert_app_runs(dongle, result, result["image"]["git_hash"])


def test_buttonless_entry_from_the_running_application(dongle, image):
    first = Flasher(dongle).flash(image)
    assert first["entry"] == "already_in_dfu", first
    second = Flasher(dongle).flash(image)
    assert second["entry"] == "vendor_request", second
    assert_app_runs(dongle, second, second["image"]["git_hash"])


def test_interrupted_update_resumes_after_a_power_cut(dongle, image):
    flasher = Flasher(dongle)
    code, result = flasher.run(image, "--test-stop-after-objects", "1")
    assert code == EXIT_INTERRUPTED, result
    assert result["ok"] is False and result["error"] == "interrupted", result
    dongle.power(False)
    dongle.power(True)
    assert enumerated(dongle, wait_for=BOOTLOADER_ID) == [BOOTLOADER_ID], "no valid application: DFU mode"
    result = flasher.flash(image)
    assert result["entry"] == "already_in_dfu", result
    assert result["dfu"]["resumed_from"] > 0, result
    assert_app_runs(dongle, result, result["image"]["git_hash"])


def test_package_whose_init_packet_does_not_match_its_image(dongle, app_bin, tmp_path):
    other = app_bin[:-1] + bytes([app_bin[-1] ^ 0xFF])
    package = dfu_package.write_package(tmp_path / "bad-hash.zip", app_bin,
                                        dfu_package.init_packet(app_bin, digest_of=other))
    assert_refused_before_sending(dongle, *Flasher(dongle).run(str(package)))


def test_package_for_another_hardware_version(dongle, app_bin, tmp_path):
    package = dfu_package.write_package(tmp_path / "nrf51.zip", app_bin,
                                        dfu_package.init_packet(app_bin, hw_version=51))
    assert_refused_before_sending(dongle, *Flasher(dongle).run(str(package)))


def test_image_linked_at_the_wrong_address(dongle, build):
    # hilda-bare.elf is linked at 0x0 for boards without the MBR
    assert_refused_before_sending(dongle, *Flasher(dongle).run(os.path.join(build, "hilda-bare.elf")))


def test_flat_binary_at_the_wrong_address(dongle, app_bin, tmp_path):
    path = tmp_path / "app.bin"
    path.write_bytes(app_bin)
    assert_refused_before_sending(dongle, *Flasher(dongle).run(str(path), "--address", "0x2000"))


def test_image_too_large_for_the_application_area(dongle, tmp_path):
    # a plausible vector table (stack pointer in RAM, Thumb reset handler), then
    # up to 0xE0000 bytes: from 0x1000 it would run into the bootloader
    vectors = struct.pack("<II", 0x20040000, APP_ADDRESS + 0x101)
    path = tmp_path / "huge.bin"
    path.write_bytes(vectors + bytes(BOOTLOADER_ADDRESS - len(vectors)))
    assert_refused_before_sending(dongle, *Flasher(dongle).run(str(path), "--address", hex(APP_ADDRESS)))


def test_valid_nrfutil_package_flashes_and_runs(dongle, app_bin, tmp_path):
    package = dfu_package.write_package(tmp_path / "app.zip", app_bin, dfu_package.init_packet(app_bin))
    result = Flasher(dongle).flash(str(package))
    assert result["image"]["length"] == len(app_bin), result
    assert result["image"]["start"] == APP_ADDRESS, result
    assert result["image"]["format"] != "ELF" and result["image"]["git_hash"], result
    assert_app_runs(dongle, result, result["image"]["git_hash"])


def test_crc_mismatch_is_sent_again(dongle, image):
    result = Flasher(dongle).flash(image, "--test-corrupt-object", "2")
    assert result["dfu"]["crc_retries"] == 1, result
    assert_app_runs(dongle, result, result["image"]["git_hash"])

"""Errors that hold for the whole session stop it once, at its start: pytest
in a subprocess with a bad --firmware, --build, --device or --target exits
with pytest's usage error (4) and one line, no traceback, before any test
(and before any xdist worker) runs. --target auto says whether it saw no USB
backend, a dongle it may not open, or no dongle (rig/session.py,
rig/usbscan.py): tested on fake sysfs/devfs trees, in-process and through a
pytest subprocess that loads a plugin pointing rig/usbscan.py at one.
No dongle of this session is needed."""
import errno
import os
import shutil
import stat
import subprocess
import sys

import pytest

from rig import hardware, image, session, usbscan
from rig.vocabulary import APP_PID, APP_VID, BOOTLOADER_PID, BOOTLOADER_VID

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)
SESSION_TIMEOUT_S = 120
ONE_TEST = "tests/test_vocabulary.py::test_protocol_h_has_vendor_requests"     # needs no dongle
ALL_IDS = "1209:0001, 1209:0002 and 1915:521f"     # hilda's application, hilda's and Nordic's bootloaders
OTHER = (0x046D, 0xC52B)                          # a device on the bus that is no dongle (a receiver)

# A plugin for the subprocess: rig/usbscan.py reads the fake tree in $FAKE_USB_ROOT, and a node
# opens only if others may write it, the stand-in for "this user may" (as root every real open succeeds)
FAKE_USB_PLUGIN = '''
import os
from rig import usbscan
usbscan.SYSFS = os.path.join(os.environ["FAKE_USB_ROOT"], "sys")
usbscan.DEVFS = os.path.join(os.environ["FAKE_USB_ROOT"], "dev")
usbscan.node_open_error = lambda path: "" if os.stat(path).st_mode & 0o002 else "EACCES"
'''


def fake_open_error(path):
    """As the plugin: "EACCES" unless others may write the node (this user's access, faked)."""
    return "" if os.stat(path).st_mode & stat.S_IWOTH else "EACCES"


def make_usb_tree(root, devices=(), buses=(1, 2), devfs=True, sysfs=True):
    """A fake /sys and /dev under root, as Linux lays them out: a root hub
    usbN per bus, each device "B-P" with its attributes and an interface
    "B-P:1.0" (no idVendor), and its node dev/bus/usb/BBB/DDD.
    devices: [(vid, pid, bus, address, serial, node mode)]."""
    root = str(root)
    folder = os.path.join(root, "sys", "bus", "usb", "devices")
    if sysfs:
        os.makedirs(folder)
    if devfs:
        os.makedirs(os.path.join(root, "dev", "bus", "usb"))
    hubs = [(0x1D6B, 0x0002, bus, 1, f"0000:00:14.{bus}", 0o664, f"usb{bus}") for bus in buses]
    entries = hubs + [(*d, f"{d[2]}-{i + 1}") for i, d in enumerate(devices)]
    for vid, pid, bus, address, serial, mode, name in entries:
        if sysfs:
            path = os.path.join(folder, name)
            os.makedirs(path)
            for attribute, value in (("idVendor", f"{vid:04x}"), ("idProduct", f"{pid:04x}"), ("busnum", bus),
                                     ("devnum", address), ("serial", serial)):
                with open(os.path.join(path, attribute), "w") as f:
                    f.write(f"{value}\n")
            os.makedirs(os.path.join(folder, f"{name}:1.0"))
        if devfs:
            node = os.path.join(root, "dev", "bus", "usb", f"{bus:03d}", f"{address:03d}")
            os.makedirs(os.path.dirname(node), exist_ok=True)
            open(node, "w").close()
            os.chmod(node, mode)
    return root


def scan_of(root, ids=None, serial=None):
    return usbscan.scan(ids or session.dongle_ids(), serial=serial, sysfs=os.path.join(root, "sys"),
                        devfs=os.path.join(root, "dev"), open_error=fake_open_error)


def choose(root, wanted, ids=None, serial=None, wait_s=0):
    ids = ids or session.dongle_ids()
    return session.choose_target(wanted, ids, serial=serial, wait_s=wait_s, sleep=lambda s: None,
                                 scan=lambda ids, serial=None: scan_of(root, ids, serial))


# ---- the target: which of the three auto saw ----

def test_no_sysfs_usb_is_no_backend(tmp_path):
    root = make_usb_tree(tmp_path, sysfs=False)
    found = scan_of(root)
    assert found.verdict == usbscan.NO_BACKEND
    assert found.why == f"{root}/sys/bus/usb does not exist: no USB host controller in this kernel, container or VM"
    assert choose(root, "auto") == ("emu", f"auto: no USB backend here ({found.why}), so the emulated dongle")
    with pytest.raises(session.SessionError) as e:
        choose(root, "hw")
    assert str(e.value) == f"--target hw: no USB backend here: {found.why}; use --target emu"


def test_no_usbfs_nodes_is_no_backend(tmp_path):
    root = make_usb_tree(tmp_path, devices=[(APP_VID, APP_PID, 1, 5, "CAFE", 0o666)], devfs=False)
    found = scan_of(root)
    assert found.verdict == usbscan.NO_BACKEND and found.dongles == []
    assert found.why.startswith(f"{root}/dev/bus/usb does not exist: libusb has no usbfs device nodes"), found.why


def test_a_dongle_that_cannot_be_opened_is_no_permission_and_stops_auto(tmp_path):
    root = make_usb_tree(tmp_path, devices=[(*OTHER, 1, 2, "", 0o666),
                                            (BOOTLOADER_VID, BOOTLOADER_PID, 2, 7, "E1A2B3", 0o664)])
    found = scan_of(root)
    assert found.verdict == usbscan.NO_PERMISSION and found.dongles == []
    assert [(d.vid, d.pid, d.node, why) for d, why in found.denied] == \
        [(BOOTLOADER_VID, BOOTLOADER_PID, f"{root}/dev/bus/usb/002/007", "EACCES")]
    for wanted in ("auto", "hw"):
        with pytest.raises(session.SessionError) as e:
            choose(root, wanted)
        assert str(e.value) == (f"--target {wanted}: a dongle is attached (1915:521f at {root}/dev/bus/usb/002/007) "
                                "but this user cannot open it (EACCES): install hilda's udev rule udev/70-hilda.rules "
                                "(docs/install.md) and plug the dongle in again, or use --target emu")


def test_usb_without_a_dongle_is_emulated_under_auto(tmp_path):
    root = make_usb_tree(tmp_path, devices=[(*OTHER, 1, 2, "", 0o666)], buses=(1, 2, 3))
    found = scan_of(root)
    assert (found.verdict, found.buses, found.dongles, found.denied) == (usbscan.NO_DONGLE, 3, [], [])
    assert choose(root, "auto") == ("emu", f"auto: USB works but no dongle is attached (looked for {ALL_IDS} "
                                           "on 3 USB buses), so the emulated dongle")
    with pytest.raises(session.SessionError) as e:
        choose(root, "hw", wait_s=0.01)
    assert str(e.value) == (f"--target hw: no nRF52840 dongle found (looked for {ALL_IDS} on 3 USB buses for "
                            "0.01 s); plug one in or use --target emu")


def test_an_openable_dongle_is_chosen(tmp_path):
    root = make_usb_tree(tmp_path, devices=[(APP_VID, APP_PID, 1, 4, "1209CAFE", 0o666),
                                            (BOOTLOADER_VID, BOOTLOADER_PID, 2, 3, "E1A2", 0o664)])
    found = scan_of(root)
    assert found.verdict == usbscan.DONGLE
    assert [(d.bus, d.address, d.serial) for d in found.dongles] == [(1, 4, "1209CAFE")]
    assert choose(root, "auto") == ("hw", "auto: found 1 dongle on USB (1209:0001 1209CAFE on bus 1)")
    assert choose(root, "hw") == ("hw", "chosen with --target hw (1209:0001 1209CAFE on bus 1)")
    assert choose(root, "emu") == ("emu", "chosen with --target emu")


def test_dongle_serial_and_skip_flash_narrow_what_counts(tmp_path):
    root = make_usb_tree(tmp_path, devices=[(APP_VID, APP_PID, 1, 4, "AAAA", 0o666),
                                            (BOOTLOADER_VID, BOOTLOADER_PID, 1, 5, "BBBB", 0o666)], buses=(1,))
    assert [d.serial for d in scan_of(root, serial="BBBB").dongles] == ["BBBB"]
    assert scan_of(root, serial="CCCC").verdict == usbscan.NO_DONGLE
    with pytest.raises(session.SessionError) as e:
        choose(root, "hw", serial="CCCC")
    assert f"(looked for {ALL_IDS} with serial CCCC on 1 USB bus)" in str(e.value), str(e.value)
    # --skip-flash: only the application counts (a dongle in DFU mode has nothing under test)
    app_only = session.dongle_ids(bootloaders=False)
    assert app_only == [(APP_VID, APP_PID)]
    assert [d.serial for d in scan_of(root, ids=app_only).dongles] == ["AAAA"]
    # a foreign firmware's IDs stand in for hilda's application
    assert session.dongle_ids((0xCAFE, 0x4007))[0] == (0xCAFE, 0x4007)


def test_hw_waits_a_bounded_time_for_a_dongle_to_appear(tmp_path):
    empty = make_usb_tree(tmp_path / "empty")
    plugged = make_usb_tree(tmp_path / "plugged", devices=[(APP_VID, APP_PID, 1, 9, "LATE", 0o666)])
    answers = [empty, empty, plugged]
    scans = []

    def scan(ids, serial=None):
        scans.append(serial)
        return scan_of(answers[min(len(scans), len(answers)) - 1], ids, serial)
    assert session.choose_target("hw", session.dongle_ids(), scan=scan, wait_s=5, sleep=lambda s: None) == \
        ("hw", "chosen with --target hw (1209:0001 LATE on bus 1)")
    assert len(scans) == 3
    scans.clear()
    assert session.choose_target("auto", session.dongle_ids(), scan=scan, wait_s=5, sleep=lambda s: None)[0] == \
        "emu", "auto does not wait"
    assert len(scans) == 1


def test_the_real_node_check_opens_the_node(tmp_path):
    node = tmp_path / "001"
    node.write_bytes(b"")
    assert usbscan.node_open_error(str(node)) == ""
    assert usbscan.node_open_error(str(tmp_path / "gone")) == "ENOENT"
    assert usbscan.node_open_error(str(tmp_path)) == errno.errorcode[errno.EISDIR]


def test_the_hardware_target_finds_dongles_in_the_same_tree(tmp_path, monkeypatch):
    root = make_usb_tree(tmp_path, devices=[(*OTHER, 1, 2, "", 0o666), (APP_VID, APP_PID, 1, 4, "AAAA", 0o666),
                                            (*hardware.HILDA_BOOTLOADER_IDS, 2, 6, "BBBB", 0o666)])
    monkeypatch.setattr(usbscan, "SYSFS", os.path.join(root, "sys"))
    monkeypatch.setattr(usbscan, "DEVFS", os.path.join(root, "dev"))
    assert hardware.find_dongles() == [("application", "AAAA", 1, 4), ("bootloader", "BBBB", 2, 6)]
    assert hardware.find_dongles((0xCAFE, 0x4007)) == [("bootloader", "BBBB", 2, 6)]
    monkeypatch.setattr(usbscan, "SYSFS", str(tmp_path / "nothing"))
    assert hardware.find_dongles() == []


# ---- the firmware image ----

def test_image_kinds(pytestconfig, tmp_path, monkeypatch):
    build = pytestconfig.hilda_build
    assert image.image_kind(os.path.join(build, "hilda-dongle.elf")) == "elf"
    assert image.image_kind(os.path.join(build, "hilda-dongle.hex")) == "hex"
    text = tmp_path / "notes.txt"
    text.write_text("not firmware\n")
    with pytest.raises(ValueError, match="neither an ELF file, an Intel HEX file nor an nrfutil package"):
        image.image_kind(str(text))
    with pytest.raises(ValueError, match=r"an ELF file for another machine \(e_machine 62\)"):
        image.image_kind(os.path.realpath(sys.executable))       # x86-64

    def unreadable(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(image, "open", unreadable, raising=False)      # as root every file reads
    with pytest.raises(session.SessionError) as e:
        session.check_firmware(str(text))
    assert str(e.value) == f"--firmware {text}: cannot read it (Permission denied)"


def test_build_checks_say_the_command_that_builds(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(session.SessionError) as e:
        session.check_build(missing, ["host/hilda"])
    assert str(e.value) == (f"--build {missing} does not exist: build first (meson setup {missing} && "
                            f"ninja -C {missing}), or give --build DIR")
    (tmp_path / "build.ninja").write_text("")
    with pytest.raises(session.SessionError) as e:
        session.check_build(str(tmp_path), ["host/hilda", "emu/hilda-emu"])
    assert str(e.value) == (f"{tmp_path}/host/hilda, {tmp_path}/emu/hilda-emu are missing: build first "
                            f"(ninja -C {tmp_path})")


# ---- whole sessions: one usage error, one line ----

def run_pytest(pytestconfig, tmp_path, *args, env=None, build=None):
    """pytest in a subprocess with this run's build: (exit code, stdout, stderr)."""
    # --build=DIR in one word: as two, pytest's early argument pass takes an existing DIR outside the
    # repository for a test path, anchors conftest discovery there and never loads ours
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--build={build or pytestconfig.hilda_build}",
           f"--results={tmp_path / 'results'}", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=SESSION_TIMEOUT_S,
                          env={**os.environ, **(env or {})})
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_usage_error(result, sentence):
    """Exit 4 and, in all the output, one non-empty line: pytest's "ERROR: " and hilda's sentence."""
    code, out, err = result
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert code == USAGE_ERROR, out + err
    assert lines == [f"ERROR: hilda: {sentence}"], out + err


@pytest.fixture
def fake_usb(tmp_path, monkeypatch):
    """-p fake_usb for the subprocess, and a function making its fake tree."""
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "fake_usb.py").write_text(FAKE_USB_PLUGIN)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(plugin_dir), ROOT]))

    def tree(devices=(), **kwargs):
        root = make_usb_tree(tmp_path / "usb", devices=devices, **kwargs)
        monkeypatch.setenv("FAKE_USB_ROOT", root)
        return root
    return tree


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist -n 2"])
def test_hw_without_a_dongle_stops_once(pytestconfig, tmp_path, fake_usb, workers):
    fake_usb(devices=[(*OTHER, 1, 2, "", 0o666)])
    result = run_pytest(pytestconfig, tmp_path, "-p", "fake_usb", "--target", "hw", *workers, ONE_TEST)
    assert_one_usage_error(result, f"--target hw: no nRF52840 dongle found (looked for {ALL_IDS} on 2 USB buses "
                                   f"for {session.HW_WAIT_S:g} s); plug one in or use --target emu")


def test_hw_on_this_machine_stops_once_or_runs(pytestconfig, tmp_path):
    """Without a fake tree: this machine's own USB (here none at all: the real no-backend case)."""
    if usbscan.scan(session.dongle_ids()).verdict == usbscan.DONGLE:
        pytest.skip("a dongle is plugged in here: --target hw has one")
    code, out, err = run_pytest(pytestconfig, tmp_path, "--target", "hw", "--co", ONE_TEST)
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert code == USAGE_ERROR and len(lines) == 1, out + err
    assert lines[0].startswith("ERROR: hilda: --target hw: ") and lines[0].endswith("use --target emu"), lines


def test_auto_stops_at_a_dongle_it_may_not_open(pytestconfig, tmp_path, fake_usb):
    root = fake_usb(devices=[(APP_VID, APP_PID, 1, 3, "1209CAFE", 0o660)])
    result = run_pytest(pytestconfig, tmp_path, "-p", "fake_usb", "--co", ONE_TEST)
    assert_one_usage_error(result, f"--target auto: a dongle is attached (1209:0001 at {root}/dev/bus/usb/001/003) "
                                   "but this user cannot open it (EACCES): install hilda's udev rule "
                                   "udev/70-hilda.rules (docs/install.md) and plug the dongle in again, or use "
                                   "--target emu")


@pytest.mark.parametrize("case", ["no backend", "no dongle"])
def test_auto_says_what_it_saw_in_the_header(pytestconfig, tmp_path, fake_usb, case):
    root = fake_usb(devices=[(*OTHER, 1, 2, "", 0o666)], devfs=case != "no backend")
    code, out, err = run_pytest(pytestconfig, tmp_path, "-p", "fake_usb", "--co", ONE_TEST)
    assert code == 0, out + err
    saw = (f"no USB backend here ({root}/dev/bus/usb does not exist: libusb has no usbfs device nodes to open, "
           "as in a container started without them)" if case == "no backend" else
           f"USB works but no dongle is attached (looked for {ALL_IDS} on 2 USB buses)")
    assert out.count(f"hilda target: emu (auto: {saw}, so the emulated dongle)") == 1, out


@pytest.mark.parametrize("firmware, sentence", [
    ("/nonexistent.elf", "--firmware /nonexistent.elf: no such file"),
    ("README.md", f"--firmware {ROOT}/README.md is neither an ELF file, an Intel HEX file nor an nrfutil package "
                  "(.zip)"),
    ("tests", f"--firmware {ROOT}/tests is a directory, not a firmware image"),
])
def test_a_bad_firmware_stops_once(pytestconfig, tmp_path, firmware, sentence):
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--firmware", firmware, ONE_TEST)
    assert_one_usage_error(result, sentence)


def test_a_missing_firmware_stops_once_under_xdist(pytestconfig, tmp_path):
    """The controller says it; no worker starts to say it again."""
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--firmware", "/nonexistent.elf", "-n", "2",
                        ONE_TEST)
    assert_one_usage_error(result, "--firmware /nonexistent.elf: no such file")


def test_an_x86_elf_is_not_firmware(pytestconfig, tmp_path):
    python = os.path.realpath(sys.executable)
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--firmware", python, "--co", ONE_TEST)
    assert_one_usage_error(result, f"--firmware {python} is an ELF file for another machine (e_machine 62), not "
                                   "an Arm image for the nRF52840")


def test_a_package_the_emulator_would_run_directly_stops(pytestconfig, tmp_path):
    package = tmp_path / "app.zip"
    shutil.make_archive(str(package)[:-4], "zip", root_dir=os.path.join(ROOT, "include"))
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--skip-flash", "--firmware", str(package),
                        "--co", ONE_TEST)
    assert_one_usage_error(result, f"--firmware {package} is an nrfutil package, which only `hilda flash` takes, but "
                                   "the emulator runs this image directly: give it as ELF or Intel HEX")


def test_a_malformed_device_stops_once(pytestconfig, tmp_path):
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--device", "cafe:4007:1", "-n", "2", ONE_TEST)
    assert_one_usage_error(result, "--device 'cafe:4007:1' is not VID:PID in hex (e.g. cafe:4007)")


def test_a_missing_build_stops_once(pytestconfig, tmp_path):
    missing = str(tmp_path / "no-build")
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--co", ONE_TEST, build=missing)
    assert_one_usage_error(result, f"--build {missing} does not exist: build first (meson setup {missing} && "
                                   f"ninja -C {missing}), or give --build DIR")


def partial_build(pytestconfig, tmp_path, without):
    """A build directory with this run's files linked in, except the paths in without."""
    build = tmp_path / "partial-build"
    for rel in ("build.ninja", "host/hilda", "emu/hilda-emu", "hilda-dongle.elf", "hilda-bootloader-bare.elf"):
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel not in without:
            (build / rel).symlink_to(os.path.join(pytestconfig.hilda_build, rel))
    return str(build)


def test_emu_without_the_emulator_built_stops_once(pytestconfig, tmp_path):
    build = partial_build(pytestconfig, tmp_path, without={"emu/hilda-emu"})
    result = run_pytest(pytestconfig, tmp_path, "--target", "emu", "-n", "2", ONE_TEST, build=build)
    assert_one_usage_error(result, f"{build}/emu/hilda-emu is missing: build first (ninja -C {build})")


def test_an_emulator_that_does_not_start_fails_one_test_and_skips_the_rest(pytestconfig, tmp_path):
    """Found only when the dut starts (in each worker): one failure with why, the other tests skip."""
    build = partial_build(pytestconfig, tmp_path, without={"emu/hilda-emu"})
    fake = os.path.join(build, "emu", "hilda-emu")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'hilda-emu: no umockdev here' >&2\nexit 3\n")
    os.chmod(fake, 0o755)
    tests = ["tests/test_halt.py::test_ep0_status_is_never_halted",
             "tests/test_enumeration.py::test_device_is_found_with_its_ids",
             "tests/test_flash.py::test_full_update"]      # asks for the dut through needs(), not by name
    code, out, err = run_pytest(pytestconfig, tmp_path, "--target", "emu", "--skip-flash", "-p", "no:xdist",
                                "-rfEs", *tests, build=build)
    assert code == 1, out + err
    why = "starting the emu dongle failed at session start: hilda-emu serve exited with 3 before the dongle enumerated"
    assert 1 <= (out + err).count(why) <= 2, out + err        # the error, and -ra's summary line
    assert f"{why}; it printed:\nhilda-emu: no umockdev here" in out, out
    assert "2 skipped, 1 error" in out, out
    assert "SKIPPED [2] conftest.py" in out and "not run: the session's start on its dongle failed" in out, out
    assert "Traceback" not in out + err, out + err

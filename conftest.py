"""pytest harness for hilda: the same tests run on a plugged-in dongle or on the
emulated one (docs/hil.md).

Options: --target auto|emu|hw, --dongle SERIAL, --rig FILE, --firmware PATH,
--device VID:PID, --foreign, --skip-flash, --sanitize off|warn|fail|error,
--build DIR, --results DIR.
Your own firmware (docs/own-firmware.md): --firmware IMAGE --device VID:PID.
An image without hilda's image-info marker (rig/image.py), or a --device that
is not hilda's 1209:0001, or --foreign, makes the firmware foreign: the dut
lacks the hilda_protocol capability, so the suites of hilda's vendor protocol
skip with that reason and the generic ones run against VID:PID; on the
emulator the image starts directly (not flashed), on a dongle `hilda flash
--no-verify` puts it there; its DMA sanitizer reports are warnings.
The bench rig (hw): --rig FILE or HILDA_RIG names its description (docs/rig.md);
xdist worker N takes its entry N, and reset and power go through `hilda rig`
(rig/bench.py). The report says which dongle ran which test.
Flashing: every session puts the firmware under test on its dongle with
`hilda flash` (rig/flasher.py), on both targets; the emulated dongle starts on
the bootloader for that. --skip-flash: the emulator runs the firmware directly,
a real dongle keeps what it has. The report says which, with the git hashes.
Fixtures: dut (the target: rig/target.py), usb (a `hilda batch` process bound
to it), uart (pyserial on its UART), emu (the emulator's control channel, for
subjects only the emulator has).
Markers: needs(*capabilities) skips a test, with the target's reason, when the
target lacks one of them (rig/target.py CAPABILITIES); hw_only(reason) and
emu_only(reason) are for subjects that exist on one target alone;
loses_dongle(reason): the test leaves the dongle gone on purpose.
A lost dongle (rig/recovery.py): after each test that used the dut the
harness waits for the dongle, else resets or power-cycles it, and the
session's batch reopens it; the test that lost it fails (unless marked
loses_dongle or it came back by itself). A dongle that does not come back
fails that test once with why, and every later test that needs the dongle
in this session (xdist worker) is skipped: "not run: the dongle did not come
back after <test>"."""
import datetime
import hashlib
import json
import os
import warnings

import pytest

from rig.batch import DeviceError
from rig.bench import RIG_ENV, Bench, check_enough_entries, entry_for_dongle, entry_for_worker, load_description
from rig.emulator import EmulatedDongle, EmulatorError
from rig.flasher import FlashError, Flasher
from rig.hardware import HardwareDongle
from rig.report import RunReport, describe_failure
from rig.image import is_hilda_firmware
from rig.recovery import DongleWatch
from rig.session import (SessionError, build_command, check_build, check_firmware, choose_target, dongle_ids,
                         package_not_flashed)
from rig.target import CAPABILITIES, not_hilda_firmware, parse_usb_id, usb_id_text
from rig.vocabulary import APP_PID, APP_VID

ROOT = os.path.dirname(os.path.abspath(__file__))


def pytest_addoption(parser):
    g = parser.getgroup("hilda")
    g.addoption("--target", choices=("auto", "emu", "hw"), default="auto",
                help="auto: a plugged-in dongle if there is one, otherwise the emulated dongle")
    g.addoption("--dongle", metavar="SERIAL", help="the dongle to use when several are plugged in")
    g.addoption("--rig", metavar="FILE",
                help=f"hw: the bench rig's description (docs/rig.md); default ${RIG_ENV}. Without one the "
                     "tests that need reset or power skip")
    g.addoption("--firmware", metavar="PATH",
                help="firmware image, ELF, Intel HEX or (hw) an nrfutil package (default BUILD/hilda-dongle.elf); "
                     "one that is not hilda's needs --device (docs/own-firmware.md)")
    g.addoption("--device", metavar="VID:PID",
                help="the USB IDs the firmware under test enumerates as (hex, e.g. cafe:4007); required for "
                     "firmware that is not hilda's")
    g.addoption("--foreign", action="store_true",
                help="treat the firmware as foreign even if it is hilda's (the harness's own test of the skips)")
    g.addoption("--skip-flash", action="store_true",
                help="do not flash: emu starts the chip with the firmware directly, hw uses what the dongle runs")
    g.addoption("--sanitize", choices=("off", "warn", "fail", "error"), default=None,
                help="emu: the DMA sanitizer. fail (default for hilda's firmware): a report fails the test that "
                     "caused it, the run goes on; warn (default for a foreign image): a report is a warning in "
                     "the test report, the test passes; error: the first report ends the emulator; off")
    g.addoption("--build", metavar="DIR", default=os.path.join(ROOT, "build"),
                help="the meson build directory with hilda, hilda-emu and the firmware")
    g.addoption("--results", metavar="DIR", help="results folder (default results/<time>-<target>)")
    g.addoption("--usbtest", action="store_true",
                help="also run the Linux kernel's usbtest battery in a throwaway qemu VM (tests/test_usbtest.py; "
                     "about 30 s; not yet part of scripts/test: its case 24 still hangs, docs/hil.md)")


def pytest_ignore_collect(collection_path, config):
    """tests/test_usbtest.py only with --usbtest: it boots a VM, which loads both cores for half a minute."""
    if collection_path.name.startswith("test_usbtest") and not config.getoption("--usbtest"):
        return True
    return None


def _is_worker(config):
    return hasattr(config, "workerinput")


def _choose_target(config):
    """(target, why): rig/session.py's choice, made once by the controller;
    an xdist worker takes it from the controller (pytest_configure_node)."""
    if _is_worker(config) and "hilda_target" in config.workerinput:
        return config.workerinput["hilda_target"], config.workerinput["hilda_target_why"]
    wanted = config.getoption("--device")
    try:
        device_id = parse_usb_id(wanted) if wanted else None
    except ValueError as e:
        raise SessionError(str(e)) from None
    # a dongle in DFU mode counts too when the session flashes: `hilda flash` takes it as it is
    ids = dongle_ids(device_id, bootloaders=not config.getoption("--skip-flash"))
    return choose_target(config.getoption("--target"), ids, serial=config.getoption("--dongle"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist: every worker runs on the target the controller chose and checked."""
    node.workerinput["hilda_target"] = node.config.hilda_target
    node.workerinput["hilda_target_why"] = node.config.hilda_target_why


def _check_session(config, target):
    """The build and the firmware image, checked once at session start
    (rig/session.py); SessionError with the sentence otherwise."""
    build, image = config.hilda_build, config.hilda_firmware
    image_used = not (config.hilda_skip_flash and target == "hw")     # hw --skip-flash: the dongle's own
    given = config.getoption("--firmware")
    tools = [os.path.join("host", "hilda")]
    if target == "emu":
        tools += [os.path.join("emu", "hilda-emu")]
        if not config.hilda_skip_flash:
            tools += ["hilda-bootloader-bare.elf"]     # a foreign image starts directly: then it is not used
    if image_used and not given:
        tools += [os.path.basename(image)]
    check_build(build, tools)
    if image_used and check_firmware(image) == "package" and target == "emu" and (
            config.hilda_skip_flash or config.getoption("--foreign") or not is_hilda_firmware(image)):
        # the emulator runs a foreign image, or any under --skip-flash, directly: ELF or HEX only
        raise SessionError(package_not_flashed(image))


def pytest_configure(config):
    config.addinivalue_line("markers", "hw_only(reason): runs only on a real dongle")
    config.addinivalue_line("markers", "emu_only(reason): runs only on the emulated dongle")
    config.addinivalue_line("markers", "needs(*capabilities): skips, with the target's reason, where the target "
                            f"lacks one of them ({', '.join(CAPABILITIES)})")
    config.addinivalue_line("markers", "loses_dongle(reason): the test leaves the dongle gone on purpose; the "
                            "harness brings it back (rig/recovery.py) without failing the test")
    build = os.path.abspath(config.getoption("--build"))
    config.hilda_build = build
    config.hilda_firmware = os.path.abspath(config.getoption("--firmware") or
                                            os.path.join(build, "hilda-dongle.elf"))
    config.hilda_skip_flash = config.getoption("--skip-flash")
    try:
        # what holds for the whole session fails here, once, before any worker starts (rig/session.py)
        if config.getoption("--target") == "hw" and not _is_worker(config):
            _rig_description(config, "hw")      # the options before the machine: a bad rig file before the USB scan
        target, why = _choose_target(config)
        if not _is_worker(config):
            _check_session(config, target)
    except SessionError as e:
        raise pytest.UsageError(f"hilda: {e}") from None
    config.hilda_target = target
    config.hilda_target_why = why
    config.hilda_device_id, config.hilda_foreign = _firmware_under_test(config, target)
    config.hilda_sanitize_chosen = config.getoption("--sanitize")
    config.hilda_sanitize = config.hilda_sanitize_chosen or ("warn" if config.hilda_foreign else "fail")
    config.option.sanitize = config.hilda_sanitize      # getoption("--sanitize") gives the mode in force
    config.hilda_flash = None          # this process's flash record, set by the dut fixture
    config.hilda_flash_sent = False
    config.hilda_report = None
    config.hilda_lost = None           # (nodeid, why) of the test after which the dongle did not come back
    config.hilda_session_batch = None  # the usb fixture's batch, once made: reopened after a recovery
    config.hilda_rig_path, config.hilda_rig_entries = _rig_description(config, target)
    if _is_worker(config):
        return
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = config.getoption("--results") or os.path.join(ROOT, "results", f"{stamp}-{target}")
    report = RunReport(os.path.abspath(folder))
    report.info["target"] = f"{target} ({why})"
    report.info["firmware"] = _firmware_identity(config.hilda_firmware) if not config.hilda_skip_flash else \
        ("the firmware already on the dongle (--skip-flash)" if target == "hw" else
         _firmware_identity(config.hilda_firmware) + ", run directly (--skip-flash)")
    if config.hilda_foreign:
        report.info["firmware"] += (f"; FOREIGN, device under test {usb_id_text(config.hilda_device_id)}: "
                                    "the suites of hilda's vendor protocol skip")
    if target == "emu":
        report.info["sanitizer"] = SANITIZER_MODES[config.hilda_sanitize] + (
            " (the default for a foreign image)" if config.hilda_foreign and not config.hilda_sanitize_chosen
            else "")
    report.info["rig"] = _rig_summary(config, target)
    config.hilda_report = report
    if not config.option.xmlpath:
        config.option.xmlpath = os.path.join(report.folder, "junit.xml")


SANITIZER_MODES = {
    "off": "off",
    "warn": "warn: a report is a warning in this report, the test passes",
    "fail": "fail: a report fails the test during which it happened",
    "error": "error: the first report ends the emulator (the test fails, the dongle is gone)",
}


def _firmware_under_test(config, target):
    """(device_id, foreign): the USB IDs the firmware under test enumerates as
    (None: hilda's own, found by hilda's defaults) and "" for hilda firmware,
    else the reason it lacks hilda_protocol. Foreign: --foreign, an image
    without hilda's marker, or a --device that is not hilda's application ID.
    A foreign firmware without --device is a usage error: nothing tells us
    what it enumerates as."""
    wanted = config.getoption("--device")
    try:
        device_id = parse_usb_id(wanted) if wanted else None
    except ValueError as e:
        raise pytest.UsageError(str(e))
    image_used = not (config.hilda_skip_flash and target == "hw")     # hw --skip-flash: the dongle's own
    foreign_image = image_used and os.path.exists(config.hilda_firmware) and \
        not is_hilda_firmware(config.hilda_firmware)
    foreign = config.getoption("--foreign") or foreign_image or \
        (device_id is not None and device_id != (APP_VID, APP_PID))
    if not foreign:
        return device_id, ""
    if device_id is None:
        what = (f"{config.hilda_firmware} is not hilda firmware" if foreign_image
                else "--foreign treats the firmware as someone else's")
        raise pytest.UsageError(f"hilda: {what}: give --device VID:PID, the USB IDs it enumerates as (the harness "
                                "cannot guess them; docs/own-firmware.md)")
    forced = config.getoption("--foreign") and not foreign_image
    return device_id, not_hilda_firmware(device_id) + (" (--foreign)" if forced else "")


def _rig_description(config, target):
    """(path, entries) of the bench rig on hw: --rig FILE, else $HILDA_RIG;
    (None, []) without one or on the emulator (it has its own virtual bench).
    A malformed file, or fewer dongles than xdist workers, is a usage error,
    said once by the controller before any worker starts."""
    path = config.getoption("--rig") or os.environ.get(RIG_ENV, "")
    if target != "hw" or not path:
        return None, []
    path = os.path.abspath(path)
    try:
        entries = load_description(path)
    except ValueError as e:
        raise pytest.UsageError(str(e))
    dongle = config.getoption("--dongle")
    if dongle and len(entries) > 1:
        try:
            entries = [entry_for_dongle(entries, dongle)]     # --dongle picks its entry
        except LookupError as e:
            raise pytest.UsageError(f"{path}: {e}")
    if not _is_worker(config):
        problem = check_enough_entries(entries, config.getoption("numprocesses", None) or 1, path)
        if problem:
            raise pytest.UsageError(problem)
    return path, entries


def _rig_summary(config, target):
    if target == "emu":
        return "the emulator's virtual bench (FT232R HILDAEMU0), through `hilda rig`"
    if not config.hilda_rig_path:
        return f"none (no --rig or ${RIG_ENV}): the tests that need reset or power skip"
    names = ", ".join(entry.describe() for entry in config.hilda_rig_entries)
    return f"{config.hilda_rig_path}: {len(config.hilda_rig_entries)} dongle(s): {names}"


def _worker_slot(config):
    """(this process's xdist worker index, the number of workers): (0, 1) without xdist."""
    if not _is_worker(config):
        return 0, 1
    worker = config.workerinput["workerid"]
    return int(worker[2:]) if worker.startswith("gw") else 0, int(config.workerinput.get("workercount", 1))


def _firmware_identity(path):
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        return f"{os.path.relpath(path, ROOT)} (sha256 {digest})"
    except OSError:
        return f"{path} (missing)"


def pytest_report_header(config):
    return f"hilda target: {config.hilda_target} ({config.hilda_target_why})"


def _needed(item):
    return [name for marker in item.iter_markers("needs") for name in marker.args]


def pytest_collection_modifyitems(config, items):
    for item in items:
        unknown = [name for name in _needed(item) if name not in CAPABILITIES]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown capability {', '.join(unknown)} in needs(); "
                                    f"the capabilities are {', '.join(CAPABILITIES)} (rig/target.py)")
        for name, needed in (("hw_only", "hw"), ("emu_only", "emu")):
            marker = item.get_closest_marker(name)
            if marker and config.hilda_target != needed:
                reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else name)
                item.add_marker(pytest.mark.skip(reason=f"{name}: {reason}"))


# ---- fixtures ----

def _tool(config, *parts):
    path = os.path.join(config.hilda_build, *parts)
    if not os.path.exists(path):
        # checked at session start (_check_session): here only if it went away since
        pytest.exit(f"hilda: {path} is missing: build first ({build_command(config.hilda_build)})",
                    returncode=pytest.ExitCode.USAGE_ERROR)
    return path


def _bench(config, hilda, workdir):
    """This worker's Bench (rig/bench.py): worker N takes entry N of the rig
    description (checked at start: there are enough); None without a rig."""
    if not config.hilda_rig_entries:
        return None
    worker, workers = _worker_slot(config)
    return Bench(hilda, entry_for_worker(config.hilda_rig_entries, worker, workers, config.hilda_rig_path), workdir)


def _skip_unless_capable(dut, names):
    """Skips the running test, with the target's reasons, unless the dut has every capability in names."""
    missing = [f"{name}: {dut.capabilities.reason(name)}" for name in names if name not in dut.capabilities]
    if missing:
        pytest.skip(f"needs {'; '.join(missing)}")


@pytest.fixture(scope="session")
def dut(pytestconfig, tmp_path_factory):
    """The device under test, a Target (rig/target.py): the emulated dongle
    (hilda-emu serve, one per xdist worker) or the plugged-in one, running the
    firmware under test: flashed through `hilda flash` unless --skip-flash."""
    config = pytestconfig
    hilda = _tool(config, "host", "hilda")
    flash = not config.hilda_skip_flash
    foreign = config.hilda_foreign
    firmware = dict(device_id=config.hilda_device_id, foreign=foreign)
    record = {"flashed": False, "image": config.hilda_firmware, "image_git_hash": None,
              "device_git_hash": None, "identity": None, "entry": None, "seconds": None, "error": None}
    if config.hilda_target == "emu" and foreign and flash:
        # as `hilda-emu --firmware IMAGE`: from its own vector table, 0x1000 (dongle layout) or 0x0 (bare)
        flash = False
        record["not_flashed"] = "no: a foreign image starts directly on the emulator (docs/own-firmware.md)"
    config.hilda_flash = record
    target = failure = None
    stage = f"starting the {config.hilda_target} dongle"     # for the failure's sentence
    try:
        target = _start_target(config, tmp_path_factory, hilda, flash, firmware)
        if flash:
            stage = "flashing the firmware under test"
            # a foreign application reports no git hash for hilda flash to check
            result = Flasher(target).flash(config.hilda_firmware, *(["--no-verify"] if foreign else []))
            record.update(flashed=True, image_git_hash=result["image"].get("git_hash"), entry=result["entry"],
                          seconds=result["seconds"], objects=result["dfu"]["objects"])
            if target.kind == "hw":
                target.find_application()
        stage = "reading the identity of the firmware under test"
        if foreign:
            record["identity"] = target.usb_identity()
        else:
            identity = target.firmware_identity()
            target.reported_serial = identity.serial
            record.update(device_git_hash=f"{identity.git_hash:08x}", identity=str(identity),
                          firmware_version=f"{identity.firmware >> 8}.{identity.firmware & 0xFF}",
                          protocol=f"{identity.protocol >> 8}.{identity.protocol & 0xFF}", serial=identity.serial)
    except (EmulatorError, FlashError, LookupError, DeviceError) as e:
        # every test would fail the same way: the first one that needs the dut says it, the others skip
        record["error"] = str(e)
        failure = f"{stage} failed at session start: {e}"
    if failure:
        if target is not None:
            target.stop()
        if not _first_flash_failure_of_the_run(config, tmp_path_factory):
            pytest.skip("not run: the session's start failed in another worker too (its failed test says why)")
        pytest.fail(failure, pytrace=False)
    yield target
    target.stop()


def _start_target(config, tmp_path_factory, hilda, flash, firmware):
    """The dut's Target, started: hilda-emu serve (on the bootloader when
    flash) or the dongle found on USB; EmulatorError or LookupError says why not."""
    if config.hilda_target == "emu":
        workdir = str(tmp_path_factory.mktemp("emu"))
        # flashing: the chip starts on the bootloader with no application, as a fresh dongle would
        image = _tool(config, "hilda-bootloader-bare.elf") if flash else config.hilda_firmware
        return EmulatedDongle(_tool(config, "emu", "hilda-emu"), image, bootloader=flash,
                              sanitize=config.hilda_sanitize, workdir=workdir, hilda=hilda, **firmware)
    modes = ("application", "bootloader") if flash else ("application",)
    bench = _bench(config, hilda, str(tmp_path_factory.mktemp("rig")))
    return HardwareDongle(serial=config.getoption("--dongle"), bench=bench, hilda=hilda, modes=modes, **firmware)


def _first_flash_failure_of_the_run(config, tmp_path_factory):
    """True for the first session (xdist worker) of this run whose flash
    failed: the run reports the failure once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    # an xdist worker's basetemp is <run>/popen-gwN; not PYTEST_XDIST_WORKER, which a pytest started
    # from inside a worker (tests/test_session_errors.py) inherits, making <run> /tmp/pytest-of-<user>
    shared = base.parent if _is_worker(config) else base
    try:
        os.close(os.open(os.path.join(shared, "hilda-flash-failed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """The session's flash, once per process: a flash failure fails the first
    test that needs the dut with hilda's sentence and skips the others; the
    flash record rides on the first such test to the report and JUnit XML."""
    config = item.config
    # needs() asks for the dut too (_needed_capabilities), else its cached failure comes back once per test
    uses_dut = "dut" in getattr(item, "fixturenames", ()) or bool(_needed(item))
    record = config.hilda_flash
    if uses_dut and record and record["error"] and config.hilda_flash_sent:
        pytest.skip("not run: the session's start on its dongle failed (the first failed test says why)")
    if uses_dut and config.hilda_lost:
        pytest.skip(f"not run: the dongle did not come back after {config.hilda_lost[0]}")
    yield
    if uses_dut and config.hilda_flash and not config.hilda_flash_sent:
        config.hilda_flash_sent = True
        item.user_properties.append(("hilda_flash", json.dumps(config.hilda_flash)))


@pytest.fixture(scope="session")
def usb(pytestconfig, dut):
    """A `hilda batch` process bound to the dut: .call(cmd, **args)."""
    batch = dut.open_batch()
    if dut.kind == "hw" and "hilda_protocol" in dut.capabilities:
        # every session starts from a fresh boot of the firmware under test: a
        # soft reset (HILDA_REQ_REBOOT), which the factory bootloader passes
        # straight to the application, unlike a pin reset (nRF5 SDK open_bootloader pca10059 sdk_config.h)
        batch.call("reset", wait_ms=15000)
    elif dut.kind == "hw" and "reset" in dut.capabilities:
        dut.reset()                     # a foreign firmware: through the rig (then a power cycle)
        batch.call("wait", wait_ms=20000)
    pytestconfig.hilda_session_batch = batch
    yield batch
    pytestconfig.hilda_session_batch = None
    batch.close()


@pytest.fixture
def uart(dut):
    """pyserial on the dut's UART: the emulator's pseudo-terminal or the rig's adapter."""
    import serial
    _skip_unless_capable(dut, ["uart"])
    # the firmware uses RTS/CTS (docs/rig.md); a pty ignores CRTSCTS, the emulator models it
    port = serial.Serial(dut.uart_path, 115200, timeout=2, rtscts=True)
    yield port
    port.close()


@pytest.fixture(scope="session")
def emu(dut):
    """The emulator's control channel (rig/control.py), for subjects only the
    emulator has (virtual time, LEDs, its own counters). What both targets can
    do goes through the dut: dut.reset(), dut.power(on), ..."""
    if dut.kind != "emu":
        pytest.skip("needs the emulated dongle's control channel")
    return dut.control


@pytest.fixture(autouse=True)
def _needed_capabilities(request):
    """@pytest.mark.needs(...): skip where the target lacks a capability, with its reason."""
    names = _needed(request.node)
    if names:
        _skip_unless_capable(request.getfixturevalue("dut"), names)


@pytest.fixture
def timing(request):
    """record(name, cell): a latency cell of `hilda timing` (host_us statistics,
    histogram, device_us) for the report's table and histograms."""
    def record(name, cell):
        request.node.user_properties.append(("hilda_timing", json.dumps([name, cell])))
    return record


@pytest.fixture(autouse=True)
def _sanitizer_guard(request):
    """A test fails if the dongle is gone after it (on the emulator: the
    firmware faulted), or if the DMA sanitizer reported anything while it ran
    (the target has no sanitizer: never)."""
    if "dut" not in request.fixturenames:
        yield
        return
    target = request.getfixturevalue("dut")
    request.node.user_properties.append(("hilda_dongle", _dongle_name(request.config, target)))
    before = len(target.sanitizer_reports()) if target.alive() else 0
    yield
    if not target.alive():
        return          # nothing to ask; _dongle_back says what happened
    new = target.sanitizer_reports()[before:]
    for text in new:
        request.node.user_properties.append(("hilda_sanitizer", text))
        if request.config.hilda_sanitize == "warn":
            warnings.warn(DmaSanitizerWarning(f"DMA sanitizer report during this test: {text}"))
    if new and request.config.hilda_sanitize != "warn":
        pytest.fail("DMA sanitizer report(s) during this test:\n" + "\n".join(new))


@pytest.fixture(scope="session")
def _dongle_watch(dut):
    """rig/recovery.py's watch over the dut: its own `hilda batch` asks whether the dongle answers."""
    watch = DongleWatch(dut)
    yield watch
    watch.close()


@pytest.fixture(autouse=True)
def _dongle_back(request):
    """After a test that used the dut: the dongle answers again before the
    next test (rig/recovery.py: wait, else reset, else power cycle; the
    session's batch reopens it). The test that lost it fails, unless it came
    back by itself or the test is marked loses_dongle. A dongle that does not
    come back fails this test with why, once; pytest_runtest_setup then skips
    every later test that needs it (no cascade of not_found)."""
    if "dut" not in request.fixturenames:
        yield
        return
    watch = request.getfixturevalue("_dongle_watch")
    yield
    config = request.config
    outcome = watch.after_test(config.hilda_session_batch)
    if not outcome.lost:
        return
    kind = watch.dut.kind
    if outcome.back:
        if outcome.needed_help and not request.node.get_closest_marker("loses_dongle"):
            pytest.fail(f"the {kind} dongle was gone after this test; {outcome.how}", pytrace=False)
        return
    request.node.user_properties.append(("hilda_fault", outcome.how))
    request.node.user_properties.append(("hilda_lost", _dongle_name(config, watch.dut)))
    config.hilda_lost = (request.node.nodeid, outcome.how)
    pytest.fail(f"the {kind} dongle is gone after this test and did not come back:\n{outcome.how}\n"
                "The later tests of this session that need the dongle are not run (skipped).", pytrace=False)


class DmaSanitizerWarning(UserWarning):
    """A DMA sanitizer report under --sanitize warn (the default for a foreign
    image): shown in pytest's warnings summary and the run report, not a failure."""


def _dongle_name(config, target):
    """Which dongle runs this test, for the report: the xdist worker and the dut's name."""
    worker = config.workerinput["workerid"] if _is_worker(config) else ""
    return f"{worker}: {target.dongle_name()}" if worker else target.dongle_name()


# ---- the report ----

def pytest_runtest_logreport(report):
    config = getattr(pytest_runtest_logreport, "config", None)
    if config is None or config.hilda_report is None:
        return
    run = config.hilda_report
    for key, value in report.user_properties:
        if report.when != "teardown":
            continue
        if key == "hilda_timing":
            name, cell = json.loads(value)
            run.add_timing(name, cell)
        elif key == "hilda_sanitizer":
            run.sanitizer.append((report.nodeid, value))
        elif key == "hilda_fault":
            run.faults.append((report.nodeid, value))
        elif key == "hilda_lost":
            run.info["dongle lost"] = (f"after `{report.nodeid}` ({value}) it did not come back: the later tests "
                                       "of that session that need it were not run")
        elif key == "hilda_identity":
            run.info["firmware on the device"] = value
        elif key == "hilda_flash":
            _record_flash(config, json.loads(value))
    dongle = next((value for key, value in report.user_properties if key == "hilda_dongle"), "")
    run.add_phase(report.nodeid, report.when, report.duration)
    # the assertion line, the traceback without fixture reprs, the captured output (rig/report.py)
    message, traceback, output = describe_failure(report.longrepr, report.sections) \
        if (report.failed or report.skipped) else ("", "", "")
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        run.add_result(report.nodeid, outcome, report.duration if report.when == "call" else 0.0, message, dongle,
                       traceback if report.failed else "", output if report.failed else "")
    elif report.when == "teardown" and report.failed:
        # found after the test (the dongle lost, a sanitizer report): the test's row says so, as JUnit does
        call = next((row["seconds"] for row in run.results if row["nodeid"] == report.nodeid), 0.0)
        run.add_result(report.nodeid, "error", call, message, dongle, traceback, output)


def _record_flash(config, record):
    """A session's flash record (one per xdist worker) into the run report and
    the JUnit XML's testsuite properties."""
    first = not config.hilda_report.flashes
    config.hilda_report.add_flash(record)
    if not first:
        return
    from _pytest.junitxml import xml_key
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        for name, value in (("hilda_flashed", record["flashed"]), ("hilda_image_git_hash", record["image_git_hash"]),
                            ("hilda_device_git_hash", record["device_git_hash"]),
                            ("hilda_device_identity", record["identity"]),
                            ("hilda_firmware_version", record.get("firmware_version")),
                            ("hilda_protocol", record.get("protocol")), ("hilda_serial", record.get("serial"))):
            xml.add_global_property(name, "" if value is None else str(value).lower()
                                    if isinstance(value, bool) else str(value))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    pytest_runtest_logreport.config = session.config
    config = session.config
    from _pytest.junitxml import xml_key
    xml = config.stash.get(xml_key, None)
    if xml is not None and config.hilda_report is not None:
        # the run's own facts; the device's identity joins at the flash (_record_flash)
        xml.add_global_property("hilda_target", config.hilda_target)
        xml.add_global_property("hilda_sanitizer", config.hilda_sanitize if config.hilda_target == "emu" else "none")


def pytest_terminal_summary(terminalreporter, config):
    if config.hilda_report is None:
        return
    path = config.hilda_report.write()
    terminalreporter.write_line(f"hilda: target {config.hilda_target}; report {path}; "
                                f"JUnit XML {config.option.xmlpath}")

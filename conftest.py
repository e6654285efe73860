"""pytest harness for hilda: the same tests run on a plugged-in dongle or on the
emulated one (docs/hil.md).

Options: --target auto|emu|hw, --dongle SERIAL, --rig FILE, --firmware PATH,
--skip-flash, --sanitize off|warn|error, --build DIR, --results DIR.
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
emu_only(reason) are for subjects that exist on one target alone."""
import datetime
import hashlib
import json
import os

import pytest

from rig.bench import RIG_ENV, Bench, check_enough_entries, entry_for_dongle, entry_for_worker, load_description
from rig.emulator import EmulatedDongle
from rig.flasher import FlashError, Flasher
from rig.hardware import HardwareDongle, find_dongles
from rig.report import RunReport
from rig.target import CAPABILITIES

ROOT = os.path.dirname(os.path.abspath(__file__))


def pytest_addoption(parser):
    g = parser.getgroup("hilda")
    g.addoption("--target", choices=("auto", "emu", "hw"), default="auto",
                help="auto: a plugged-in dongle if there is one, otherwise the emulated dongle")
    g.addoption("--dongle", metavar="SERIAL", help="the dongle to use when several are plugged in")
    g.addoption("--rig", metavar="FILE",
                help=f"hw: the bench rig's description (docs/rig.md); default ${RIG_ENV}. Without one the "
                     "tests that need reset or power skip")
    g.addoption("--firmware", metavar="PATH", help="firmware image (default BUILD/hilda-dongle.elf)")
    g.addoption("--skip-flash", action="store_true",
                help="do not flash: emu starts the chip with the firmware directly, hw uses what the dongle runs")
    g.addoption("--sanitize", choices=("off", "warn", "error"), default="warn",
                help="emu: the DMA sanitizer mode (warn: a report fails the test that caused it, the run goes on)")
    g.addoption("--build", metavar="DIR", default=os.path.join(ROOT, "build"),
                help="the meson build directory with hilda, hilda-emu and the firmware")
    g.addoption("--results", metavar="DIR", help="results folder (default results/<time>-<target>)")
    g.addoption("--usbtest", action="store_true",
                help="also run the Linux kernel's usbtest battery in a throwaway qemu VM (tests/test_usbtest.py; "
                     "about 30 s; not yet part of scripts/test: its case 24 still hangs, docs/hil.md)")


def pytest_ignore_collect(collection_path, config):
    """tests/test_usbtest.py only with --usbtest: it boots a VM, which loads both cores for half a minute."""
    if collection_path.name == "test_usbtest.py" and not config.getoption("--usbtest"):
        return True
    return None


def _is_worker(config):
    return hasattr(config, "workerinput")


def _choose_target(config):
    wanted = config.getoption("--target")
    # a dongle in DFU mode counts too: `hilda flash` takes it as it is
    dongles = find_dongles()
    if wanted == "auto":
        if dongles:
            return "hw", f"auto: found {len(dongles)} dongle(s) on USB"
        return "emu", "auto: no dongle on USB, using the emulated one"
    return wanted, f"chosen with --target {wanted}"


def pytest_configure(config):
    config.addinivalue_line("markers", "hw_only(reason): runs only on a real dongle")
    config.addinivalue_line("markers", "emu_only(reason): runs only on the emulated dongle")
    config.addinivalue_line("markers", "needs(*capabilities): skips, with the target's reason, where the target "
                            f"lacks one of them ({', '.join(CAPABILITIES)})")
    target, why = _choose_target(config)
    config.hilda_target = target
    config.hilda_target_why = why
    build = os.path.abspath(config.getoption("--build"))
    config.hilda_build = build
    config.hilda_firmware = os.path.abspath(config.getoption("--firmware") or
                                            os.path.join(build, "hilda-dongle.elf"))
    config.hilda_skip_flash = config.getoption("--skip-flash")
    config.hilda_flash = None          # this process's flash record, set by the dut fixture
    config.hilda_flash_sent = False
    config.hilda_report = None
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
    if target == "emu":
        report.info["sanitizer"] = config.getoption("--sanitize")
    report.info["rig"] = _rig_summary(config, target)
    config.hilda_report = report
    if not config.option.xmlpath:
        config.option.xmlpath = os.path.join(report.folder, "junit.xml")


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
        pytest.exit(f"{path} is missing: build first (meson setup build && ninja -C build)", returncode=3)
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
    if config.hilda_target == "emu":
        workdir = str(tmp_path_factory.mktemp("emu"))
        # flashing: the chip starts on the bootloader with no application, as a fresh dongle would
        image = _tool(config, "hilda-bootloader-bare.elf") if flash else config.hilda_firmware
        target = EmulatedDongle(_tool(config, "emu", "hilda-emu"), image, bootloader=flash,
                                sanitize=config.getoption("--sanitize"), workdir=workdir, hilda=hilda)
    else:
        modes = ("application", "bootloader") if flash else ("application",)
        bench = _bench(config, hilda, str(tmp_path_factory.mktemp("rig")))
        target = HardwareDongle(serial=config.getoption("--dongle"), bench=bench, hilda=hilda, modes=modes)
    record = {"flashed": False, "image": config.hilda_firmware, "image_git_hash": None,
              "device_git_hash": None, "identity": None, "entry": None, "seconds": None, "error": None}
    config.hilda_flash = record
    failure = None
    try:
        if flash:
            result = Flasher(target).flash(config.hilda_firmware)
            record.update(flashed=True, image_git_hash=result["image"]["git_hash"], entry=result["entry"],
                          seconds=result["seconds"], objects=result["dfu"]["objects"])
            if target.kind == "hw":
                target.find_application()
        identity = target.firmware_identity()
        target.reported_serial = identity.serial
        record.update(device_git_hash=f"{identity.git_hash:08x}", identity=str(identity))
    except (FlashError, LookupError) as e:
        failure = record["error"] = str(e)
    if failure:
        target.stop()
        if not _first_flash_failure_of_the_run(tmp_path_factory):
            pytest.skip("not run: flashing the firmware under test failed at session start in another "
                        "worker too (its failed test says why)")
        pytest.fail(f"flashing the firmware under test failed at session start: {failure}", pytrace=False)
    yield target
    target.stop()


def _first_flash_failure_of_the_run(tmp_path_factory):
    """True for the first session (xdist worker) of this run whose flash
    failed: the run reports the failure once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
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
    uses_dut = "dut" in getattr(item, "fixturenames", ())
    record = config.hilda_flash
    if uses_dut and record and record["error"] and config.hilda_flash_sent:
        pytest.skip("not run: flashing the firmware under test failed at session start (the first failed "
                    "test says why)")
    yield
    if uses_dut and config.hilda_flash and not config.hilda_flash_sent:
        config.hilda_flash_sent = True
        item.user_properties.append(("hilda_flash", json.dumps(config.hilda_flash)))


@pytest.fixture(scope="session")
def usb(pytestconfig, dut):
    """A `hilda batch` process bound to the dut: .call(cmd, **args)."""
    batch = dut.open_batch()
    if dut.kind == "hw":
        # every session starts from a fresh boot of the firmware under test: a
        # soft reset (HILDA_REQ_REBOOT), which the factory bootloader passes
        # straight to the application, unlike a pin reset (reference §6.2)
        batch.call("reset", wait_ms=15000)
    yield batch
    batch.close()


@pytest.fixture
def uart(dut):
    """pyserial on the dut's UART: the emulator's pseudo-terminal or the rig's adapter."""
    import serial
    _skip_unless_capable(dut, ["uart"])
    port = serial.Serial(dut.uart_path, 115200, timeout=2)
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
        loss = target.describe_loss()
        request.node.user_properties.append(("hilda_fault", loss))
        pytest.fail(f"the {target.kind} dongle is gone after this test:\n{loss}")
    new = target.sanitizer_reports()[before:]
    for text in new:
        request.node.user_properties.append(("hilda_sanitizer", text))
    if new:
        pytest.fail("DMA sanitizer report(s) during this test:\n" + "\n".join(new))


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
        elif key == "hilda_identity":
            run.info["firmware on the device"] = value
        elif key == "hilda_flash":
            _record_flash(config, json.loads(value))
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        message = str(report.longrepr) if report.failed else ""
        if report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2]
        dongle = next((value for key, value in report.user_properties if key == "hilda_dongle"), "")
        run.add_result(report.nodeid, report.outcome, report.duration, message, dongle)


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
                            ("hilda_device_identity", record["identity"])):
            xml.add_global_property(name, "" if value is None else str(value).lower()
                                    if isinstance(value, bool) else str(value))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    pytest_runtest_logreport.config = session.config


def pytest_terminal_summary(terminalreporter, config):
    if config.hilda_report is None:
        return
    path = config.hilda_report.write()
    terminalreporter.write_line(f"hilda: target {config.hilda_target}; report {path}; "
                                f"JUnit XML {config.option.xmlpath}")

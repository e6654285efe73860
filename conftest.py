"""pytest harness for hilda: the same tests run on a plugged-in dongle or on the
emulated one (docs/hil.md).

Options: --target auto|emu|hw, --dongle SERIAL, --firmware PATH, --skip-flash,
--sanitize off|warn|error, --build DIR, --results DIR.
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

from rig.emulator import EmulatedDongle
from rig.flasher import DfuFlasher
from rig.hardware import HardwareDongle, find_dongles
from rig.report import RunReport
from rig.target import CAPABILITIES

ROOT = os.path.dirname(os.path.abspath(__file__))


def pytest_addoption(parser):
    g = parser.getgroup("hilda")
    g.addoption("--target", choices=("auto", "emu", "hw"), default="auto",
                help="auto: a plugged-in dongle if there is one, otherwise the emulated dongle")
    g.addoption("--dongle", metavar="SERIAL", help="the dongle to use when several are plugged in")
    g.addoption("--firmware", metavar="PATH", help="firmware image (default BUILD/hilda-dongle.elf)")
    g.addoption("--skip-flash", action="store_true",
                help="hw: the dongle already runs the firmware under test (needed until DFU flashing exists)")
    g.addoption("--sanitize", choices=("off", "warn", "error"), default="warn",
                help="emu: the DMA sanitizer mode (warn: a report fails the test that caused it, the run goes on)")
    g.addoption("--build", metavar="DIR", default=os.path.join(ROOT, "build"),
                help="the meson build directory with hilda, hilda-emu and the firmware")
    g.addoption("--results", metavar="DIR", help="results folder (default results/<time>-<target>)")


def _is_worker(config):
    return hasattr(config, "workerinput")


def _choose_target(config):
    wanted = config.getoption("--target")
    dongles = [d for d in find_dongles() if d[0] == "application"]
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
    if target == "hw" and not config.getoption("--skip-flash"):
        raise pytest.UsageError(
            "flashing a real dongle is not implemented yet (DFU comes in a later issue): flash the firmware "
            "yourself and run with --skip-flash")
    config.hilda_report = None
    if _is_worker(config):
        return
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = config.getoption("--results") or os.path.join(ROOT, "results", f"{stamp}-{target}")
    report = RunReport(os.path.abspath(folder))
    report.info["target"] = f"{target} ({why})"
    report.info["firmware"] = _firmware_identity(config.hilda_firmware) if target == "emu" else \
        "the firmware already on the dongle (--skip-flash)"
    if target == "emu":
        report.info["sanitizer"] = config.getoption("--sanitize")
    config.hilda_report = report
    if not config.option.xmlpath:
        config.option.xmlpath = os.path.join(report.folder, "junit.xml")


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


def _bench_rig():
    """The FTDI rig when HILDA_RIG_FTDI names its serial ("any" for the only one); None otherwise."""
    serial = os.environ.get("HILDA_RIG_FTDI")
    if not serial:
        return None
    from rig.ftdi import FtdiRig
    return FtdiRig(serial=None if serial == "any" else serial)


def _skip_unless_capable(dut, names):
    """Skips the running test, with the target's reasons, unless the dut has every capability in names."""
    missing = [f"{name}: {dut.capabilities.reason(name)}" for name in names if name not in dut.capabilities]
    if missing:
        pytest.skip(f"needs {'; '.join(missing)}")


@pytest.fixture(scope="session")
def dut(pytestconfig, tmp_path_factory):
    """The device under test, a Target (rig/target.py): the emulated dongle
    (hilda-emu serve, one per xdist worker) or the plugged-in one."""
    hilda = _tool(pytestconfig, "host", "hilda")
    if pytestconfig.hilda_target == "emu":
        workdir = str(tmp_path_factory.mktemp("emu"))
        target = EmulatedDongle(_tool(pytestconfig, "emu", "hilda-emu"), pytestconfig.hilda_firmware,
                                sanitize=pytestconfig.getoption("--sanitize"), workdir=workdir, hilda=hilda)
    else:
        target = HardwareDongle(serial=pytestconfig.getoption("--dongle"), rig=_bench_rig(), hilda=hilda)
        if not pytestconfig.getoption("--skip-flash"):
            DfuFlasher().flash(pytestconfig.hilda_firmware)
    yield target
    target.stop()


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
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        message = str(report.longrepr) if report.failed else ""
        if report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2]
        run.add_result(report.nodeid, report.outcome, report.duration, message)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    pytest_runtest_logreport.config = session.config


def pytest_terminal_summary(terminalreporter, config):
    if config.hilda_report is None:
        return
    path = config.hilda_report.write()
    terminalreporter.write_line(f"hilda: target {config.hilda_target}; report {path}; "
                                f"JUnit XML {config.option.xmlpath}")

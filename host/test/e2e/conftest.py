"""End-to-end tests of the hilda CLI against the emulated dongle. They run
inside `hilda-emu run` (host/test/meson.build starts them so), which
attaches the dongle through umockdev and gives this process UMOCKDEV_DIR,
LD_PRELOAD, HILDA_EMU_CONTROL and HILDA_EMU_UART; HILDA_BIN names the hilda
binary under test (the plain or the sanitizer build)."""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from rig.control import ControlClient  # noqa: E402  (the one client of the emulator's control channel)

TIMEOUT_S = 120


def pytest_configure(config):
    config.addinivalue_line("markers", "no_emulator: runs without `hilda-emu run` (static umockdev records)")


class Result:
    def __init__(self, p, elapsed):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr
        self.elapsed = elapsed

    @property
    def json(self):
        lines = [line for line in self.out.splitlines() if line.strip()]
        assert lines, f"no output; stderr: {self.err}"
        return json.loads(lines[-1])

    def __repr__(self):
        return f"exit {self.rc}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


class Hilda:
    def __init__(self, binary):
        self.binary = binary

    def __call__(self, *args, input=None, timeout=TIMEOUT_S):
        start = time.monotonic()
        p = subprocess.run([self.binary, *map(str, args)], input=input, capture_output=True, text=True,
                           timeout=timeout)
        r = Result(p, time.monotonic() - start)
        # the sanitizer build: any report fails the test, whatever the exit code
        assert "runtime error:" not in r.err and "AddressSanitizer" not in r.err, r
        return r

    def popen(self, *args):
        return subprocess.Popen([self.binary, *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)


@pytest.fixture(scope="session")
def hilda_bin():
    if not os.environ.get("HILDA_BIN"):
        pytest.skip("needs HILDA_BIN (meson test --suite host-e2e)")
    return os.environ["HILDA_BIN"]


@pytest.fixture(scope="session")
def hilda(hilda_bin):
    if not os.environ.get("UMOCKDEV_DIR"):
        pytest.skip("needs the emulated dongle: run under `hilda-emu run` (meson test --suite host-e2e)")
    h = Hilda(hilda_bin)
    # the dongle is there before any test starts (and after the previous test's reboot)
    r = h("list", "--wait", "10", "--json")
    assert r.rc == 0 and r.json["devices"], r
    return h


@pytest.fixture(autouse=True)
def dongle_back(request):
    """Every test on the emulated dongle starts and ends with it attached in application mode."""
    if request.node.get_closest_marker("no_emulator"):
        yield
        return
    hilda = request.getfixturevalue("hilda")
    yield
    r = hilda("list", "--wait", "10", "--json")
    assert r.rc == 0 and any(d["mode"] == "application" for d in r.json["devices"]), r


@pytest.fixture
def control():
    """The emulator's control channel (docs/emulator.md): control("power", on=False)
    returns the reply; a refusal raises rig.control.ControlError."""
    with ControlClient(os.environ["HILDA_EMU_CONTROL"]) as client:
        yield client


@pytest.fixture
def uart_pty():
    """The other end of the dongle's UARTE0, raw."""
    import termios
    import tty
    fd = os.open(os.environ["HILDA_EMU_UART"], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIOFLUSH)
    yield fd
    os.close(fd)

"""usbtest/run's bad states (docs/hil.md, "The kernel's usbtest battery"): each ends with a sentence and
the documented exit status, never a hang. Collected with --usbtest only, like tests/test_usbtest.py: the
cases that boot the VM cost a few seconds each."""
import json
import os
import shutil
import subprocess

import pytest

from rig.emulator import EmulatedDongle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "usbtest", "run")
BOUND_S = 300                    # the runner bounds itself; this only keeps a broken runner from hanging pytest


def run(build, *args, env=None):
    proc = subprocess.run([RUNNER, "--build", build, "--json", *args], env=env, capture_output=True, text=True,
                          timeout=BOUND_S)
    return proc.returncode, json.loads(proc.stdout)


def test_missing_qemu_is_named_with_its_package(pytestconfig, tmp_path):
    """PATH without qemu-system-x86_64: exit 2 and the Debian package to install."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("apt-cache", "dpkg-deb", "xz"):     # what the runner may need besides qemu
        found = shutil.which(tool)
        if found:
            os.symlink(found, bare / tool)
    env = dict(os.environ, PATH=str(bare))
    code, result = run(pytestconfig.hilda_build, "--cases", "0", env=env)
    assert code == 2, result
    assert result["ok"] is False
    assert "qemu-system-x86" in result["error"], result["error"]


@pytest.fixture(scope="module")
def dongle(pytestconfig, tmp_path_factory):
    """An emulated dongle of this module's own, in hilda's personality (1209:0001)."""
    build = pytestconfig.hilda_build
    work = tmp_path_factory.mktemp("usbtest-runner")
    target = EmulatedDongle(os.path.join(build, "emu", "hilda-emu"), os.path.join(build, "hilda-dongle.elf"),
                            sanitize="error", workdir=str(work), hilda=os.path.join(build, "host", "hilda"))
    yield target
    target.stop()


def test_no_device_in_the_guest_within_the_bound(pytestconfig, dongle):
    """The guest waits --wait seconds for an ID nobody has, then says so; the VM powers off."""
    code, result = run(pytestconfig.hilda_build, "--vid", "1209", "--pid", "00ff", "--wait", "3", "--cases", "0",
                       env=dongle.client_env())
    assert code == 2, result
    assert result["error"] == "no device 1209:00ff in the guest within 3 s", result


def test_a_case_over_its_guard_is_a_timeout_and_ends_the_battery(pytestconfig, dongle):
    """A guard of 0 s: case 9 (chapter 9 requests) cannot finish inside it. The case reads "timeout",
    the ones after it "not run", the runner exits 1 (a case failed), and the VM still powers off.
    10,000 iterations, not case 9's usual 4: the guest's first look at a case comes after it started,
    and 4 iterations could end before that look on a loaded runner (seen once: the case read "done")."""
    code, result = run(pytestconfig.hilda_build, "--case-timeout", "0", "--cases", "9:10000:0:0:0", "0",
                       env=dongle.client_env())
    assert code == 1, result
    assert result["cases"]["9"]["result"] == "timeout", result["cases"]
    assert result["cases"]["0"]["result"] == "not run", result["cases"]
    assert result["end"] == "timeout"
    assert result["error"] is None

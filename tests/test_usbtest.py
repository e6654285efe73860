"""The Linux kernel's own usbtest battery against the dongle (docs/hil.md, "The kernel's usbtest
battery"): usbtest/run boots the Debian kernel in a throwaway qemu VM (PVH, TCG, no root) whose virtual
USB host controller (UHCI: docs/hil.md says why) gets the dongle through qemu's usb-host,
binds usbtest.ko and runs its cases.

One VM run does every case, once per module. On the emulator it runs against a short-lived emulated
dongle of its own (as tests/test_flash.py does), so the session's dongle is untouched; on a bench it
runs against the session's dongle and gives it back afterwards. Either way the VM gets the device by
bus and address (qemu usb-host hostbus/hostaddr), the way a bench must name one of several dongles.
hilda's firmware is switched to its Gadget Zero personality first (HILDA_REQ_SET_PERSONALITY) and the
stock usbtest binds it with gz_info (control and bulk cases); a device that already is Gadget Zero
(0525:a4a0) is used as it is; anything else binds usbtest "generic"ally, which gives it no endpoints,
so only the control cases run. Each test's report carries the kernel's verdict and its dmesg lines
(user properties and the failure text). The whole job's time is in the report's information block when
the module runs in one process, and in every test's JUnit property usbtest_job_seconds (xdist workers
cannot write the report's information block)."""
import fcntl
import json
import os
import subprocess
import time

import pytest

from rig.emulator import EmulatedDongle
from rig.vocabulary import APP_PID, APP_VID, P

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "usbtest", "run")
GZ_ID = (P["HILDA_GZ_USB_VID"], P["HILDA_GZ_USB_PID"])
SWITCH_WAIT_S = 15
CASE_TIMEOUT_S = 30                        # a guard per case in the guest, generous for a loaded runner

ISOCHRONOUS = (15, 16, 22, 23)
INTERRUPT = (25, 26)
CONTROL_ONLY = (0, 9, 10)                  # standard requests: any binding
# Gadget Zero's profile: control (0, 9, 10), vendor control write/read 0x5b/0x5c (14, 21), bulk source/sink
GADGET_ZERO_CASES = (0, 9, 10, 14, 21, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 17, 18, 19, 20, 24, 27, 28, 29)
ALL_CASES = sorted(set(GADGET_ZERO_CASES) | set(ISOCHRONOUS) | set(INTERRUPT))


def usb_id(vid, pid):
    return f"{vid:04x}:{pid:04x}"


def hilda_json(hilda, env, *args):
    proc = subprocess.run([hilda, *args, "--json"], env=env, capture_output=True, text=True, timeout=120)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError:
        return proc.returncode, {"stdout": proc.stdout, "stderr": proc.stderr}


def set_personality(hilda, env, select, personality):
    """HILDA_REQ_SET_PERSONALITY to the device `select` names; True if the device took it."""
    code, _ = hilda_json(hilda, env, *select, "ctrl", "out", "vendor", "device", str(P["HILDA_REQ_SET_PERSONALITY"]),
                         str(personality), str(P["HILDA_GZ_PATTERN_ZEROS"]), "")
    return code == 0


def find(hilda, env, vid, pid, serial):
    """The device VID:PID (with this serial, if known) within SWITCH_WAIT_S, as `hilda list` shows it, or None."""
    select = ["--device", usb_id(vid, pid)] + (["--serial", serial] if serial else [])
    code, view = hilda_json(hilda, env, *select, "--wait", str(SWITCH_WAIT_S), "list")
    devices = view.get("devices", []) if code == 0 else []
    return devices[0] if devices else None


@pytest.fixture(scope="module")
def battery(request, pytestconfig, tmp_path_factory):
    """The usbtest/run result (JSON) of one VM run for every case, with hilda's own view of the same
    dongle and which binding ran. Under xdist the first worker to get here runs the battery and the
    others read its result (a file locked in the run's shared temp dir): one VM per run, not per worker."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    run = emulated_battery if pytestconfig.hilda_target == "emu" else bench_battery
    if not run_id:
        return run(request, pytestconfig, tmp_path_factory)
    shared = tmp_path_factory.getbasetemp().parent / f"usbtest-{run_id}.json"
    with open(str(shared) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():
            outcome = json.loads(shared.read_text())
        else:
            outcome = run(request, pytestconfig, tmp_path_factory)
            shared.write_text(json.dumps(outcome))
    return outcome


def emulated_battery(request, pytestconfig, tmp_path_factory):
    build = pytestconfig.hilda_build
    work = tmp_path_factory.mktemp("usbtest")
    hilda = os.path.join(build, "host", "hilda")
    dongle = EmulatedDongle(os.path.join(build, "emu", "hilda-emu"), pytestconfig.hilda_firmware,
                            sanitize=pytestconfig.hilda_sanitize, workdir=str(work / "emu"), hilda=hilda,
                            device_id=pytestconfig.hilda_device_id, foreign=pytestconfig.hilda_foreign)
    try:
        outcome = run_battery(pytestconfig, work, hilda, dongle.client_env(), serial="", by_address=True)
        alive = dongle.alive()
        reports = dongle.sanitizer_reports() if alive else []
        loss = "" if alive else dongle.describe_loss()
    finally:
        dongle.stop()
    assert alive, loss
    if pytestconfig.hilda_sanitize != "warn":
        assert reports == [], reports
    return outcome


def bench_battery(request, pytestconfig, tmp_path_factory):
    """The session's dongle, passed to the VM by bus and address; switched back to hilda's identity
    afterwards and the session's batch reopened on it."""
    dut = request.getfixturevalue("dut")
    usb = request.getfixturevalue("usb")
    work = tmp_path_factory.mktemp("usbtest")
    try:
        return run_battery(pytestconfig, work, dut.hilda, dut.client_env(), serial=dut.serial, by_address=True)
    finally:
        if not pytestconfig.hilda_foreign:
            gz = ["--device", usb_id(*GZ_ID)] + (["--serial", dut.serial] if dut.serial else [])
            set_personality(dut.hilda, dut.client_env(), gz, P["HILDA_PERSONALITY_HILDA"])
            usb.call("wait", wait_ms=SWITCH_WAIT_S * 1000)


def run_battery(pytestconfig, work, hilda, env, serial, by_address):
    """Switches hilda's firmware to Gadget Zero (a foreign firmware is taken as it is: Gadget Zero if it
    has that ID), runs usbtest/run on whichever device is there, and returns {"result", "gadget_zero",
    "hilda", "seconds"}."""
    build = pytestconfig.hilda_build
    started = time.monotonic()
    if pytestconfig.hilda_foreign:
        vid, pid = pytestconfig.hilda_device_id
        device = find(hilda, env, vid, pid, serial)
        gadget_zero = (vid, pid) == GZ_ID
    else:
        own = ["--device", usb_id(APP_VID, APP_PID)] + (["--serial", serial] if serial else [])
        switched = set_personality(hilda, env, own, P["HILDA_PERSONALITY_GADGET_ZERO"])
        device = find(hilda, env, *GZ_ID, serial) if switched else None
        gadget_zero = device is not None
        if not gadget_zero:
            device = find(hilda, env, APP_VID, APP_PID, serial)
        vid, pid = GZ_ID if gadget_zero else (APP_VID, APP_PID)
    _, hilda_view = hilda_json(hilda, env, "--device", usb_id(vid, pid), *(["--serial", serial] if serial else []),
                               "desc")
    cases = GADGET_ZERO_CASES if gadget_zero else CONTROL_ONLY
    command = [RUNNER, "--build", build, "--vid", f"{vid:04x}", "--pid", f"{pid:04x}", "--json",
               "--case-timeout", str(CASE_TIMEOUT_S), "--console", str(work / "console.txt"),
               "--cases", *map(str, cases)]
    if by_address and device:
        command += ["--hostbus", str(device["bus"]), "--hostaddr", str(device["address"])]
    if device is None:
        result = {"ok": False, "error": f"no device {usb_id(vid, pid)} to give the VM (hilda list found none)"}
    else:
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            result = {"ok": False, "error": f"usbtest/run exited {proc.returncode}: {proc.stderr.strip()}"}
    seconds = time.monotonic() - started
    print(f"usbtest battery: {len(cases)} cases, {'Gadget Zero' if gadget_zero else 'generic'} binding, "
          f"{seconds:.1f} s for the whole job (personality switch, VM boot, cases, power-off)")
    report = pytestconfig.hilda_report
    if report is not None:
        report.info["usbtest battery"] = (f"{seconds:.1f} s, {len(cases)} cases, kernel "
                                          f"{result.get('kernel', '?')}, {result.get('binding', '?')} binding")
    return {"result": result, "gadget_zero": gadget_zero, "hilda": hilda_view, "seconds": seconds}


def verdict(result, case):
    entry = result.get("cases", {}).get(str(case), {"result": "not run"})
    text = f"case {case}: {entry['result']}"
    if "rc" in entry:
        text += f" (rc {entry['rc']}, errno {entry['errno']} {entry.get('errno_name', '')}, {entry['seconds']} s)"
    if result.get("error"):
        text += f"; the battery: {result['error']}"
    return entry, text + "\n" + "\n".join(entry.get("dmesg", []))


@pytest.mark.parametrize("case", ALL_CASES)
def test_usbtest_case(battery, case, request):
    add_property = request.node.user_properties.append
    if case in ISOCHRONOUS:
        pytest.skip("isochronous: no personality of hilda's firmware has isochronous endpoints")
    if case in INTERRUPT:
        pytest.skip("interrupt: no personality of hilda's firmware has interrupt endpoints")
    if not battery["gadget_zero"] and case not in CONTROL_ONLY:
        pytest.skip("usbtest's generic binding (vendor=/product=) gives it no endpoints and no vendor control "
                    "requests: only cases 0, 9 and 10 run unless the device speaks Gadget Zero")
    add_property(("usbtest_job_seconds", f"{battery['seconds']:.1f}"))
    entry, text = verdict(battery["result"], case)
    add_property(("usbtest", text))
    print(text)
    assert entry["result"] == "pass", text


def test_kernel_enumeration_matches_hilda(battery, request):
    add_property = request.node.user_properties.append
    """usbcore's view (sysfs in the guest) against `hilda desc --json` of the same dongle."""
    result, view = battery["result"], battery["hilda"]
    sysfs = result.get("device", {})
    add_property(("sysfs", json.dumps(sysfs)))
    add_property(("usbtest_job_seconds", f"{battery['seconds']:.1f}"))
    print(f"usbtest battery: the whole job took {battery['seconds']:.1f} s")
    assert sysfs, f"the guest printed no sysfs view: {result.get('error')}"
    device = view["descriptors"]["device"]
    strings = {s["index"]: s["text"] for s in view["descriptors"]["strings"]}
    assert int(sysfs["idVendor"], 16) == device["idVendor"]
    assert int(sysfs["idProduct"], 16) == device["idProduct"]
    assert int(sysfs["bcdDevice"], 16) == device["bcdDevice"]
    assert int(sysfs["bDeviceClass"], 16) == device["bDeviceClass"]
    assert int(sysfs["bMaxPacketSize0"]) == device["bMaxPacketSize0"]
    assert int(sysfs["bNumConfigurations"]) == device["bNumConfigurations"]
    assert sysfs["version"].strip() == f"{device['bcdUSB'] >> 8}.{device['bcdUSB'] & 0xFF:02x}"
    assert {"12": "full", "480": "high", "1.5": "low"}[sysfs["speed"]] == view["descriptors"]["speed"]
    assert sysfs.get("manufacturer") == strings.get(device["iManufacturer"])
    assert sysfs.get("product") == strings.get(device["iProduct"])
    assert sysfs.get("serial") == strings.get(device["iSerialNumber"])

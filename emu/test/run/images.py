#!/usr/bin/python3
"""Several images on one emulated dongle, end to end: hilda's bootloader
(hilda-bootloader-bare.elf, with its page-0 stub) and the application
(hilda-dongle.elf) flashed together. The application has no valid settings
page, so the bootloader stays in DFU mode (1209:0002); `hilda flash` then
updates the application through it, and the application starts (1209:0001).
A pin reset on the control channel (RESETREAS.RESETPIN) enters DFU mode
again, a power cycle starts the application. Overlapping images are refused.

usage: images.py HILDA_EMU BOOTLOADER APPLICATION HILDA"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
from rig.control import ControlClient  # noqa: E402  (the one client of the control channel)

APP_ID = "1209:0001"
DFU_ID = "1209:0002"


def read_env(path):
    env = dict(os.environ)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("export "):
                continue
            key, _, value = line[len("export "):].partition("=")
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            env[key] = value
    return env


def ids_on_bus(env):
    out = subprocess.run(["lsusb"], env=env, capture_output=True, text=True, timeout=20).stdout
    return {line.split()[5] for line in out.splitlines() if len(line.split()) > 5}


def wait_for_id(env, want, what, timeout=20.0):
    end = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < end:
        seen = ids_on_bus(env)
        if want in seen:
            return
        time.sleep(0.1)
    sys.exit(f"images: {what}: {want} did not appear (bus shows {sorted(seen)})")


def check_overlap(emu, bootloader):
    r = subprocess.run([emu, "--firmware", bootloader, "--firmware", bootloader, "--uart", "none", "--until", "10"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 3, f"overlapping images: exit {r.returncode}, want 3\n{r.stderr}"
    assert "overlap" in r.stderr, r.stderr
    r = subprocess.run([emu, "run", "--firmware", bootloader, "--firmware", bootloader, "--uart", "none",
                        "--", "true"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 125, f"run with overlapping images: exit {r.returncode}, want 125\n{r.stderr}"


def check_run_flash(emu, bootloader, application, hilda):
    """`hilda flash` as the command of `hilda-emu run` with both images."""
    r = subprocess.run([emu, "run", "--firmware", bootloader, "--firmware", application, "--uart", "none",
                        "--", hilda, "flash", "--json", "--quiet", application],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"run -- hilda flash: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    result = json.loads(r.stdout)
    assert result["ok"] and result["bootloader"]["id"] == DFU_ID, result
    assert " 0 sanitizer reports" in r.stderr, r.stderr


def main():
    emu, bootloader, application, hilda = sys.argv[1:5]
    check_overlap(emu, bootloader)
    check_run_flash(emu, bootloader, application, hilda)
    with tempfile.TemporaryDirectory() as tmp:
        env_file = os.path.join(tmp, "env")
        log = os.path.join(tmp, "emu.log")
        proc = subprocess.Popen([emu, "serve", "--firmware", bootloader, "--firmware", application,
                                 "--uart", "none", "--log", log, "--env-file", env_file],
                                stdout=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 30
            while not os.path.exists(env_file) and proc.poll() is None and time.monotonic() < end:
                time.sleep(0.05)
            assert os.path.exists(env_file), "serve wrote no environment file"
            env = read_env(env_file)
            client = ControlClient.wait_for(env["HILDA_EMU_CONTROL"], wait_s=5.0, timeout=5.0,
                                            alive=lambda: proc.poll() is None)
            c = client.ask
            info = c("info")
            assert info["images"] == [bootloader, application] and info["firmware"] == bootloader, info

            wait_for_id(env, DFU_ID, "two images, no valid settings page")
            r = subprocess.run([hilda, "flash", "--json", "--quiet", application], env=env,
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, f"hilda flash: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
            result = json.loads(r.stdout)
            assert result["ok"] and result["dfu"]["objects"] >= 2, result
            wait_for_id(env, APP_ID, "after the update")

            assert c("reset")["ok"]                      # the pin reset: RESETREAS.RESETPIN
            wait_for_id(env, DFU_ID, "after a pin reset")
            assert c("power", on=False)["ok"] and c("power", on=True)["ok"]
            wait_for_id(env, APP_ID, "after a power cycle")
            assert c("counters")["sanitizer_reports"] == 0
            assert c("quit")["ok"]
            client.close()
            rc = proc.wait(timeout=10)
            assert rc == 0, f"serve ended with {rc}"
        except BaseException:
            if os.path.exists(log):
                sys.stderr.write(open(log).read())
            raise
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print("images: bootloader + application, run -- hilda flash, DFU mode, hilda flash, pin reset, power cycle, overlap refused")


if __name__ == "__main__":
    main()

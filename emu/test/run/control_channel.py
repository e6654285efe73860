#!/usr/bin/python3
"""The control channel of hilda-emu, end to end with the project firmware:
JSON-lines requests and errors, virtual time, LEDs and GPIO, counters, pin
reset, power off and on, quit.

usage: control_channel.py HILDA_EMU FIRMWARE"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
from rig.control import ControlClient  # noqa: E402  (the one client of the control channel)


def eventually(predicate, what, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    sys.exit(f"control_channel: timed out waiting for {what}")


def main():
    emu, firmware = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "control")
        proc = subprocess.Popen([emu, "--firmware", firmware, "--uart", "none", "--control", path],
                                stderr=subprocess.PIPE, text=True)
        try:
            client = ControlClient.wait_for(path, wait_s=5.0, timeout=5.0, alive=lambda: proc.poll() is None)
            c = client.ask          # the reply as it is: the refusals below are part of the test
            assert c("ping") == {"ok": True}
            bad = client.send_line(b"{not json")
            assert bad["ok"] is False and bad["error"], bad
            unknown = c("fly")
            assert unknown["ok"] is False and "unknown command" in unknown["error"], unknown
            assert c("power")["ok"] is False            # missing argument: a sentence, not a crash

            t1 = c("time")["cycles"]
            eventually(lambda: c("time")["cycles"] > t1, "virtual time to advance")

            eventually(lambda: c("leds")["ld2_green"], "the firmware's alive LED (LD2 green)")
            leds = c("leds")
            assert not leds["ld2_red"], leds                # no fault
            gpio = c("gpio")
            assert gpio["p1_dir"] & (1 << 9) and not gpio["p1_out"] & (1 << 9), gpio

            counters = c("counters")
            assert counters["instructions"] > 0 and counters["sanitizer_reports"] == 0, counters
            resets = counters["resets"]

            assert c("reset")["ok"]
            assert c("counters")["resets"] == resets + 1
            eventually(lambda: c("leds")["ld2_green"], "LD2 green after the pin reset")

            assert c("power", on=False)["ok"]
            time.sleep(0.1)
            assert not any(v for k, v in c("leds").items() if k != "ok"), "LEDs lit while powered off"
            assert c("power", on=True)["ok"]
            eventually(lambda: c("leds")["ld2_green"], "LD2 green after power on")

            assert c("button", pressed=True)["ok"] and c("button", pressed=False)["ok"]
            assert c("quit")["ok"]
            rc = proc.wait(timeout=10)
            assert rc == 0, f"hilda-emu exited with {rc}"
            client.close()
        finally:
            if proc.poll() is None:
                proc.kill()
            log = proc.communicate()[1]
    print("control_channel: requests, errors, time, LEDs, GPIO, counters, reset, power and quit work")
    print(log, end="")


if __name__ == "__main__":
    main()

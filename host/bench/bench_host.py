#!/usr/bin/python3
"""The host tool's benchmark section (scripts/bench runs it after the
emulator's; it also runs alone: host/bench/bench_host.py BUILD_DIR).

Against one emulated dongle (`hilda-emu serve`, the project firmware, the DMA
sanitizer on), in alternating rounds so that drift hits all alike:
  - control transfers a second through libhilda (hilda_ctrl, as every hilda
    command makes them) and through a pyusb loop (/usr/bin/python3,
    python3-usb) making the same requests: GET_VERSION (8 bytes),
    GET_DESCRIPTOR(device, 18), ECHO_READ (64), in turn. Target: the ratio
    hilda / pyusb at least 1.0.
  - libhilda's per-transfer overhead over bare libusb_control_transfer,
    interleaved in one process (host/bench/bench_ctrl.c), on the total time
    and on the median latency (steadier: a preempted transfer moves a mean,
    not a median). Target: at most 5% by both.
Clients run as a user's would against `serve`: no CPU pinning, no timer
slack, only what serve's export lines give them. Medians of the rounds;
every figure is also printed as a ratio to the others."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from rig.vocabulary import APP_PID, APP_VID, P, USB, descriptor_value  # noqa: E402

ROUNDS = 7
TRANSFERS = 1500

# the requests of host/bench/bench_ctrl.c, numbers from include/hilda/ (the loop runs in a bare interpreter)
PYUSB_REQUESTS = [(P["HILDA_REQTYPE_IN"], P["HILDA_REQ_GET_VERSION"], 0, 0, 8),
                  (USB.RT_DEVICE_IN, USB.REQ_GET_DESCRIPTOR, descriptor_value(USB.DT_DEVICE), 0, USB.DT_DEVICE_SIZE),
                  (P["HILDA_REQTYPE_IN"], P["HILDA_REQ_ECHO_READ"], 0, 0, 64)]
PYUSB_SETUP = f"""
vid, pid = {APP_VID}, {APP_PID}
echo_write = ({P["HILDA_REQTYPE_OUT"]}, {P["HILDA_REQ_ECHO_WRITE"]})
reqs = {PYUSB_REQUESTS!r}
"""

PYUSB_LOOP = PYUSB_SETUP + r"""
import sys, time
import usb.core
n = int(sys.argv[1])
dev = usb.core.find(idVendor=vid, idProduct=pid)
if dev is None:
    sys.exit("pyusb: no dongle")
dev.ctrl_transfer(echo_write[0], echo_write[1], 0, 0, bytes(range(64)), 1000)
for i in range(30):
    r = reqs[i % 3]
    dev.ctrl_transfer(r[0], r[1], r[2], r[3], r[4], 1000)
t0 = time.perf_counter()
for i in range(n):
    r = reqs[i % 3]
    if len(dev.ctrl_transfer(r[0], r[1], r[2], r[3], r[4], 1000)) != r[4]:
        sys.exit("pyusb: a short reply")
print(n / (time.perf_counter() - t0))
"""


class Serve:
    """`hilda-emu serve` with the dongle attached; .env holds what clients need."""

    def __init__(self, emu, firmware):
        self.dir = tempfile.mkdtemp(prefix="hilda-bench-")
        envfile = os.path.join(self.dir, "env")
        args = [emu, "serve", "--firmware", firmware, "--uart", "none", "--sanitize", "error", "--env-file", envfile]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(envfile):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: hilda-emu serve did not start: {self.proc.stderr.read() if self.proc.poll() is not None else 'timeout'}")
            time.sleep(0.05)
        self.env = dict(os.environ)
        for line in open(envfile):
            if line.startswith("export "):
                k, v = line[len("export "):].strip().split("=", 1)
                self.env[k] = v.strip("'\"")

    def run(self, args):
        p = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(args[:2])} failed (exit {p.returncode}): {p.stderr.strip()}")
        return p.stdout

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run(builddir):
    emu = os.path.join(builddir, "emu", "hilda-emu")
    firmware = os.path.join(builddir, "hilda-dongle.elf")
    bench = os.path.join(builddir, "host", "bench", "hilda-bench-ctrl")
    serve = Serve(emu, firmware)
    rates = {"libhilda": [], "libusb": [], "pyusb": []}
    overheads, overheads_p50 = [], []
    try:
        for _ in range(ROUNDS):
            j = json.loads(serve.run([bench, "--transfers", str(TRANSFERS // 2), "--rounds", "1"]))
            rates["libhilda"].append(j["libhilda_per_s"])
            rates["libusb"].append(j["libusb_per_s"])
            overheads.append(j["overhead_percent"])
            overheads_p50.append(j["overhead_p50_percent"])
            rates["pyusb"].append(float(serve.run(["/usr/bin/python3", "-c", PYUSB_LOOP, str(TRANSFERS)])))
    finally:
        serve.close()
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["libhilda"] / med["pyusb"]
    overhead = statistics.median(overheads)
    overhead_p50 = statistics.median(overheads_p50)
    print(f"host tool against the emulated dongle (hilda-emu serve, sanitizer on; {ROUNDS} alternating rounds of "
          f"{TRANSFERS} transfers, medians)")
    for k, label in (("libhilda", "hilda (libhilda, hilda_ctrl)"), ("libusb", "bare libusb_control_transfer"),
                     ("pyusb", "pyusb loop (/usr/bin/python3)")):
        spread = f"{min(rates[k]):.0f}..{max(rates[k]):.0f}"
        print(f"  {label:<34} {med[k]:8.0f} control transfers/s  (rounds {spread}; {1e6 / med[k]:6.1f} us each)")
    print(f"  hilda / pyusb: {ratio:.2f} (target >= 1.0): {'met' if ratio >= 1.0 else 'NOT met'};  bare libusb / pyusb: "
          f"{med['libusb'] / med['pyusb']:.2f};  hilda / bare libusb: {med['libhilda'] / med['libusb']:.2f}")
    worst = max(overhead, overhead_p50)
    print(f"  libhilda overhead over bare libusb, per transfer: {overhead:+.1f}% on the total time (rounds "
          f"{min(overheads):+.1f}..{max(overheads):+.1f}%), {overhead_p50:+.1f}% on the median latency (rounds "
          f"{min(overheads_p50):+.1f}..{max(overheads_p50):+.1f}%); target <= 5%: {'met' if worst <= 5.0 else 'NOT met'}")
    return ratio, worst


if __name__ == "__main__":
    run(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "build")))

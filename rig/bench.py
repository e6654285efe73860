"""The bench rig from Python: the rig description (docs/rig.md) and `hilda rig`
run as a subprocess with --json. One implementation drives the pins: the C tool
(host/rig); Python only reads the description to pick a dongle's entry, its
serials and its UART, and asks hilda to reset or switch power.

    entries = load_description(path)                 # [RigEntry], ValueError if malformed
    entry = entry_for_worker(entries, 1, 2)          # xdist worker 1 of 2 takes entry 1
    bench = Bench(hilda, entry, workdir)             # writes the entry alone to workdir/rig.json
    bench.reset(); bench.power(False); bench.cycle()     # RigError with hilda's sentence on failure

Each Bench has a description file holding its own entry alone (the contract
allows one entry without the "dongles" array), so `hilda rig --rig FILE` and
`hilda flash --rig FILE` act on this dongle's adapter and nothing else."""
import json
import os
import subprocess
from dataclasses import dataclass, field

# The environment variable naming the rig description when --rig is not given
RIG_ENV = "HILDA_RIG"
# hilda's exit statuses that a rig command gives (docs/host.md; the contract's sentences)
EXIT_NOT_FOUND = 3          # no adapter
EXIT_AMBIGUOUS = 4          # two adapters: choose with --adapter SERIAL
EXIT_PERMISSION = 10        # no permission: the udev rule of docs/rig.md is missing
# How long one `hilda rig` command may take (bootloader waits pass their own)
COMMAND_TIMEOUT_S = 30


class RigError(RuntimeError):
    """`hilda rig` failed: str() is hilda's sentence; .exit_code and .result (its JSON, {} if none)."""

    def __init__(self, message, exit_code=None, result=None):
        super().__init__(message)
        self.exit_code = exit_code
        self.result = result or {}


@dataclass(frozen=True)
class RigEntry:
    """One dongle of the bench: what the description says about it."""
    index: int                 # its place in the description (xdist worker N takes entry N)
    dongle: str                # the dongle's USB serial ("" when the bench has one dongle and says none)
    adapter_serial: str        # the FTDI adapter's serial ("" when there is one adapter)
    uart: str                  # the serial port wired to the dongle's UART ("" if none)
    raw: dict = field(compare=False, repr=False)    # the entry as written, handed to hilda unchanged

    def describe(self):
        """A few words naming this dongle for the report."""
        who = self.dongle or f"entry {self.index}"
        return f"{who} (adapter {self.adapter_serial})" if self.adapter_serial else who


def load_description(path):
    """The entries of the rig description at path: a {"dongles": [...]} file or
    one entry alone. ValueError saying what is wrong (the file named)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ValueError(f"cannot read the rig description {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"the rig description {path} is not JSON: {e}") from e
    return parse_description(data, path)


def parse_description(data, name="the rig description"):
    """The entries of an already parsed description (see load_description)."""
    if not isinstance(data, dict):
        raise ValueError(f"{name}: a JSON object is expected, with \"dongles\" or one dongle's entry")
    raw_entries = data["dongles"] if "dongles" in data else [data]
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ValueError(f"{name}: \"dongles\" must be a non-empty array of entries")
    entries = [_entry(i, raw, name) for i, raw in enumerate(raw_entries)]
    if len(entries) > 1:
        unnamed = [e.index for e in entries if not e.dongle]
        if unnamed:
            raise ValueError(f"{name}: with several dongles every entry needs its \"dongle\" serial "
                             f"(entries {', '.join(map(str, unnamed))} have none)")
        for key, what in (("dongle", "dongle serial"), ("adapter_serial", "adapter serial")):
            values = [getattr(e, key) for e in entries]
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{name}: the {what} {', '.join(twice)} appears in several entries")
    return entries


def _entry(index, raw, name):
    where = f"{name}, entry {index}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an object is expected")
    adapter = raw.get("adapter", {})
    if not isinstance(adapter, dict):
        raise ValueError(f"{where}: \"adapter\" must be an object (serial, vid, pid, interface)")
    for key in ("reset", "power"):
        part = raw.get(key, {})
        if not isinstance(part, dict):
            raise ValueError(f"{where}: \"{key}\" must be an object")
        pin = part.get("pin", 0 if key == "reset" else 1)
        if not isinstance(pin, int) or isinstance(pin, bool) or not 0 <= pin <= 7:
            raise ValueError(f"{where}: {key} pin {pin!r} is not one of the adapter's pins 0..7 (D0..D7)")
    active = raw.get("power", {}).get("active", "high")
    if active not in ("high", "low"):
        raise ValueError(f"{where}: power active {active!r} is neither \"high\" nor \"low\"")
    strings = {"dongle": raw.get("dongle", ""), "adapter serial": adapter.get("serial", ""),
               "uart": raw.get("uart", "")}
    for key, value in strings.items():
        if not isinstance(value, str):
            raise ValueError(f"{where}: the {key} must be a string")
    return RigEntry(index=index, dongle=strings["dongle"], adapter_serial=strings["adapter serial"],
                    uart=strings["uart"], raw=raw)


def worker_slot(env=None):
    """(this xdist worker's index, the number of workers): (0, 1) without xdist."""
    env = os.environ if env is None else env
    worker = env.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return 0, 1
    return int(worker[2:]), int(env.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def check_enough_entries(entries, workers, path):
    """The usage error for a bench with fewer dongles than workers ("" if fine)."""
    if workers > len(entries):
        return (f"{workers} workers but the rig description {path} lists {len(entries)} dongle(s): "
                f"each worker needs its own dongle; run with -n {len(entries)} or fewer")
    return ""


def entry_for_worker(entries, worker, workers, path="the rig description"):
    """Worker N of `workers` takes entry N; ValueError when there are fewer entries than workers."""
    problem = check_enough_entries(entries, workers, path)
    if problem:
        raise ValueError(problem)
    return entries[worker]


def entry_for_dongle(entries, serial):
    """The entry of the dongle with this serial; LookupError if the description has none."""
    for entry in entries:
        if entry.dongle == serial:
            return entry
    known = ", ".join(e.dongle or f"entry {e.index} (no serial)" for e in entries)
    raise LookupError(f"the rig description has no entry for the dongle {serial} (it lists {known})")


class Bench:
    """`hilda rig` bound to one entry: a description file with that entry alone
    (workdir/rig.json), or an existing file used as it is (path=...)."""

    def __init__(self, hilda, entry=None, workdir=None, path=None, env=None, timeout_s=COMMAND_TIMEOUT_S):
        if (entry is None) == (path is None):
            raise ValueError("Bench needs either an entry (and a workdir for its file) or a description path")
        self.hilda = hilda
        self.env = env
        self.timeout_s = timeout_s
        if entry is not None:
            os.makedirs(workdir, exist_ok=True)
            path = os.path.join(workdir, "rig.json")
            with open(path, "w") as f:
                json.dump(entry.raw, f, indent=2)
        self.entry = entry
        self.path = os.path.abspath(path)

    def command(self, *args):
        return [self.hilda, "rig", *args, "--rig", self.path, "--json"]

    def run(self, *args, timeout_s=None):
        """One `hilda rig` command; its JSON reply, or RigError with hilda's sentence."""
        try:
            proc = subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True,
                                  timeout=timeout_s or self.timeout_s)
        except subprocess.TimeoutExpired as e:
            raise RigError(f"hilda rig {' '.join(args)} did not finish within {e.timeout} s") from e
        result = parse_reply(proc.stdout)
        if proc.returncode != 0 or result.get("ok") is False:
            raise RigError(failure_sentence(args, proc.returncode, result, proc.stderr), proc.returncode, result)
        return result

    def reset(self, ms=None):
        """Pulses the reset line (SW2 / P0.18 low, then Hi-Z)."""
        return self.run("reset", *(["--ms", str(ms)] if ms is not None else []))

    def power(self, on):
        """VBUS on or off through the load switch."""
        return self.run("power", "on" if on else "off")

    def cycle(self, off_ms=None):
        """VBUS off for off_ms (the description's, by default), then on."""
        return self.run("power", "cycle", *(["--off-ms", str(off_ms)] if off_ms is not None else []))

    def pins(self):
        return self.run("pins")

    def flash_args(self):
        """What `hilda flash` needs to use this rig (rig/flasher.py)."""
        return ["--rig", self.path]


def parse_reply(stdout):
    """The JSON object hilda printed last on stdout ({} if none)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return {}
    return {}


def failure_sentence(args, code, result, stderr=""):
    message = result.get("message")
    if not message:
        tail = [line for line in stderr.strip().splitlines() if line.strip()]
        message = tail[-1] if tail else "hilda rig printed no reason"
    return f"hilda rig {' '.join(args)} failed with exit {code}: {message}"

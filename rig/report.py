"""The run report: one folder per run with junit.xml (pytest's), report.md,
report.html, summary.json, latency histograms and trend PNGs. Fed by
conftest.py's hooks. Its order is what a reader needs first: a red or green
banner, the identity of the device under test (as the device reports it),
every failure with its assertion text and captured output, then the table
of all tests, the latency plots, the trends over the last runs
(rig/history.py, rig/plots.py), sanitizer reports and faults."""
import datetime
import os
import re
import time

from . import plots
from .history import HISTORY_RUNS, latency_stats, load_summaries, write_summary
from .report_html import faults_listed, history_note, render_html

# The identity block, in this order: info key -> label. "firmware" is the image file conftest.py names.
IDENTITY = (("target", "target"), ("firmware version", "firmware version"), ("git hash", "git hash"),
            ("protocol", "vendor protocol"), ("serial", "serial"), ("flashed", "flashed"),
            ("firmware", "image"), ("sanitizer", "DMA sanitizer"), ("rig", "rig"))
FAILED = ("failed", "error")
ORDER = {"failed": 0, "error": 0, "skipped": 1}          # the table: failures, then skips, then passes
LINE_LIMIT = 300                                          # characters per line of a failure's text
OUTPUT_LIMIT = 6000                                       # characters of captured output per failure
FIXTURE_REPR = re.compile(r"^\w+ = <.* at 0x[0-9a-f]+>$")  # "usb = <rig.batch.HildaBatch object at 0x...>"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def describe_failure(longrepr, sections=()):
    """(message, traceback, output) of a failed pytest report: the assertion
    or error line (reprcrash), the traceback's source and "E" lines with
    their file:line (not the fixture argument reprs), and the captured
    stdout/stderr/log sections. longrepr may be a plain string
    (pytest.fail(pytrace=False)) or a (path, line, text) tuple (a skip)."""
    if longrepr is None:
        return "", "", ""
    if isinstance(longrepr, tuple):
        return str(longrepr[2]), "", ""
    crash = getattr(longrepr, "reprcrash", None)
    entries = getattr(getattr(longrepr, "reprtraceback", None), "reprentries", None)
    if crash is None and entries is None:
        text = _clip(str(longrepr).strip())
        return text.splitlines()[-1] if text else "", text, _output(sections)
    message = _clip(crash.message) if crash is not None else ""
    lines = []
    for entry in entries or []:
        where = getattr(entry, "reprfileloc", None)
        if where is not None and getattr(entry, "style", "") != "value":
            lines.append(f"{where.path}:{where.lineno}")
        lines += _entry_lines(entry, where)
    if not message:     # pytest.fail(pytrace=False) in setup or teardown: "value" style, no crash line
        message = _clip(next((line for line in lines if line.strip() and not where_line(line)), ""))
    return message, _clip("\n".join(lines)), _output(sections)


SOURCE_CONTEXT = 8      # source lines shown above a frame's failing line


def _entry_lines(entry, where):
    """A traceback frame's lines without fixture reprs: for a frame in hilda's own code the few source
    lines above the failing one, the failing one (">") and the "E" lines; for one outside (the standard
    library, site-packages) only the failing line and the "E" lines: pytest's long style would print the
    whole function (subprocess.run is 60 lines)."""
    lines = [line for line in getattr(entry, "lines", []) if not FIXTURE_REPR.match(line.strip())]
    path = str(getattr(where, "path", "") or "")
    ours = path and not os.path.isabs(path) or path.startswith(REPO_ROOT + os.sep)
    failing = next((i for i, line in enumerate(lines) if line.startswith(">")), None)
    if failing is None:
        return lines
    keep_from = max(0, failing - SOURCE_CONTEXT) if ours else failing
    return lines[keep_from:failing + 1] + [line for line in lines[failing + 1:] if line.startswith("E")]


def where_line(line):
    return bool(re.match(r"^\S+:\d+$", line))


def _clip(text, width=LINE_LIMIT):
    """Each line cut at width: pytest's "where 2048 = len(b'...')" can be a whole buffer's repr."""
    return "\n".join(line if len(line) <= width else line[:width] + f" ... ({len(line) - width} more)"
                     for line in text.splitlines())


def _output(sections):
    parts = [f"--- {title} ---\n{text.rstrip()}" for title, text in sections if text and text.strip()]
    text = "\n".join(parts)
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + f"\n... ({len(text) - OUTPUT_LIMIT} more characters)"


class RunReport:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.started = time.time()
        self.info = {}          # target, firmware (the image), sanitizer, rig, flashed, identity fields ...
        self.results = []       # dicts: nodeid, outcome, seconds (the call), message, traceback, output, dongle
        self.phases = {}        # nodeid -> {"setup"|"call"|"teardown": seconds}: what JUnit's time adds up
        self.timings = {}       # name -> a `hilda timing` cell (host_us, histogram, samples_us, device_us)
        self.sanitizer = []     # (nodeid, report text)
        self.faults = []        # (nodeid, text)
        self.flashes = []       # one flash record per session (xdist worker): conftest.py's dut fixture
        self.history_root = os.path.dirname(os.path.abspath(folder))

    # ---- what conftest.py feeds in ----

    def add_flash(self, record):
        """A session's flash: flashed (bool), image, image_git_hash (the image's
        hilda_image_info), device_git_hash, identity (what the device reports
        afterwards) and its parts (firmware_version, protocol, serial), entry,
        seconds, error (hilda's sentence) or None."""
        self.flashes.append(record)
        first = self.flashes[0]
        if first.get("error"):
            self.info["flashed"] = f"FAILED: {first['error']}"
        elif first["flashed"]:
            self.info["flashed"] = (f"yes, by `hilda flash` (entry {first['entry']}, {first.get('objects')} "
                                    f"objects, {first['seconds']:.2f} s)")
        else:
            self.info["flashed"] = first.get("not_flashed") or "no (--skip-flash): the firmware was not flashed"
        for key, field in (("firmware version", "firmware_version"), ("protocol", "protocol"), ("serial", "serial")):
            if first.get(field):
                self.info[key] = first[field]
        if first.get("device_git_hash"):
            image = first.get("image_git_hash")
            same = "" if not image else (", the flashed image's too" if image == first["device_git_hash"] else
                                         f"; the flashed image says {image}")
            self.info["git hash"] = first["device_git_hash"] + (f" (reported by the device{same})")
        if first.get("identity"):
            self.info["firmware on the device"] = first["identity"]
        differing = [r for r in self.flashes
                     if r["flashed"] and r["device_git_hash"] and r["device_git_hash"] != r["image_git_hash"]]
        if differing:
            self.info["git hash check"] = (f"MISMATCH in {len(differing)} session(s): the device reports "
                                           f"{differing[0]['device_git_hash']}")
        if len(self.flashes) > 1:
            self.info["sessions flashed"] = f"{sum(r['flashed'] for r in self.flashes)} of {len(self.flashes)}"

    def flash_summary(self):
        """summary.json's "flash": the first session's record plus every session's."""
        if not self.flashes:
            return None
        first = self.flashes[0]
        return {"flashed": all(r["flashed"] for r in self.flashes),
                "image_git_hash": first["image_git_hash"], "device_git_hash": first["device_git_hash"],
                "hashes_match": all(r["device_git_hash"] == r["image_git_hash"] for r in self.flashes
                                    if r["flashed"]) and all(r["flashed"] for r in self.flashes),
                "sessions": self.flashes}

    def add_result(self, nodeid, outcome, seconds, message="", dongle="", traceback="", output=""):
        """One test's row. seconds: its call phase; dongle: which dongle ran it
        (the xdist worker and the dut's name), "" if none did. A later row of
        the same test (an error found at teardown) replaces the earlier one."""
        self.results = [row for row in self.results if row["nodeid"] != nodeid]
        self.results.append({"nodeid": nodeid, "outcome": outcome, "seconds": seconds, "message": message,
                             "traceback": traceback, "output": output, "dongle": dongle})

    def add_phase(self, nodeid, when, seconds):
        self.phases.setdefault(nodeid, {})[when] = seconds

    def add_timing(self, name, cell):
        self.timings[name] = cell

    # ---- what the report says ----

    def dongles(self):
        """{dongle: [the nodeids it ran]} for summary.json."""
        ran = {}
        for row in self.results:
            if row["dongle"]:
                ran.setdefault(row["dongle"], []).append(row["nodeid"])
        return ran

    def counts(self):
        counts = {}
        for row in self.results:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        return counts

    def total_seconds(self, nodeid):
        """setup + call + teardown: the time JUnit gives the test."""
        return sum(self.phases.get(nodeid, {}).values())

    def green(self):
        """The banner's colour: no failure, no error, no failed flash, no lost dongle, and something ran."""
        counts = self.counts()
        return (not any(counts.get(k) for k in FAILED) and bool(self.results)
                and not str(self.info.get("flashed", "")).startswith("FAILED") and "dongle lost" not in self.info)

    def identity(self):
        """[(label, value)] of the device under test, in IDENTITY's order."""
        return [(label, str(self.info[key])) for key, label in IDENTITY if self.info.get(key) not in (None, "")]

    def run_info(self):
        """[(label, value)] of everything else in info."""
        shown = {key for key, _ in IDENTITY} | {"firmware on the device"}
        return [(key, str(value)) for key, value in self.info.items() if key not in shown]

    def banner(self, seconds):
        counts = self.counts()
        word = "PASSED" if self.green() else "FAILED"
        parts = [f"{counts.get(k, 0)} {k}" for k in ("failed", "error", "passed", "skipped")
                 if counts.get(k) or k in ("failed", "passed")]
        why = []
        if str(self.info.get("flashed", "")).startswith("FAILED"):
            why.append("flashing failed")
        if "dongle lost" in self.info:
            why.append("the dongle was lost")
        if not self.results:
            why.append("no test ran")
        return f"{word}: " + ", ".join(parts) + f" in {seconds:.1f} s" + (f" ({'; '.join(why)})" if why else "")

    def ordered_results(self):
        return sorted(self.results, key=lambda row: ORDER.get(row["outcome"], 2))

    def latency(self):
        """{name: stats} per timing cell (rig/history.py's latency_stats)."""
        return {name: latency_stats(cell) for name, cell in sorted(self.timings.items())}

    # ---- writing ----

    def summary(self, seconds):
        latency = self.latency()
        return {"run": os.path.basename(self.folder), "finished": datetime.datetime.now().isoformat(timespec="seconds"),
                "seconds": round(seconds, 1), "green": self.green(), "counts": self.counts(),
                "identity": dict(self.identity()), "info": self.info, "flash": self.flash_summary(),
                "latency": {name: {"n": s["n"], "p50": s["p50"], "p90": s["p90"], "p99": s["p99"]}
                            for name, s in latency.items()},
                "failures": [row["nodeid"] for row in self.results if row["outcome"] in FAILED],
                "dongles": self.dongles(), "sanitizer": self.sanitizer, "faults": self.faults}

    def write(self):
        seconds = time.time() - self.started
        write_summary(self.folder, self.summary(seconds))
        history = load_summaries(self.history_root, HISTORY_RUNS)
        trends = [f for f in (plots.trend_results(self.folder, history), plots.trend_latency(self.folder, history)) if f]
        view = {
            "green": self.green(), "banner": self.banner(seconds), "identity": self.identity(),
            "run_info": self.run_info() + [("duration", f"{seconds:.1f} s")],
            "failures": [row for row in self.ordered_results() if row["outcome"] in FAILED],
            "rows": [dict(row, total=self.total_seconds(row["nodeid"])) for row in self.ordered_results()],
            "timings": [(name, plots.latency_histogram(self.folder, name, self.timings[name]), stats,
                         self.timings[name].get("device_us") or {}) for name, stats in self.latency().items()],
            "history_runs": len(history), "trends": trends,
            "sanitizer": self.sanitizer, "faults": self.faults,
        }
        with open(os.path.join(self.folder, "report.md"), "w") as f:
            f.write(render_markdown(view))
        with open(os.path.join(self.folder, "report.html"), "w") as f:
            f.write(render_html(view))
        return os.path.join(self.folder, "report.html")


def _md_escape(text):
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in text)


def render_markdown(view):
    md = [f"# hilda HIL run: {'PASSED' if view['green'] else 'FAILED'}", "",
          f"> **{view['banner']}**", "", "## Device under test", ""]
    md += [f"- **{label}**: {value}" for label, value in view["identity"]] or ["- (no identity: no test used the dongle)"]
    if view["failures"]:
        md += ["", f"## Failures ({len(view['failures'])})"]
        for row in view["failures"]:
            md += ["", f"### `{row['nodeid']}`: {row['outcome']}", "",
                   f"{row['seconds']:.3f} s, dongle {row['dongle'] or '-'}", "",
                   "**" + _md_escape((row["message"] or "(no message)").splitlines()[0]) + "**"]
            if row["traceback"]:
                md += ["", "```", row["traceback"], "```"]
            if row["output"]:
                md += ["", "Captured output:", "", "```", row["output"], "```"]
    md += ["", "## Tests", "", "| test | result | seconds | total s | dongle | detail |", "|---|---|---|---|---|---|"]
    for row in view["rows"]:
        detail = row["message"].splitlines()[0][:120] if row["message"] else ""
        md.append(f"| `{row['nodeid']}` | {row['outcome']} | {row['seconds']:.3f} | {row['total']:.3f} | "
                  f"{(row['dongle'] or '-').replace('|', '/')} | {detail.replace('|', '/')} |")
    md += ["", "## Trends", "", history_note(view)]
    md += [f"![{fname}]({fname})" for fname in view["trends"]]
    md += ["", "## Timing", ""]
    if view["timings"]:
        md += ["| kind | n | min | p50 | p90 | p99 | max (µs) | device EP0 handling (µs, p50) |",
               "|---|---|---|---|---|---|---|---|"]
        for name, _, s, dev in view["timings"]:
            dev_text = f"{dev['p50']:.1f}" if dev.get("n") else "-"
            md.append(f"| {name} | {s['n']} | {s['min']:.0f} | {s['p50']:.0f} | {s['p90']:.0f} | {s['p99']:.0f} | "
                      f"{s['max']:.0f} | {dev_text} |")
        md.append("")
        md += [f"![{name}]({fname})" for name, fname, _, _ in view["timings"] if fname]
    else:
        md.append("No timing data in this run.")
    md += ["", "## Sanitizer", ""]
    md += [f"- `{n}`: {t}" for n, t in view["sanitizer"]] or ["No DMA sanitizer report."]
    md += ["", "## Faults", ""]
    md += [f"- `{n}`: {t}" for n, t in faults_listed(view)] or ["No firmware fault."]
    md += ["", "## Run", ""]
    md += [f"- **{label}**: {value}" for label, value in view["run_info"]]
    return "\n".join(md) + "\n"

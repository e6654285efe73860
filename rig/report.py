"""The run report: one folder per run with junit.xml (pytest's), report.md,
report.html and timing histograms as PNG. Fed by conftest.py's hooks."""
import html
import json
import os
import time


class RunReport:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.started = time.time()
        self.info = {}          # target, firmware, firmware version ...
        self.results = []       # (nodeid, outcome, seconds, message, dongle)
        self.timings = {}       # name -> a `hilda timing` cell (host_us, histogram, device_us)
        self.sanitizer = []     # (nodeid, report text)
        self.faults = []        # (nodeid, text)
        self.flashes = []       # one flash record per session (xdist worker): conftest.py's dut fixture

    def add_flash(self, record):
        """A session's flash: flashed (bool), image, image_git_hash (the image's
        hilda_image_info), device_git_hash and identity (what the device reports
        afterwards), entry, seconds, error (hilda's sentence) or None."""
        self.flashes.append(record)
        first = self.flashes[0]
        if first.get("error"):
            self.info["flashed"] = f"FAILED: {first['error']}"
        elif first["flashed"]:
            self.info["flashed"] = (f"yes, by `hilda flash` (entry {first['entry']}, {first.get('objects')} "
                                    f"objects, {first['seconds']:.2f} s)")
        else:
            self.info["flashed"] = first.get("not_flashed") or "no (--skip-flash): the firmware was not flashed"
        self.info["flashed image git hash"] = first["image_git_hash"] or "-"
        self.info["device git hash"] = first["device_git_hash"] or "-"
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

    def add_result(self, nodeid, outcome, seconds, message="", dongle=""):
        """dongle: which dongle ran the test (the xdist worker and the dut's name), "" if none did."""
        self.results.append((nodeid, outcome, seconds, message, dongle))

    def dongles(self):
        """{dongle: [the nodeids it ran]} for summary.json."""
        ran = {}
        for nodeid, _, _, _, dongle in self.results:
            if dongle:
                ran.setdefault(dongle, []).append(nodeid)
        return ran

    def add_timing(self, name, cell):
        self.timings[name] = cell

    def _histograms(self):
        """One PNG per timing cell, drawn from hilda's histogram buckets."""
        if not self.timings:
            return []
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return []
        written = []
        for name, cell in sorted(self.timings.items()):
            buckets = [b for b in cell.get("histogram", []) if b["count"]]
            if not buckets:
                continue
            fig, ax = plt.subplots(figsize=(6, 3.2))
            lows = [b["from_us"] for b in buckets]
            widths = [max(b["to_us"] - b["from_us"], 1e-3) for b in buckets]
            ax.bar(lows, [b["count"] for b in buckets], width=widths, align="edge", color="#3572b0")
            ax.set_xscale("log")
            ax.set_title(f"{name}: host latency")
            ax.set_xlabel("latency (µs, log scale)")
            ax.set_ylabel("transfers")
            fig.tight_layout()
            fname = "timing-" + "".join(c if c.isalnum() else "_" for c in name) + ".png"
            fig.savefig(os.path.join(self.folder, fname), dpi=100)
            plt.close(fig)
            written.append((name, fname, cell))
        return written

    def write(self):
        counts = {}
        for _, outcome, _, _, _ in self.results:
            counts[outcome] = counts.get(outcome, 0) + 1
        hists = self._histograms()
        md = ["# hilda HIL run", ""]
        for key, value in self.info.items():
            md.append(f"- **{key}**: {value}")
        md.append(f"- **duration**: {time.time() - self.started:.1f} s")
        md.append("- **results**: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        md += ["", "## Tests", "", "| test | result | seconds | dongle | detail |", "|---|---|---|---|---|"]
        for nodeid, outcome, seconds, message, dongle in self.results:
            detail = message.splitlines()[0][:120] if message else ""
            md.append(f"| `{nodeid}` | {outcome} | {seconds:.2f} | {(dongle or '-').replace('|', '/')} | "
                      f"{detail.replace('|', '/')} |")
        md += ["", "## Timing", ""]
        if hists:
            md += ["| kind | n | min | p50 | p90 | p99 | max (µs) | device EP0 handling (µs, p50) |",
                   "|---|---|---|---|---|---|---|---|"]
            for name, fname, cell in hists:
                h = cell["host_us"]
                dev = cell.get("device_us") or {}
                dev_text = f"{dev['p50']:.1f}" if dev.get("n") else "-"
                md.append(f"| {name} | {h['n']} | {h['min']:.0f} | {h['p50']:.0f} | {h['p90']:.0f} | "
                          f"{h['p99']:.0f} | {h['max']:.0f} | {dev_text} |")
            md.append("")
            for name, fname, _ in hists:
                md.append(f"![{name}]({fname})")
        else:
            md.append("No timing data in this run.")
        md += ["", "## Sanitizer", ""]
        md += [f"- `{n}`: {t}" for n, t in self.sanitizer] or ["No DMA sanitizer report."]
        md += ["", "## Faults", ""]
        md += [f"- `{n}`: {t}" for n, t in self.faults] or ["No firmware fault."]
        with open(os.path.join(self.folder, "report.md"), "w") as f:
            f.write("\n".join(md) + "\n")
        with open(os.path.join(self.folder, "report.html"), "w") as f:
            f.write(self._html(md))
        with open(os.path.join(self.folder, "summary.json"), "w") as f:
            json.dump({"info": self.info, "counts": counts, "flash": self.flash_summary(),
                       "dongles": self.dongles(),
                       "sanitizer": self.sanitizer, "faults": self.faults}, f, indent=2)
        return os.path.join(self.folder, "report.html")

    @staticmethod
    def _html(md_lines):
        """A plain rendering of the Markdown: headings, lists, tables, images."""
        out = ["<!doctype html><meta charset=utf-8><title>hilda HIL run</title>",
               "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
               ".passed{color:#070}.failed{color:#b00}.skipped{color:#777}</style>"]
        in_table = False
        for line in md_lines:
            if line.startswith("|"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                if set("".join(cells)) <= set("-"):
                    continue
                if not in_table:
                    out.append("<table>")
                    in_table = True
                tds = "".join(f"<td class='{html.escape(c)}'>{html.escape(c.strip('`'))}</td>" for c in cells)
                out.append(f"<tr>{tds}</tr>")
                continue
            if in_table:
                out.append("</table>")
                in_table = False
            if line.startswith("# "):
                out.append(f"<h1>{html.escape(line[2:])}</h1>")
            elif line.startswith("## "):
                out.append(f"<h2>{html.escape(line[3:])}</h2>")
            elif line.startswith("- "):
                out.append(f"<p>{html.escape(line[2:]).replace('**', '')}</p>")
            elif line.startswith("!["):
                src = line[line.index("(") + 1:-1]
                out.append(f"<p><img src='{html.escape(src)}'></p>")
            elif line:
                out.append(f"<p>{html.escape(line)}</p>")
        if in_table:
            out.append("</table>")
        return "\n".join(out) + "\n"

"""report.html from the view rig/report.py builds: one self-contained page
(inline CSS, PNGs beside it) that a browser opens from the results folder.
Top to bottom: the red or green banner, the device under test, the
failures (assertion, traceback, captured output), all tests (failures
first; passes folded), latency, trends, sanitizer, faults, run details."""
import html

STYLE = """
body{font-family:system-ui,sans-serif;max-width:78em;margin:1.5em auto;padding:0 1em;color:#1f2328}
.banner{padding:.8em 1.2em;border-radius:6px;font-size:1.3em;font-weight:600;color:#fff}
.banner.green{background:#1a7f37}.banner.red{background:#cf222e}
dl.identity{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}
dl.identity dt{font-weight:600}dl.identity dd{margin:0;font-family:monospace}
.failure{border-left:5px solid #cf222e;background:#fff5f5;padding:.5em 1em;margin:1em 0}
.failure h3{margin:.2em 0;font-family:monospace;font-size:1em}
.assertion{font-weight:600;color:#a40e26;white-space:pre-wrap;font-family:monospace}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:.85em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:left}
td.num{text-align:right;font-family:monospace}
tr.failed td,tr.error td{background:#ffebe9}tr.skipped td{color:#656d76}
.outcome-failed,.outcome-error{color:#cf222e;font-weight:600}.outcome-passed{color:#1a7f37}
img{max-width:100%}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(36em,1fr));gap:.5em}
.assertion,pre{overflow-wrap:anywhere;white-space:pre-wrap}
"""


def _e(text):
    return html.escape(str(text))


def _rows(rows):
    out = ["<table><tr><th>test</th><th>result</th><th>call s</th><th>total s</th><th>dongle</th>"
           "<th>detail</th></tr>"]
    for row in rows:
        detail = row["message"].splitlines()[0][:160] if row["message"] else ""
        out.append(f"<tr class='{_e(row['outcome'])}'><td><code>{_e(row['nodeid'])}</code></td>"
                   f"<td class='outcome-{_e(row['outcome'])}'>{_e(row['outcome'])}</td>"
                   f"<td class=num>{row['seconds']:.3f}</td><td class=num>{row['total']:.3f}</td>"
                   f"<td>{_e(row['dongle'] or '-')}</td><td>{_e(detail)}</td></tr>")
    out.append("</table>")
    return out


def _failure(row):
    out = [f"<div class=failure id='{_e(row['nodeid'])}'><h3>{_e(row['nodeid'])}: {_e(row['outcome'])}</h3>",
           f"<div>{row['seconds']:.3f} s, dongle {_e(row['dongle'] or '-')}</div>",
           f"<p class=assertion>{_e(row['message'] or '(no message)')}</p>"]
    if row["traceback"]:
        out.append(f"<details open><summary>traceback</summary><pre>{_e(row['traceback'])}</pre></details>")
    if row["output"]:
        out.append(f"<details open><summary>captured output</summary><pre>{_e(row['output'])}</pre></details>")
    out.append("</div>")
    return out


def history_note(view):
    """The trends' caption, the same in report.md and report.html."""
    if view["trends"]:
        return f"The last {view['history_runs']} runs in this results folder (summary.json of each):"
    return (f"{view['history_runs']} run(s) in this results folder so far: trends need at least 2 "
            "(each run's summary.json stays in its folder).")


def faults_listed(view):
    """(nodeid, text) of the faults: a fault found with a failure shown above points to it, said once."""
    shown = {row["nodeid"] for row in view["failures"]}
    return [(n, "see its failure above" if n in shown else t) for n, t in view["faults"]]


def render_html(view):
    colour = "green" if view["green"] else "red"
    out = ["<!doctype html><html lang=en><meta charset=utf-8>",
           f"<title>hilda HIL run: {'PASSED' if view['green'] else 'FAILED'}</title><style>{STYLE}</style><body>",
           f"<div class='banner {colour}' id=banner>{_e(view['banner'])}</div>",
           "<h2>Device under test</h2><dl class=identity>"]
    out += [f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in view["identity"]]
    out.append("</dl>")
    if view["failures"]:
        out.append(f"<h2>Failures ({len(view['failures'])})</h2>")
        for row in view["failures"]:
            out += _failure(row)
    rows = view["rows"]
    passed = [row for row in rows if row["outcome"] == "passed"]
    others = [row for row in rows if row["outcome"] != "passed"]
    out.append(f"<h2>Tests ({len(rows)})</h2>")
    if others:
        out += _rows(others)
    if passed:
        out.append(f"<details><summary>{len(passed)} passed</summary>")
        out += _rows(passed)
        out.append("</details>")
    out.append(f"<h2>Trends</h2><p>{_e(history_note(view))}</p>")
    out += [f"<p><img src='{_e(fname)}' alt='{_e(fname)}'></p>" for fname in view["trends"]]
    out.append("<h2>Latency</h2>")
    if view["timings"]:
        out.append("<table><tr><th>kind</th><th>n</th><th>min</th><th>p50</th><th>p90</th><th>p99</th>"
                   "<th>max (µs)</th><th>device EP0 handling (µs, p50)</th></tr>")
        for name, _, s, dev in view["timings"]:
            dev_text = f"{dev['p50']:.1f}" if dev.get("n") else "-"
            cells = "".join(f"<td class=num>{s[k]:.0f}</td>" for k in ("min", "p50", "p90", "p99", "max"))
            out.append(f"<tr><td>{_e(name)}</td><td class=num>{s['n']}</td>{cells}<td class=num>{dev_text}</td></tr>")
        out.append("</table>")
        out.append("<div class=plots>")
        out += [f"<img src='{_e(fname)}' alt='{_e(name)}'>" for name, fname, _, _ in view["timings"] if fname]
        out.append("</div>")
    else:
        out.append("<p>No timing data in this run.</p>")
    out.append("<h2>Sanitizer</h2>")
    out += [f"<p><code>{_e(n)}</code>: {_e(t)}</p>" for n, t in view["sanitizer"]] or ["<p>No DMA sanitizer report.</p>"]
    out.append("<h2>Faults</h2>")
    out += [f"<p><code>{_e(n)}</code>: {_e(t)}</p>" for n, t in faults_listed(view)] or ["<p>No firmware fault.</p>"]
    out.append("<h2>Run</h2><dl class=identity>")
    out += [f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in view["run_info"]]
    out.append("</dl></body></html>")
    return "\n".join(out) + "\n"

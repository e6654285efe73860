"""A run's summary.json and the history across runs: each run folder under a
results root keeps its summary; a run's report reads the last ones (its own
included) to draw trends of pass counts and of p50/p99 latency per request
type (rig/plots.py). Percentiles here are nearest-rank, as `hilda timing`
computes them (host/lib/stats.c), so the report and the CLI agree."""
import json
import math
import os

SUMMARY = "summary.json"
HISTORY_RUNS = 20          # how many runs the trends show


def percentile(values, p):
    """The p-th percentile (0 < p <= 100) of values, nearest rank; 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = math.ceil(round(p * len(ordered) / 100.0, 9))     # round: 99.9 % of 1000 is 999, not 999.0000001
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def latency_stats(cell):
    """{n, min, p50, p90, p99, p99.9, max} in µs of a `hilda timing` cell: from
    its samples when it has them (samples_us), else its own host_us summary
    (which has no p99.9: None)."""
    samples = cell.get("samples_us") or []
    if samples:
        return {"n": len(samples), "min": min(samples), "p50": percentile(samples, 50),
                "p90": percentile(samples, 90), "p99": percentile(samples, 99),
                "p99.9": percentile(samples, 99.9), "max": max(samples)}
    host = cell.get("host_us") or {}
    return {"n": host.get("n", 0), "min": host.get("min", 0.0), "p50": host.get("p50", 0.0),
            "p90": host.get("p90", 0.0), "p99": host.get("p99", 0.0), "p99.9": None, "max": host.get("max", 0.0)}


def write_summary(folder, summary):
    with open(os.path.join(folder, SUMMARY), "w") as f:
        json.dump(summary, f, indent=2)


def load_summaries(root, limit=HISTORY_RUNS):
    """The last `limit` run summaries found in root's run folders
    (root/<run>/summary.json), oldest first by their "finished" time. A
    summary without one (written before the history existed) or unreadable
    is left out."""
    found = []
    try:
        names = os.listdir(root)
    except OSError:
        return []
    for name in names:
        path = os.path.join(root, name, SUMMARY)
        try:
            with open(path) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(summary, dict) and summary.get("finished"):
            summary.setdefault("run", name)
            found.append(summary)
    found.sort(key=lambda s: (s["finished"], s["run"]))
    return found[-limit:]

"""The report's PNGs, drawn with matplotlib (Agg: no display needed):
latency histograms with linear bins and the p50/p90/p99 marked, and the
trends across runs (rig/history.py). Each function returns the file name it
wrote in folder, or None when there is nothing to draw or no matplotlib."""
import os

from .history import latency_stats, percentile

BINS = 40                  # linear bins between p0 and p99.9: readable, and fine enough to show a second mode
MARKS = (("p50", "#1a7f37"), ("p90", "#9a6700"), ("p99", "#cf222e"))


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def file_name(prefix, name):
    return prefix + "".join(c if c.isalnum() else "_" for c in name) + ".png"


def latency_histogram(folder, name, cell):
    """One cell of `hilda timing`: its samples in BINS linear bins from the
    fastest to p99.9 (p99.5 under 1000 samples; the slowest would stretch
    the axis, the title counts them), with vertical lines at p50, p90 and p99. A cell without
    samples (an older hilda) gets its log2 buckets, on a log axis."""
    plt = _pyplot()
    samples = cell.get("samples_us") or []
    buckets = [b for b in cell.get("histogram", []) if b["count"]]
    if plt is None or not (samples or buckets):
        return None
    stats = latency_stats(cell)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    if samples:
        # the slowest 0.1 % (0.5 % of a small sample, where p99.9 is the maximum) would stretch the axis
        low, high = stats["min"], stats["p99.9"] if len(samples) >= 1000 else percentile(samples, 99.5)
        if high <= low:
            low, high = low - 0.5, high + 0.5
        shown = [v for v in samples if v <= high]
        ax.hist(shown, bins=BINS, range=(low, high), color="#3572b0")
        beyond = len(samples) - len(shown)
        title = f"{name}: host latency, {len(samples)} transfers"
        if beyond:
            title += f" ({beyond} slowest not drawn, max {stats['max']:.0f} µs)"
        ax.set_xlabel("latency (µs)")
    else:
        ax.bar([b["from_us"] for b in buckets], [b["count"] for b in buckets],
               width=[max(b["to_us"] - b["from_us"], 1e-3) for b in buckets], align="edge", color="#3572b0")
        ax.set_xscale("log")
        title = f"{name}: host latency (log2 buckets: no samples)"
        ax.set_xlabel("latency (µs, log scale)")
    top = ax.get_ylim()[1]
    for key, colour in MARKS:
        ax.axvline(stats[key], color=colour, linestyle="--", linewidth=1.2)
        ax.text(stats[key], top * 0.97, f" {key} {stats[key]:.0f}", color=colour, rotation=90,
                va="top", ha="right", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("transfers")
    fig.tight_layout()
    fname = file_name("timing-", name)
    fig.savefig(os.path.join(folder, fname), dpi=100)
    plt.close(fig)
    return fname


def _run_labels(summaries):
    return [s["run"][-22:] for s in summaries]


def trend_results(folder, summaries):
    """Passed, failed (with errors) and skipped per run, oldest left."""
    plt = _pyplot()
    if plt is None or len(summaries) < 2:
        return None
    x = list(range(len(summaries)))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for label, keys, colour in (("passed", ("passed",), "#1a7f37"), ("failed + error", ("failed", "error"), "#cf222e"),
                                ("skipped", ("skipped",), "#777777")):
        ax.plot(x, [sum(s.get("counts", {}).get(k, 0) for k in keys) for s in summaries], marker="o",
                color=colour, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(_run_labels(summaries), rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("tests")
    ax.set_ylim(bottom=0)
    ax.set_title(f"results over the last {len(summaries)} runs", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fname = "trend-results.png"
    fig.savefig(os.path.join(folder, fname), dpi=100)
    plt.close(fig)
    return fname


def trend_latency(folder, summaries):
    """p50 (left) and p99 (right) host latency per request type over the runs;
    a run without that type leaves a gap."""
    plt = _pyplot()
    names = sorted({name for s in summaries for name in s.get("latency", {})})
    if plt is None or len(summaries) < 2 or not names:
        return None
    x = list(range(len(summaries)))
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharex=True)
    for ax, key in zip(axes, ("p50", "p99")):
        for name in names:
            ys = [s.get("latency", {}).get(name, {}).get(key) for s in summaries]
            ax.plot(x, [float("nan") if y is None else y for y in ys], marker="o", markersize=3, label=name)
        ax.set_title(f"{key} host latency per request type (µs)", fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels(_run_labels(summaries), rotation=30, ha="right", fontsize=7)
        ax.set_ylim(bottom=0)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fname = "trend-latency.png"
    fig.savefig(os.path.join(folder, fname), dpi=100)
    plt.close(fig)
    return fname

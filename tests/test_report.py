"""The run report (rig/report.py, rig/report_html.py, rig/plots.py,
rig/history.py) built from made-up outcomes: no device. The banner's
colour, failures first with their assertion text and without fixture
reprs, the device's identity, percentiles of a known sample, the history's
trend PNGs."""
import json
import os

import pytest

from rig.history import load_summaries, percentile
from rig.report import RunReport, describe_failure

FLASH = {"flashed": True, "image": "build/hilda-dongle.elf", "image_git_hash": "6f571430",
         "device_git_hash": "6f571430", "identity": "firmware 0.1 (git 6f571430), protocol 1.0, serial 1209CAFE",
         "firmware_version": "0.1", "protocol": "1.0", "serial": "1209CAFE", "entry": "already_in_dfu",
         "seconds": 0.17, "error": None, "objects": 3}
LOSS = "2048 of 4096 bytes lost"


class FakeBatch:
    """Stands in for the `usb` fixture whose repr used to be the failure's detail."""


def _a_failing_check(usb, received):
    assert received == 4096, LOSS


def _assertion_longrepr():
    """A real pytest longrepr of a failed assertion in a function taking a fixture-like argument."""
    try:
        _a_failing_check(FakeBatch(), 2048)
    except AssertionError:
        info = pytest.ExceptionInfo.from_current()
    return info.getrepr(style="long", funcargs=True)


def _report(folder, failing=True):
    report = RunReport(str(folder))
    report.info["target"] = "emu (chosen with --target emu)"
    report.info["firmware"] = "build/hilda-dongle.elf (sha256 0123456789ab)"
    report.info["sanitizer"] = "fail: a report fails the test during which it happened"
    report.add_flash(dict(FLASH))
    for i in range(5):
        report.add_result(f"tests/test_a.py::test_pass[{i}]", "passed", 0.25, "", "emu 1209CAFE")
        report.add_phase(f"tests/test_a.py::test_pass[{i}]", "call", 0.25)
    if failing:
        message, traceback, output = describe_failure(
            _assertion_longrepr(), [("Captured stdout call", "counters: lost 2048 bytes, overruns 3\n")])
        report.add_result("tests/test_z.py::test_uart_loss", "failed", 0.713, message, "emu 1209CAFE",
                          traceback, output)
        for when, seconds in (("setup", 0.5), ("call", 0.713), ("teardown", 0.01)):
            report.add_phase("tests/test_z.py::test_uart_loss", when, seconds)
    report.write()
    return (folder / "report.md").read_text(), (folder / "report.html").read_text()


def test_failure_comes_first_with_its_assertion_and_output(tmp_path):
    md, page = _report(tmp_path / "run")
    assert "class='banner red'" in page and "FAILED: 1 failed, 5 passed" in page
    assert md.startswith("# hilda HIL run: FAILED")
    # the failure section precedes the table, and the failing row heads the table
    assert md.index("## Failures (1)") < md.index("## Tests")
    table = md[md.index("## Tests"):]
    assert table.index("test_uart_loss") < table.index("test_pass[0]")
    for text in (md, page):
        assert LOSS in text
        assert "assert received == 4096" in text           # the traceback's source line
        assert "counters: lost 2048 bytes, overruns 3" in text
        assert "FakeBatch object at 0x" not in text         # no fixture repr
    # call seconds as measured, the total as JUnit adds the phases
    assert "| `tests/test_z.py::test_uart_loss` | failed | 0.713 | 1.223 |" in md


def test_identity_read_from_the_device_is_at_the_top(tmp_path):
    md, page = _report(tmp_path / "run")
    top = md[:md.index("## Failures")]
    for field in ("**firmware version**: 0.1", "**git hash**: 6f571430", "**vendor protocol**: 1.0",
                  "**serial**: 1209CAFE", "**flashed**: yes, by `hilda flash`", "**target**: emu",
                  "**DMA sanitizer**: fail"):
        assert field in top, field
    assert "<dt>serial</dt><dd>1209CAFE</dd>" in page
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["identity"]["serial"] == "1209CAFE" and summary["counts"] == {"passed": 5, "failed": 1}
    assert summary["failures"] == ["tests/test_z.py::test_uart_loss"] and summary["green"] is False


def test_a_run_without_failures_is_green(tmp_path):
    md, page = _report(tmp_path / "run", failing=False)
    assert "class='banner green'" in page and "PASSED: 0 failed, 5 passed" in page
    assert "## Failures" not in md and "class='banner red'" not in page


def test_percentiles_of_a_known_sample_in_table_and_plot(tmp_path):
    assert [percentile(range(1, 1001), p) for p in (50, 90, 99, 99.9)] == [500, 900, 990, 999]
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) == 0.0
    report = RunReport(str(tmp_path / "run"))
    samples = [float(v) for v in range(1000, 0, -1)]          # unsorted on purpose
    report.add_timing("in 64 B", {"host_us": {"n": 1000, "min": 1, "p50": 1, "p90": 1, "p99": 1, "max": 1},
                                  "histogram": [], "samples_us": samples, "device_us": None})
    report.add_result("tests/test_timing.py::test_latency", "passed", 0.1)
    report.write()
    md = (tmp_path / "run" / "report.md").read_text()
    assert "| in 64 B | 1000 | 1 | 500 | 900 | 990 | 1000 | - |" in md
    png = tmp_path / "run" / "timing-in_64_B.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["latency"]["in 64 B"] == {"n": 1000, "p50": 500.0, "p90": 900.0, "p99": 990.0}


def _fake_summary(root, run, finished, passed, p50):
    os.makedirs(root / run)
    (root / run / "summary.json").write_text(json.dumps({
        "run": run, "finished": finished, "counts": {"passed": passed, "failed": 1},
        "latency": {"in 64 B": {"n": 200, "p50": p50, "p90": p50 * 2, "p99": p50 * 3}}}))


def test_trends_drawn_from_the_last_runs(tmp_path):
    root = tmp_path / "results"
    md, _ = _report(root / "run-1")
    assert "1 run(s) in this results folder so far: trends need at least 2" in md
    assert not (root / "run-1" / "trend-results.png").exists()
    _fake_summary(root, "run-0", "2000-01-01T00:00:00", 20, 300.0)     # older than run-1
    (root / "not-a-run").mkdir()                                       # no summary: ignored
    md, page = _report(root / "run-2")
    history = load_summaries(str(root))
    assert [s["run"] for s in history] == ["run-0", "run-1", "run-2"]
    assert "The last 3 runs in this results folder" in md
    for name in ("trend-results.png", "trend-latency.png"):
        assert (root / "run-2" / name).read_bytes()[:4] == b"\x89PNG", name
        assert f"src='{name}'" in page
    assert len(load_summaries(str(root), limit=2)) == 2


def test_failure_text_of_other_longrepr_shapes():
    # pytest.fail(pytrace=False) and a teardown error arrive as plain text, a skip as (path, line, reason)
    message, traceback, output = describe_failure("the emu dongle is gone after this test\nhilda-emu exited with -9",
                                                  [("Captured stderr teardown", "emu: fault at 0x1234\n")])
    assert message == "hilda-emu exited with -9" and "the emu dongle is gone" in traceback
    assert output == "--- Captured stderr teardown ---\nemu: fault at 0x1234"
    assert describe_failure(("tests/test_a.py", 3, "Skipped: needs power"))[0] == "Skipped: needs power"
    # pytest.fail(pytrace=False) in a teardown: pytest's "value" style, no crash line; the text's first line leads
    try:
        pytest.fail("the emu dongle is gone after this test\nhilda-emu exited with -9", pytrace=False)
    except pytest.fail.Exception:
        longrepr = pytest.ExceptionInfo.from_current().getrepr(style="value")
    message, traceback, _ = describe_failure(longrepr)
    assert message == "the emu dongle is gone after this test"
    assert traceback == "the emu dongle is gone after this test\nhilda-emu exited with -9"
    # a whole buffer's repr in a line is cut, saying how much was left out
    message, traceback, _ = describe_failure("E  where 2048 = len(b'" + "\\x00" * 500 + "')")
    assert message == traceback and len(message) < 340 and message.endswith(" ... (1724 more)")

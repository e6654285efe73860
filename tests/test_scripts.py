"""scripts/test's and scripts/hil's one verdict (scripts/verdict.py) on made-up
stage results: meson testlogs and JUnit XML written here, so that every way a
run can end is checked without running one. Needs no dongle."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERDICT = os.path.join(ROOT, "scripts", "verdict.py")
_spec = importlib.util.spec_from_file_location("verdict", VERDICT)
verdict = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verdict)


def meson_testlog(path, results):
    """A meson testlog.json: one JSON object a line, as mesonbuild/mtest.py writes it."""
    with open(path, "w") as f:
        for i, result in enumerate(results):
            f.write(json.dumps({"name": f"t{i}", "result": result, "duration": 0.1}) + "\n")
    return str(path)


def junit(path, cases):
    """pytest-style JUnit XML; cases: (name, outcome) with outcome passed/failed/error/skipped."""
    body = {"passed": "", "failed": '<failure message="assert 1 == 2"/>', "error": '<error message="boom"/>',
            "skipped": '<skipped type="pytest.skip" message="needs hw"/>'}
    rows = "".join(f'<testcase classname="tests.test_x" name="{n}" time="0.1">{body[o]}</testcase>'
                   for n, o in cases)
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
                    f'tests="{len(cases)}">{rows}</testsuite></testsuites>')
    return str(path)


def run_verdict(folder, *args, capsys):
    """scripts/verdict.py's main in this process (fast): (exit code, printed lines)."""
    code = verdict.main(["--title", "hilda test", "--folder", str(folder), *args])
    return code, capsys.readouterr().out.strip().splitlines()


@pytest.fixture
def run(capsys):
    return lambda folder, *args: run_verdict(folder, *args, capsys=capsys)


@pytest.fixture
def green(tmp_path):
    """Three green stages: meson (3 OK, 1 SKIP), suite (2 passed, 1 skipped), usbtest (1 passed)."""
    return {"meson": meson_testlog(tmp_path / "testlog.json", ["OK", "OK", "EXPECTEDFAIL", "SKIP"]),
            "suite": junit(tmp_path / "junit.xml", [("a", "passed"), ("b", "passed"), ("c", "skipped")]),
            "usbtest": junit(tmp_path / "usbtest.xml", [("u", "passed")])}


def stages(files, rcs=None):
    rcs = rcs or {}
    return [a for name in ("meson", "suite", "usbtest") for a in ("--stage", name, rcs.get(name, "0"), files[name])]


def test_all_green_is_passed_and_exit_0(tmp_path, green, run):
    code, lines = run(tmp_path, *stages(green))
    assert code == 0
    assert lines[-1] == ("hilda test: PASSED (meson 3 passed 1 skipped; suite 2 passed 1 skipped; usbtest 1 passed) "
                         f"-> {tmp_path}")
    assert (tmp_path / "verdict.txt").read_text().splitlines()[-1] == lines[-1]
    assert json.loads((tmp_path / "verdict.json").read_text())["exit"] == 0


def test_a_meson_failure_under_a_green_suite_fails_the_run(tmp_path, green, run):
    """Issue 15's case: meson failed twelve lines up, pytest's green line came last."""
    green["meson"] = meson_testlog(tmp_path / "testlog.json", ["OK", "FAIL", "TIMEOUT", "SKIP"])
    code, lines = run(tmp_path, *stages(green, {"meson": "1"}))
    assert code == 1
    assert lines[-1].startswith("hilda test: FAILED (meson 1 passed 2 failed 1 skipped; suite 2 passed 1 skipped;")
    assert lines[-2] == "hilda test: failed in meson: t1 (FAIL), t2 (TIMEOUT)"


def test_failed_and_errored_pytest_cases_are_named(tmp_path, green, run):
    green["suite"] = junit(tmp_path / "junit.xml", [("a", "passed"), ("b", "failed"), ("c", "error")])
    code, lines = run(tmp_path, *stages(green, {"suite": "1"}))
    assert code == 1
    assert "suite 1 passed 2 failed" in lines[-1]
    assert lines[-2] == "hilda test: failed in suite: tests.test_x::b, tests.test_x::c"


def test_a_teardown_error_after_a_pass_counts_the_test_once_as_failed(tmp_path, green, run):
    green["suite"] = junit(tmp_path / "junit.xml", [("a", "passed"), ("a", "error"), ("b", "passed")])
    code, lines = run(tmp_path, *stages(green, {"suite": "1"}))
    assert code == 1
    assert "suite 1 passed 1 failed;" in lines[-1]


def test_a_missing_junit_file_is_a_crashed_stage(tmp_path, green, run):
    green["usbtest"] = str(tmp_path / "usbtest" / "junit.xml")
    code, lines = run(tmp_path, *stages(green, {"usbtest": "3"}))
    assert code == 2
    assert lines[-1].startswith("hilda test: FAILED (")
    assert "usbtest CRASHED (exit 3, no junit.xml)" in lines[-1]


def test_an_unreadable_junit_file_is_a_crashed_stage(tmp_path, green, run):
    (tmp_path / "junit.xml").write_text("<testsuites><testsuite")
    code, lines = run(tmp_path, *stages(green))
    assert code == 2
    assert "suite CRASHED (exit 0, unreadable junit.xml" in lines[-1]


def test_a_nonzero_exit_with_no_failed_test_is_not_a_pass(tmp_path, green, run):
    """pytest's internal error (3) after its tests passed: the run is broken, not green."""
    code, lines = run(tmp_path, *stages(green, {"suite": "3"}))
    assert code == 2
    assert "suite 2 passed 1 skipped but exited 3" in lines[-1]


def test_no_tests_collected_is_not_a_pass(tmp_path, green, run):
    green["suite"] = junit(tmp_path / "junit.xml", [])
    code, lines = run(tmp_path, *stages(green, {"suite": "5"}))
    assert code == 2
    assert "suite ran no tests (exit 5)" in lines[-1]


def test_a_failed_build_runs_nothing_and_says_so(tmp_path, run):
    code, lines = run(tmp_path, "--broken", "build failed (ninja, build.log)",
                              "--stage", "meson", "-", "-", "--stage", "suite", "-", "-")
    assert code == 2
    assert lines == [f"hilda test: FAILED (build failed (ninja, build.log); meson not run; suite not run) -> {tmp_path}"]


def test_a_crash_wins_over_failed_tests(tmp_path, green, run):
    green["meson"] = meson_testlog(tmp_path / "testlog.json", ["FAIL"])
    green["usbtest"] = str(tmp_path / "absent.xml")
    code, _ = run(tmp_path, *stages(green, {"meson": "1", "usbtest": "1"}))
    assert code == 2


def test_a_folder_under_the_checkout_is_shown_relative(tmp_path, green, run):
    folder = os.path.join(ROOT, "results", "verdict-test-not-a-run")
    try:
        code, lines = run(folder, *stages(green))
        assert code == 0 and lines[-1].endswith(" -> results/verdict-test-not-a-run")
    finally:
        for name in ("verdict.txt", "verdict.json"):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)


def test_the_exit_status_is_the_verdicts(tmp_path, green):
    """As the scripts call it: a separate process whose exit status is the verdict's."""
    green["meson"] = meson_testlog(tmp_path / "testlog.json", ["FAIL"])
    proc = subprocess.run([sys.executable, VERDICT, "--folder", str(tmp_path), *stages(green, {"meson": "1"})],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1].startswith("hilda test: FAILED (meson 0 passed 1 failed;")


def test_the_scripts_end_on_the_verdict():
    """scripts/test and scripts/hil hand their exit status to verdict.py's: it is their last command."""
    for script in ("test", "hil"):
        text = open(os.path.join(ROOT, "scripts", script)).read().replace("\\\n", " ")
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines[-1].lstrip().startswith("verdict "), script
        assert "set -e" not in text, f"scripts/{script}: a failing stage must not end the run early"


def test_a_no_change_build_has_nothing_to_do(pytestconfig):
    """A build right after a build lists only the firmware's nested build (always run, it decides
    inside); anything else is a needless rebuild (issue 15: 181 of 194 steps recompiled with no source
    change): a command line that changes from one run to the next, an output never written, a generated
    file that stays older than its input. The first build brings the build dir up to date (the suite may
    run on one the meson stage or a test touched); the second, dry, one must have nothing to do."""
    build = pytestconfig.hilda_build
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        pytest.skip(f"no build in {build}")
    first = subprocess.run(["ninja", "-C", build], capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    proc = subprocess.run(["ninja", "-C", build, "-n", "-d", "explain"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = [line for line in proc.stdout.splitlines() if line.startswith("[") and "Generating firmware" not in line]
    # why ninja would run them, but for the always-stale firmware step and the knock-on "is dirty" lines
    why = [line.split("explain: ", 1)[1] for line in proc.stderr.splitlines()
           if "explain: " in line and not line.endswith("is dirty") and "phony edge with no inputs" not in line]
    assert steps == [], "\n".join(why[:20] or steps[:20])

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


# scripts/fetch-unicorn (Unicorn >= 2.1 from Debian 13's archive into a cache, docs/install.md) on made-up
# cache entries, with an apt that can only fail: what it does without the network.
FETCH_UNICORN = os.path.join(ROOT, "scripts", "fetch-unicorn")


def unicorn_entry(cache, version, complete=True):
    """A cache entry as fetch-unicorn leaves it (the library an empty stand-in); complete=False leaves
    out the marker it writes last, as an interrupted copy or one made by hand would."""
    entry = cache / version
    (entry / "lib" / "pkgconfig").mkdir(parents=True)
    (entry / "include" / "unicorn").mkdir(parents=True)
    (entry / "lib" / "libunicorn.so.2").write_bytes(b"")
    (entry / "include" / "unicorn" / "unicorn.h").write_text("")
    (entry / "lib" / "pkgconfig" / "unicorn.pc").write_text(
        f"prefix={entry}\nhilda_fetch_unicorn={version}\n\nName: unicorn\nVersion: {version.split('-')[0]}\n")
    (entry / "debian-version").write_text(version + "\n")
    if complete:
        (entry / "complete").write_text("")
    return str(entry)


@pytest.fixture
def offline(tmp_path):
    """Runs fetch-unicorn on a cache in tmp_path with apt-get and apt-cache that log their call and fail
    as they do offline: (exit status, stdout lines, stderr, apt was called)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt-calls"
    bin_dir.mkdir()
    for tool in ("apt-get", "apt-cache"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n'
                                    'echo "E: Failed to fetch http://deb.debian.org/debian (offline)" >&2\nexit 100\n')
        (bin_dir / tool).chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir()

    def run(*args):
        # the user's own choice of suite or mirror (HILDA_UNICORN_*) must not reach the script under test
        env = {k: v for k, v in os.environ.items() if not k.startswith("HILDA_UNICORN_")}
        env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", HILDA_UNICORN_CACHE=str(cache))
        proc = subprocess.run([FETCH_UNICORN, *args], capture_output=True, text=True, env=env, timeout=60)
        return proc.returncode, proc.stdout.splitlines(), proc.stderr, log.exists()
    run.cache = cache
    return run


def test_fetch_unicorn_reuses_a_complete_entry_without_apt(offline):
    entry = unicorn_entry(offline.cache, "2.1.1-2+b2")
    assert offline() == (0, [entry], "", False)
    assert offline("--cached") == (0, [entry], "", False)


def test_fetch_unicorn_takes_the_newest_complete_entry_of_at_least_2_1(offline):
    unicorn_entry(offline.cache, "2.1.1-2")
    newest = unicorn_entry(offline.cache, "2.1.10-1")
    unicorn_entry(offline.cache, "2.2.0-1", complete=False)
    unicorn_entry(offline.cache, "2.0.1.post1-1")   # complete, but older than the build accepts,
    unicorn_entry(offline.cache, "10.0.0-1")        # and one that sorting as text would put last
    code, out, _, called = offline()
    assert (code, out, called) == (0, [str(offline.cache / "10.0.0-1")], False)
    os.remove(offline.cache / "10.0.0-1" / "complete")
    code, out, _, called = offline()
    assert (code, out, called) == (0, [newest], False)


def test_fetch_unicorn_does_not_use_an_incomplete_entry(offline):
    unicorn_entry(offline.cache, "2.1.1-2+b2", complete=False)
    code, out, err, called = offline()
    assert (code, out, called) == (1, [], True)   # it tried to fetch one
    assert "no Unicorn >= 2.1 is cached" in err
    code, out, err, called = offline("--cached")
    assert (code, out) == (1, [])
    assert "no complete Unicorn >= 2.1" in err


def test_fetch_unicorn_offline_with_nothing_cached_fails_and_says_why(offline):
    code, out, err, called = offline()
    assert (code, out, called) == (1, [], True)
    assert "fetch-unicorn: apt-get update of http://deb.debian.org/debian trixie failed (offline?)" in err
    assert "hilda-emu builds against the system's Unicorn" in err
    assert not [p for p in offline.cache.iterdir() if p.name != ".lock"], "it left a work directory behind"


def test_fetch_unicorn_update_offline_fails_but_names_the_cached_entry(offline):
    entry = unicorn_entry(offline.cache, "2.1.1-2+b2")
    code, out, err, called = offline("--update")
    assert (code, out, called) == (1, [entry], True)
    assert f"using the cached {entry}" in err


def test_fetch_unicorn_stamp_is_made_once_without_apt(offline):
    """meson.build reads the stamp (a regeneration dependency): it must exist after --stamp, and a second
    call must leave it alone, or every ninja would reconfigure."""
    stamp = offline.cache / ".changed"
    assert offline("--stamp") == (0, [str(stamp)], "", False)
    mtime = stamp.stat().st_mtime_ns
    assert offline("--stamp") == (0, [str(stamp)], "", False)
    assert stamp.stat().st_mtime_ns == mtime


def unicorn_linked_by(build, target="emu/hilda-emu"):
    """The libunicorn that build.ninja links `target` with: a path (meson's find_library, fetch-unicorn's
    copy) or -L dirs with -lunicorn (pkg-config); None for the linker's default search."""
    lines = open(os.path.join(build, "build.ninja")).read().split("\n\n")
    edge = next(block for block in lines if block.startswith(f"build {target}:"))
    words = " ".join(edge.splitlines()).split()
    for word in words:
        if os.path.basename(word).startswith("libunicorn.so"):
            return os.path.realpath(word)
    if "-lunicorn" in words:
        for word in words:
            if word.startswith("-L") and os.path.exists(os.path.join(word[2:], "libunicorn.so")):
                return os.path.realpath(os.path.join(word[2:], "libunicorn.so"))
    return None


def unicorn_version(library):
    """(major, minor) from the library's uc_version()."""
    import ctypes
    lib = ctypes.CDLL(library or "libunicorn.so.2")
    major, minor = ctypes.c_uint(), ctypes.c_uint()
    lib.uc_version(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


def test_the_build_uses_unicorn_2_1_when_the_cache_has_it(pytestconfig):
    """scripts/test's build dir (this suite's --build): with fetch-unicorn's cache holding a Unicorn >= 2.1,
    hilda-emu links and loads a Unicorn >= 2.1 (the cache's, or a system's >= 2.1 found first)."""
    build = pytestconfig.hilda_build
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        pytest.skip(f"no build in {build}")
    cached = subprocess.run([FETCH_UNICORN, "--cached"], capture_output=True, text=True, timeout=30)
    if cached.returncode != 0:
        pytest.skip("fetch-unicorn's cache has no Unicorn >= 2.1")
    linked = unicorn_linked_by(build)
    assert unicorn_version(linked) >= (2, 1), f"hilda-emu links {linked or 'the system default'}"
    emu = os.path.join(build, "emu", "hilda-emu")
    if os.path.isfile(emu):
        ldd = subprocess.run(["ldd", emu], capture_output=True, text=True, timeout=30).stdout
        loaded = [line.split("=>")[1].split()[0] for line in ldd.splitlines() if "libunicorn.so" in line]
        assert len(loaded) == 1 and unicorn_version(os.path.realpath(loaded[0])) >= (2, 1), ldd

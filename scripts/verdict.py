#!/usr/bin/python3
"""The one closing verdict of scripts/test and scripts/hil: reads every stage's
results (meson's testlog.json, pytest's JUnit XML), prints the names of the
tests that failed, then ONE last line that covers every stage, writes it to
verdict.txt and verdict.json in the run's results folder, and exits with the
status the README's "Set-up" section documents:

  0  PASSED: every stage ran and no test failed (skips are fine)
  1  FAILED: tests failed; every stage ran and left its results
  2  FAILED: a stage could not run or left no results (set-up or build failed,
     a crash, an internal or usage error, no tests collected); wins over 1

Counts come from the result files, never from a stage's console text; a
stage's exit status only decides whether it ended cleanly (pytest or meson
exiting non-zero with no failed test in its results is a crash).

usage: verdict.py --title "hilda test" --folder RESULTS [--broken WHY]
                  [--stage NAME RC FILE]...
  RC "-": the stage was not run (after a failed build); FILE: *.json is a
  meson testlog, anything else JUnit XML.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

PASSED, FAILED, BROKEN = 0, 1, 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHOWN_FAILURES = 10     # names printed per stage; the logs have the rest

# meson's TestResult names (mesonbuild/mtest.py): OK and EXPECTEDFAIL pass, SKIP skips, the rest fail
MESON_PASS = ("OK", "EXPECTEDFAIL")
MESON_SKIP = ("SKIP",)


def read_meson_testlog(path):
    """(passed, failed, skipped, [failed names]) from meson's testlog.json (one JSON object a line)."""
    passed = failed = skipped = 0
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            test = json.loads(line)
            result = test["result"]
            if result in MESON_PASS:
                passed += 1
            elif result in MESON_SKIP:
                skipped += 1
            else:
                failed += 1
                names.append(f"{test.get('name', '?')} ({result})")
    return passed, failed, skipped, names


def read_junit(path):
    """(passed, failed, skipped, [failed names]) from a JUnit XML file (pytest's: <testsuites><testsuite>).
    A test counts once: failed if any of its phases failed or errored, else skipped or passed."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    outcome = {}        # "classname::name" -> "failed" | "skipped" | "passed", first seen order
    for suite in suites:
        for case in suite.iter("testcase"):
            name = "::".join(p for p in (case.get("classname", ""), case.get("name", "")) if p)
            tags = {child.tag for child in case}
            now = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
            before = outcome.get(name)
            if before != "failed":     # a teardown error after a pass is a failure of that test
                outcome[name] = now if before is None or now == "failed" else before
    values = list(outcome.values())
    failed_names = [n for n, o in outcome.items() if o == "failed"]
    return values.count("passed"), values.count("failed"), values.count("skipped"), failed_names


def judge_stage(name, rc, path):
    """One stage: {name, code, text, failed_names}. code is PASSED, FAILED or BROKEN."""
    stage = {"name": name, "exit": rc, "results": path, "failed_names": []}
    if rc == "-":
        return dict(stage, code=BROKEN, text=f"{name} not run")
    where = os.path.basename(path)
    if not os.path.isfile(path):
        return dict(stage, code=BROKEN, text=f"{name} CRASHED (exit {rc}, no {where})")
    try:
        reader = read_meson_testlog if path.endswith(".json") else read_junit
        passed, failed, skipped, names = reader(path)
    except (OSError, ValueError, KeyError, ET.ParseError) as e:
        return dict(stage, code=BROKEN, text=f"{name} CRASHED (exit {rc}, unreadable {where}: {e})")
    counts = f"{passed} passed" + (f" {failed} failed" if failed else "") + (f" {skipped} skipped" if skipped else "")
    stage.update(passed=passed, failed=failed, skipped=skipped, failed_names=names)
    if failed:
        return dict(stage, code=FAILED, text=f"{name} {counts}")
    if passed + skipped == 0:
        return dict(stage, code=BROKEN, text=f"{name} ran no tests (exit {rc})")
    if str(rc) != "0":
        return dict(stage, code=BROKEN, text=f"{name} {counts} but exited {rc}")
    return dict(stage, code=PASSED, text=f"{name} {counts}")


def shown_folder(folder):
    folder = os.path.abspath(folder)
    return os.path.relpath(folder, ROOT) if folder.startswith(ROOT + os.sep) else folder


def verdict(title, folder, stages, broken=None):
    """(exit code, the last line, [lines before it]) for judged stages; broken: why set-up or build failed."""
    code = max([s["code"] for s in stages] + [BROKEN if broken else PASSED])
    parts = ([broken] if broken else []) + [s["text"] for s in stages]
    word = "PASSED" if code == PASSED else "FAILED"
    line = f"{title}: {word} ({'; '.join(parts)}) -> {shown_folder(folder)}"
    before = []
    for s in stages:
        names = s["failed_names"]
        if names:
            more = f" and {len(names) - SHOWN_FAILURES} more" if len(names) > SHOWN_FAILURES else ""
            before.append(f"{title}: failed in {s['name']}: {', '.join(names[:SHOWN_FAILURES])}{more}")
    return code, line, before


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--title", default="hilda test")
    parser.add_argument("--folder", required=True, help="the run's results folder (verdict.txt/json go there)")
    parser.add_argument("--broken", help="why the run could not test (set-up or build failed)")
    parser.add_argument("--stage", nargs=3, action="append", default=[], metavar=("NAME", "RC", "FILE"))
    args = parser.parse_args(argv)
    stages = [judge_stage(name, rc, path) for name, rc, path in args.stage]
    code, line, before = verdict(args.title, args.folder, stages, args.broken)
    os.makedirs(args.folder, exist_ok=True)
    with open(os.path.join(args.folder, "verdict.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(before + [line]) + "\n")
    with open(os.path.join(args.folder, "verdict.json"), "w", encoding="utf-8") as f:
        json.dump({"exit": code, "verdict": line, "broken": args.broken, "stages": stages}, f, indent=2)
    for text in before + [line]:
        print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())

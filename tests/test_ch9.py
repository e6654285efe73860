"""Chapter 9 conformance: every check of `hilda ch9` (USBCV TDs and usbtest
9, 10, 13) as its own test case. The battery runs once per module; each case
looks up its check. The ids come from host/lib/ch9*.c (the battery and its
parts), so a new check becomes a new test case by itself; checks with ids made
at run time are covered by the last case."""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def static_check_ids():
    ids = set()
    for path in glob.glob(os.path.join(ROOT, "host", "lib", "ch9*.c")):
        with open(path) as f:
            ids.update(re.findall(r'"(\d+(?:\.\d+)?-[a-z0-9][a-z0-9-]*)"', f.read()))
    return sorted(ids)


CHECK_IDS = static_check_ids()


@pytest.fixture(scope="module")
def battery(usb):
    reply = usb.call("ch9")
    return {c["id"]: c for c in reply["checks"]}


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check(battery, check_id):
    check = battery.get(check_id)
    if check is None:
        pytest.skip(f"{check_id} did not run on this device (its precondition is absent)")
    if check["result"] == "skip":
        pytest.skip(f"{check_id}: {check['reason']}")
    assert check["result"] in ("pass", "warn"), f"{check_id} {check['title']}: {check['reason']}"


def test_checks_named_at_run_time(battery):
    dynamic = {i: c for i, c in battery.items() if i not in CHECK_IDS}
    failed = [f"{i}: {c['reason']}" for i, c in dynamic.items() if c["result"] == "fail"]
    assert not failed, "\n".join(failed)

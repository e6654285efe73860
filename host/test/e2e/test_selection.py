"""Device selection with several dongles attached: two in application mode
and one in bootloader mode, as static umockdev records (data/), under
`umockdev-run`. hilda must list all three, refuse to guess between the two
(exit 4, naming both), and take the one a --path names."""
import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.no_emulator
RECORDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "three-dongles.umockdev")


@pytest.fixture
def run(hilda_bin):
    umockdev_run = shutil.which("umockdev-run")
    if not umockdev_run:
        pytest.skip("umockdev-run is not installed")

    def go(*args, input=None):
        env = {k: v for k, v in os.environ.items() if k not in ("UMOCKDEV_DIR", "LD_PRELOAD")}
        p = subprocess.run([umockdev_run, "-d", RECORDS, "--", hilda_bin, *args], input=input,
                           capture_output=True, text=True, timeout=60, env=env)
        assert "runtime error:" not in p.stderr and "AddressSanitizer" not in p.stderr, p.stderr
        return p

    return go


def test_lists_both_modes(run):
    p = run("list", "--json")
    assert p.returncode == 0, p.stderr
    devs = json.loads(p.stdout)["devices"]
    assert [(d["path"], d["id"], d["mode"]) for d in devs] == [
        ("1-1", "1209:0001", "application"), ("1-2", "1209:0001", "application"), ("1-3", "1915:521f", "bootloader")]
    p = run("list")
    assert "bootloader" in p.stdout and "reading the serial number failed" in p.stdout


def test_refuses_to_guess(run):
    p = run("stats")
    assert p.returncode == 4, p.stderr
    assert "2 devices match" in p.stderr and "1-1" in p.stderr and "1-2" in p.stderr
    assert "--serial or --path" in p.stderr
    p = run("desc", "--json")
    assert p.returncode == 4 and json.loads(p.stdout)["error"] == "ambiguous"
    assert run("bootloader").returncode == 4


def test_path_and_ids_choose(run):
    # the chosen node answers no ioctls: the transfer fails, as an I/O error
    p = run("--path", "1-2", "stats")
    assert p.returncode == 6, p.stderr
    assert "GET_VERSION" in p.stderr
    assert run("ch9", "-p", "1-1").returncode == 6
    p = run("list", "--device", "1915:521f", "--json")
    assert [d["path"] for d in json.loads(p.stdout)["devices"]] == ["1-3"]
    assert run("list", "--path", "1-2", "--json").stdout.count('"path"') == 1


def test_serial_that_cannot_be_read(run):
    p = run("--serial", "AAAA", "stats")
    assert p.returncode == 3 and "with serial AAAA" in p.stderr


def test_batch_selection(run):
    requests = [{"id": 1, "cmd": "version"}, {"id": 2, "cmd": "open", "path": "1-1"}, {"id": 3, "cmd": "version"},
                {"id": 4, "cmd": "list"}]
    p = run("batch", input="".join(json.dumps(r) + "\n" for r in requests))
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines[0]["event"] == "ready"
    assert lines[1]["error"] == "ambiguous"
    assert lines[2]["ok"] and lines[2]["device"]["path"] == "1-1"
    assert lines[3]["error"] == "io"
    assert len(lines[4]["devices"]) == 3


def test_bootloader_mode_is_not_spoken_to(run):
    for args in (["stats"], ["echo", "x"], ["stress"], ["timing"], ["uart", "status"], ["reset"]):
        p = run("--device", "1915:521f", *args)
        assert p.returncode == 2, (args, p.stderr)
        assert "is in bootloader mode (1915:521f)" in p.stderr

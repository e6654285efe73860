"""The CLI itself: help, exit codes, usage errors, device selection, list."""
import os

import pytest

COMMANDS = ["list", "desc", "ctrl", "ch9", "stress", "timing", "echo", "uart", "stats", "reset", "bootloader", "batch"]


def test_help_lists_commands_and_exit_codes(hilda):
    r = hilda("--help")
    assert r.rc == 0
    for c in COMMANDS:
        assert f"  {c} " in r.out
    for code, name in [(0, "ok"), (1, "check_failed"), (2, "usage"), (3, "not_found"), (4, "ambiguous"),
                       (5, "no_device"), (6, "io"), (7, "timeout"), (8, "stall"), (9, "protocol"), (10, "access"),
                       (11, "internal"), (130, "interrupted")]:
        assert f"{code:>5}  {name}" in r.out, (code, name)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(hilda, command):
    r = hilda(command, "--help")
    assert r.rc == 0, r
    assert r.out.startswith(f"usage: hilda {command}")
    assert "Exit status:" in r.out and "--json" in r.out
    assert hilda("help", command).out == r.out


def test_usage_errors(hilda):
    for args in (["nope"], ["ch9", "--rounds", "x"], ["ctrl", "in", "vendor"], ["ctrl", "up", "v", "d", "1", "0", "0", "8"],
                 ["list", "--device", "12:zz"], ["stress", "everything"], ["timing", "--kinds", "bulk"],
                 ["uart", "baud", "12345"], ["uart"], ["echo", "--length", "5000"], ["--wait", "-1", "list"],
                 ["desc", "--bogus"]):
        r = hilda(*args)
        assert r.rc == 2, (args, r)
        assert "hilda" in r.err and "--help" in r.err
    r = hilda()
    assert r.rc == 2 and "usage:" in r.err


def test_usage_error_as_json(hilda):
    r = hilda("ctrl", "--json", "0xc0", "1", "0", "0", "99999")
    assert r.rc == 2
    assert r.json == {"ok": False, "command": "ctrl", "error": "usage", "message": r.json["message"], "exit_code": 2}


def test_version(hilda):
    r = hilda("--version")
    assert r.rc == 0 and r.out.startswith("hilda ")


def test_list(hilda):
    r = hilda("list")
    assert r.rc == 0
    assert "1209:0001" in r.out and "application" in r.out and "1209CAFE00D0BEEF" in r.out
    dev = hilda("list", "--json").json["devices"]
    assert len(dev) == 1
    d = dev[0]
    assert d["id"] == "1209:0001" and d["mode"] == "application" and d["speed"] == "full"
    assert d["serial"] == "1209CAFE00D0BEEF" and d["product"] == "hilda nRF52840 test dongle"
    assert d["path"] == "1-1"
    assert len(hilda("list", "--all", "--json").json["devices"]) >= 1


def test_selection(hilda):
    assert hilda("stats", "--serial", "1209CAFE00D0BEEF").rc == 0
    assert hilda("stats", "--path", "1-1").rc == 0
    assert hilda("--device", "1209:0001", "stats").rc == 0
    r = hilda("stats", "--serial", "NOSUCHSERIAL")
    assert r.rc == 3 and "no device matching" in r.err and "NOSUCHSERIAL" in r.err
    r = hilda("stats", "--path", "1-9", "--json")
    assert r.rc == 3 and r.json["error"] == "not_found"
    r = hilda("stats", "--device", "dead:beef", "--wait", "0.3")
    assert r.rc == 3 and "appeared within 0.3 s" in r.err
    # a device in bootloader mode is not taken for the application
    assert hilda("list", "--device", "1915:521f", "--json").json["devices"] == []


def test_no_progress_bar_when_piped(hilda):
    r = hilda("stress", "descriptors", "--max-length", "70")
    assert r.rc == 0
    assert "\r" not in r.err and "\r" not in r.out

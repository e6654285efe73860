"""The CLI as a user expects it (issue 15): the exit code the table gives,
a sentence naming the real problem, "did you mean", a quiet success, and
Ctrl-C keeping what was measured, marked partial, with exit 130. The
interruptions are sent once the emulator's counters show the command at
work, never after a fixed sleep."""
import json
import signal
import subprocess
import time

HANG = 60   # seconds: only catches a hang
# EasyDMA transfers the dongle makes before the SIGINT: some transfers answered (each is a few DMAs)
TRAFFIC_DMAS = 200


def interrupt_after_traffic(hilda_bin, control, *args, dmas=TRAFFIC_DMAS):
    """Starts hilda ARGS, waits (bounded) until the dongle has answered some
    transfers, sends SIGINT, and returns (exit code, stdout, stderr)."""
    start = control("counters")["dma_transfers"]
    p = subprocess.Popen([hilda_bin, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + HANG
    try:
        while control("counters")["dma_transfers"] - start < dmas:
            assert p.poll() is None, f"{args} ended before it could be interrupted: {p.communicate()}"
            assert time.monotonic() < end, "no traffic"
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=HANG)
    finally:
        if p.poll() is None:
            p.kill()
    assert "runtime error:" not in err and "AddressSanitizer" not in err, err
    return p.returncode, out, err


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


# ---- exit codes and sentences ----

def test_list_wait_with_nothing_found_is_not_found(hilda):
    r = hilda("list", "--device", "1234:5678", "--wait", "0.5")
    assert r.rc == 3, r
    assert "no device matching 1234:5678 appeared within 0.5 s" in r.err
    j = hilda("list", "--device", "1234:5678", "--wait", "0.5", "--json")
    assert j.rc == 3 and j.json["error"] == "not_found" and j.json["devices"] == [], j
    # without --wait an empty list is an answer, not a failure
    r = hilda("list", "--device", "1234:5678")
    assert r.rc == 0 and "no device matching 1234:5678 found" in r.out, r
    # and a dongle that is there is found at once
    assert hilda("list", "--wait", "5").rc == 0


def test_global_device_option_filters_list(hilda):
    r = hilda("-d", "1234:5678", "list", "--json")
    assert r.rc == 0 and r.json["devices"] == [], r
    r = hilda("-d", "1209:0001", "list", "--json")
    assert r.rc == 0 and [d["id"] for d in r.json["devices"]] == ["1209:0001"], r
    r = hilda("--serial", "NOSUCH", "list", "--json")
    assert r.rc == 0 and r.json["devices"] == [], r


def test_ch9_only_unknown_check_names_the_valid_ones(hilda):
    r = hilda("ch9", "--only", "99")
    assert r.rc == 2, r
    assert '"99" selects no check' in r.err
    for prefix in ("9.1", "9.2", "9.9", "10-queue", "9.16"):
        assert prefix in r.err, (prefix, r.err)
    assert r.out == ""


def test_hex_errors_name_the_problem(hilda):
    r = hilda("echo", "--hex", "xyz")
    assert r.rc == 2 and "--hex: 'xyz' is not hexadecimal" in r.err, r
    r = hilda("echo", "--hex", "abc")
    assert r.rc == 2 and "--hex: odd number of digits (3)" in r.err, r
    assert "4096" not in r.err and "65535" not in r.err
    r = hilda("ctrl", "out", "vendor", "device", "echo_write", "0", "0", "abc")
    assert r.rc == 2 and "HEXDATA: odd number of digits (3)" in r.err and "65535" not in r.err, r
    r = hilda("uart", "send", "--hex", "0g")
    assert r.rc == 2 and "--hex: '0g' is not hexadecimal" in r.err, r
    r = hilda("echo", "--hex", "00" * 4097)
    assert r.rc == 2 and "--hex: 4097 bytes, at most 4096" in r.err, r


def test_desc_file_that_is_not_a_descriptor_file(hilda, tmp_path):
    r = hilda("desc", "--file", tmp_path)
    assert r.rc == 2 and "is a directory" in r.err, r
    assert "bLength" not in r.out   # no all-zero descriptor
    short = tmp_path / "short"
    short.write_bytes(b"\x12\x01\x00\x02\x00")
    r = hilda("desc", "--file", short)
    assert r.rc == 2 and "holds 5 bytes, fewer than the 18 of a device descriptor" in r.err, r
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = hilda("desc", "--file", empty, "--json")
    assert r.rc == 2 and r.json["error"] == "usage" and "holds 0 bytes" in r.json["message"], r
    r = hilda("desc", "--file", tmp_path / "missing")
    assert r.rc == 2 and "No such file or directory" in r.err, r


def test_uart_baud_lists_the_supported_rates(hilda):
    r = hilda("uart", "baud", "123")
    assert r.rc == 2, r
    assert "unsupported baud rate 123; supported: 9600, 14400, 19200, 28800, 38400, 57600, 76800, 115200, " \
           "230400, 250000, 460800, 921600, 1000000" in r.err
    assert "HILDA_" not in r.err


def test_unknown_command_suggests(hilda):
    r = hilda("lst")
    assert r.rc == 2 and "did you mean 'list'?" in r.err, r
    r = hilda("stres")
    assert r.rc == 2 and "did you mean 'stress'?" in r.err, r
    r = hilda("frobnicate")
    assert r.rc == 2 and "did you mean" not in r.err and 'unknown command "frobnicate"' in r.err, r


def test_echo_success_is_one_line(hilda):
    r = hilda("echo", "--length", "4096")
    assert r.rc == 0, r
    assert r.out.splitlines() == ["echo: 4096 bytes written, 4096 read back (wLength 4096): the same bytes"]
    r = hilda("echo", "--length", "20", "--verbose")
    assert r.rc == 0 and len(r.out.splitlines()) == 3, r
    assert "0010  10 11 12 13" in r.out


# ---- Ctrl-C: what was measured is kept, marked partial, exit 130 ----

def test_timing_interrupted_keeps_the_cells_measured(hilda, hilda_bin, control):
    # --no-device: one EasyDMA per transfer of 8 bytes; the first cell ends after about 1000 of them, the
    # second after 2000: the SIGINT goes in the second
    rc, out, err = interrupt_after_traffic(hilda_bin, control, "timing", "--kinds", "in,out", "--sizes", "8",
                                           "-n", "1000", "--no-device", "--json", dmas=1300)
    assert rc == 130, (out, err)
    j = last_json(out)
    assert j["ok"] is False and j["error"] == "interrupted" and j["exit_code"] == 130 and j["partial"] is True, j
    assert [c["kind"] for c in j["cells"]] == ["in", "out"] and j["cells_not_measured"] == 0, j
    first, second = j["cells"]
    assert first["partial"] is False and first["transfers"] == 1000 and first["host_us"]["n"] == 1000, first
    assert second["partial"] is True and 0 < second["transfers"] < 1000, second
    assert second["host_us"]["n"] + second["errors"] == second["transfers"], second


def test_timing_interrupted_text_marks_partial(hilda, hilda_bin, control):
    rc, out, err = interrupt_after_traffic(hilda_bin, control, "timing", "--kinds", "in,out", "--sizes", "8",
                                           "-n", "20000", "--no-device")
    assert rc == 130, (out, err)
    assert "latency in microseconds" in out
    assert not [line for line in out.splitlines() if line.startswith("out")]   # never started: not shown
    row = [line for line in out.splitlines() if line.startswith("in ")]
    assert len(row) == 1 and "PARTIAL: " in row[0] and " of 20000 transfers" in row[0], out
    assert "PARTIAL: stopped early" in out
    assert "interrupted" in err


def test_stress_interrupted_json_keeps_the_partial_report(hilda, hilda_bin, control):
    rc, out, err = interrupt_after_traffic(hilda_bin, control, "stress", "echo", "--echo-max", "4096", "--json")
    assert rc == 130, (out, err)
    j = last_json(out)
    assert j["ok"] is False and j["error"] == "interrupted" and j["exit_code"] == 130 and j["partial"] is True, j
    piece = j["pieces"][0]
    assert piece["piece"] == "echo" and piece["partial"] is True, piece
    assert piece["verified"] > 0 and piece["failures"] == 0, piece
    assert j["transfers"] == piece["transfers"] > 0, j


def test_ch9_interrupted_reports_pending_checks_as_not_run(hilda, hilda_bin, control):
    # 64 rounds of the queued requests: seconds of work, so the SIGINT lands before the end
    rc, out, err = interrupt_after_traffic(hilda_bin, control, "ch9", "--rounds", "64", "--json", dmas=20)
    assert rc == 130, (out, err)
    j = last_json(out)
    assert j["ok"] is False and j["error"] == "interrupted" and j["partial"] is True, j
    results = [c["result"] for c in j["checks"]]
    assert j["failed"] == 0 and "fail" not in results, [c for c in j["checks"] if c["result"] == "fail"]
    assert j["not_run"] >= 1 and results.count("not_run") == j["not_run"], j
    # every check after the first one not run is not run either: nothing ran after the stop
    first = results.index("not_run")
    assert set(results[first:]) == {"not_run"}, results
    assert j["checks"][-1]["id"] == "9.16-reset"
    # the device is left configured, as found
    assert hilda("ctrl", "in", "standard", "device", "get_configuration", "0", "0", "1", "--json").json["data"] == "01"


def test_ch9_interrupted_text(hilda, hilda_bin, control):
    rc, out, err = interrupt_after_traffic(hilda_bin, control, "ch9", "--rounds", "64", dmas=20)
    assert rc == 130, (out, err)
    assert "not_run" in out and "PARTIAL: " in out and " not run (the battery stopped early" in out, out
    assert "\nfail " not in out
    assert "interrupted" in err

"""hilda rig against the emulator's virtual bench: an FT232R (0403:6001,
serial HILDAEMU0) whose D0 drives the dongle's reset pin and D1 its VBUS
switch, described by the HILDA_RIG file hilda-emu writes for the session
(docs/emulator.md). This session's flash holds no bootloader, so a reset
pulse brings the application back; test_rig_bootloader.py has one."""
import json


def devices(hilda):
    r = hilda("list", "--json")
    assert r.rc == 0, r
    return r.json["devices"]


def test_list(hilda):
    j = hilda("rig", "list", "--json").json
    assert j["action"] == "list"
    [a] = j["adapters"]
    assert a["vidpid"] == "0403:6001" and a["serial"] == "HILDAEMU0" and a["permission"]
    assert a["description"] == "FT232R USB UART"
    r = hilda("rig", "list")
    assert r.rc == 0 and "0403:6001  HILDAEMU0" in r.out


def test_pins_at_rest(hilda):
    j = hilda("rig", "pins", "--json").json
    assert j["reset_asserted"] is False and j["power_on"] is True
    assert j["pins"][0] == 1 and j["pins"][1] == 1
    assert j["adapter"]["serial"] == "HILDAEMU0"


def test_reset_brings_the_dongle_back(hilda):
    before = devices(hilda)[0]
    j = hilda("rig", "reset", "--ms", "20", "--json").json
    assert j["ok"] and j["ms"] == 20 and j["rig"]["reset_pin"] == 0
    r = hilda("list", "--wait", "10", "--json")
    after = r.json["devices"][0]
    assert after["serial"] == before["serial"] and after["address"] != before["address"]
    assert hilda("rig", "pins", "--json").json["reset_asserted"] is False


def test_power_off_and_on(hilda):
    r = hilda("rig", "power", "off")
    assert r.rc == 0 and "power (D1) off" in r.out, r
    try:
        assert devices(hilda) == []
        assert hilda("rig", "pins", "--json").json["power_on"] is False
        # another command in another process leaves the power as it is
        assert hilda("rig", "reset", "--ms", "5").rc == 0
        assert devices(hilda) == []
    finally:
        assert hilda("rig", "power", "on").rc == 0
    assert hilda("list", "--wait", "10", "--json").json["devices"]


def test_power_cycle(hilda):
    before = devices(hilda)[0]
    j = hilda("rig", "power", "cycle", "--off-ms", "200", "--json").json
    assert j["off_ms"] == 200 and j["power_on"] is True
    after = hilda("list", "--wait", "10", "--json").json["devices"][0]
    assert after["address"] != before["address"]


def test_bootloader_without_a_bootloader(hilda):
    r = hilda("rig", "bootloader", "--wait", "2", "--json")
    assert r.rc == 3, r
    assert "no Secure DFU bootloader appeared within 2.0 s" in r.json["message"]


def test_errors_say_what_to_do(hilda, tmp_path):
    r = hilda("rig", "reset", "--adapter", "NOPE")
    assert r.rc == 3 and "no FTDI adapter with the serial NOPE" in r.err, r
    r = hilda("rig", "power")
    assert r.rc == 2 and "on, off or cycle" in r.err, r
    r = hilda("rig", "reset", "--off-ms", "5")
    assert r.rc == 2, r
    bad = tmp_path / "rig.json"
    bad.write_text(json.dumps({"reset": {"pin": 9}}))
    r = hilda("rig", "reset", "--rig", bad)
    assert r.rc == 2 and "reset pin 9 is not one of the adapter's pins 0..7" in r.err, r
    bad.write_text(json.dumps({"dongles": [{"dongle": "A"}, {"dongle": "B"}]}))
    r = hilda("rig", "reset", "--rig", bad, "--json")
    assert r.rc == 2 and "choose one with --dongle SERIAL" in r.json["message"], r

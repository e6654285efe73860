"""hilda rig bootloader against the emulator's virtual bench with hilda's
bootloader in flash (hilda-bootloader-bare.elf beside hilda-dongle.elf): a
reset pulse (RESETREAS.RESETPIN) starts it in DFU mode, and `hilda flash`
brings the application back (HILDA_DONGLE_ELF names the image)."""
import os


def test_bootloader_then_flash(hilda):
    j = hilda("rig", "bootloader", "--wait", "10", "--json").json
    assert j["ok"] and j["action"] == "bootloader", j
    assert j["bootloader"]["mode"] == "bootloader" and j["bootloader"]["id"] == "1209:0002"
    r = hilda("list", "--json")
    assert [d["mode"] for d in r.json["devices"]] == ["bootloader"]
    r = hilda("flash", os.environ["HILDA_DONGLE_ELF"], "--json")
    assert r.rc == 0 and r.json["entry"] == "already_in_dfu", r
    assert r.json["application"] is not None

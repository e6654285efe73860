"""desc (every descriptor, findings) and ctrl (one raw request)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "fuzz", "corpus")


def test_desc_text(hilda):
    r = hilda("desc")
    assert r.rc == 0, r
    for text in ("Device Descriptor:", "bcdUSB               2.01", "idVendor           0x1209",
                 "Configuration Descriptor:", "Interface Descriptor:", "bEndpointAddress    0x81  EP 1 IN",
                 "Binary Object Store Descriptor:", "USB 2.0 Extension Device Capability:",
                 "iSerial                3 1209CAFE00D0BEEF", "hilda vendor loopback",
                 "Device Qualifier: refused (stall), as a full-speed-only device must",
                 "Chapter 9 findings: 0 errors, 0 warnings"):
        assert text in r.out, text


def test_desc_json(hilda):
    j = hilda("desc", "--json").json
    assert j["ok"] and j["errors"] == 0 and j["warnings"] == 0
    d = j["descriptors"]
    assert d["device"]["idVendor"] == 0x1209 and d["device"]["bMaxPacketSize0"] == 64
    assert d["device"]["raw"] == "120101020000004009120100010001020301"
    cfg = d["configurations"][0]["descriptors"]
    assert [x["type"] for x in cfg] == ["configuration", "interface", "endpoint", "endpoint"]
    assert [s["text"] for s in d["strings"]] == ["hilda", "hilda nRF52840 test dongle", "1209CAFE00D0BEEF",
                                                 "hilda vendor loopback"]
    assert d["langids"] == [0x0409]
    assert d["bos"]["capabilities"][0]["bDevCapabilityType"] == 2
    assert d["device_qualifier"] is None and d["status"] == "0000" and d["active_configuration"] == 1
    assert [f["id"] for f in j["findings"]] == ["C9-CAP-LPM"]


def test_desc_hex(hilda):
    r = hilda("desc", "--hex")
    assert r.rc == 0 and "12 01 01 02 00 00 00 40  09 12 01 00 01 00 01 02" in r.out


def test_desc_file_malformed(hilda, tmp_path):
    # the corpus files start with the fuzzer's mode byte: strip it
    for name, finding in (("blob-blength-zero", "P-BLENGTH-ZERO"), ("blob-past-end", "P-PAST-END"),
                          ("blob-total-lies-long", "P-TOTAL-SHORT")):
        raw = open(os.path.join(CORPUS, name), "rb").read()[1:]
        f = tmp_path / name
        f.write_bytes(raw)
        r = hilda("desc", "--file", f, "--json")
        assert r.rc == 1, r
        assert finding in [x["id"] for x in r.json["findings"]]
        assert hilda("desc", "--file", f).rc == 1
    good = tmp_path / "good"
    good.write_bytes(open(os.path.join(CORPUS, "blob-hilda"), "rb").read()[1:])
    assert hilda("desc", "--file", good).rc == 0
    assert hilda("desc", "--file", tmp_path / "missing").rc == 2


def test_ctrl_in(hilda):
    r = hilda("ctrl", "in", "vendor", "device", "get_version", "0", "0", "8")
    assert r.rc == 0, r
    assert "vendor GET_VERSION" in r.out and ": 8 bytes" in r.out and "0000  01 01 01 00" in r.out   # protocol 1.1, firmware 0.1
    j = hilda("ctrl", "0x80", "get_descriptor", "0x0100", "0", "18", "--json").json
    assert j["data"] == "120101020000004009120100010001020301" and j["length"] == 18
    j = hilda("ctrl", "i", "s", "d", "6", "0x0200", "0", "1024", "--json").json
    assert j["length"] == 32   # a short read: min(wLength, wTotalLength)
    r = hilda("ctrl", "0x80", "6", "0x0100", "0", "18", "--raw")
    assert r.rc == 0 and len(r.out.encode("latin-1", "surrogateescape")) == 18


def test_ctrl_out_then_in(hilda):
    r = hilda("ctrl", "out", "vendor", "device", "echo_write", "0", "0", "de ad be ef")
    assert r.rc == 0 and "4 bytes sent" in r.out
    j = hilda("ctrl", "--json", "in", "vendor", "device", "echo_read", "0", "0", "64").json
    assert j["data"] == "deadbeef"
    assert hilda("ctrl", "out", "vendor", "device", "echo_write", "0", "0", "-").rc == 0
    assert hilda("ctrl", "--json", "0xc0", "0x11", "0", "0", "64").json["length"] == 0


def test_ctrl_stall(hilda):
    r = hilda("ctrl", "in", "standard", "device", "get_descriptor", "0x4200", "0", "64")
    assert r.rc == 8, r
    assert "STALL" in r.err
    j = hilda("ctrl", "--json", "0xc2", "1", "0", "0", "8").json   # vendor to an endpoint: refused
    assert j["error"] == "stall" and not j["ok"] and j["exit_code"] == 8
    assert hilda("ctrl", "0xc0", "1", "0", "0", "8").rc == 0   # and the device recovers


def test_ctrl_timeout(hilda):
    assert hilda("ctrl", "out", "vendor", "device", "fault_delay", "600", "0", "-").rc == 0
    r = hilda("ctrl", "--timeout", "100", "in", "vendor", "device", "get_version", "0", "0", "8")
    assert r.rc == 7, r
    assert "no answer within 100 ms" in r.err
    r = hilda("ctrl", "-t", "3000", "0xc0", "1", "0", "0", "8")
    assert r.rc == 0, r


def test_ctrl_host_limit(hilda):
    # Linux usbfs takes at most 4096 bytes of control data: said, not sent
    r = hilda("ctrl", "0x80", "6", "0x0100", "0", "5000")
    assert r.rc == 2 and "4096" in r.err

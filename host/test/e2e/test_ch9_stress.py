"""ch9 (the conformance battery) and stress (every answer verified)."""


def test_ch9_passes(hilda):
    r = hilda("ch9")
    assert r.rc == 0, r
    assert "0 failed" in r.out
    j = hilda("ch9", "--json").json
    checks = {c["id"]: c for c in j["checks"]}
    assert j["failed"] == 0 and j["passed"] >= 45, j
    for cid in ("9.1-device", "9.2-config-long", "9.2-validate", "9.10-bad-type", "9.8-string0", "9.7-bos",
                "9.13-set-configuration", "9.13-address-status-device", "9.18-status-device", "9.4-get-interface",
                "9.9-halt-0x81", "9.9-halt-0x01", "9.9-loopback-toggle", "10-queue", "9.16-reset"):
        assert checks[cid]["result"] == "pass", checks.get(cid)
    for c in j["checks"]:
        assert c["result"] in ("pass", "skip"), c
        assert c["reason"] and c["title"]
        if c["result"] == "skip":
            assert "host OS refused" in c["reason"]
    assert checks["9.13-set-configuration"]["reason"] == "set->get: 1->1, 1->1, 0->0, 1->1"
    # the device is left configured
    assert hilda("ctrl", "--json", "0x80", "8", "0", "0", "1").json["data"] == "01"


def test_ch9_only_and_options(hilda):
    j = hilda("ch9", "--only", "9.9", "--json").json
    assert j["checks"] and all(c["id"].startswith("9.9") for c in j["checks"])
    j = hilda("ch9", "--only", "10-queue", "--rounds", "16", "--json").json
    assert j["checks"][0]["result"] == "pass" and "256 transfers" in j["checks"][0]["reason"]
    j = hilda("ch9", "--no-reset", "--json").json
    assert "9.16-reset" not in [c["id"] for c in j["checks"]]


def test_stress_each_piece(hilda):
    r = hilda("stress", "descriptors", "echo", "random", "async", "--max-length", "300", "--step", "3",
              "--echo-max", "520", "--count", "800", "--transfers", "300", "--in-flight", "24", "--seed", "5")
    assert r.rc == 0, r
    assert "random seed 5" in r.out and "every answer verified" in r.out
    j = hilda("stress", "--json", "--max-length", "130", "--echo-max", "130", "--count", "300", "--transfers", "100",
              "--seed", "11").json
    assert j["failures"] == 0 and j["seed"] == 11
    pieces = {p["piece"]: p for p in j["pieces"]}
    assert set(pieces) == {"descriptors", "echo", "random", "async"}
    for p in pieces.values():
        assert p["failures"] == 0 and p["verified"] > 0 and p["failed"] == []
        assert p["verified"] <= p["transfers"]
    # descriptors: every length 0..130 of every descriptor and variant (device, config, BOS, 5 strings, 5 variants)
    assert pieces["descriptors"]["transfers"] >= 13 * 131
    assert pieces["echo"]["transfers"] == 2 * 2 * 131
    assert pieces["random"]["stalls_expected"] > 0 and pieces["async"]["stalls_expected"] > 0


def test_stress_zlp_boundaries(hilda):
    # wLength 0..300 covers every variant's ZLP case: 64 and 128 exactly, and 255 against 64/128
    j = hilda("stress", "descriptors", "--json", "--max-length", "300").json
    assert j["failures"] == 0, j


def test_stress_random_replays(hilda):
    a = hilda("stress", "random", "--seed", "1234", "--count", "400", "--json").json["pieces"][0]
    b = hilda("stress", "random", "--seed", "1234", "--count", "400", "--json").json["pieces"][0]
    assert a["failures"] == b["failures"] == 0
    assert a["stalls_expected"] == b["stalls_expected"] > 0   # the same requests, so the same STALLs
    c = hilda("stress", "random", "--seed", "1235", "--count", "400", "--json").json["pieces"][0]
    assert c["failures"] == 0


def test_stress_fault_left_behind_is_cleaned(hilda):
    # whatever the random sequence left armed, the next command works
    hilda("stress", "random", "--seed", "77", "--count", "50")
    assert hilda("ctrl", "0xc0", "1", "0", "0", "8").rc == 0

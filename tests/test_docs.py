"""The docs stand alone in a clone and say what the programs do (issue 15 points 6 and 7).

- README.md and docs/*.md cite public sources, never the team's notes outside the repository, and
  every relative link in them points at a file of the repository;
- the commands they document run: `hilda --help`, `hilda-emu --help`, `hilda COMMAND --help` for every
  command docs/host.md lists (and it lists every command `hilda --help` has, with their options);
- `meson install --destdir` (docs/install.md) installs hilda, hilda-emu, the udev rule, the man pages and
  the docs, where `hilda --help` says the docs are;
- udev/70-hilda.rules is well-formed and names exactly the IDs of include/hilda/ and the rig's adapters.

No device needed: this runs the same on every target (the programs come from --build)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                              if f.endswith(".md"))
RULE = os.path.join(ROOT, "udev", "70-hilda.rules")

# What a clone does not have: the team's notes beside the repository.
PRIVATE_CITATIONS = re.compile(r"\.\./shared|shared/reference|shared/seeds|validation\.md|reference §|"
                               r"emulation\.md|nrf52840\.md|anchors\.md")
CODE_SUFFIXES = (".c", ".h", ".py", ".md", ".build", ".ld", ".ini")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# ---- (a) public sources only ----

@pytest.mark.parametrize("doc", DOCS)
def test_doc_cites_no_private_notes(doc):
    hits = [f"{doc}:{n}: {line.strip()}" for n, line in enumerate(read(doc).split("\n"), 1)
            if PRIVATE_CITATIONS.search(line)]
    assert not hits, "cite a public source (docs/sources.md) instead of:\n" + "\n".join(hits)


def tracked_source_files():
    """The checkout's files (git's view, so ignored ones are left out); in a tree that is not a git
    checkout (a release tarball, a copy) every file outside build dirs and results."""
    git = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        out = git.stdout.split("\n")
    else:
        out = [os.path.relpath(os.path.join(d, f), ROOT) for d, dirs, files in os.walk(ROOT) for f in files
               if not os.path.relpath(d, ROOT).startswith((".git", "build", "results"))]
    return [p for p in out if p.endswith(CODE_SUFFIXES) and not p.startswith(("results/", "build"))
            and os.path.exists(os.path.join(ROOT, p)) and p != "tests/test_docs.py"]


def test_code_cites_no_private_notes():
    citing = sorted(p for p in tracked_source_files() if PRIVATE_CITATIONS.search(read(p)))
    assert not citing, "cite a public source (docs/sources.md) instead, in " + ", ".join(citing)


def test_sources_md_explains_every_section_number_the_docs_use():
    """A bare "§4.2" in a doc or comment is one of docs/sources.md's rows (USB 2.0 numbers aside)."""
    rows = set(re.findall(r"^\| (§[0-9.]+) \|", read("docs/sources.md"), re.M))
    assert {"§2.8", "§3.2", "§6.1", "§7.4"} <= rows, rows
    used = set()
    for doc in DOCS:
        for line in read(doc).split("\n"):
            if "USB 2.0" in line or "9.x" in line:
                continue
            used.update(m.rstrip(".") for m in re.findall(r"§([0-9][0-9.]*)", line))
    unknown = {n for n in used if "§" + n not in rows and "§" + n.split(".")[0] not in rows}
    assert not unknown, f"section numbers with no row in docs/sources.md: {sorted(unknown)}"


# ---- (b) links ----

def relative_links(doc):
    for target in LINK.findall(read(doc)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue   # http(s), mailto, or an anchor in the same page
        yield target.split("#", 1)[0]


def test_docs_have_relative_links():
    assert sum(1 for d in DOCS for _ in relative_links(d)) >= 20


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_point_at_files_of_the_repository(doc):
    base = os.path.dirname(os.path.join(ROOT, doc))
    broken = []
    for target in relative_links(doc):
        path = os.path.normpath(os.path.join(base, target))
        if not path.startswith(ROOT + os.sep) or not os.path.exists(path):
            broken.append(target)
    assert not broken, f"{doc}: links to nothing in the repository: {broken}"


# ---- (c) the documented commands ----

def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def build(pytestconfig):
    return pytestconfig.hilda_build


@pytest.fixture(scope="module")
def hilda(build):
    path = os.path.join(build, "host", "hilda")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build first (ninja -C {build})")
    return path


@pytest.fixture(scope="module")
def hilda_help(hilda):
    r = run([hilda, "--help"])
    assert r.returncode == 0, r.stderr
    return r.stdout


def listed_commands(help_text):
    block = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.split("\n") if line.strip()]


def documented_commands():
    """{command: its bullet's text} from docs/host.md's "Commands" section ("- **name** ...")."""
    section = read("docs/host.md").split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n(?=- \*\*)", section)
    return {m.group(1): b for b in bullets for m in [re.match(r"- \*\*([a-z0-9-]+)\*\*", b)] if m}


def test_host_md_documents_every_command(hilda_help):
    commands = listed_commands(hilda_help)
    assert len(commands) >= 10 and "ch9" in commands, commands
    assert sorted(documented_commands()) == sorted(commands)


@pytest.mark.parametrize("command", sorted(documented_commands()))
def test_documented_command_has_help_with_its_documented_options(hilda, command):
    r = run([hilda, command, "--help"])
    assert r.returncode == 0, f"hilda {command} --help: exit {r.returncode}: {r.stderr}"
    if command != "batch":   # the other front-end: its --help is the tool's
        assert r.stdout.startswith(f"usage: hilda {command}"), r.stdout[:200]
    options = set(re.findall(r"(--[a-z][a-z-]*)", documented_commands()[command]))
    missing = sorted(o for o in options if o not in r.stdout)
    assert not missing, f"docs/host.md gives `hilda {command}` options its --help does not have: {missing}"


def test_hilda_emu_help(build):
    r = run([os.path.join(build, "emu", "hilda-emu"), "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: hilda-emu") and "--firmware FILE" in r.stdout


def test_help_points_at_the_installed_docs(hilda_help):
    m = re.search(r"installed: (/\S+)/docs/host\.md", hilda_help)
    assert m, hilda_help[-300:]
    assert "man hilda" in hilda_help


def test_man_pages_are_built_from_help(build, hilda_help):
    page = open(os.path.join(build, "man", "hilda.1")).read()
    assert page.startswith(".TH HILDA 1 ")
    sections = re.findall(r"^\.SS (\S+)$", page, re.M)
    assert sections == [c for c in listed_commands(hilda_help) if c != "batch"]
    # the --help text itself, in the page
    assert "Exit status:" in page and "usage: hilda ch9" in page
    emu_page = open(os.path.join(build, "man", "hilda-emu.1")).read()
    assert emu_page.startswith(".TH HILDA-EMU 1 ") and "\\-\\-wall\\-limit" not in emu_page
    assert "--wall-limit SECONDS" in emu_page
    if shutil.which("groff"):
        for name in ("hilda.1", "hilda-emu.1"):
            r = run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(build, "man", name)])
            assert r.returncode == 0 and not r.stderr.strip(), f"{name}: {r.stderr}"


def test_meson_install_installs_programs_rule_man_pages_and_docs(build, hilda_help, tmp_path):
    """The command of docs/install.md, into a staging directory (--no-rebuild: the build is done)."""
    staging = tmp_path / "staging"
    r = run(["meson", "install", "-C", build, "--destdir", str(staging), "--no-rebuild"])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    installed = {os.path.relpath(os.path.join(d, f), staging) for d, _, fs in os.walk(staging) for f in fs}
    # name -> where it went (the rule goes twice: to udev, and beside the installed docs that link it)
    names = {os.path.basename(p): p for p in sorted(installed, key=lambda p: "/share/doc/" in p, reverse=True)}
    for name, where in (("hilda", "/bin/"), ("hilda-emu", "/bin/"), ("70-hilda.rules", "/lib/udev/rules.d/"),
                        ("hilda.1", "/man/man1/"), ("hilda-emu.1", "/man/man1/"),
                        ("libhilda-emu-preload.so", "/hilda/"), ("hilda-dongle.elf", "/hilda/"),
                        ("install.md", "/doc/hilda/docs/")):
        assert name in names, f"meson install did not install {name}: {sorted(installed)}"
        assert where in "/" + names[name], names[name]
    with open(staging / names["70-hilda.rules"]) as f:
        assert f.read() == read("udev/70-hilda.rules")
    # the docs as the clone lays them out, where --help says, with every relative link leading somewhere
    # the installed hilda-emu finds its preload library and default image (../lib/hilda), from wherever
    # the tree is: here the staging directory
    bindir = staging / os.path.dirname(names["hilda-emu"])
    r = run([str(bindir / "hilda-emu"), "run", "--", "/bin/sh", "-c", 'echo "$LD_PRELOAD"'])
    assert r.returncode == 0, r.stderr[-2000:]
    assert str(staging / names["libhilda-emu-preload.so"]) in r.stdout.replace("/bin/../lib/", "/lib/"), r.stdout
    docdir = staging / re.search(r"installed: (/\S+)/docs/host\.md", hilda_help).group(1).lstrip("/")
    for doc in DOCS:
        assert (docdir / doc).is_file(), f"{doc} not installed in {docdir}"
        for target in relative_links(doc):
            assert (docdir / os.path.dirname(doc) / target).exists(), f"installed {doc}: {target} leads nowhere"


# ---- (d) the udev rule ----

MATCH_KEYS = {"SUBSYSTEM", "SUBSYSTEMS", "ATTR", "ATTRS", "KERNEL", "ACTION", "ENV", "DRIVER", "DRIVERS"}
ASSIGN_KEYS = {"MODE", "GROUP", "OWNER", "TAG", "SYMLINK", "ENV", "RUN"}
PAIR = re.compile(r'\s*([A-Z]+)(\{[A-Za-z_]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')


def rule_lines():
    for n, line in enumerate(read("udev/70-hilda.rules").split("\n"), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield n, line


def parse_rule(line):
    """[(key, attribute, operator, value)] of one rule line, or an AssertionError saying what is wrong."""
    pairs, at = [], 0
    while at < len(line):
        m = PAIR.match(line, at)
        assert m, f"cannot parse from column {at}: {line[at:]!r}"
        key, attr, op, value, _ = m.groups()
        if op in ("==", "!="):
            assert key in MATCH_KEYS, f"{key} is not a match key"
        else:
            assert key in ASSIGN_KEYS, f"{key} is not an assignment key"
        pairs.append((key, (attr or "")[1:-1], op, value))
        at = m.end()
    return pairs


def test_rule_parser_refuses_broken_lines():
    for bad in ('SUBSYSTEM=="usb" ATTR{idVendor}=="1209"', 'SUBSYSTEM=="usb", MODE=0660',
                'SUBSYSTEM=="usb", MODES="0660"', 'SUBSYSTEM="usb", MODE="0660"'):
        with pytest.raises(AssertionError):
            parse_rule(bad)


def rule_ids():
    """{(subsystem, "vvvv:pppp")} the rule gives access to, each line checked on the way."""
    ids = set()
    for n, line in rule_lines():
        pairs = parse_rule(line)
        d = {(k, a): (op, v) for k, a, op, v in pairs}
        subsystem = d[("SUBSYSTEM", "")][1]
        attr = "ATTR" if subsystem == "usb" else "ATTRS"   # the usb_device itself, or a tty's parent
        vid, pid = d[(attr, "idVendor")][1], d[(attr, "idProduct")][1]
        assert re.fullmatch(r"[0-9a-f]{4}", vid) and re.fullmatch(r"[0-9a-f]{4}", pid), \
            f"line {n}: sysfs spells IDs as 4 lower-case hex digits: {vid}:{pid}"
        assert d[("MODE", "")] == ("=", "0660") and d[("GROUP", "")] == ("=", "plugdev"), f"line {n}"
        ids.add((subsystem, f"{vid}:{pid}"))
    return ids


def header_id(header, name):
    m = re.search(rf"#define\s+{name}\s+0x([0-9A-Fa-f]+)", read(header))
    assert m, f"{name} not in {header}"
    return f"{int(m.group(1), 16):04x}"


def test_rule_names_every_identity_of_the_dongle_and_the_rigs_adapters():
    want = set()
    for header, prefix in (("include/hilda/protocol.h", "HILDA_USB"), ("include/hilda/protocol.h", "HILDA_GZ_USB"),
                           ("include/hilda/bootloader.h", "HILDA_BOOTLOADER"),
                           ("include/hilda/bootloader.h", "NORDIC_OPEN_BOOTLOADER")):
        want.add(("usb", f"{header_id(header, prefix + '_VID')}:{header_id(header, prefix + '_PID')}"))
    ftdi_vid = header_id("host/rig/rig_adapter.h", "HILDA_RIG_FTDI_VID")
    pids = re.search(r"supported_pids\[\]\s*=\s*\{([^}]*)\}", read("host/rig/rig_adapter.c")).group(1)
    want |= {("usb", f"{ftdi_vid}:{int(p, 16):04x}") for p in re.findall(r"0x([0-9A-Fa-f]+)", pids)}
    # the bootloaders' CDC ACM ports, for serial DFU tools
    want |= {("tty", i) for s, i in want if i in ("1209:0002", "1915:521f")}
    assert rule_ids() == want


def test_udevadm_verify_accepts_the_rule():
    """systemd >= 253 has `udevadm verify`; Debian 12's udev (252) has not: then the checks above stand."""
    udevadm = shutil.which("udevadm")
    if not udevadm or run([udevadm, "verify", "--help"]).returncode != 0:
        pytest.skip("no `udevadm verify` here (Debian 12's udev 252 predates it): the rule's own parser checks it")
    r = run([udevadm, "verify", RULE])
    assert r.returncode == 0, r.stdout + r.stderr

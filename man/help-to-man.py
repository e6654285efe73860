#!/usr/bin/python3
"""Writes a section-1 man page from a program's --help, at build time.

    help-to-man.py --name hilda-emu --summary "..." --output hilda-emu.1 PROGRAM
    help-to-man.py --name hilda ... --commands PROGRAM

The --help text is the one description of a program's options (the C code
prints it; nothing here repeats it), so the page cannot drift from the
binary. With --commands, every command that `PROGRAM --help` lists under
"Commands:" gets a section of its own from `PROGRAM COMMAND --help`, without
the common options and exit status the main text already has. Our own
script rather than Debian's help2man: one build dependency fewer, and the
layout (commands as subsections) fits hilda's help.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys

# Where a command's --help starts repeating what the program's --help says.
COMMON_PART = "Device selection and common options"


def help_text(argv):
    """stdout of `argv --help` (exit 0 required: a broken --help fails the build)."""
    run = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        sys.exit(f"help-to-man: {' '.join(argv)} --help exited {run.returncode}: {run.stderr.strip()}")
    return run.stdout


def roff_line(line):
    """One text line made safe for roff: backslashes, and control characters at the start."""
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def verbatim(text):
    """Text kept as printed (the help's own columns), in a no-fill block."""
    lines = [roff_line(s) for s in text.rstrip("\n").split("\n")]
    return ".nf\n" + "\n".join(lines) + "\n.fi\n"


def listed_commands(text):
    """The names in the "Commands:" block: lines "  name  summary" up to a blank line."""
    names, inside = [], False
    for line in text.split("\n"):
        if line.startswith("Commands:"):
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"\s+([a-z][a-z0-9-]*)\s", line)
            if m:
                names.append(m.group(1))
    return names


def without_common_part(text):
    cut = text.find(COMMON_PART)
    return text[:cut] if cut >= 0 else text


def page(args):
    main = help_text([args.program])
    # SOURCE_DATE_EPOCH: reproducible pages, as Debian's builds expect
    when = datetime.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or
                                           datetime.datetime.now().timestamp(), datetime.timezone.utc)
    out = [f'.TH {args.name.upper()} 1 "{when:%Y-%m-%d}" "hilda {args.version}" "User Commands"\n',
           ".SH NAME\n", f"{args.name} \\- {roff_line(args.summary)}\n",
           ".SH DESCRIPTION\n", verbatim(main)]
    if args.commands:
        out.append(".SH COMMANDS\n")
        for name in listed_commands(main):
            if name == "batch":   # a front-end, not a registry command: its help is the main one's
                continue
            out.append(f".SS {name}\n")
            out.append(verbatim(without_common_part(help_text([args.program, name]))))
    out.append(".SH FILES\n")
    out.append(".TP\n.I <prefix>/lib/udev/rules.d/70-hilda.rules\n"
               "the udev rule that gives the plugdev group access to the dongle and the rig's FTDI adapters\n")
    out.append(".TP\n.I <prefix>/share/doc/hilda/\n"
               "the documentation: README.md, and in docs/: install.md (access without root), host.md,\n"
               "emulator.md, hil.md, rig.md\n")
    out.append(".SH SEE ALSO\n")
    out.append(", ".join(f"\\fB{s}\\fR(1)" for s in args.see_also) + "\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--summary", required=True, help="the NAME line's text")
    ap.add_argument("--version", required=True)
    ap.add_argument("--commands", action="store_true", help="a section per command (hilda)")
    ap.add_argument("--see-also", action="append", default=[])
    ap.add_argument("--output", required=True)
    ap.add_argument("program")
    args = ap.parse_args()
    text = page(args)
    with open(args.output + ".tmp", "w") as f:
        f.write(text)
    os.replace(args.output + ".tmp", args.output)


if __name__ == "__main__":
    main()

"""What must hold for a whole test session, checked once at its start
(conftest.py's pytest_configure, in the xdist controller before any worker
starts): the target, the build, the firmware image. A check that fails raises
SessionError with one sentence; conftest.py turns it into pytest's usage error
(exit 4), so a session-wide problem is said once instead of by every test.

The target: --target emu is the emulated dongle; hw a dongle on this
machine's USB (rig/usbscan.py); auto the dongle if one is there and can be
opened, else the emulated one, and it says which of the three it saw: no USB
backend, a dongle this user may not open (that stops the session: running
the emulator instead would pass off its results as the dongle's), no dongle."""
import os
import time

from . import usbscan
from .hardware import HILDA_BOOTLOADER_IDS
from .image import image_kind
from .target import usb_id_text
from .vocabulary import APP_PID, APP_VID, BOOTLOADER_PID, BOOTLOADER_VID

# --target hw: how long to look for a dongle that is not there yet (one that
# is re-enumerating after the last session's reset takes about a second)
HW_WAIT_S = 3.0

UDEV_RULE = "udev/70-hilda.rules (docs/install.md)"     # docs/install.md says where it goes


class SessionError(Exception):
    """A session-wide check failed; str() is the one sentence to print."""


def dongle_ids(device_id=None, bootloaders=True):
    """The (vid, pid) a dongle may show: the application's (hilda's 1209:0001,
    or a foreign firmware's device_id) and, when the session flashes, the DFU
    bootloaders' (hilda's, Nordic's 1915:521f): rig/hardware.py accepts the same."""
    ids = [device_id or (APP_VID, APP_PID)]
    if bootloaders:
        ids += [HILDA_BOOTLOADER_IDS, (BOOTLOADER_VID, BOOTLOADER_PID)]
    return ids


def _id_list(ids):
    names = [usb_id_text(i) for i in ids]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "es" if word.endswith("s") else "s")


def choose_target(wanted, ids, serial=None, scan=None, wait_s=HW_WAIT_S, sleep=time.sleep):
    """(target, why) for --target wanted ("auto", "emu" or "hw"); SessionError
    when hw cannot be had (auto: only when a dongle is there but cannot be
    opened). ids: dongle_ids(); serial: --dongle; scan: usbscan.scan's stand-in."""
    if wanted == "emu":
        return "emu", "chosen with --target emu"
    scan = scan or usbscan.scan
    found = scan(ids, serial=serial)
    end = time.monotonic() + wait_s
    while wanted == "hw" and found.verdict == usbscan.NO_DONGLE and time.monotonic() < end:
        sleep(0.25)
        found = scan(ids, serial=serial)
    which = f"with serial {serial} " if serial else ""
    if found.verdict == usbscan.DONGLE:
        listing = ", ".join(f"{usb_id_text((d.vid, d.pid))} {d.serial or '?'} on bus {d.bus}" for d in found.dongles)
        return "hw", (f"auto: found {_plural(len(found.dongles), 'dongle')} on USB ({listing})" if wanted == "auto"
                      else f"chosen with --target hw ({listing})")
    if found.verdict == usbscan.NO_PERMISSION:
        device, problem = found.denied[0]
        raise SessionError(f"--target {wanted}: a dongle {which}is attached ({usb_id_text((device.vid, device.pid))} "
                           f"at {device.node}) but this user cannot open it ({problem}): install hilda's udev rule "
                           f"{UDEV_RULE} and plug the dongle in again, or use --target emu")
    if found.verdict == usbscan.NO_BACKEND:
        if wanted == "auto":
            return "emu", f"auto: no USB backend here ({found.why}), so the emulated dongle"
        raise SessionError(f"--target hw: no USB backend here: {found.why}; use --target emu")
    looked = f"looked for {_id_list(ids)} {which}on {_plural(found.buses, 'USB bus')}"
    if wanted == "auto":
        return "emu", f"auto: USB works but no dongle is attached ({looked}), so the emulated dongle"
    waited = f" for {wait_s:g} s" if wait_s else ""
    raise SessionError(f"--target hw: no nRF52840 dongle found ({looked}{waited}); plug one in or use "
                       "--target emu")


def build_command(build):
    """The command that builds what the session needs into build."""
    if os.path.isfile(os.path.join(build, "build.ninja")):
        return f"ninja -C {build}"
    return f"meson setup {build} && ninja -C {build}"


def check_build(build, tools):
    """SessionError unless build is a directory holding every path of tools
    (relative to it: host/hilda, emu/hilda-emu, images)."""
    if not os.path.isdir(build):
        raise SessionError(f"--build {build} does not exist: build first ({build_command(build)}), or give "
                           "--build DIR")
    missing = [tool for tool in tools if not os.path.isfile(os.path.join(build, tool))]
    if missing:
        raise SessionError(f"{', '.join(os.path.join(build, tool) for tool in missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} missing: build first ({build_command(build)})")


def check_firmware(path):
    """The kind of the image at path (rig/image.py's image_kind: elf, hex or
    package); SessionError when it is missing, unreadable or not an image."""
    if not os.path.exists(path):
        raise SessionError(f"--firmware {path}: no such file")
    if os.path.isdir(path):
        raise SessionError(f"--firmware {path} is a directory, not a firmware image")
    try:
        return image_kind(path)
    except OSError as e:
        raise SessionError(f"--firmware {path}: cannot read it ({e.strerror})") from None
    except ValueError as e:
        raise SessionError(f"--firmware {path} {e}") from None


def package_not_flashed(path):
    """The sentence for an nrfutil package where nothing flashes it (the
    emulator runs a foreign image, or any under --skip-flash, directly)."""
    return (f"--firmware {path} is an nrfutil package, which only `hilda flash` takes, but the emulator runs "
            "this image directly: give it as ELF or Intel HEX")

"""What this machine's USB shows of the dongle, read from sysfs and the usbfs
device nodes as libusb's Linux backend reads them (Linux: drivers/usb/core/
sysfs.c for the attributes, devio.c for /dev/bus/usb/BBB/DDD). One of:

    no_backend     no USB to use: no /sys/bus/usb (the kernel has no USB core)
                   or no /dev/bus/usb (no usbfs nodes: libusb has nothing to open)
    no_permission  a device with a dongle's IDs is there, but its node cannot
                   be opened for reading and writing (EACCES: no udev rule)
    no_dongle      USB works, no device with a dongle's IDs
    dongle         at least one dongle that this user can open

Why sysfs and not libusb (pyusb, or `hilda list --json`): on a machine
without USB `hilda list --json` answers {"devices": []} with exit 0, exactly
as on one with USB and no dongle, and libusb lists a device it may not open
without saying so (LIBUSB_ERROR_ACCESS comes only from libusb_open); it also
needs the build. sysfs names every device with its IDs and serial number
without opening it, so opening the node is the one step left to try. The
roots are arguments (and module constants) so that
tests/test_session_errors.py can give a fake tree; nothing else changes them."""
import errno
import os
from dataclasses import dataclass, field

SYSFS = "/sys"
DEVFS = "/dev"

NO_BACKEND = "no_backend"
NO_PERMISSION = "no_permission"
NO_DONGLE = "no_dongle"
DONGLE = "dongle"


@dataclass(frozen=True)
class UsbDevice:
    """One USB device as sysfs shows it."""
    bus: int
    address: int
    vid: int
    pid: int
    serial: str
    node: str          # its usbfs node, /dev/bus/usb/BBB/DDD


@dataclass
class UsbScan:
    """The result of scan(): the verdict and what it was drawn from."""
    verdict: str
    why: str                                     # for NO_BACKEND: what is missing
    buses: int = 0
    dongles: list = field(default_factory=list)  # [UsbDevice] this user can open
    denied: list = field(default_factory=list)   # [(UsbDevice, errno name)] it cannot


def node_open_error(path):
    """The errno name of opening a usbfs node for reading and writing
    (as libusb does), or "" if it opens. Tests replace it: as root every
    node opens."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CLOEXEC))
        return ""
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def _attribute(folder, name):
    try:
        with open(os.path.join(folder, name), errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def list_devices(sysfs=None, devfs=None):
    """([UsbDevice] of every device in sysfs, number of buses); OSError if
    sysfs has no USB. Interfaces ("1-1:1.0") have no idVendor and are skipped."""
    sysfs = sysfs or SYSFS
    devfs = devfs or DEVFS
    folder = os.path.join(sysfs, "bus", "usb", "devices")
    devices, buses = [], set()
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        vid, pid = _attribute(path, "idVendor"), _attribute(path, "idProduct")
        bus, address = _attribute(path, "busnum"), _attribute(path, "devnum")
        if None in (vid, pid, bus, address):
            continue
        try:
            device = UsbDevice(bus=int(bus), address=int(address), vid=int(vid, 16), pid=int(pid, 16),
                               serial=_attribute(path, "serial") or "",
                               node=os.path.join(devfs, "bus", "usb", f"{int(bus):03d}", f"{int(address):03d}"))
        except ValueError:
            continue        # a half-written entry of a device being added
        buses.add(device.bus)
        devices.append(device)
    return devices, len(buses)


def scan(ids, serial=None, sysfs=None, devfs=None, open_error=None):
    """UsbScan of the devices whose (vid, pid) is in ids (and whose serial
    number is serial, when given)."""
    sysfs = sysfs or SYSFS
    devfs = devfs or DEVFS
    open_error = open_error or node_open_error
    if not os.path.isdir(os.path.join(sysfs, "bus", "usb")):
        return UsbScan(NO_BACKEND, f"{os.path.join(sysfs, 'bus', 'usb')} does not exist: no USB host controller "
                                   "in this kernel, container or VM")
    if not os.path.isdir(os.path.join(devfs, "bus", "usb")):
        return UsbScan(NO_BACKEND, f"{os.path.join(devfs, 'bus', 'usb')} does not exist: libusb has no usbfs "
                                   "device nodes to open, as in a container started without them")
    try:
        devices, buses = list_devices(sysfs, devfs)
    except OSError as e:
        return UsbScan(NO_BACKEND, f"cannot read {os.path.join(sysfs, 'bus', 'usb', 'devices')}: {e.strerror}")
    result = UsbScan(NO_DONGLE, "", buses=buses)
    for device in devices:
        if (device.vid, device.pid) not in ids or (serial and device.serial != serial):
            continue
        problem = open_error(device.node)
        if problem:
            result.denied.append((device, problem))
        else:
            result.dongles.append(device)
    if result.dongles:
        result.verdict = DONGLE
    elif result.denied:
        result.verdict = NO_PERMISSION
    return result

"""A real dongle on this machine's USB: found through libusb (pyusb), in
application mode (the hilda firmware) or in its factory bootloader."""
from .vocabulary import APP_VID, APP_PID, BOOTLOADER_VID, BOOTLOADER_PID  # noqa: F401 (re-exported)


def find_dongles():
    """[(mode, serial, bus, address)] of every hilda dongle attached; [] when
    this machine has no USB (or no libusb backend)."""
    try:
        import usb.core
        devices = list(usb.core.find(find_all=True))
    except Exception:            # no backend, no /dev/bus/usb: no hardware here
        return []
    found = []
    for dev in devices:
        ids = (dev.idVendor, dev.idProduct)
        if ids == (APP_VID, APP_PID):
            mode = "application"
        elif ids == (BOOTLOADER_VID, BOOTLOADER_PID):
            mode = "bootloader"
        else:
            continue
        try:
            serial = dev.serial_number or ""
        except Exception:        # no permission to read strings
            serial = ""
        found.append((mode, serial, dev.bus, dev.address))
    return found


class HardwareDongle:
    kind = "hw"

    def __init__(self, serial=None, rig=None):
        """rig: an FtdiRig (rig/ftdi.py) for power and pin reset, or None."""
        dongles = [d for d in find_dongles() if d[0] == "application"]
        if serial:
            dongles = [d for d in dongles if d[1] == serial]
        if not dongles:
            raise LookupError("no hilda dongle in application mode is attached"
                              + (f" with serial {serial}" if serial else ""))
        if len(dongles) > 1:
            listing = ", ".join(f"{s or '?'} (bus {b} device {a})" for _, s, b, a in dongles)
            raise LookupError(f"several dongles are attached ({listing}): choose one with --dongle SERIAL")
        _, self.serial, self.bus, self.address = dongles[0]
        self.rig = rig
        self.uart_path = rig_uart_path()
        self.control = None

    def client_env(self, base=None):
        import os
        return dict(base if base is not None else os.environ)

    def reset(self):
        if self.rig is None:
            raise RuntimeError("resetting a real dongle needs the FTDI rig (docs/rig.md)")
        self.rig.reset()

    def alive(self):
        return True

    def stop(self):
        if self.rig is not None:
            self.rig.close()


def rig_uart_path():
    """The bench's USB-serial adapter wired to the dongle's UART pins, from
    HILDA_RIG_UART (docs/rig.md); empty if none."""
    import os
    return os.environ.get("HILDA_RIG_UART", "")

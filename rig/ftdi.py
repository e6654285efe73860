"""The bench rig: an FTDI adapter in bitbang mode drives the dongle's reset
and the power switch of its USB port (wiring in docs/rig.md). Written for
real hardware from the libftdi1 documentation; it has never run here (this
machine has no USB), so treat it as untested until a bench run says so."""
import time

# Bitbang pins of the FT232R/FT2232 port (docs/rig.md)
RESET_PIN = 1 << 0     # to an open-drain transistor pulling SW2 / P0.18 low
POWER_PIN = 1 << 1     # enable of the USB port's load switch (high = powered)

FTDI_VID = 0x0403


class RigError(RuntimeError):
    pass


class FtdiRig:
    def __init__(self, serial=None, pid=0x6001):
        try:
            import ftdi1  # Debian python3-ftdi1
        except ImportError as e:
            raise RigError("python3-ftdi1 is not installed (scripts/setup installs it)") from e
        self.ftdi1 = ftdi1
        self.ctx = ftdi1.new()
        rc = ftdi1.usb_open_desc(self.ctx, FTDI_VID, pid, None, serial)
        if rc < 0:
            msg = ftdi1.get_error_string(self.ctx)
            ftdi1.free(self.ctx)
            raise RigError(f"no FTDI rig adapter (0403:{pid:04x}{' serial ' + serial if serial else ''}): {msg}")
        self.state = POWER_PIN
        self._check(ftdi1.set_bitmode(self.ctx, RESET_PIN | POWER_PIN, ftdi1.BITMODE_BITBANG), "bitbang mode")
        self._write()

    def _check(self, rc, what):
        if rc < 0:
            raise RigError(f"FTDI {what} failed: {self.ftdi1.get_error_string(self.ctx)}")

    def _write(self):
        self._check(self.ftdi1.write_data(self.ctx, bytes([self.state])), "write")

    def reset(self, hold_s=0.05):
        """Pin reset: pulls SW2 low. The factory bootloader then enters DFU mode
        (reference §6.2): the firmware under test is only started again by the
        bootloader's timeout or a power cycle."""
        self.state |= RESET_PIN
        self._write()
        time.sleep(hold_s)
        self.state &= ~RESET_PIN
        self._write()

    def power(self, on):
        self.state = (self.state | POWER_PIN) if on else (self.state & ~POWER_PIN)
        self._write()

    def close(self):
        self.ftdi1.usb_close(self.ctx)
        self.ftdi1.free(self.ctx)

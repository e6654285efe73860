"""USB identities, read from include/hilda/protocol.h (the one definition)
and the reference (the factory bootloader, §6.3)."""
import os
import re

_HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "include", "hilda", "protocol.h")


def protocol_defines(path=_HEADER):
    """Every `#define NAME number` of protocol.h as a dict."""
    defines = {}
    with open(path) as f:
        for m in re.finditer(r"^#define\s+(HILDA_\w+)\s+(0x[0-9A-Fa-f]+|\d+)\b", f.read(), re.M):
            defines[m.group(1)] = int(m.group(2), 0)
    return defines


PROTOCOL = protocol_defines()
APP_VID = PROTOCOL["HILDA_USB_VID"]
APP_PID = PROTOCOL["HILDA_USB_PID"]
BOOTLOADER_VID = 0x1915
BOOTLOADER_PID = 0x521F

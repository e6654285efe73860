"""What a firmware image under test is, read from its bytes: whether it is
hilda's own firmware. hilda's images carry struct hilda_image_info (the
HILDA_IMAGE_INFO_MAGIC0/1 words of include/hilda/protocol.h, the same marker
`hilda flash` reads the git hash from); TinyUSB, Zephyr or nRF5 SDK images do
not. ELF and flat binaries are searched as they are, Intel HEX after decoding
its data records, an nrfutil package (.zip) in its .bin members.
image_kind() says which of the three a file is, for the harness's check at
session start (conftest.py): anything else is refused there, in one sentence."""
import struct
import zipfile

from .vocabulary import P

HILDA_IMAGE_MARKER = struct.pack("<II", P["HILDA_IMAGE_INFO_MAGIC0"], P["HILDA_IMAGE_INFO_MAGIC1"])

HEX_DATA = 0x00

ELF_MAGIC = b"\x7fELF"
ELF_CLASS32 = 1          # e_ident[EI_CLASS]: the nRF52840's images are 32-bit
ELF_MACHINE_ARM = 40     # e_machine EM_ARM (System V ABI, ELF for the Arm Architecture)


def image_kind(path):
    """"elf", "hex" or "package" (an nrfutil .zip); ValueError with a sentence
    for anything else (an ELF for another machine, a flat binary, text), and
    OSError when the file cannot be read."""
    if zipfile.is_zipfile(path):
        return "package"
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(ELF_MAGIC):
        machine = struct.unpack_from("<H", head, 18)[0] if len(head) >= 20 else None
        if head[4:5] != bytes([ELF_CLASS32]) or machine != ELF_MACHINE_ARM:
            raise ValueError(f"is an ELF file for another machine (e_machine {machine}), not an Arm image "
                             "for the nRF52840")
        return "elf"
    if head.lstrip()[:1] == b":":
        return "hex"
    raise ValueError("is neither an ELF file, an Intel HEX file nor an nrfutil package (.zip)")


def image_bytes(path):
    """The bytes to search for the marker: the file itself, HEX data records
    decoded (in file order), or a package's .bin members; OSError if unreadable."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as package:
            return b"".join(package.read(name) for name in package.namelist() if name.endswith(".bin"))
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip()[:1] == b":":
        return _hex_data(data)
    return data


def _hex_data(text):
    """The payload of every data record of an Intel HEX file, concatenated in
    file order (objcopy writes contiguous records in address order, so a marker
    across two records is found too)."""
    out = bytearray()
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(b":"):
            continue
        try:
            record = bytes.fromhex(line[1:].decode("ascii"))
        except ValueError:
            continue
        if len(record) >= 5 and record[3] == HEX_DATA:
            out += record[4:4 + record[0]]
    return bytes(out)


def is_hilda_firmware(path):
    """True when the image carries hilda's image-info marker."""
    return HILDA_IMAGE_MARKER in image_bytes(path)

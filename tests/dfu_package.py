"""nrfutil DFU packages for the flash tests, built here in Python: our own
encoder of the Secure DFU init packet (Nordic's dfu-cc.proto, as pc-nrfutil
and the nRF5 SDK "DFU protocol" docs give it), written apart from hilda's C one
(host/flash/) so that each checks the other.

    Packet { command(1): Command { op_code(1) = INIT(1),
             init(2): InitCommand { fw_version(1), hw_version(2), sd_req(3) packed,
                                    type(4) APPLICATION(0), app_size(7),
                                    hash(8): Hash { hash_type(1) SHA256(3), hash(2) },
                                    is_debug(9) } } }

The hash is the SHA-256 of the .bin with its bytes reversed (little-endian, as
nrfutil writes it)."""
import hashlib
import json
import zipfile

# protobuf wire types
VARINT = 0
LENGTH_DELIMITED = 2

OP_CODE_INIT = 1
FW_TYPE_APPLICATION = 0
HASH_TYPE_SHA256 = 3
HW_VERSION_NRF52 = 52
SD_REQ_NONE = 0x00            # "no SoftDevice": the only sd_req a dongle application may carry


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def varint_field(field, value):
    return key(field, VARINT) + varint(value)


def bytes_field(field, data):
    return key(field, LENGTH_DELIMITED) + varint(len(data)) + data


def init_packet(app, hw_version=HW_VERSION_NRF52, fw_version=0, digest_of=None):
    """The .dat for application bytes `app`; digest_of: other bytes to hash
    instead (a package whose init packet does not match its image)."""
    digest = hashlib.sha256(app if digest_of is None else digest_of).digest()[::-1]
    hash_message = varint_field(1, HASH_TYPE_SHA256) + bytes_field(2, digest)
    sd_req_packed = b"".join(varint(v) for v in [SD_REQ_NONE])
    init = (varint_field(1, fw_version) + varint_field(2, hw_version) + bytes_field(3, sd_req_packed)
            + varint_field(4, FW_TYPE_APPLICATION)          # the default, written out explicitly
            + varint_field(7, len(app)) + bytes_field(8, hash_message) + varint_field(9, 0))
    command = varint_field(1, OP_CODE_INIT) + bytes_field(2, init)
    return bytes_field(1, command)


def write_package(path, app, dat):
    """An nrfutil package: manifest.json naming the application's .bin and .dat."""
    manifest = {"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"}}}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=2))
        z.writestr("app.bin", app)
        z.writestr("app.dat", dat)
    return path

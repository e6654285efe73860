"""The USB chapter-9 vocabulary and the hilda vendor protocol for Python, read
from the one definition in C: include/hilda/usb.h and include/hilda/protocol.h.

Nothing here is written down a second time: every number comes from the
headers, so a request added there is known here at the next import.

    from rig.vocabulary import USB, P, VENDOR_REQUESTS
    USB.REQ_GET_DESCRIPTOR, USB.DT_DEVICE, USB.RT_DEVICE_IN
    P["HILDA_REQ_ECHO_WRITE"], P["HILDA_USB_VID"]
    STRUCTS["hilda_version"].unpack(data) -> {"protocol": ..., "firmware": ..., "git_hash": ...}
"""
import ast
import operator
import os
import re
import struct
from types import SimpleNamespace

_INCLUDE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "include", "hilda")
USB_HEADER = os.path.join(_INCLUDE, "usb.h")
PROTOCOL_HEADER = os.path.join(_INCLUDE, "protocol.h")

_OPS = {ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.LShift: operator.lshift,
        ast.RShift: operator.rshift, ast.Add: operator.add, ast.Sub: operator.sub}


def _evaluate(expr, known):
    """An integer #define body: numbers, known names, | & << >> + - and parentheses."""
    expr = re.sub(r"/\*.*?\*/", "", expr).strip()
    expr = re.sub(r"\b(0x[0-9A-Fa-f]+|\d+)[uUlL]*\b", r"\1", expr)

    def walk(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(expr)

    return walk(ast.parse(expr, mode="eval").body)


def _x_macro(text, list_name):
    """The X(...) rows of `#define LIST_NAME(X) \\ ...` as lists of fields."""
    m = re.search(r"^#define\s+%s\(X\)((?:.*\\\n)*.*)$" % re.escape(list_name), text, re.M)
    if not m:
        raise LookupError("%s not found" % list_name)
    rows = []
    for row in re.finditer(r"X\(([^\"\n]*?)(?:,\s*\"((?:[^\"\\]|\\.)*)\")?\)", m.group(1)):
        fields = [f.strip() for f in row.group(1).split(",") if f.strip()]
        if row.group(2) is not None:
            fields.append(row.group(2))
        rows.append(fields)
    return rows


def read_header(path, known=None):
    """Every integer `#define NAME value` of a header, plus the enumerators its
    X-macro lists generate, as a dict (names as written in C)."""
    values = dict(known or {})
    with open(path) as f:
        text = f.read()
    for m in re.finditer(r"^#define\s+([A-Z][A-Z0-9_]*)[ \t]+([^\n\\]+)$", text, re.M):
        try:
            values[m.group(1)] = _evaluate(m.group(2), values)
        except (ValueError, SyntaxError):
            pass      # not an integer (a string, a list, a function-like macro)
    return values, text


def _load():
    usb, usb_text = read_header(USB_HEADER)
    standard = [(name, int(code, 0)) for name, code in _x_macro(usb_text, "USB_STANDARD_REQUESTS")]
    dtypes = [(name, int(code, 0)) for name, code in _x_macro(usb_text, "USB_DESCRIPTOR_TYPES")]
    usb.update(("USB_REQ_" + n, c) for n, c in standard)
    usb.update(("USB_DT_" + n, c) for n, c in dtypes)

    proto, proto_text = read_header(PROTOCOL_HEADER, usb)
    vendor = [SimpleNamespace(name=name, code=int(code, 0), stage=stage, summary=summary)
              for name, code, stage, summary in _x_macro(proto_text, "HILDA_VENDOR_REQUESTS")]
    proto.update(("HILDA_REQ_" + r.name, r.code) for r in vendor)
    hilda = {k: v for k, v in proto.items() if k.startswith("HILDA_")}
    return usb, standard, dtypes, hilda, vendor, _structs(proto_text)


# The C integer types a wire structure of protocol.h may use, as struct codes.
_FIELD_CODES = {"uint8_t": "B", "uint16_t": "H", "uint32_t": "I", "int8_t": "b", "int16_t": "h",
                "int32_t": "i"}


def _structs(text):
    """Every `struct NAME { fields }` of a header as a WireStruct, in declaration
    order, which is the wire order (docs/protocol.md: little-endian, field by
    field). Fields are fixed-size integers, arrays of them (`uint32_t magic[2]`)
    or a structure defined before (`struct hilda_version version`)."""
    structs = {}
    for m in re.finditer(r"^struct\s+(\w+)\s*\{(.*?)\};", text, re.M | re.S):
        body = re.sub(r"/\*.*?\*/", "", m.group(2), flags=re.S)
        members = []
        for ctype, name, count in re.findall(r"((?:struct\s+)?\w+)\s+(\w+)\s*(?:\[\s*(\d+)\s*\])?\s*;", body):
            kind = _FIELD_CODES.get(ctype) or structs.get(re.sub(r"^struct\s+", "", ctype))
            if kind is None or ctype.startswith("struct") != isinstance(kind, WireStruct):
                break          # a type this reader does not know: not a wire structure
            members.append((name, kind, int(count) if count else None))
        else:
            if members:
                structs[m.group(1)] = WireStruct(m.group(1), members)
    return structs


class WireStruct:
    """A structure of protocol.h as it is on the wire (struct hilda_version,
    ...): .fields, .format (for the struct module), .size and .unpack(data) ->
    {field: value} (an array field gives a tuple, a nested structure a dict)."""

    def __init__(self, name, members):
        self.name = name
        self.members = members
        self.fields = [member for member, _, _ in members]
        self.format = "<" + "".join(self._code(kind) * (count or 1) for _, kind, count in members)
        self.size = struct.calcsize(self.format)

    @staticmethod
    def _code(kind):
        return kind.format[1:] if isinstance(kind, WireStruct) else kind

    def _take(self, values):
        out = {}
        for name, kind, count in self.members:
            items = []
            for _ in range(count or 1):
                if isinstance(kind, WireStruct):
                    items.append(kind._take(values))
                else:
                    items.append(next(values))
            out[name] = tuple(items) if count else items[0]
        return out

    def unpack(self, data):
        if len(data) < self.size:
            raise ValueError(f"struct {self.name} needs {self.size} bytes, got {len(data)}")
        return self._take(iter(struct.unpack(self.format, bytes(data[:self.size]))))


_usb, STANDARD_REQUESTS, DESCRIPTOR_TYPES, P, VENDOR_REQUESTS, STRUCTS = _load()

# USB.REQ_GET_DESCRIPTOR, USB.DT_DEVICE, USB.RT_DEVICE_IN, USB.FEATURE_ENDPOINT_HALT ...
USB = SimpleNamespace(**{k[len("USB_"):]: v for k, v in _usb.items() if k.startswith("USB_")})

APP_VID = P["HILDA_USB_VID"]
APP_PID = P["HILDA_USB_PID"]
# Nordic's factory Open USB bootloader on the PCA10059 (nRF5 SDK, pca10059 open bootloader).
BOOTLOADER_VID = 0x1915
BOOTLOADER_PID = 0x521F
# USB-IF Language Identifiers: the one LANGID the firmware's strings have (docs/protocol.md)
LANGID_EN_US = 0x0409


def descriptor_value(dtype, index=0):
    """wValue of GET_DESCRIPTOR (USB_DESC_VALUE in usb.h)."""
    return (dtype << 8) | (index & 0xFF)


__all__ = ["USB", "P", "STANDARD_REQUESTS", "DESCRIPTOR_TYPES", "VENDOR_REQUESTS", "STRUCTS", "APP_VID",
           "APP_PID", "BOOTLOADER_VID", "BOOTLOADER_PID", "LANGID_EN_US", "descriptor_value", "read_header"]

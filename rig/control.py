"""Client of hilda-emu's control channel: JSON lines over a unix socket
(docs/emulator.md, "The control channel")."""
import json
import socket


class ControlError(RuntimeError):
    """The emulator refused a request; the message is its sentence."""


class ControlClient:
    def __init__(self, path, timeout=10.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def request(self, cmd, **args):
        self.sock.sendall(json.dumps(dict(cmd=cmd, **args)).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ControlError("the emulator closed its control channel")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        reply = json.loads(line)
        if not reply.get("ok"):
            raise ControlError(reply.get("error", "request refused"))
        return reply

    def close(self):
        self.sock.close()

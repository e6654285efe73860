"""The one Python client of hilda-emu's control channel: JSON lines over a unix
socket (docs/emulator.md, "The control channel"). The pytest harness
(rig/emulator.py), the emulator's own run tests (emu/test/run/) and the host
tool's end-to-end tests use it.

    with ControlClient.wait_for(path) as control:
        control.request("reset")                # the reply; ControlError if refused
        control.ask("power")                    # the reply as it is, refused or not
        control.send_line(b"{not json")         # a raw line, for testing the channel itself
"""
import json
import os
import socket
import time


class ControlError(RuntimeError):
    """The emulator refused a request (the message is its sentence), or the
    channel itself failed (closed, not JSON)."""


class ControlClient:
    def __init__(self, path, timeout=10.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""

    @classmethod
    def wait_for(cls, path, wait_s=10.0, timeout=10.0, alive=None):
        """Connects once the emulator has created its socket. alive: a callable
        that says whether the emulator process still runs (stop waiting if not)."""
        end = time.monotonic() + wait_s
        while True:
            if os.path.exists(path):
                try:
                    return cls(path, timeout)
                except (ConnectionRefusedError, FileNotFoundError):
                    pass       # created but not listening yet
            if time.monotonic() >= end or (alive is not None and not alive()):
                raise ControlError(f"no control channel at {path} within {wait_s} s")
            time.sleep(0.02)

    def send_line(self, line):
        """Sends one raw line (bytes, without its newline) and returns the parsed reply."""
        self.sock.sendall(line + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ControlError("the emulator closed its control channel")
            self.buf += chunk
        reply, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(reply)
        except json.JSONDecodeError as e:
            raise ControlError(f"the control channel answered something that is not JSON: {reply!r}") from e

    def ask(self, cmd, **args):
        """One request; the reply as it is, {"ok": false, "error": ...} included."""
        return self.send_line(json.dumps(dict(cmd=cmd, **args)).encode())

    def request(self, cmd, **args):
        """One request; its reply, or ControlError with the emulator's sentence."""
        reply = self.ask(cmd, **args)
        if not reply.get("ok"):
            raise ControlError(f"{cmd}: {reply.get('error', 'request refused')}")
        return reply

    __call__ = request

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""Client of `hilda batch`: one long-lived hilda process per target, JSON
lines in and out (docs/host.md, "batch")."""
import json
import subprocess
import threading

# Every transfer's own limit in the harness (hilda's --timeout; the CLI's default is 1 s).
# It only ends a hang: on a loaded runner the emulated dongle can be starved of the CPU for
# seconds, and a transfer that merely waited is not a failure. Tests of timeouts set
# timeout_ms on their request.
TRANSFER_TIMEOUT_MS = 10000


class BatchError(RuntimeError):
    """The batch process itself failed (died, wrote garbage): not a device answer."""


class DeviceError(RuntimeError):
    """The device or libusb refused a request: .kind is hilda's error word
    ("stall", "timeout", "no_device", ...), the message its sentence."""

    def __init__(self, kind, message, reply):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.reply = reply


class HildaBatch:
    def __init__(self, hilda, env, select_args=(), timeout_s=120.0, transfer_timeout_ms=TRANSFER_TIMEOUT_MS):
        self.proc = subprocess.Popen([hilda, "batch", "--timeout", str(transfer_timeout_ms), *select_args],
                                     env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=1)
        self.timeout_s = timeout_s
        self.next_id = 1
        self.lock = threading.Lock()
        # the first line is {"event": "ready", ...}: the protocol version and so on
        line = self._readline()
        try:
            self.ready = json.loads(line)
        except json.JSONDecodeError as e:
            raise BatchError(f"hilda batch did not start with its ready line: {line!r}") from e
        if self.ready.get("event") != "ready":
            raise BatchError(f"hilda batch did not start with its ready line: {line!r}")

    def call(self, cmd, timeout_s=None, **args):
        """Sends one request and returns its reply; DeviceError when ok is false.
        timeout_s: how long this one request may take, if longer than the batch's."""
        reply = self.raw(cmd, timeout_s=timeout_s, **args)
        if not reply.get("ok"):
            raise DeviceError(reply.get("error", "error"), reply.get("message", ""), reply)
        return reply

    def raw(self, cmd, timeout_s=None, **args):
        with self.lock:
            rid = self.next_id
            self.next_id += 1
            request = dict(id=rid, cmd=cmd, **args)
            try:
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise BatchError(f"hilda batch is gone ({self._stderr()})") from e
            line = self._readline(timeout_s)
            try:
                reply = json.loads(line)
            except json.JSONDecodeError as e:
                raise BatchError(f"hilda batch wrote something that is not JSON: {line!r}") from e
            if reply.get("id") != rid:
                raise BatchError(f"reply {reply!r} does not answer request {rid}")
            return reply

    def _readline(self, timeout_s=None):
        timeout_s = max(timeout_s or 0, self.timeout_s)
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        if reader.is_alive():
            self.proc.kill()
            raise BatchError(f"hilda batch did not answer within {timeout_s} s")
        if not result or not result[0]:
            raise BatchError(f"hilda batch ended ({self._stderr()})")
        return result[0]

    def _stderr(self):
        if self.proc.poll() is None:
            return "still running"
        return f"exit {self.proc.returncode}: {self.proc.stderr.read().strip()}"

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"id": 0, "cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

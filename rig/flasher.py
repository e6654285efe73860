"""Putting a firmware image on the target, the same way on both: `hilda flash
--json IMAGE` (host/cli/cmd_flash.c) run in the target's client environment.
On the emulated dongle the chip starts on the bootloader with no application
and hilda finds it already in DFU mode; a real dongle running hilda firmware
is rebooted into its bootloader by hilda (REBOOT_BOOTLOADER), otherwise hilda
asks for the reset button and waits, or, given the rig (--rig FILE: the
target's bench, rig/bench.py), pulses the reset line itself. hilda checks afterwards that the
application reports the image's git hash (exit 1 if not)."""
import json
import subprocess

# hilda's exit statuses for a flash (host/cli/cmd_flash.c, `hilda flash --help`)
EXIT_OK = 0
EXIT_CHECK_FAILED = 1        # the application's git hash differs, or it did not come back
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3           # no dongle
EXIT_IMAGE = 12              # the image was refused before anything was sent
EXIT_DFU = 13                # the bootloader refused or failed the update
EXIT_INTERRUPTED = 130       # a signal, or the test hook --test-stop-after-objects

# How long hilda may take as a whole: the reset-button wait plus the update itself
DEFAULT_TIMEOUT_S = 180


class FlashError(RuntimeError):
    """hilda flash failed: str() is hilda's own sentence; .exit_code, .result
    (the parsed JSON object, {} if hilda printed none) and .stderr."""

    def __init__(self, message, exit_code, result, stderr=""):
        super().__init__(message)
        self.exit_code = exit_code
        self.result = result
        self.stderr = stderr


class Flasher:
    """`hilda flash` bound to one target: Flasher(dut) or Flasher(hilda, env).

        result = Flasher(dut).flash(image)          # the parsed JSON; FlashError on failure
        code, result = Flasher(dut).run(image, "--test-stop-after-objects", "1")
    """

    def __init__(self, target_or_hilda, env=None, select_args=(), timeout_s=DEFAULT_TIMEOUT_S, rig_args=()):
        """rig_args: ["--rig", FILE] for hilda to reset the dongle into DFU
        mode through the bench rig; from a target, its bench's (none without)."""
        self.rig_args = list(rig_args)
        if isinstance(target_or_hilda, str):
            self.hilda = target_or_hilda
            self.env = env
            self.select_args = list(select_args)
        else:
            target = target_or_hilda
            if not target.hilda:
                raise RuntimeError("this target was made without the path of the hilda tool")
            self.hilda = target.hilda
            self.env = target.client_env() if env is None else env
            default = getattr(target, "flash_select_args", target.select_args)
            self.select_args = list(select_args) or default()
            self.rig_args = self.rig_args or target.flash_rig_args()
        self.timeout_s = timeout_s

    def command(self, image, *args):
        return [self.hilda, "flash", "--json", *self.select_args, *self.rig_args, *args, image]

    def run(self, image, *args):
        """Runs hilda flash; (exit code, parsed JSON object or {}), whatever the outcome."""
        proc = subprocess.run(self.command(image, *args), env=self.env, capture_output=True, text=True,
                              timeout=self.timeout_s)
        self.last_stderr = proc.stderr
        return proc.returncode, parse_result(proc.stdout)

    def flash(self, image, *args):
        """Flashes image; the parsed result on success, FlashError with hilda's sentence otherwise."""
        code, result = self.run(image, *args)
        if code != EXIT_OK or not result.get("ok"):
            raise FlashError(failure_sentence(code, result, self.last_stderr), code, result, self.last_stderr)
        return result


def parse_result(stdout):
    """The one JSON object hilda prints on stdout ({} if there is none)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    return {}


def failure_sentence(code, result, stderr=""):
    """hilda's sentence for a failed flash, with its status name and exit code."""
    message = result.get("message")
    if not message:
        tail = [line for line in stderr.strip().splitlines() if line.strip()]
        message = tail[-1] if tail else "hilda flash printed no reason"
    error = result.get("error", "")
    refusal = result.get("refusal")
    detail = f" (bootloader refusal: {json.dumps(refusal)})" if refusal else ""
    return f"hilda flash failed with exit {code}{f' ({error})' if error else ''}: {message}{detail}"

"""Putting a firmware image on the target. The emulated dongle loads its image
at start; a real dongle is flashed through its factory DFU bootloader, whose
implementation comes in a later issue: until then hardware runs need
--skip-flash and the dongle must already run the firmware under test."""


class FlashingUnavailable(RuntimeError):
    pass


class Flasher:
    """Interface: flash(image_path) puts the image on the target and leaves it
    running the new firmware."""

    def flash(self, image_path):
        raise NotImplementedError


class DfuFlasher(Flasher):
    """The dongle's Open USB bootloader (Nordic Secure DFU over CDC-ACM,
    reference §6.4). Not written yet."""

    def flash(self, image_path):
        raise FlashingUnavailable(
            "flashing a dongle over its DFU bootloader is not implemented yet (a later issue); "
            f"flash {image_path} yourself (nrfutil or the bootloader) and run pytest with --skip-flash")

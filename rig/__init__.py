"""hilda's Python side: the Target interface a test runs against (target.py)
and its two implementations, the emulated dongle (emulator.py) and a real one
on the bench (hardware.py; its rig: bench.py, `hilda rig`); the emulator's control-channel client
(control.py), the hilda batch client (batch.py), the vocabulary read from
include/hilda (vocabulary.py), the flasher interface and the run report.
conftest.py builds the pytest fixtures on it."""

"""hilda's Python side: the targets a test runs against (the emulated dongle or
a real one on the bench), their control, the hilda batch client, the flasher
interface and the run report. conftest.py builds the pytest fixtures on it."""

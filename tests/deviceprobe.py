"""A sitecustomize for samplelab subprocesses: the simulated device reports its outputs on close.

Put a folder holding `sitecustomize.py` = `DEVICE_PROBE` first on the child's
PYTHONPATH and set SAMPLELAB_DEVICE_LOG: when the simulated device closes, it
writes its output voltages and how often it was zeroed there as JSON, so "0 V"
is read off the device, not off a message.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from backend.recording.reader import Recording

DEVICE_PROBE = '''
"""Test probe: on closing, the simulated device writes its output voltages to a file."""
import importlib.machinery
import json
import os
import sys

LOG = os.environ.get("SAMPLELAB_DEVICE_LOG")


class _Probe:
    def find_spec(self, name, path=None, target=None):
        if name != "backend.devices.simulated":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            cls = module.SimulatedDevice
            close = cls._close

            def _close(self):
                with open(LOG, "w") as fh:
                    volts = [float(v) for v in self.output_voltages]
                    json.dump({"volts": volts, "zeroed": self.zeroed}, fh)
                close(self)

            cls._close = _close

        spec.loader.exec_module = exec_module
        return spec


if LOG and "bootstrap.py" not in sys.argv[0]:
    sys.meta_path.insert(0, _Probe())
'''


def wait_for_batches(folder: Path, batches: int, proc: subprocess.Popen) -> Path:
    """The recording in `folder` once it holds `batches` batches (`proc` still running)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        for path in folder.glob("*.h5"):
            try:
                with Recording(path) as rec:
                    if rec.batches_done >= batches:
                        return path
            except Exception:
                pass  # being created
        time.sleep(0.05)
    raise AssertionError("the sampling subprocess made no progress")

"""Telling a trained surrogate's file (`training_data.pt`) from others without torch.

`samplelab info FILE` asks this of every file; answering it with torch loaded
would cost seconds for a recording.
"""

from __future__ import annotations

import os
import zipfile

from backend.files import is_regular


def is_checkpoint_file(path: str | os.PathLike) -> bool:
    """Whether a torch file's pickle names a `model_state_dict` (read without unpickling)."""
    if not is_regular(path):  # a FIFO or device would block or never end
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("data.pkl")]
            return bool(names) and b"model_state_dict" in zf.read(names[0])
    except (zipfile.BadZipFile, OSError):
        return False

"""Whether a file is a trained surrogate, decided without torch (`samplelab info` on any file
asks this first, and importing torch would cost it ~2 s)."""

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

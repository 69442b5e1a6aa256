"""Postprocessed datasets written lately, remembered in the settings for the Models page.

The Postprocess page remembers each run's result and the Models page every
dataset a model was trained on; the Models page offers them, newest first.
Shared by both pages, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.settings import RECENT_DATASETS

MAX_RECENT = 10


def recent_results(settings: Any) -> list[str]:
    """Remembered datasets that still exist, newest first."""
    text = RECENT_DATASETS.read(settings)
    return [p for p in text.split("\n") if p and Path(p).exists()]


def remember_result(settings: Any, path: str | Path) -> None:
    """Put `path` (a postprocessed npz, a folder holding one, or a dataset) first."""
    path = Path(path)
    if path.is_dir() and (path / "postprocessed_data.npz").is_file():
        path = path / "postprocessed_data.npz"
    paths = [str(path)] + [p for p in recent_results(settings) if p != str(path)]
    RECENT_DATASETS.write(settings, "\n".join(paths[:MAX_RECENT]))

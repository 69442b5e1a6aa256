"""What the Models page trains on: datasets checked on a worker, recent results offered.

`TrainingSources` is the dataset dialog's `DatasetSources` (one source
opened at a time on a worker, a peer npz's pickled config read only after
the user trusts it) with folders expanded the way training reads them: a
dataset export folder gives its train/validation/test files, a postprocess
output folder its `postprocessed_data.npz`.

`RecentResults` offers the postprocessed datasets written lately: the
Postprocess page's result of this session and the ones remembered in the
settings (`remember_result` is called when a postprocess run ends, and for
every dataset a model was trained on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.dataset_sources import DatasetSources

RECENT_KEY = "models/recent_datasets"
MAX_RECENT = 10


def recent_results(settings: Any) -> list[str]:
    """Remembered datasets that still exist, newest first."""
    text = settings.value(RECENT_KEY, "", str)
    return [p for p in text.split("\n") if p and Path(p).exists()]


def remember_result(settings: Any, path: str | Path) -> None:
    """Put `path` (a postprocessed npz, a folder holding one, or a dataset) first."""
    path = Path(path)
    if path.is_dir() and (path / "postprocessed_data.npz").is_file():
        path = path / "postprocessed_data.npz"
    paths = [str(path)] + [p for p in recent_results(settings) if p != str(path)]
    settings.set_value(RECENT_KEY, "\n".join(paths[:MAX_RECENT]))


class RecentResults(QObject):
    """The suggestions above the dataset list (the `recordings` a DatasetSources offers)."""

    changed = Signal()

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def paths(self) -> list[str]:
        found = []
        postprocess = getattr(self.ctx.window, "pages", {}).get("postprocess")
        outcome = getattr(postprocess, "outcome", None)
        if outcome is not None:
            npz = Path(outcome.out_dir) / "postprocessed_data.npz"
            if npz.is_file():
                found.append(str(npz))
        return list(dict.fromkeys(found + recent_results(self.ctx.settings)))

    def refresh(self) -> None:
        self.changed.emit()


class TrainingSources(DatasetSources):
    """Dataset sources for training: folders expanded into the files training reads."""

    def add(self, paths: list[str]) -> None:
        from backend.errors import SamplelabError
        from backend.models.data import expand_sources

        expanded: list[str] = []
        for path in paths:
            if Path(path).is_dir():
                try:
                    expanded += [str(p) for p, _role in expand_sources([path])]
                except SamplelabError as exc:
                    self.ctx.show_error(exc)
            else:
                expanded.append(path)
        super().add(expanded)

"""What the Models page trains on: datasets checked on a worker, recent results offered.

`TrainingSources` is the dataset dialog's `DatasetSources` (one source
opened at a time on a worker, a peer npz's pickled config read only after
the user trusts it) with folders expanded the way training reads them: a
dataset export folder gives its train/validation/test files, a postprocess
output folder its `postprocessed_data.npz`.

`RecentResults` offers the postprocessed datasets written lately, as
remembered in the settings (app/recent.py: `remember_result` is called when a
postprocess run ends, and for every dataset a model was trained on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.dataset_sources import DatasetSources
from app.recent import recent_results


class RecentResults(QObject):
    """The suggestions above the dataset list (the `recordings` a DatasetSources offers)."""

    changed = Signal()

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def paths(self) -> list[str]:
        return recent_results(self.ctx.settings)

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

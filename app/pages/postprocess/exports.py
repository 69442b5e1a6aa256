"""Exports from the Postprocess page: a save dialog, then `exporters.export` on a worker.

The save dialog asks before replacing a file (IO.dat: before replacing the
IO.dat / sampler_configs.json of the chosen folder); the export writes under
a temporary name, so Cancel or an error leaves no half file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app import dialogs
from app.context import AppContext
from app.pages.postprocess.jobs import (
    EXPORTS,
    SUFFIXES,
    RunOutcome,
    export_problems,
    export_rows,
)
from app.pages.postprocess.remembered import EXPORT_FOLDER
from app.workers import Worker

if TYPE_CHECKING:
    from app.pages.postprocess.results import ResultsView

log = logging.getLogger(__name__)
_FILTERS = {fmt: flt for fmt, _, flt in EXPORTS}
_TITLES = {fmt: text.rstrip("…") for fmt, text, _ in EXPORTS}


def default_target(
    outcome: RunOutcome | None, paths: list[str], fmt: str, which: str, folder: Path
) -> Path:
    """Where the save dialog starts: the results folder, named after what is exported."""
    from backend.postprocess.names import DATA_NAME

    if which == "kept":
        base = Path(DATA_NAME).stem
    else:
        base = Path(paths[0]).stem
        base = f"{base}_all" if len(paths) == 1 else f"{base}_merged"
    if fmt == "iodat":
        return folder / f"{base}_iodat"
    path = folder / f"{base}{SUFFIXES[fmt]}"
    if outcome is not None and path == outcome.files.get(DATA_NAME):
        path = path.with_name(f"{base}_copy{SUFFIXES[fmt]}")
    return path


class Exporter(QObject):
    """Runs one export at a time for a results view.

    It knows the results view and how to read the sources' facts (`sources_info()`),
    not the page; `busy_changed` tells the page when an export starts or ends.
    """

    busy_changed = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        results: ResultsView,
        sources_info: Callable[[], Any],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.host = parent
        self.ctx = ctx
        self.results = results
        self.sources_info = sources_info
        self.worker: Worker | None = None
        self.last_written: Path | None = None
        self.what = ""  # what the running (or last) export writes, for the status bar
        results.export_requested.connect(self.export)
        results.cancel_export.clicked.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def _folder(self, outcome: RunOutcome | None, paths: list[str]) -> Path:
        remembered = EXPORT_FOLDER.read(self.ctx.settings)
        if remembered and Path(remembered).is_dir():
            return Path(remembered)
        if outcome is not None:
            return outcome.out_dir
        return Path(paths[0]).parent

    def ask_target(
        self, fmt: str, which: str, outcome: RunOutcome | None, paths: list[str]
    ) -> Path | None:
        start = default_target(outcome, paths, fmt, which, self._folder(outcome, paths))
        title = f"Export {_TITLES[fmt]} ({'kept rows' if which == 'kept' else 'every row'})"
        if fmt == "iodat":
            return self._ask_iodat_folder(title, start)
        path = dialogs.ask_save_file(self.host, title, str(start), _FILTERS[fmt])
        return Path(path) if path else None

    def _ask_iodat_folder(self, title: str, start: Path) -> Path | None:
        from backend.config import BSPYSMG_CONFIG_NAME
        from backend.data.formats.iodat import IODAT_NAME

        folder = dialogs.ask_folder(self.host, f"{title}: choose a folder", str(start.parent))
        if not folder:
            return None
        clash = [n for n in (IODAT_NAME, BSPYSMG_CONFIG_NAME) if (Path(folder) / n).exists()]
        if clash and not dialogs.confirm(
            self.host,
            "Replace files?",
            f"{folder} already holds {' and '.join(clash)}.\nDo you want to replace them?",
        ):
            return None
        return Path(folder)

    def export(self, fmt: str, which: str) -> None:
        """Ask where, then export on a worker; the status bar always says how it ended."""
        from backend.postprocess.names import DATA_NAME

        outcome, info = self.results.outcome, self.sources_info()
        if self.busy:
            return
        problem = export_problems(outcome, info)[which][fmt]
        if problem is not None:  # the menu entry is disabled; a shortcut may still ask
            self.ctx.status(f"{_TITLES[fmt]} cannot be exported: {problem}")
            return
        paths = list(info.paths) if info is not None else []
        kept_file = outcome.files[DATA_NAME] if outcome is not None else None
        target = self.ask_target(fmt, which, outcome, paths)
        if target is None:
            return
        EXPORT_FOLDER.write(self.ctx.settings, target.parent)
        self.what = f"{_TITLES[fmt]} ({'kept rows' if which == 'kept' else 'every source row'})"

        def job(report: Any, token: Any) -> Path:
            return export_rows(which, fmt, target, report, token, kept_file=kept_file, paths=paths)

        self.results.set_exporting(True)
        self.results.set_export_progress(f"{_TITLES[fmt]}…", 0.0)
        self.worker = self.ctx.workers.run(
            job,
            f"export {fmt}",
            on_result=self._on_done,
            on_error=self._on_error,
            on_progress=self._on_progress,
            on_cancelled=self._on_cancelled,
        )
        self.busy_changed.emit(True)  # no new run while exporting from the results
        self.ctx.status(f"Exporting {self.what} to {target}…", 0)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _on_progress(self, p: Any) -> None:
        self.results.set_export_progress(f"{p.stage} {100 * p.fraction:.0f} %", float(p.fraction))

    def _finish(self) -> None:
        self.worker = None
        self.results.set_exporting(False)
        self.busy_changed.emit(False)

    def _on_done(self, path: Path) -> None:
        self._finish()
        self.last_written = Path(path)
        self.ctx.status(f"Exported {self.what} to {path}")
        log.info("exported %s", path)

    def _on_error(self, exc: BaseException) -> None:
        self._finish()
        self.ctx.status(f"Export of {self.what} failed: {getattr(exc, 'message', exc)}")
        self.ctx.show_error(exc, "Nothing was written.")

    def _on_cancelled(self) -> None:
        self._finish()
        self.ctx.status(f"Export of {self.what} cancelled; nothing was written")

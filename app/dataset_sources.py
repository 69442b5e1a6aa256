"""The Dataset export dialog's sources: opened one at a time on a worker, pickles only if trusted.

Each added path is opened the way `export_dataset` will read it
(`probe_source`). A bspysmg npz whose config is a Python pickle fails with
`UntrustedPickleError`; the user is then asked, and only on Yes is the file
opened again with `trust_pickle=True` (and the export later told to trust).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from app import dialogs
from app.dataset_jobs import SourceProbe, probe_source
from app.pages import AppContext
from app.workers import Worker
from widgets.sourcelist import SourceEntry, SourceList

SOURCE_FILTER = (
    "Datasets and recordings (*.npz *.h5 *.hdf5 IO.dat sampler_configs.json);;All files (*)"
)
PICKLE_WARNING = "This file contains a pickled Python object; only open files you trust."


def ask_trust_pickle(parent: QWidget | None, path: str | Path) -> bool:
    """Ask before unpickling: True only if the user trusts this file."""
    return dialogs.confirm(
        parent,
        "Trust this file?",
        f"{PICKLE_WARNING}\n\n{path}\n\nIts sampling config is a Python pickle, and loading a "
        "pickle can run any code hidden in the file. Load it only if it came from your own "
        "bspysmg run or someone you trust.\n\nLoad its config?",
    )


class DatasetSources(QObject):
    """Drives a `SourceList`: the accepted sources (`probes`), in order; `changed` on news."""

    changed = Signal()

    def __init__(
        self, ctx: AppContext, widget: SourceList, recordings: Any, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = widget
        self.parent_widget = parent
        self.recordings = recordings
        self.probes: dict[str, SourceProbe] = {}
        self.trusted: set[str] = set()  # npz files whose pickled config the user trusts
        self.queue: list[str] = []
        self.worker: Worker | None = None
        self.warning_colour = "#a15c00"
        widget.add_files_requested.connect(self.ask_files)
        widget.add_folder_requested.connect(self.ask_folder)
        widget.remove_requested.connect(self.remove)
        widget.suggestion_chosen.connect(lambda path: self.add([path]))
        if recordings is not None:
            recordings.changed.connect(self.show_suggestions)

    @property
    def pending(self) -> bool:
        return bool(self.queue) or self.worker is not None

    def paths(self) -> list[str]:
        return list(self.probes)

    def trust_needed(self) -> bool:
        return any(p in self.trusted for p in self.probes)

    def reset(self, paths: list[str]) -> None:
        self.probes.clear()
        self.queue.clear()
        self.widget.set_note("")
        self.show_suggestions()
        self.add(paths)

    # --- the user's requests ----------------------------------------------------------
    def last_folder(self) -> str:
        folder = self.ctx.settings.value("dataset/last_folder", "", str)
        return folder if folder and Path(folder).is_dir() else self.ctx.settings.last_folder

    def ask_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self.parent_widget, "Add sources", self.last_folder(), SOURCE_FILTER
        )
        if paths:
            self.ctx.settings.set_value("dataset/last_folder", str(Path(paths[0]).parent))
            self.add(paths)

    def ask_folder(self) -> None:
        folder = dialogs.ask_folder(
            self.parent_widget, "Add a bspysmg sampling folder", self.last_folder()
        )
        if folder:
            self.ctx.settings.set_value("dataset/last_folder", str(Path(folder).parent))
            self.add([folder])

    def add(self, paths: list[str]) -> None:
        for path in (str(Path(p)) for p in paths):
            if path not in self.probes and path not in self.queue:
                self.queue.append(path)
        self._show()
        self._next()

    def remove(self, paths: list[str]) -> None:
        for path in paths:
            self.probes.pop(path, None)
            if path in self.queue:
                self.queue.remove(path)
        self._show()
        self.changed.emit()

    # --- probing, one at a time -------------------------------------------------------
    def _next(self) -> None:
        if self.worker is None and self.queue:
            path = self.queue[0]
            trust = path in self.trusted
            self.worker = self.ctx.workers.run(
                lambda _report, _token: probe_source(path, trust),
                "inspect dataset source",
                on_result=lambda probe: self._on_probed(path, probe),
                on_error=lambda exc: self._on_failed(path, exc),
            )
        self.changed.emit()

    def _on_probed(self, path: str, probe: SourceProbe) -> None:
        self.worker = None
        if path in self.queue:  # not removed meanwhile
            self.queue.remove(path)
            self.probes[path] = probe
        self._show()
        self._next()

    def _on_failed(self, path: str, exc: BaseException) -> None:
        from backend.data.formats.npz import UntrustedPickleError

        self.worker = None
        if path in self.queue:
            if isinstance(exc, UntrustedPickleError) and path not in self.trusted:
                if ask_trust_pickle(self.parent_widget, path):
                    self.trusted.add(path)  # opened again, now reading the pickle
                else:
                    self.queue.remove(path)
                    self.widget.set_note(
                        f"{Path(path).name} was not loaded: its pickled config is not trusted.",
                        self.warning_colour,
                    )
            else:
                self.queue.remove(path)
                self.ctx.show_error(exc, f"{Path(path).name} was not added.")
        self._show()
        self._next()

    def _show(self) -> None:
        entries = [SourceEntry(p, probe.describe(), p) for p, probe in self.probes.items()]
        entries += [SourceEntry(p, f"{Path(p).name} — checking…", p) for p in self.queue]
        self.widget.set_entries(entries)

    def show_suggestions(self) -> None:
        paths = self.recordings.paths() if self.recordings is not None else []
        self.widget.set_suggestions([SourceEntry(p, Path(p).name, p) for p in paths])

"""The Recordings page's folder: where it starts, what it scans, what it offers.

The tree starts in the folder the user last chose, else in the recordings
folder (where the Sampling page writes; else the platform's data folder), so
after a session the browser leads to the data. A background scan fills the
Kind, Status and Rows columns, and the newest recording of the folder is
offered above the tree. A finished session moves an unchosen root to its
folder and offers its recording.

`RecordingsFolder` is a component the page owns: it drives the page's tree and
learns what it needs through narrow callables (the next session's config, the
recordings sessions wrote), so it knows nothing of the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from app import dialogs
from app.pages.recordings.remembered import ROOT
from app.pages.recordings.scan import scan_folder
from app.settings import AppSettings
from app.workers import WorkerPool
from backend.data.kinds import kind_labels
from widgets.filemodel import FileFacts
from widgets.filetree import FileTree

if TYPE_CHECKING:
    from backend.config import SamplingConfig

log = logging.getLogger(__name__)


class RecordingsFolder(QObject):
    """Root folder, scans and the newest-recording offer of one `FileTree`."""

    def __init__(
        self,
        tree: FileTree,
        settings: AppSettings,
        workers: WorkerPool,
        next_config: Callable[[], SamplingConfig | None],
        recorded_paths: Callable[[], Sequence[str]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tree = tree
        self.settings = settings
        self.workers = workers
        self.next_config = next_config
        self.recorded_paths = recorded_paths
        self.chosen = False  # the user chose the folder (else: the recordings folder)
        tree.choose_folder_requested.connect(self.choose)
        tree.folder_loaded.connect(self.scan)

    def start(self) -> None:
        """Browse the folder the user last chose, else the recordings folder."""
        remembered = ROOT.read(self.settings)
        if remembered and Path(remembered).is_dir():
            self.chosen = True
            self.tree.set_root(remembered)
        else:
            self.chosen = False
            self.tree.set_root(str(self.recordings_folder()))

    def recordings_folder(self) -> Path:
        """Where recordings go: the next session's output folder (Sampling page), else the
        platform's data folder (`backend.userdirs.data_dir`), else the home folder."""
        from backend.userdirs import data_dir

        config = self.next_config()
        candidates = [data_dir(), Path.home()]
        if config is not None:  # relative to the working folder, where sessions write it
            candidates.insert(0, Path(config.save_directory).resolve())
        return next((p for p in candidates if p.is_dir()), Path.home())

    def choose(self) -> None:
        """Ask the user for a folder to browse."""
        folder = dialogs.ask_folder(self.tree, "Choose a folder to browse", self.tree.root or "")
        if folder:
            self.set_root(folder)

    def set_root(self, folder: str) -> None:
        """Browse `folder`, chosen by the user (remembered for the next start)."""
        self.chosen = True
        self.tree.offer(None)
        self.tree.set_root(folder)
        ROOT.write(self.settings, Path(folder).resolve())

    def scan(self, folder: str) -> None:
        """What each file really is, and recordings' status and rows, found off the GUI thread."""
        self.workers.run(
            lambda _report, token: scan_folder(folder, token),
            "scan folder",
            on_result=self._on_scanned,
            on_error=lambda exc: log.warning("scanning %s failed: %s", folder, exc),
        )

    def _on_scanned(self, found: dict[str, dict[str, Any]]) -> None:
        facts = {
            path: FileFacts(f["kind"], f.get("status", ""), f.get("rows"), f.get("modified", 0.0))
            for path, f in found.items()
        }
        self.tree.set_facts(facts)
        self._offer_newest()

    def _offer_newest(self) -> None:
        """Offer the newest recording under the root above the tree."""
        root = self.tree.root
        recordings = [
            (f.modified, path)
            for path, f in self.tree.model.facts.items()
            if f.kind == kind_labels()["recording"] and root and Path(path).parent == Path(root)
        ]
        if not recordings:
            self.tree.offer(None)
            return
        _, path = max(recordings)
        f = self.tree.facts_of(path)
        rows = f"{f.rows:,} rows" if f is not None and f.rows is not None else ""
        what = ", ".join(t for t in (f.status if f else "", rows) if t)
        self.tree.offer(path, f"Newest: {Path(path).name}" + (f" ({what})" if what else ""))

    def on_session_recorded(self) -> None:
        """A session (Sampling page, or a resume) finished: browse its folder if the user
        has not chosen one, and offer its recording."""
        paths = self.recorded_paths()
        if not paths:
            return
        folder = str(Path(paths[0]).parent.resolve())
        if not self.chosen and folder != self.tree.root:
            self.tree.set_root(folder)
        else:
            self.scan(folder)

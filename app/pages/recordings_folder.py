"""The Recordings page's folder: where it starts, what it scans, what it offers (a mixin).

The tree starts in the folder the user last chose, else in the recordings
folder (where the Sampling page writes; else the platform's data folder), so
after a session the browser leads to the data. A background scan fills the
Kind, Status and Rows columns, and the newest recording of the folder is
offered above the tree. A finished session moves an unchosen root to its
folder and offers its recording.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import dialogs
from app.pages.recordings_scan import scan_folder
from backend.data.kinds import kind_labels
from widgets.filemodel import FileFacts

if TYPE_CHECKING:
    from app.pages.recordings import RecordingsPage

log = logging.getLogger(__name__)


class FolderBrowsing:
    """Root folder, scans and the newest-recording offer for `RecordingsPage`."""

    def _initial_root(self: RecordingsPage) -> tuple[str, bool]:
        """(folder, chosen): the folder the user last chose, else the recordings folder."""
        remembered = self.ctx.settings.value("recordings/root", "", str)
        if remembered and Path(remembered).is_dir():
            return remembered, True
        return str(self.recordings_folder()), False

    def recordings_folder(self: RecordingsPage) -> Path:
        """Where recordings go: the Sampling page's output folder, else the platform's
        data folder (`backend.userdirs.data_dir`), else the home folder."""
        from backend.userdirs import data_dir

        sampling = getattr(self.ctx.window, "pages", {}).get("sampling")
        config = getattr(sampling, "config", None)
        candidates = [data_dir(), Path.home()]
        if config is not None:  # relative to the working folder, where sessions write it
            candidates.insert(0, Path(config.save_directory).resolve())
        return next((p for p in candidates if p.is_dir()), Path.home())

    def choose_folder(self: RecordingsPage) -> None:
        folder = dialogs.ask_folder(self, "Choose a folder to browse", self.tree.root or "")
        if folder:
            self.set_root(folder)

    def set_root(self: RecordingsPage, folder: str) -> None:
        """Browse `folder`, chosen by the user (remembered for the next start)."""
        self.root_chosen = True
        self.tree.offer(None)
        self.tree.set_root(folder)
        self.ctx.settings.set_value("recordings/root", str(Path(folder).resolve()))

    def _scan_folder(self: RecordingsPage, folder: str) -> None:
        """What each file really is, and recordings' status and rows, found off the GUI thread."""
        self.ctx.workers.run(
            lambda _report, token: scan_folder(folder, token),
            "scan folder",
            on_result=self._on_scanned,
            on_error=lambda exc: log.warning("scanning %s failed: %s", folder, exc),
        )

    def _on_scanned(self: RecordingsPage, found: dict[str, dict[str, Any]]) -> None:
        facts = {
            path: FileFacts(f["kind"], f.get("status", ""), f.get("rows"), f.get("modified", 0.0))
            for path, f in found.items()
        }
        self.tree.set_facts(facts)
        self._offer_newest()

    def _offer_newest(self: RecordingsPage) -> None:
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

    def _on_session_recorded(self: RecordingsPage) -> None:
        """A session (Sampling page, or a resume) finished: browse its folder if the user
        has not chosen one, and offer its recording."""
        paths = self.sessions.paths()
        if not paths:
            return
        folder = str(Path(paths[0]).parent.resolve())
        if not self.root_chosen and folder != self.tree.root:
            self.tree.set_root(folder)
        else:
            self._scan_folder(folder)

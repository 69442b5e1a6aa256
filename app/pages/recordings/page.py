"""The Recordings page: browse a folder, see what a file holds, and look at its data.

Left: the folder tree (files the data layer can open; bspysmg sampling
folders in bold; files that only look openable marked "cannot be opened")
and the metadata of the selected file. Right: the channels, zoomable and
pannable over a file of any size (`BrowserView`), a cursor readout, Follow
for a recording still being written, and Resume sampling for an interrupted
one. Everything that reads a file runs on workers; a file that cannot be
opened says why above the plot, never in a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.pages import AppContext, Page, register_page
from app.pages.recordings.data import FileInfo
from app.pages.recordings.folder import RecordingsFolder
from app.pages.recordings.meta import EXPANDED, PENDING, channel_section
from app.pages.recordings.remembered import ROOT, STACKED
from app.pages.recordings.scan import (
    HIDDEN_SUFFIXES,
    kind_of_folder,
    kind_of_name,
)
from app.pages.recordings.view import BrowserView
from app.sessions import DeviceBusy
from app.settings import AppSettings
from app.theme import Theme
from backend.data.kinds import kind_labels
from backend.jobs import JobProgress
from widgets.elidedlabel import ElidedLabel
from widgets.filemodel import FileFacts
from widgets.filetree import FileTree
from widgets.metatree import MetaTree

if TYPE_CHECKING:
    from backend.sampling.session import SessionResult

log = logging.getLogger(__name__)


#: How the header words a recording's status (the metadata tree shows the stored value).
STATUS_TEXT = {"running": "being written"}


@register_page
class RecordingsPage(Page):
    key = "recordings"
    title = "Recordings"
    order = 20

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.path: str | None = None
        self.ranges: tuple[Any, Any] | None = None
        self._keep_status = False
        self._meta_path: str | None = None  # the file whose metadata the tree shows
        self._followed_key: tuple | None = None  # what the last follow step showed
        self.tree = FileTree(kind_of_name, kind_of_folder, HIDDEN_SUFFIXES)
        self.meta = MetaTree()
        self.meta.setObjectName("metadata_tree")
        self.view = BrowserView(ctx)
        # Resumed sessions belong to the session service, which keeps one driver at a time
        # and adds their recordings to this run's list (`ctx.sessions.recordings`).
        self.runner = ctx.sessions.resuming
        self.resume_path: str | None = None  # the recording being resumed
        self.last_result: SessionResult | None = None
        self.file_label = ElidedLabel("No file selected")
        self.file_label.setObjectName("browser_file")
        self.stacked = QCheckBox("Stacked")
        self.stacked.setObjectName("stacked")
        self.stacked.setToolTip(
            "One lane per channel, each scaled to its own range (the y axis names them); "
            "off: channels overlaid on one axis in their units"
        )
        self.stacked.setChecked(STACKED.read(ctx.settings))
        self.view.set_stacked(self.stacked.isChecked())
        self.follow = QCheckBox("Follow")
        self.follow.setObjectName("follow")
        self.follow.setToolTip("Watch a recording that is still being written grow")
        self.sessions = ctx.sessions.recordings
        self.folder = RecordingsFolder(
            self.tree,
            ctx.settings,
            ctx.workers,
            lambda: ctx.sessions.next_config,
            self.sessions.paths,
            parent=self,
        )
        self.buttons: dict[str, QToolButton] = {}
        self._make_actions()
        self._lay_out()
        self.tree.path_selected.connect(self.open_path)
        self.follow.toggled.connect(self._on_follow_toggled)
        self.stacked.toggled.connect(self.view.set_stacked)
        self.sessions.changed.connect(self.folder.on_session_recorded)
        self.view.opened.connect(self._on_opened)
        self.view.open_failed.connect(self._on_open_failed)
        self.view.info_changed.connect(self._on_info_changed)
        self.view.ranges_ready.connect(self._on_ranges)
        self.view.metadata_ready.connect(self._show_metadata)
        self.view.ranges_progress.connect(self._on_ranges_progress)
        self.runner.started.connect(self._on_resume_started)
        self.runner.progress.connect(self._on_resume_progress)
        self.runner.finished.connect(self._on_resume_finished)
        self.runner.failed.connect(self._on_resume_failed)
        # Listing and scanning the folder (h5py, a worker) waits until the window shows.
        ctx.after_first_paint(self.folder.start)
        self._update_actions()

    # --- construction ---------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(key: str, text: str, tip: str, slot: Any, shortcut: str = "") -> QAction:
            a = QAction(text, self)
            a.setObjectName(f"action_{key}")
            a.setToolTip(tip)
            a.setStatusTip(tip)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.show_all_action = action(
            "show_all", "Show all", "Show the whole file (Home)", self.view.show_everything, "Home"
        )
        self.resume_action = action(
            "resume_recording",
            "Resume sampling",
            "Continue this interrupted recording from its last complete batch",
            self.resume,
        )
        self.stop_resume_action = action(
            "stop_resume", "Stop", "Stop resuming after the batch in flight", self.runner.stop
        )

    def _lay_out(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.tree)
        left.addWidget(self.meta)
        left.setSizes([300, 500])
        bar = QHBoxLayout()
        bar.addWidget(self.file_label, 1)
        bar.addWidget(self.stacked)
        bar.addWidget(self.follow)
        for key, act in (
            ("show_all", self.show_all_action),
            ("resume", self.resume_action),
            ("stop_resume", self.stop_resume_action),
        ):
            button = QToolButton()
            button.setObjectName(f"button_{key}")
            button.setDefaultAction(act)
            bar.addWidget(button)
            self.buttons[key] = button
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        column.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("recordings_splitter")
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([430, 970])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    # --- one file -------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Show `path`: metadata and plot load on workers."""
        if self.runner.active:
            self.ctx.status("A recording is being resumed; stop it before opening another file")
            return
        self._open(path)

    def open_file(self, path: str) -> bool:
        """Another page offers `path` (a new recording): browse its folder and open it."""
        self.folder.set_root(str(Path(path).parent))
        self.open_path(path)
        return True

    def _open(self, path: str) -> None:
        self.path, self.ranges = path, None
        self.follow.setChecked(False)
        self.file_label.setText(Path(path).name)
        self._meta_path = self._followed_key = None
        self.meta.set_sections([("File", {"Path": path, "Kind": "reading…"})], ["File"])
        self.view.open(path)
        self._load_metadata(path)
        self._update_actions()
        self.title_changed.emit()

    def _load_metadata(self, path: str) -> None:
        self.view.load_metadata(path)

    def _show_metadata(self, path: str, sections: Any) -> None:
        if path != self.path:
            return
        if isinstance(sections, BaseException):
            self._show_problem(path, sections)
            return
        if self._meta_path == path:  # new facts of the file shown: the tree stays as it is
            self.meta.update_sections(sections, EXPANDED)
        else:
            self.meta.set_sections(sections, EXPANDED)
            self._meta_path = path
        info = self.view.info
        if self.ranges is not None:
            self._on_ranges(*self.ranges)
        elif info is not None and info.live and self.meta.item_at(["Channels"]) is not None:
            pending = channel_section(info.names, info.units, note="when the writing ends")
            self.meta.replace(["Channels"], pending)

    def _show_problem(self, path: str, exc: BaseException) -> None:
        problem = {"Error": getattr(exc, "message", str(exc))}
        if getattr(exc, "hint", ""):
            problem["What to do"] = exc.hint
        self.meta.set_sections([("File", {"Path": path}), ("Problem", problem)], EXPANDED)
        if not getattr(exc, "message", None):
            log.error("reading the metadata of %s failed", path, exc_info=exc)

    def _show_header(self, info: FileInfo) -> None:
        shown = STATUS_TEXT.get(info.status or "", info.status)
        status = f" — {shown}" if shown else ""
        self.file_label.setText(Path(info.path).name, f"{status}  ({info.rows:,} rows)")

    def _on_opened(self, info: FileInfo) -> None:
        self._show_header(info)
        if info.live and not self.follow.isChecked():
            self.ctx.status(f"{Path(info.path).name} is still being written: tick Follow", 0)
        elif not self._keep_status:
            self.ctx.status(f"Opened {info.path}")
        self._keep_status = False
        self._update_actions()

    def _on_follow_toggled(self, on: bool) -> None:
        self.view.set_follow(on)
        info = self.view.info
        # After a resume the file is reopened with the outcome in the status bar; the
        # previous (live) file's facts must not replace it with "tick Follow".
        if info is not None and info.live and not self._keep_status:
            name = Path(info.path).name
            if on:
                self.ctx.status(f"Following {name} as it is written…", 0)
            else:
                self.ctx.status(f"{name} is still being written: tick Follow to watch it", 0)

    def _on_open_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", None)
        if message is None:  # not a user error: a bug, shown with its traceback
            self.ctx.show_error(exc, "The file was not opened.")
            message = str(exc)
        hint = getattr(exc, "hint", "")
        self.view.say(f"Cannot open this file: {message}" + (f"\n{hint}" if hint else ""), True)
        self.ctx.status(f"Cannot open {self.path}: {message}")
        self._update_actions()

    def _on_info_changed(self, info: FileInfo) -> None:
        """A followed file grew (or its writer stopped): every fact shown follows it."""
        key = (info.path, info.rows, info.status, info.live)
        if self.path != info.path or key == self._followed_key:
            return  # nothing new since the last step
        self._followed_key = key
        self._show_header(info)
        self._load_metadata(info.path)  # rows, batches, duration, device time, size…
        old = self.tree.facts_of(info.path)
        self.tree.file_changed(
            info.path,
            FileFacts(
                old.kind if old else kind_labels().get(info.kind, info.kind),
                info.status or "",
                info.rows,
                old.modified if old else 0.0,
            ),
        )
        if not info.live:  # the writer is done: the final facts and ranges
            self.follow.setChecked(False)
            self.ranges = None
            self.view.compute_ranges()
            self.ctx.status(f"{Path(info.path).name} is {info.status}: {info.rows:,} rows")
        self._update_actions()

    def _on_ranges(self, lo: Any, hi: Any) -> None:
        info = self.view.info
        self.ranges = (lo, hi)
        if info is not None:
            self.view.plot.set_channel_ranges(lo, hi)  # each lane spans its channel's range
        if info is None or self.meta.item_at(["Channels"]) is None:
            return
        self.meta.replace(["Channels"], channel_section(info.names, info.units, lo, hi))

    def _on_ranges_progress(self, progress: JobProgress) -> None:
        self.meta.set_text(["Channels"], f"{PENDING} {progress.fraction:.0%}")

    # --- resume ---------------------------------------------------------------------
    def resume(self) -> None:
        info = self.view.info
        if info is None or not info.resumable or self.runner.active:
            return
        reason = self.ctx.sessions.busy_reason(self.runner)
        if reason:
            self.ctx.status(f"Not resumed: {reason}; stop it first")
            return
        self.follow.setChecked(False)
        self.view.say("Reopening the recording for writing…")
        self.resume_path = info.path
        self.view.release(lambda: self._start_resume(info.path))
        self._update_actions()

    def _start_resume(self, path: str) -> None:
        """The file is released: resume it, unless something took the device meanwhile."""
        try:
            self.ctx.sessions.resume(path)
        except DeviceBusy as exc:
            self.ctx.status(f"Not resumed: {exc}")
            self._open(path)
        self._update_actions()

    def _on_resume_started(self, path: str) -> None:
        self.ctx.status(f"Resuming {Path(path).name}…", 0)
        self.view.open(path)
        self._load_metadata(path)
        self.view.opened.connect(self._follow_once, Qt.ConnectionType.SingleShotConnection)
        self._update_actions()

    def _follow_once(self, info: FileInfo) -> None:
        if info.live:
            self.follow.setChecked(True)

    def _on_resume_progress(self, p: Any) -> None:
        self.view.say(f"Resuming: batch {p.batch} of {p.total} ({p.rows:,} rows)")

    def _on_resume_finished(self, result: SessionResult) -> None:
        self.last_result = result
        self.view.say(
            f"Resumed sampling ended: {result.status}, {result.batches_done} batches "
            f"({result.rows:,} rows) in the recording"
        )
        self.ctx.status(f"Resumed recording {result.status}: {result.path}", 0)
        self._keep_status = True  # the outcome stays in the status bar after the reopen
        self._open(result.path)

    def _on_resume_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, "The recording was not changed.")
        if self.resume_path:
            self._open(self.resume_path)

    # --- state ----------------------------------------------------------------------
    def _update_actions(self) -> None:
        info = self.view.info
        resuming = self.runner.active
        self.resume_action.setEnabled(info is not None and info.resumable and not resuming)
        self.stop_resume_action.setEnabled(resuming)
        self.buttons["stop_resume"].setVisible(resuming)
        self.follow.setEnabled(info is not None and (info.live or self.follow.isChecked()))
        self.show_all_action.setEnabled(info is not None)

    def busy_reason(self) -> str | None:
        return "a recording is being resumed" if self.runner.active else None

    def shutdown(self, timeout_s: float = 30.0) -> None:
        self.ctx.sessions.shutdown(timeout_s)
        self.view.shutdown()

    def set_theme(self, theme: Theme) -> None:
        self.view.set_theme(theme)

    def title_suffix(self) -> str:
        return Path(self.path).name if self.path else ""

    def save_state(self, settings: AppSettings) -> None:
        if self.tree.root and self.folder.chosen:  # a default is found afresh next time
            ROOT.write(settings, self.tree.root)
        STACKED.write(settings, self.stacked.isChecked())

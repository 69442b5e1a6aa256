"""The Postprocess page's "each on its own" path: its choices, its run and its table.

`FanoutOptions` chooses between one merged dataset (the page's classic run) and
each source on its own, and where those jobs run: here one after another, a
local Dask cluster of N worker processes, or a Dask scheduler whose address is
kept in the settings. Without the `distributed` extra the cluster choices are
disabled and say which extra to install. `EachResults` is the table (source,
rows, kept, output, status) with a progress bar per running source, and opens
a result on the Recordings page or its folder. `EachRun` runs
`fanout_jobs.run_each` on the page's worker pool: Cancel stops the
running jobs between chunks (on Dask too) and the pending ones; finished folders stay.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.pages.postprocess.fanout_jobs import (
    WHERE_KINDS,
    EachRequest,
    EachState,
    SourceRow,
    Where,
    distributed_missing,
    folders_with_results,
    run_each,
)
from app.pages.postprocess.remembered import EACH, RUN_ON, SCHEDULER, WORKERS
from app.recent import remember_result  # offered on the Models page
from app.settings import Remembered
from app.theme import Theme
from app.workers import Worker
from widgets.jobtable import JobRow, JobTable

log = logging.getLogger(__name__)

WHERE_TEXTS = {
    "here": "Here, one after another",
    "local": "A local Dask cluster",
    "scheduler": "A Dask scheduler",
}
HEADER = ["Source", "Rows", "Kept", "Output", "Status"]
H5_RESULT = "postprocessed_data.h5"


class FanoutOptions(QGroupBox):
    """Merge the sources, or process each on its own (here or on Dask)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Several sources", parent)
        self.setObjectName("fanout_options")
        self.merge = QRadioButton("Merge into one dataset")
        self.merge.setObjectName("radio_merge")
        self.each_radio = QRadioButton("Each on its own (a folder per source)")
        self.each_radio.setObjectName("radio_each")
        self.merge.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.merge)
        group.addButton(self.each_radio)
        self.where_combo = QComboBox()
        self.where_combo.setObjectName("fanout_where")
        for kind in WHERE_KINDS:
            self.where_combo.addItem(WHERE_TEXTS[kind], kind)
        self.workers = QSpinBox()
        self.workers.setObjectName("fanout_workers")
        self.workers.setRange(1, 256)
        self.workers.setValue(2)
        self.workers.setSuffix(" workers")
        self.address = QLineEdit()
        self.address.setObjectName("fanout_scheduler")
        self.address.setPlaceholderText("tcp://HOST:8786")
        self.hint = QLabel("")
        self.hint.setObjectName("fanout_hint")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._locked = False  # a run is going: the choices wait
        self.missing = distributed_missing()
        if self.missing:  # the cluster entries stay visible, disabled, and say why
            model = self.where_combo.model()
            for row in (1, 2):
                model.item(row).setEnabled(False)
                model.item(row).setToolTip(self.missing)
        where_row = QHBoxLayout()
        where_row.addWidget(self.where_combo, 1)
        where_row.addWidget(self.workers)
        where_row.addWidget(self.address, 2)
        form = QFormLayout()
        form.addRow("Run on", where_row)
        column = QVBoxLayout(self)
        column.addWidget(self.merge)
        column.addWidget(self.each_radio)
        column.addLayout(form)
        column.addWidget(self.hint)
        for signal in (self.merge.toggled, self.where_combo.currentIndexChanged):
            signal.connect(lambda *_: self._update())
        self.workers.valueChanged.connect(lambda *_: self._update())
        self.address.textChanged.connect(lambda *_: self._update())
        self._update()

    def each(self) -> bool:
        return self.each_radio.isChecked()

    def where(self) -> Where:
        return Where(self.where_combo.currentData(), self.workers.value(), self.address.text())

    def problem(self) -> str | None:
        """Why Run cannot start in 'each' mode with these choices (None: it can)."""
        return self.where().problem() if self.each() else None

    def _update(self) -> None:
        each, kind = self.each(), self.where_combo.currentData()
        self.where_combo.setEnabled(each and not self._locked)
        self.workers.setVisible(kind == "local")
        self.address.setVisible(kind == "scheduler")
        for widget in (self.workers, self.address):
            widget.setEnabled(each and not self._locked)
        hint = self.missing if each and self.missing else ""
        if each and not hint:
            hint = self.where().problem() or ""
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.changed.emit()

    def set_running(self, running: bool) -> None:
        self._locked = running
        self.merge.setEnabled(not running)
        self.each_radio.setEnabled(not running)
        self._update()

    def remember(self, remembered: Remembered) -> None:
        """Restore the choices from `remembered` now; its `save` stores them."""
        remembered.bind(WORKERS, self.workers)
        remembered.bind(SCHEDULER, self.address)
        remembered.bind_value(RUN_ON, self.where_combo.currentData, self._put_where)
        remembered.bind_value(EACH, self.each, self._put_each)

    def _put_where(self, kind: str) -> None:
        if kind in WHERE_KINDS and not (self.missing and kind != "here"):
            self.where_combo.setCurrentIndex(WHERE_KINDS.index(kind))

    def _put_each(self, each: bool) -> None:
        (self.each_radio if each else self.merge).setChecked(True)


def each_request(page: Any) -> EachRequest:
    """What the page's Run does with 'each on its own': every listed source into its own
    folder (inside the Folder if one is given)."""
    text = page.out_edit.text().strip()
    return EachRequest(
        list(page.inputs.paths),
        Path(text) if text else None,
        page.inputs.clip_spec(),
        page.charging.value(),
        page.reference.value(),
        page.fanout.where(),
    )


def job_rows(state: EachState) -> list[JobRow]:
    """The table's rows for a snapshot."""
    rows = []
    for r in state.rows:
        out = str(r.out) if r.state == "ok" else "–"
        cells = [
            Path(r.source).name,
            "–" if r.rows_in is None else f"{r.rows_in:,}",
            "–" if r.rows_kept is None else f"{r.rows_kept:,}",
            r.out.name if r.state == "ok" else "–",
            r.status_text(),
        ]
        tips = [r.source, *cells[1:3], out, cells[4]]
        progress = r.fraction if r.state == "running" else None
        rows.append(JobRow(cells, progress, r.state == "failed", tips))
    return rows


class EachResults(QWidget):
    """The per-source table and what opens a finished source's result."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.state: EachState | None = None
        self.title = QLabel("Run to postprocess each source on its own.")
        self.title.setObjectName("each_title")
        self.title.setWordWrap(True)
        self.table = JobTable(HEADER)
        self.table.setObjectName("each_results")
        self.open_button = QPushButton("Open in Recordings")
        self.open_button.setObjectName("button_each_open")
        self.open_button.setToolTip(
            f"Show the selected source's {H5_RESULT} on the Recordings page"
        )
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setObjectName("button_each_folder")
        self.folder_button.setToolTip("Open the selected source's output folder")
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.folder_button)
        bar.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.table, 1)
        column.addLayout(bar)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.activated.connect(self.open_result)
        self.open_button.clicked.connect(lambda: self.open_result(self.table.currentRow()))
        self.folder_button.clicked.connect(lambda: self.open_folder(self.table.currentRow()))
        self._update_buttons()

    def show_state(self, state: EachState, title: str) -> None:
        self.state = state
        self.table.set_rows(job_rows(state))
        self.title.setText(title)
        self._update_buttons()

    def finished_row(self, row: int) -> SourceRow | None:
        if self.state is None or not 0 <= row < len(self.state.rows):
            return None
        r = self.state.rows[row]
        return r if r.state == "ok" else None

    def _update_buttons(self) -> None:
        ok = self.finished_row(self.table.currentRow()) is not None
        self.open_button.setEnabled(ok)
        self.folder_button.setEnabled(ok)

    def open_result(self, row: int) -> None:
        """The source's postprocessed results on the Recordings page."""
        r = self.finished_row(row)
        if r is not None and not self.ctx.open_in_page("recordings", str(r.out / H5_RESULT)):
            self.ctx.status(f"Cannot show {r.out / H5_RESULT} on the Recordings page")

    def open_folder(self, row: int) -> None:
        from app.helpmenu import open_folder

        r = self.finished_row(row)
        if r is not None and not open_folder(r.out):
            self.ctx.status(f"Cannot open {r.out}; it is {r.out}")

    def set_theme(self, theme: Theme) -> None:
        self.table.set_error_colour(theme.error)
        if self.state is not None:
            self.table.set_rows(job_rows(self.state))


class EachRun(QObject):
    """Runs each source on its own on the page's worker pool; `ended` when it stops."""

    ended = Signal()

    def __init__(self, ctx: Any, results: EachResults, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.results = results
        self.worker: Worker | None = None
        self.request: EachRequest | None = None
        self.progress_bar: Any = None

    def start(self, request: EachRequest, progress_bar: Any, parent: QWidget) -> bool:
        """Ask before replacing results, then run; False if nothing started."""
        try:
            outs = request.outs()
        except Exception as exc:  # two sources that would share a folder
            self.ctx.show_error(exc, "Nothing was run.")
            return False
        existing = folders_with_results(outs)
        if existing:
            names = "\n".join(str(p) for p in existing[:8])
            more = f"\n… and {len(existing) - 8} more" if len(existing) > 8 else ""
            if not dialogs.confirm(
                parent,
                "Replace results?",
                f"These folders already hold results:\n{names}{more}\n\nEach is replaced when "
                "its source finishes (Cancel keeps the ones not finished). Continue?",
            ):
                return False
        self.request, self.progress_bar = request, progress_bar
        self.worker = self.ctx.workers.run(
            lambda report, token: run_each(request, report, token),
            "postprocess each",
            on_result=self._on_done,
            on_error=self._on_failed,
            on_progress=self._on_progress,
            on_cancelled=self._on_cancelled,
        )
        progress_bar.setRange(0, 1000)
        progress_bar.setValue(0)
        progress_bar.setFormat("Starting…")
        self.ctx.status(
            f"Postprocessing {len(request.paths)} sources {request.where.describe()}…", 0
        )
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.progress_bar.setFormat("Cancelling…")

    def _on_progress(self, state: EachState) -> None:
        n = len(state.rows)
        self.results.show_state(state, state.title())
        self.progress_bar.setValue(round(1000 * state.fraction))
        self.progress_bar.setFormat(f"{state.done} of {n} sources done")

    def _end(self, state: EachState | None, text: str) -> None:
        self.worker = None
        if state is not None:
            c = state.counts()
            summary = f"{c['ok']} ok, {c['failed']} failed"
            if c["cancelled"]:
                summary += f", {c['cancelled']} cancelled"
            self.results.show_state(state, state.title(summary))
            self.progress_bar.setFormat(f"{text}: {summary}")
            self.ctx.status(f"Postprocessing each source: {summary}", 0)
            self._remember(state)
        self.ended.emit()

    def _remember(self, state: EachState) -> None:
        for r in reversed([r for r in state.rows if r.state == "ok"]):
            remember_result(self.ctx.settings, r.out)

    def _on_done(self, state: EachState) -> None:
        self.progress_bar.setValue(1000)
        self._end(state, "Done")
        log.info("postprocessed %d sources each on its own", len(state.rows))

    def _on_cancelled(self) -> None:
        state = self.results.state
        self._end(None if state is None else state.cancelled(), "Cancelled")

    def _on_failed(self, exc: BaseException) -> None:
        state = self.results.state
        self._end(None if state is None else state.cancelled(), "Failed")
        self.progress_bar.setFormat("Failed")
        self.ctx.show_error(exc, "Sources not finished were not written.")

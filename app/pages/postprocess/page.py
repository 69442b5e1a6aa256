"""The Postprocess page: recordings -> the peer's dataset files, with a live clipping preview.

Left: the sources and the clipping choice with its live preview
(`SourcesPanel`), the charging/reference batch counts, the output folder and
Run/Cancel (`backend.postprocess.job` on a worker; a cancelled run leaves the
folder as it was). Right: the results (`ResultsView`) and their exports
(`Exporter`). The dataset export dialog opens from here and from
File > Export dataset…. "Each on its own" (`fanout`) runs every
source into its own folder, here or on Dask, and shows a table instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.pages import AppContext, Page, register_page
from app.pages.postprocess import remembered
from app.pages.postprocess.exports import Exporter
from app.pages.postprocess.fanout import EachResults, EachRun, FanoutOptions, each_request
from app.pages.postprocess.jobs import (
    RunOutcome,
    RunRequest,
    existing_results,
    export_problems,
    export_titles,
    run_postprocess,
    stale_note,
)
from app.pages.postprocess.results import ResultsView
from app.pages.postprocess.sources import SourcesPanel
from app.recent import remember_result  # offered on the Models page
from app.settings import Remembered
from app.theme import LIGHT, Theme
from app.workers import Worker

log = logging.getLogger(__name__)


def _batches_spin(name: str, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(1, 1_000_000)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


@register_page
class PostprocessPage(Page):
    key = "postprocess"
    title = "Postprocess"
    order = 15

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.theme: Theme = LIGHT
        self.outcome: RunOutcome | None = None
        self.run_worker: Worker | None = None
        self.recordings = ctx.sessions.recordings  # this run's recordings, newest first
        self.inputs = SourcesPanel(ctx, self.recordings)
        self.sources, self.clip = self.inputs.sources, self.inputs.clip
        self.preview_plot = self.inputs.preview_plot
        self.charging = _batches_spin(
            "charging_batches", 40, "The last N batches, unclipped, go to charging_signal.npz"
        )
        self.reference = _batches_spin(
            "reference_batches", 15, "The last N batches, unclipped, go to reference_batch.npz"
        )
        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("output_folder")
        self.out_browse = QPushButton("Browse…")
        self.out_browse.setObjectName("button_output_folder")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("button_run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("button_cancel")
        self.progress = QProgressBar()
        self.progress.setObjectName("postprocess_progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.dataset_button = QPushButton("Dataset export…")
        self.dataset_button.setObjectName("button_dataset_export")
        self.results = ResultsView()
        self.fanout = FanoutOptions()
        self.each_results = EachResults(ctx)
        self.each_run = EachRun(ctx, self.each_results, self)
        self.right = QStackedWidget()
        self.right.addWidget(self.results)
        self.right.addWidget(self.each_results)
        self.exporter = Exporter(ctx, self.results, lambda: self.inputs.info, self)
        self.exporter.busy_changed.connect(lambda _busy: self.update_actions())
        self.dataset_action = QAction("Export &dataset…", self)
        self.dataset_action.setObjectName("action_export_dataset")
        self.dataset_action.setStatusTip("Split recordings into train/validation/test npz files")
        self.dataset_dialog = None
        self._lay_out()
        self._connect()
        self._restore()
        self.update_actions()

    # --- construction ---------------------------------------------------------------
    def _lay_out(self) -> None:
        out_box = QGroupBox("Output")
        form = QFormLayout(out_box)
        tails = QHBoxLayout()
        tails.addWidget(QLabel("Charging"))
        tails.addWidget(self.charging)
        tails.addWidget(QLabel("Reference"))
        tails.addWidget(self.reference)
        tails.addStretch(1)
        form.addRow("Raw tail batches", tails)
        folder = QHBoxLayout()
        folder.addWidget(self.out_edit, 1)
        folder.addWidget(self.out_browse)
        form.addRow("Folder", folder)
        run_row = QHBoxLayout()
        run_row.setContentsMargins(0, 0, 0, 0)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.dataset_button)
        form_page = QWidget()
        column = QVBoxLayout(form_page)
        column.setContentsMargins(0, 0, 4, 0)
        column.addWidget(self.inputs, 1)
        column.addWidget(self.fanout)
        column.addWidget(out_box)
        scroll = QScrollArea()
        scroll.setObjectName("postprocess_form")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(form_page)
        # Run stays in view below the scrolled form, however many sources are listed.
        left = QWidget()
        left.setMinimumWidth(320)
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(scroll, 1)
        left_column.addLayout(run_row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("postprocess_splitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(self.right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([440, 960])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        self.inputs.changed.connect(self._on_inputs_changed)
        self.charging.valueChanged.connect(lambda _value: self.update_actions())
        self.reference.valueChanged.connect(lambda _value: self.update_actions())
        self.out_browse.clicked.connect(self.ask_output_folder)
        self.out_edit.textChanged.connect(lambda _text: self.update_actions())
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.dataset_button.clicked.connect(self.open_dataset_dialog)
        self.dataset_action.triggered.connect(self.open_dataset_dialog)
        self.fanout.changed.connect(self._on_fanout_changed)
        self.each_run.ended.connect(lambda: self._set_running(False))

    def menu_actions(self) -> dict[str, list[QAction | None]]:
        return {"File": [None, self.dataset_action]}

    # --- output folder and run --------------------------------------------------------
    def output_dir(self) -> Path | None:
        text = self.out_edit.text().strip()
        if text:
            return Path(text)
        info = self.inputs.info
        return info.default_out if info is not None else None

    def ask_output_folder(self) -> None:
        current = self.output_dir()
        start = str(current) if current and current.is_dir() else self.inputs.last_folder()
        folder = dialogs.ask_folder(self, "Choose the output folder", start)
        if folder:
            self.out_edit.setText(folder)

    def can_run(self) -> bool:
        return (
            self.inputs.info is not None
            and not self.inputs.checking
            and self.run_worker is None
            and self.each_run.worker is None
            and not self.exporter.busy
            and self.inputs.clip.is_valid()
            and self.fanout.problem() is None
        )

    def _on_fanout_changed(self) -> None:
        each = self.fanout.each()
        self.right.setCurrentWidget(self.each_results if each else self.results)
        self.inputs.set_each(each)
        self._on_inputs_changed()

    def current_request(self) -> RunRequest | None:
        """What Run would do now (None: the sources are not usable yet)."""
        out, info = self.output_dir(), self.inputs.info
        if out is None or info is None or self.inputs.checking:
            return None
        return RunRequest(
            list(info.paths),
            out,
            self.inputs.clip_spec(),
            self.charging.value(),
            self.reference.value(),
        )

    def run(self) -> None:
        if not self.can_run():
            return
        if self.fanout.each():
            if self.each_run.start(each_request(self), self.progress, self):
                self._set_running(True)
            return
        request = self.current_request()
        assert request is not None
        out = request.out_dir
        existing = existing_results(out)
        if existing and not dialogs.confirm(
            self,
            "Replace results?",
            f"{out} already holds {', '.join(existing)}.\n\nRunning replaces them when it "
            "finishes (Cancel keeps them as they are). Continue?",
        ):
            return
        self.run_worker = self.ctx.workers.run(
            lambda report, token: run_postprocess(request, report, token),
            "postprocess",
            on_result=self._on_run_done,
            on_error=self._on_run_failed,
            on_progress=self._on_run_progress,
            on_cancelled=self._on_run_cancelled,
        )
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._set_running(True)
        self.ctx.status(f"Postprocessing into {out}…", 0)

    def cancel(self) -> None:
        if self.run_worker is not None:
            self.run_worker.cancel()
            self.progress.setFormat("Cancelling…")
        self.each_run.cancel()

    def _on_run_progress(self, p: Any) -> None:
        self.progress.setValue(round(1000 * p.fraction))
        unit = "" if p.stage == "figure" else f": {p.done:,} / {p.total:,} rows"
        self.progress.setFormat(f"{p.stage.capitalize()}{unit}")

    def _on_run_done(self, outcome: RunOutcome) -> None:
        self._set_running(False)
        self.outcome = outcome
        self.results.show_outcome(outcome)
        self.update_actions()
        remember_result(self.ctx.settings, outcome.out_dir)
        s = outcome.summary
        self.progress.setValue(1000)
        self.progress.setFormat(f"Done: {s['rows_kept']:,} rows kept")
        self.ctx.status(
            f"Postprocessed {s['rows_in']:,} rows: {s['rows_kept']:,} kept "
            f"({s['percent_dropped']:.2f} % clipped) in {outcome.out_dir}",
            0,
        )
        log.info("postprocessed into %s", outcome.out_dir)

    def _on_run_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.progress.setFormat("Failed")
        self.ctx.show_error(exc, "Nothing was written; the output folder is as it was.")

    def _on_run_cancelled(self) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled")
        self.ctx.status("Postprocessing cancelled; the output folder is as it was")

    def _set_running(self, running: bool) -> None:
        if not running:
            self.run_worker = None
        self.fanout.set_running(running)
        for widget in (self.charging, self.reference, self.out_edit, self.out_browse):
            widget.setEnabled(not running)
        # A dataset is split from the result file the run is replacing: not until it ends.
        self.dataset_button.setEnabled(not running)
        self.dataset_action.setEnabled(not running)
        self.results.set_locked(running)
        self.inputs.set_running(running)  # emits changed -> _on_inputs_changed

    def _on_inputs_changed(self) -> None:
        info = self.inputs.info
        if self.fanout.each():
            text = "Default: each source's own folder (a folder per source inside if given)"
        else:
            text = f"Default: {info.default_out}" if info else "Default: beside the first source"
        self.out_edit.setPlaceholderText(text)
        self.update_actions()

    def update_actions(self) -> None:
        self.run_button.setEnabled(self.can_run())
        self.cancel_button.setEnabled(
            self.run_worker is not None or self.each_run.worker is not None
        )
        if not self.inputs.checking:  # a list being opened is judged once it is
            self.results.set_stale(stale_note(self.outcome, self.current_request()))
        info = None if self.inputs.checking else self.inputs.info
        self.results.set_export_problems(export_problems(self.outcome, info))
        for which, title in export_titles(self.outcome, info).items():
            self.results.set_menu_title(which, title)

    # --- dataset export ---------------------------------------------------------------
    def open_dataset_dialog(self) -> None:
        from app.dataset_dialog import DatasetDialog
        from backend.postprocess.names import DATA_NAME

        dialog = self.dataset_dialog
        if dialog is None:
            dialog = DatasetDialog(self.ctx, self.recordings, self.window())
            self.dataset_dialog = dialog
            dialog.set_theme(self.theme)
        if not dialog.isVisible():
            sources = (
                [str(self.outcome.files[DATA_NAME])] if self.outcome else list(self.inputs.paths)
            )
            dialog.start(sources)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    # --- window integration -----------------------------------------------------------
    def busy_reason(self) -> str | None:
        if self.run_worker is not None or self.each_run.worker is not None:
            return "postprocessing is running"
        if self.exporter.busy:
            return "an export is running"
        if self.dataset_dialog is not None and self.dataset_dialog.busy:
            return "a dataset export is running"
        return None

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Cancel what runs (nothing half-written stays) and wait for it."""
        workers = [self.run_worker, self.each_run.worker, self.exporter.worker]
        workers.append(self.inputs.scan_worker)
        if self.dataset_dialog is not None:
            workers.append(self.dataset_dialog.worker)
        for worker in workers:
            if worker is not None:
                worker.cancel()
        for worker in workers:
            if worker is not None and not worker.wait(timeout_s):
                log.error("%s did not stop within %.0f s", worker.name, timeout_s)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.inputs.set_theme(theme)
        self.results.set_theme(theme)
        self.each_results.set_theme(theme)
        if self.dataset_dialog is not None:
            self.dataset_dialog.set_theme(theme)

    def save_state(self, settings: Any) -> None:
        self.remembered.save()
        self.inputs.save_state(settings)

    def _restore(self) -> None:
        self.remembered = Remembered(self.ctx.settings)
        self.remembered.bind(remembered.CHARGING_BATCHES, self.charging)
        self.remembered.bind(remembered.REFERENCE_BATCHES, self.reference)
        self.inputs.restore(self.ctx.settings)
        self.fanout.remember(self.remembered)

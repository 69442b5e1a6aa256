"""The Dataset export dialog: sources -> train / validation / test npz files for training.

Sources are opened one at a time on a worker as they are added, the way the
export will read them; a bspysmg npz whose config is a pickle is only read
after the user says it can be trusted. The split is validated as it is typed
(message next to the fields, Run disabled), the expected rows per split are
shown, and the export runs on a worker with progress and Cancel (nothing is
left behind by a cancelled export). Afterwards a table lists what was written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.context import AppContext
from app.dataset_jobs import (
    ExportRequest,
    WrittenSplit,
    clipping_mix,
    existing_splits,
    expected_rows,
    run_export,
    split_problem,
)
from app.dataset_sources import DatasetSources
from app.theme import LIGHT, Theme
from app.workers import Worker
from widgets.sourcelist import SourceList

log = logging.getLogger(__name__)

SPLITS = (("train", "Train", "0.8"), ("validation", "Validation", "0.1"), ("test", "Test", "0.1"))


class DatasetDialog(QDialog):
    """Non-modal: the window stays usable while an export runs."""

    def __init__(self, ctx: AppContext, recordings: Any = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataset_dialog")
        self.setWindowTitle("Export dataset")
        self.ctx = ctx
        self.theme: Theme = LIGHT
        self.worker: Worker | None = None
        self.written: list[WrittenSplit] = []
        self.sources = SourceList()
        self.inputs = DatasetSources(ctx, self.sources, recordings, self)
        self.split_edits: dict[str, QLineEdit] = {}
        for key, _label, default in SPLITS:
            edit = QLineEdit(default)
            edit.setObjectName(f"split_{key}")
            edit.setFixedWidth(64)
            edit.setToolTip("A fraction of the rows of every source (the three add up to 1)")
            self.split_edits[key] = edit
        self.split_message = QLabel("")
        self.split_message.setObjectName("split_message")
        self.split_message.setWordWrap(True)
        self.expected = QLabel("")
        self.expected.setObjectName("split_expected")
        self.blocks = QCheckBox("Split in time blocks (neighbouring rows never on both sides)")
        self.blocks.setObjectName("split_blocks")
        self.block_rows = QSpinBox()
        self.block_rows.setObjectName("split_block_rows")
        self.block_rows.setRange(0, 1_000_000_000)
        self.block_rows.setSpecialValueText("one piece per split")
        self.block_rows.setSuffix(" rows")
        self.block_rows.setToolTip(
            "0: train, validation and test are one contiguous piece each; N: blocks of N "
            "rows dealt out at random"
        )
        self.seed = QSpinBox()
        self.seed.setObjectName("split_seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same split")
        self.block_rows.setMinimumWidth(170)
        self.seed.setMinimumWidth(110)
        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("dataset_folder")
        self.out_browse = QPushButton("Browse…")
        self.out_browse.setObjectName("button_dataset_folder")
        self.progress = QProgressBar()
        self.progress.setObjectName("dataset_progress")
        self.progress.setFormat("")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("button_dataset_run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("button_dataset_cancel")
        self.close_button = QPushButton("Close")
        self.written_label = QLabel("")
        self.written_label.setObjectName("dataset_written")
        self.written_label.setWordWrap(True)
        self.written_table = QTableWidget(0, 3)
        self.written_table.setObjectName("dataset_written_table")
        self.written_table.setHorizontalHeaderLabels(["Split", "Rows", "File"])
        self.written_table.horizontalHeader().setStretchLastSection(True)
        self.written_table.verticalHeader().setVisible(False)
        self.written_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self._lay_out()
        self._connect()
        self.resize(760, 640)

    def _lay_out(self) -> None:
        sources_box = QGroupBox("Sources (recordings, bspysmg folders, postprocessed npz)")
        QVBoxLayout(sources_box).addWidget(self.sources)
        split_box = QGroupBox("Split")
        form = QFormLayout(split_box)
        fields = QHBoxLayout()
        for key, label, _ in SPLITS:
            fields.addWidget(QLabel(label))
            fields.addWidget(self.split_edits[key])
            fields.addSpacing(8)
        fields.addWidget(self.split_message, 1)
        fields.addStretch(0)
        form.addRow("Fractions", fields)
        form.addRow("", self.expected)
        form.addRow("", self.blocks)
        blocks = QHBoxLayout()
        blocks.addWidget(self.block_rows)
        blocks.addSpacing(16)
        blocks.addWidget(QLabel("Seed"))
        blocks.addWidget(self.seed)
        blocks.addStretch(1)
        form.addRow("Block size", blocks)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.out_browse)
        form.addRow("Output folder", out_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.close_button)
        column = QVBoxLayout(self)
        column.addWidget(sources_box, 1)
        column.addWidget(split_box)
        column.addLayout(buttons)
        column.addWidget(self.written_label)
        column.addWidget(self.written_table, 1)

    def _connect(self) -> None:
        self.inputs.changed.connect(self._on_sources_changed)
        for edit in self.split_edits.values():
            edit.textChanged.connect(lambda _t: self._update())
        self.blocks.toggled.connect(lambda _on: self._update())
        self.block_rows.valueChanged.connect(lambda _v: self._update())
        self.out_edit.textChanged.connect(lambda _t: self._update())
        self.out_browse.clicked.connect(self.ask_output_folder)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)

    # --- sources ----------------------------------------------------------------------
    def start(self, sources: list[str]) -> None:
        """Begin afresh with these sources (e.g. the postprocessing result just written)."""
        self.written = []
        self.written_label.setText("")
        self.written_table.setRowCount(0)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.inputs.reset(sources)

    def source_paths(self) -> list[str]:
        return self.inputs.paths()

    def _on_sources_changed(self) -> None:
        default = self.default_folder()
        self.out_edit.setPlaceholderText(
            f"Default: {default}" if default else "Choose where train/validation/test go"
        )
        mix = self.clipping_mix()
        if mix:
            self.sources.set_note(
                f"These sources mix clipped and raw data ({mix}); Run asks before mixing them.",
                self.theme.warning,
            )
        elif self.sources.note.text().startswith("These sources mix"):
            self.sources.set_note("")
        self._update()

    def clipping_mix(self) -> str:
        return clipping_mix(list(self.inputs.probes.values()))

    # --- the split --------------------------------------------------------------------
    def split(self) -> tuple[list[float] | None, str]:
        texts = [self.split_edits[key].text() for key, _, _ in SPLITS]
        return split_problem(texts, [label for _, label, _ in SPLITS])

    def default_folder(self) -> Path | None:
        first = next(iter(self.inputs.paths()), None)
        return Path(first).parent / "dataset" if first else None

    def output_dir(self) -> Path | None:
        text = self.out_edit.text().strip()
        return Path(text) if text else self.default_folder()

    def ask_output_folder(self) -> None:
        current = self.output_dir()
        start = str(current) if current and current.is_dir() else self.inputs.last_folder()
        folder = dialogs.ask_folder(self, "Choose the dataset folder", start)
        if folder:
            self.out_edit.setText(folder)

    def can_run(self) -> bool:
        fractions, _ = self.split()
        return (
            fractions is not None
            and bool(self.inputs.probes)
            and not self.inputs.pending
            and self.worker is None
            and self.output_dir() is not None
        )

    def _update(self) -> None:
        fractions, problem = self.split()
        self.split_message.setText(problem)
        self.split_message.setStyleSheet(f"color: {self.theme.error};")
        self.split_message.setVisible(bool(problem))
        for edit in self.split_edits.values():
            edit.setStyleSheet(f"border: 1px solid {self.theme.error};" if problem else "")
        if fractions is not None and self.inputs.probes:
            rows = expected_rows([p.rows for p in self.inputs.probes.values()], fractions)
            approx = "≈ " if self.blocks.isChecked() and self.block_rows.value() else ""
            parts = [f"{label} {approx}{n:,}" for (_, label, _), n in zip(SPLITS, rows)]
            self.expected.setText("Rows: " + " · ".join(parts))
        else:
            self.expected.setText("")
        self.block_rows.setEnabled(self.blocks.isChecked() and self.worker is None)
        self.run_button.setEnabled(self.can_run())
        self.cancel_button.setEnabled(self.worker is not None)

    # --- running ----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.worker is not None

    def run(self) -> None:
        fractions, _ = self.split()
        out = self.output_dir()
        if not self.can_run() or fractions is None or out is None:
            return
        clash = existing_splits(out)
        if clash and not dialogs.confirm(
            self,
            "Replace files?",
            f"{out} already holds {', '.join(p.name for p in clash)}.\n"
            "Do you want to replace them?",
        ):
            return
        mix = self.clipping_mix()
        if mix and not dialogs.confirm(
            self,
            "Mix clipped and raw data?",
            f"These sources went through different clipping:\n\n{mix.replace('; ', chr(10))}"
            "\n\nOne dataset would then hold two different output distributions (raw rows "
            "keep the saturated outputs that clipping drops), and its config can state only "
            "one clipping range (the widest is written).\n\nUsually you postprocess the raw "
            "recordings with the same clipping first, or export them as separate datasets."
            "\n\nMix them anyway?",
        ):
            return
        sources = self.source_paths()
        request = ExportRequest(
            sources,
            out,
            fractions,
            self.blocks.isChecked(),
            (self.block_rows.value() or None) if self.blocks.isChecked() else None,
            self.seed.value(),
            self.inputs.trust_needed(),
            bool(clash),
            bool(mix),
        )
        self.worker = self.ctx.workers.run(
            lambda report, token: run_export(request, report, token),
            "dataset export",
            on_result=self._on_done,
            on_error=self._on_failed,
            on_progress=self._on_progress,
            on_cancelled=self._on_cancelled,
        )
        self._set_running(True)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.progress.setFormat("Cancelling…")

    def _on_progress(self, p: Any) -> None:
        self.progress.setValue(round(1000 * p.fraction))
        self.progress.setFormat(f"Writing {100 * p.fraction:.0f} %")

    def _on_done(self, written: list[WrittenSplit]) -> None:
        self._set_running(False)
        self.written = written
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        total = sum(w.rows for w in written)
        folder = written[0].path.parent if written else self.output_dir()
        self.written_label.setText(f"Wrote {len(written)} files ({total:,} rows) into {folder}")
        self.written_table.setRowCount(len(written))
        for i, w in enumerate(written):
            for j, text in enumerate((w.name, f"{w.rows:,}", str(w.path))):
                item = QTableWidgetItem(text)
                if j == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.written_table.setItem(i, j, item)
        self.written_table.resizeColumnsToContents()
        self.ctx.status(f"Dataset written to {folder}")
        log.info("dataset export: %s", ", ".join(f"{w.name} {w.rows}" for w in written))

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.progress.setFormat("Failed")
        self.ctx.show_error(exc, "No dataset file was written.")

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled; nothing was written")

    def _set_running(self, running: bool) -> None:
        if not running:
            self.worker = None
        editable = not running
        for widget in (
            *self.split_edits.values(),
            self.blocks,
            self.seed,
            self.out_edit,
            self.out_browse,
        ):
            widget.setEnabled(editable)
        self.sources.set_editable(editable)
        self._update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.inputs.warning_colour = theme.warning
        self._update()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:
            if not dialogs.confirm(
                self, "Stop the export?", "A dataset export is running. Cancel it and close?"
            ):
                event.ignore()
                return
            self.worker.cancel()
        event.accept()

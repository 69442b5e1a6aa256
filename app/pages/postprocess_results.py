"""What a finished postprocessing run shows: histograms, coverage, summary, export buttons.

The kept outputs per channel (counts vs nA, with the clip limits), the input
coverage per electrode (V), the summary as a table, and one button per export
format with a choice of rows (kept rows, or every row of the sources).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.pages.postprocess_jobs import EXPORTS, RunOutcome, summary_rows
from app.theme import LIGHT, Theme
from widgets.histogramplot import HistogramGrid, HistogramPlot
from widgets.summarytable import SummaryTable

EXPORT_ROWS = (
    ("kept", "kept rows (postprocessed_data.npz)"),
    ("all", "every row of the sources"),
)


class ResultsView(QWidget):
    """The right half of the Postprocess page."""

    export_requested = Signal(str, str)  # (format, 'kept' | 'all')

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = LIGHT
        self.outcome: RunOutcome | None = None
        self.locked = False  # a new run is writing: the results may be replaced
        self.outputs = HistogramPlot("Kept outputs", "Output current", "nA")
        self.outputs.setObjectName("plot_kept_outputs")
        self.coverage = HistogramGrid("V", columns=4)
        self.coverage.setObjectName("plot_coverage")
        self.coverage_title = QLabel("Input coverage per electrode (kept rows)")
        self.summary = SummaryTable(side_by_side=True)
        self.summary.clear("Run postprocessing to see its histograms and summary.")
        self.rows = QComboBox()
        self.rows.setObjectName("export_rows")
        for key, text in EXPORT_ROWS:
            self.rows.addItem(text, key)
        self.rows.setToolTip(
            "Kept rows: the dataset just written (clipped). Every row: the sources as they "
            "are (IO.dat needs whole batches, so it is exported from these)."
        )
        # In a tool bar, buttons that do not fit move into its » menu: the page stays narrow.
        self.export_bar = QToolBar("Export")
        self.export_bar.setObjectName("export_bar")
        self.export_bar.addWidget(QLabel("Export "))
        self.export_bar.addWidget(self.rows)
        self.export_buttons: dict[str, QPushButton] = {}
        for fmt, text, _ in EXPORTS:
            button = QPushButton(text)
            button.setObjectName(f"button_export_{fmt}")
            button.clicked.connect(lambda _=False, f=fmt: self._request(f))
            self.export_bar.addWidget(button)
            self.export_buttons[fmt] = button
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.export_bar, 1)
        self.export_progress = QProgressBar()
        self.export_progress.setObjectName("export_progress")
        self.export_progress.setMaximumWidth(220)
        self.export_progress.hide()
        self.cancel_export = QPushButton("Cancel export")
        self.cancel_export.setObjectName("button_cancel_export")
        self.cancel_export.hide()
        bar.addWidget(self.export_progress)
        bar.addWidget(self.cancel_export)
        coverage_box = QWidget()
        coverage_column = QVBoxLayout(coverage_box)
        coverage_column.setContentsMargins(0, 0, 0, 0)
        coverage_column.setSpacing(0)
        coverage_column.addWidget(self.coverage_title)
        coverage_column.addWidget(self.coverage, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.outputs)
        plots.addWidget(coverage_box)
        plots.setSizes([400, 560])
        bottom = QWidget()
        bottom_column = QVBoxLayout(bottom)
        bottom_column.setContentsMargins(0, 0, 0, 0)
        bottom_column.addLayout(bar)
        bottom_column.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("results_splitter")
        split.addWidget(plots)
        split.addWidget(bottom)
        split.setSizes([420, 380])
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(split)
        self.set_exporting(False)

    def _request(self, fmt: str) -> None:
        self.export_requested.emit(fmt, self.rows.currentData())

    # --- showing ----------------------------------------------------------------------
    def show_outcome(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self._draw(outcome)
        self.summary.set_summary(*summary_rows(outcome))
        self.set_exporting(False)

    def _draw(self, outcome: RunOutcome) -> None:
        kept = outcome.summary["rows_kept"]
        self.outputs.set_title(f"Kept outputs: {kept:,} rows, {len(outcome.kept[0].counts)} bins")
        self.outputs.set_histograms(
            [(h.name, h.edges, h.counts) for h in outcome.kept], self.theme.output_colors
        )
        clip = outcome.summary["clipping_value"]
        if clip is None:
            self.outputs.set_limits(None, None)
        else:
            self.outputs.set_limits(clip[0], clip[1], movable=False)
        self.coverage.set_histograms(
            [(h.name, h.edges, h.counts) for h in outcome.coverage], self.theme.curve_colors
        )
        step = "every 3rd kept row, 100 bins over each electrode's wave range"
        self.coverage_title.setText(f"Input coverage per electrode ({step})")

    def set_locked(self, locked: bool) -> None:
        """No exports while postprocessing runs (it may replace the files exported from)."""
        self.locked = locked
        self.set_exporting(False)

    def set_exporting(self, busy: bool) -> None:
        can = self.outcome is not None and not busy and not self.locked
        for button in self.export_buttons.values():
            button.setEnabled(can)
        self.rows.setEnabled(can)
        self.export_progress.setVisible(busy)
        self.cancel_export.setVisible(busy)

    def set_export_progress(self, text: str, fraction: float) -> None:
        self.export_progress.setRange(0, 1000)
        self.export_progress.setValue(round(1000 * fraction))
        self.export_progress.setFormat(text)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.outputs.set_colours_theme(theme.plot_background, theme.plot_foreground, theme.error)
        self.coverage.set_colours_theme(theme.plot_background, theme.plot_foreground)
        if self.outcome is not None:
            self._draw(self.outcome)

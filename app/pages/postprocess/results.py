"""What a finished postprocessing run shows: histograms, coverage, summary, exports.

The kept outputs per channel (counts vs nA, with the clip limits), the input
coverage per electrode (V), the summary as a table, and two export menus:
the kept rows of the last run, and every row of the sources listed now. Every
format sits in a menu (a menu is never cut off, however narrow the window);
an entry that cannot be written is disabled and says why. When the sources
or the choices changed since the run, a banner says the results are stale.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.pages.postprocess.jobs import EXPORTS, RunOutcome, summary_rows
from app.theme import LIGHT, Theme
from widgets.histogramgrid import HistogramGrid
from widgets.histogramplot import HistogramPlot
from widgets.summarytable import SummaryTable

#: which -> (button text, tooltip)
EXPORT_MENUS = {
    "kept": (
        "Export kept rows",
        "The dataset the last run wrote (postprocessed_data.npz): the rows clipping kept",
    ),
    "all": (
        "Export source rows",
        "Every row of the sources listed now, unclipped, merged in list order",
    ),
}


class ResultsView(QWidget):
    """The right half of the Postprocess page."""

    export_requested = Signal(str, str)  # (format, 'kept' | 'all')

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = LIGHT
        self.outcome: RunOutcome | None = None
        self.locked = False  # a new run is writing: the results may be replaced
        self.busy = False  # an export runs
        self._problems: dict[str, dict[str, str | None]] = {}
        self.outputs = HistogramPlot("Kept outputs", "Output current", "nA")
        self.outputs.setObjectName("plot_kept_outputs")
        self.outputs.setMinimumWidth(200)
        self.coverage = HistogramGrid("V", columns=4)
        self.coverage.setObjectName("plot_coverage")
        self.coverage_title = QLabel("Input coverage per electrode (kept rows)")
        self.coverage_title.setWordWrap(True)
        self.stale = QLabel("")
        self.stale.setObjectName("results_stale")
        self.stale.setWordWrap(True)
        self.stale.hide()
        self.summary = SummaryTable(side_by_side=True)
        self.summary.clear("Run postprocessing to see its histograms and summary.")
        self.export_menus: dict[str, QMenu] = {}
        self.export_buttons: dict[str, QPushButton] = {}
        self.export_actions: dict[tuple[str, str], QAction] = {}
        self.menu_headers: dict[str, QAction] = {}
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for which, (text, tip) in EXPORT_MENUS.items():
            menu = QMenu(self)
            menu.setObjectName(f"menu_export_{which}")
            menu.setToolTipsVisible(True)  # a disabled entry's tooltip says why
            self.menu_headers[which] = menu.addSection(text)
            for fmt, label, _ in EXPORTS:
                action = menu.addAction(label)
                action.setObjectName(f"action_export_{which}_{fmt}")
                action.triggered.connect(lambda _=False, f=fmt, w=which: self._request(f, w))
                self.export_actions[(which, fmt)] = action
            button = QPushButton(text)
            button.setObjectName(f"button_export_{which}")
            button.setToolTip(tip)
            button.setMenu(menu)
            self.export_menus[which] = menu
            self.export_buttons[which] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.export_progress = QProgressBar()
        self.export_progress.setObjectName("export_progress")
        self.export_progress.setMaximumWidth(220)
        self.export_progress.hide()
        self.cancel_export = QPushButton("Cancel export")
        self.cancel_export.setObjectName("button_cancel_export")
        self.cancel_export.hide()
        bar.addWidget(self.export_progress, 1)
        bar.addWidget(self.cancel_export)
        coverage_box = QWidget()
        coverage_column = QVBoxLayout(coverage_box)
        coverage_column.setContentsMargins(0, 0, 0, 0)
        coverage_column.setSpacing(0)
        coverage_column.addWidget(self.coverage_title)
        coverage_column.addWidget(self.coverage, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.setObjectName("results_plots")
        plots.setChildrenCollapsible(False)  # neither plot shrinks to its axis
        plots.addWidget(self.outputs)
        plots.addWidget(coverage_box)
        plots.setStretchFactor(0, 2)
        plots.setStretchFactor(1, 3)
        plots.setSizes([400, 560])
        bottom = QWidget()
        bottom_column = QVBoxLayout(bottom)
        bottom_column.setContentsMargins(0, 0, 0, 0)
        bottom_column.addLayout(bar)
        bottom_column.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("results_splitter")
        split.setChildrenCollapsible(False)
        split.addWidget(plots)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([420, 380])
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.stale)
        column.addWidget(split, 1)
        self.stale.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.set_exporting(False)

    def _request(self, fmt: str, which: str) -> None:
        self.export_requested.emit(fmt, which)

    # --- showing ----------------------------------------------------------------------
    def show_outcome(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self._draw(outcome)
        self.summary.set_summary(*summary_rows(outcome))
        self.set_exporting(False)

    def _draw(self, outcome: RunOutcome) -> None:
        kept = outcome.summary["rows_kept"]
        self.outputs.set_title(f"Kept outputs ({kept:,} rows)")
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
        self.coverage_title.setText("Input coverage per electrode (kept rows)")
        self.coverage_title.setToolTip(
            "Every 3rd kept row, 100 bins over each electrode's wave range (offset ± amplitude)"
        )

    def set_stale(self, text: str) -> None:
        """Say (or stop saying) that the results no longer match the choices."""
        self.stale.setText(text)
        self.stale.setVisible(bool(text))
        self._style_stale()

    def _style_stale(self) -> None:
        self.stale.setStyleSheet(
            f"color: {self.theme.warning}; border: 1px solid {self.theme.warning}; padding: 3px;"
        )

    def set_locked(self, locked: bool) -> None:
        """No exports while postprocessing runs (it may replace the files exported from)."""
        self.locked = locked
        self.set_exporting(self.busy)

    def set_export_problems(self, problems: dict[str, dict[str, str | None]]) -> None:
        """which -> format -> why it cannot be exported (None: it can); menu titles too."""
        self._problems = problems
        self.set_exporting(self.busy)

    def set_menu_title(self, which: str, title: str) -> None:
        """The heading inside a menu: what exactly it exports (file, sources, rows)."""
        self.menu_headers[which].setText(title)
        self.export_buttons[which].setToolTip(f"{EXPORT_MENUS[which][1]}.\n{title}")

    def set_exporting(self, busy: bool) -> None:
        self.busy = busy
        for (which, fmt), action in self.export_actions.items():
            problem = self._problems.get(which, {}).get(fmt, "Nothing to export yet.")
            action.setEnabled(problem is None and not busy and not self.locked)
            action.setToolTip(problem or "")
            label = next(text for f, text, _ in EXPORTS if f == fmt)
            action.setText(label if problem is None else f"{label.rstrip('…')} (not available)")
        for which, button in self.export_buttons.items():
            offers = self._problems.get(which, {})
            button.setEnabled(
                not busy and not self.locked and any(p is None for p in offers.values())
            )
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
        self._style_stale()
        if self.outcome is not None:
            self._draw(self.outcome)

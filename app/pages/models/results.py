"""The right half of the Models page: loss curves live, then how good the model is.

While training: train and validation RMSE per epoch (log scale on request).
After: the RMSE per split, and for the chosen split the error histogram and
predicted against measured; buttons to use the model as the simulated
device or beside a stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.theme import LIGHT, Theme
from widgets.histogramplot import HistogramPlot
from widgets.modelplots import LossCurves, PredictionPlot

SPLIT_TITLES = {"train": "Training", "validation": "Validation", "test": "Test"}
ERROR_BINS = 100


def error_histogram(measured: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edges, counts) of measured - predicted, over the central 99.9 % (nA)."""
    error = (np.asarray(measured) - np.asarray(predicted)).ravel()
    span = float(np.percentile(np.abs(error), 99.9)) if len(error) else 1.0
    counts, edges = np.histogram(error, bins=ERROR_BINS, range=(-span or -1.0, span or 1.0))
    return edges, counts


class ResultsView(QWidget):
    use_as_device = Signal()
    compare_on_streams = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = LIGHT
        self.result: Any = None
        self.locked = False  # training: the shown model is being replaced
        self.curves = LossCurves()
        self.curves.setObjectName("plot_loss")
        self.log_scale = QCheckBox("log scale")
        self.log_scale.setObjectName("log_scale")
        self.log_scale.toggled.connect(self.curves.set_log)
        self.summary = QLabel("Train a model to see how well it predicts the device.")
        self.summary.setObjectName("model_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.split = QComboBox()
        self.split.setObjectName("result_split")
        self.split.currentIndexChanged.connect(self._show_split)
        self.histogram = HistogramPlot("", "Error (measured − predicted)", "nA")
        self.histogram.setObjectName("plot_errors")
        self.prediction = PredictionPlot()
        self.prediction.setObjectName("plot_prediction")
        self.use_button = QPushButton("Use as simulated device")
        self.use_button.setObjectName("button_use_as_device")
        self.use_button.setToolTip("Sample this model on the Sampling page (a digital twin)")
        self.use_button.clicked.connect(self.use_as_device)
        self.streams_button = QPushButton("Compare on Streams page")
        self.streams_button.setObjectName("button_compare_streams")
        self.streams_button.setToolTip("Plot its prediction beside the measured output of a stream")
        self.streams_button.clicked.connect(self.compare_on_streams)
        head = QHBoxLayout()
        head.addWidget(QLabel("RMSE per epoch"))
        head.addStretch(1)
        head.addWidget(self.log_scale)
        top = QWidget()
        top_column = QVBoxLayout(top)
        top_column.setContentsMargins(0, 0, 0, 0)
        top_column.addLayout(head)
        top_column.addWidget(self.curves, 1)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Split"))
        pick.addWidget(self.split)
        pick.addStretch(1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.histogram)
        plots.addWidget(self.prediction)
        bottom = QWidget()
        bottom_column = QVBoxLayout(bottom)
        bottom_column.setContentsMargins(0, 0, 0, 0)
        bottom_column.addWidget(self.summary)
        bottom_column.addLayout(pick)
        bottom_column.addWidget(plots, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.streams_button)
        buttons.addStretch(1)
        bottom_column.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("models_results_splitter")
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([300, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.clear()

    def clear(self) -> None:
        self.result = None
        self.curves.clear_curves()
        self.histogram.clear_histograms()
        self.prediction.set_points(np.zeros(0), np.zeros(0))
        self.split.clear()
        self._update_buttons()

    def show_progress(self, p: Any) -> None:
        self.curves.set_curves(p.train_nA, p.val_nA, p.best_epoch)

    def show_result(self, result: Any) -> None:
        self.result = result
        self.curves.set_curves(
            result.train_nA, result.val_nA, result.best_epoch, result.test_rmse_nA
        )
        parts = [
            f"{SPLIT_TITLES[name]} {_rmse(score.rmse_nA)} nA"
            for name, score in result.scores.items()
        ]
        how = {"complete": "", "early_stopped": " (stopped early)", "cancelled": " (cancelled)"}
        self.summary.setText(
            f"Best epoch {result.best_epoch} of {len(result.train_nA)}{how[result.status]}. "
            f"RMSE: {'; '.join(parts)}. Saved in {result.out_dir}"
        )
        self.split.blockSignals(True)
        self.split.clear()
        for name in result.scores:
            self.split.addItem(SPLIT_TITLES[name], name)
        self.split.setCurrentIndex(self.split.count() - 1)  # the test split when there is one
        self.split.blockSignals(False)
        self._show_split()
        self._update_buttons()

    def _show_split(self, *_args: object) -> None:
        name = self.split.currentData()
        if self.result is None or name is None:
            return
        score = self.result.scores[name]
        edges, counts = error_histogram(score.measured, score.predicted)
        colour = self.theme.curve_colors[0]
        self.histogram.set_histograms([(SPLIT_TITLES[name], edges, counts)], [colour])
        self.prediction.set_points(score.measured, score.predicted)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self._update_buttons()

    def _update_buttons(self) -> None:
        usable = self.result is not None and not self.locked
        self.use_button.setEnabled(usable)
        self.streams_button.setEnabled(usable)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        colours = theme.curve_colors
        self.curves.set_colours_theme(theme.plot_background, theme.plot_foreground, colours)
        self.histogram.set_colours_theme(theme.plot_background, theme.plot_foreground)
        self.prediction.set_colours_theme(theme.plot_background, theme.plot_foreground, colours[0])
        self._show_split()


def _rmse(values: list[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values)

"""Plots of a model's training: loss curves per epoch, predicted against measured.

`LossCurves` draws train and validation RMSE per epoch (optionally on a log
axis), the best epoch as a vertical line and the test RMSE as a horizontal
one. `PredictionPlot` draws predicted against measured values with the
diagonal a perfect model would sit on. Both draw only what they are given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QWidget

from widgets.plotstyle import label_axes

MAX_POINTS = 20_000


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: ticks only at integers, however far it is zoomed in."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        return [
            (max(spacing, 1.0), [v for v in values if abs(v - round(v)) < 1e-9])
            for spacing, values in super().tickValues(minVal, maxVal, size)
        ]


class LossCurves(pg.PlotWidget):
    """RMSE (nA) per epoch: training, validation, best epoch, test."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": EpochAxis("bottom")})
        self.item: pg.PlotItem = self.getPlotItem()
        self.item.setMenuEnabled(False)
        self.item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.item.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self._labels = {"left": ("RMSE", "nA"), "bottom": ("Epoch", "")}
        self._colours: Sequence[str] = ("#1f77b4", "#ff7f0e", "#2ca02c")
        self._foreground = "#303030"
        self.train = self.item.plot([], [], name="training")
        self.val = self.item.plot([], [], name="validation")
        self.best = pg.InfiniteLine(angle=90, movable=False)
        self.test = pg.InfiniteLine(angle=0, movable=False)
        for line in (self.best, self.test):
            line.hide()
            self.item.addItem(line, ignoreBounds=True)
        # legend samples for the two lines (InfiniteLines have no legend entry of their own)
        self.best_key, self.test_key = pg.PlotDataItem(), pg.PlotDataItem()
        self.log = False
        self._test_value: float | None = None
        self.set_colours_theme("#ffffff", self._foreground, self._colours)
        self.setMinimumHeight(150)

    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    def set_curves(
        self,
        train: Sequence[float],
        val: Sequence[float],
        best_epoch: int | None = None,
        test: float | None = None,
    ) -> None:
        self.train.setData(np.arange(len(train)), np.asarray(train, dtype=float))
        self.val.setData(np.arange(len(val)), np.asarray(val, dtype=float))
        self.best.setVisible(best_epoch is not None)
        if best_epoch is not None:
            self.best.setValue(best_epoch)
        self.test.setVisible(test is not None)
        if test is not None:
            self.test.setValue(np.log10(test) if self.log and test > 0 else test)
        self._test_value = test
        for key, name, shown in (
            (self.best_key, "best epoch", best_epoch is not None),
            (self.test_key, "test", test is not None),
        ):
            listed = any(sample.item is key for sample, _ in self.legend.items)
            if shown and not listed:
                self.legend.addItem(key, name)
            elif listed and not shown:
                self.legend.removeItem(key)
        self._style_legend()

    def _style_legend(self) -> None:
        for _, label in self.legend.items:
            label.setText(label.text, color=self._foreground, size="8pt")

    def curves(self) -> tuple[np.ndarray, np.ndarray]:
        """(train, validation) as drawn, in nA."""
        train, val = self.train.getData()[1], self.val.getData()[1]
        return np.asarray([] if train is None else train), np.asarray([] if val is None else val)

    def set_log(self, log: bool) -> None:
        """RMSE on a log axis: the late epochs' small changes stay visible."""
        self.log = bool(log)
        self.item.setLogMode(x=False, y=self.log)
        test = self._test_value
        if test is not None:
            self.test.setValue(np.log10(test) if self.log and test > 0 else test)

    def clear_curves(self) -> None:
        self.set_curves([], [])

    def set_colours_theme(
        self, background: str, foreground: str, colours: Sequence[str] | None = None
    ) -> None:
        self._foreground = foreground
        if colours:
            self._colours = tuple(colours)
        self.setBackground(background)
        label_axes(self.item, self._labels, foreground)
        self.train.setPen(pg.mkPen(self._colours[0], width=2))
        self.val.setPen(pg.mkPen(self._colours[1], width=2))
        self.best.setPen(pg.mkPen(foreground, width=1, style=Qt.PenStyle.DotLine))
        self.test.setPen(pg.mkPen(self._colours[2], width=1, style=Qt.PenStyle.DashLine))
        self.best_key.setPen(self.best.pen)
        self.test_key.setPen(self.test.pen)
        self.legend.setLabelTextColor(foreground)
        self._style_legend()


class PredictionPlot(pg.PlotWidget):
    """Predicted against measured (nA), with the diagonal; at most MAX_POINTS shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item: pg.PlotItem = self.getPlotItem()
        self.item.setMenuEnabled(False)
        self.item.showGrid(x=True, y=True, alpha=0.2)
        self._labels = {"left": ("Predicted", "nA"), "bottom": ("Measured", "nA")}
        self.points = pg.ScatterPlotItem(size=3, pen=None)
        self.diagonal = pg.PlotCurveItem()
        self.item.addItem(self.diagonal)
        self.item.addItem(self.points)
        self._colour = "#1f77b4"
        self.shown = 0
        self.set_colours_theme("#ffffff", "#303030")
        self.setMinimumHeight(150)

    def sizeHint(self) -> QSize:
        return QSize(300, 240)

    def set_points(self, measured: np.ndarray, predicted: np.ndarray) -> None:
        measured = np.asarray(measured, dtype=float).ravel()
        predicted = np.asarray(predicted, dtype=float).ravel()
        if len(measured) > MAX_POINTS:
            pick = np.random.default_rng(0).choice(len(measured), MAX_POINTS, replace=False)
            measured, predicted = measured[pick], predicted[pick]
        self.shown = len(measured)
        self.points.setData(measured, predicted)
        if len(measured):
            lo = float(min(measured.min(), predicted.min()))
            hi = float(max(measured.max(), predicted.max()))
            self.diagonal.setData([lo, hi], [lo, hi])
        else:
            self.diagonal.setData([], [])

    def set_colours_theme(self, background: str, foreground: str, colour: str = "") -> None:
        if colour:
            self._colour = colour
        self.setBackground(background)
        label_axes(self.item, self._labels, foreground)
        self.points.setBrush(pg.mkBrush(pg.mkColor(self._colour)))
        self.diagonal.setPen(pg.mkPen(foreground, width=1))

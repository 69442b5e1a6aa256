"""A grid of small plots, one per panel (e.g. one I-V curve per electrode).

Callers name the panels and pass (x, [y per line]) arrays for a panel as data
arrives; panels without data stay empty, so curves can appear one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from widgets.plotstyle import colour_axes

_FALLBACK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


class CurveGrid(pg.GraphicsLayoutWidget):
    """`columns` small plots per row, labelled axes, one pen colour per line."""

    def __init__(self, columns: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.plots: list[pg.PlotItem] = []  # the panels shown, the first of self._pool
        self._pool: list[pg.PlotItem] = []
        self.titles: list[str] = []
        self._lines: dict[int, list[pg.PlotDataItem]] = {}
        self._colours: Sequence[str] = _FALLBACK_COLOURS
        self._foreground = "#303030"
        self._labels = ("", "")
        self.heading: pg.LabelItem | None = None
        self.setMinimumHeight(200)

    def set_panels(
        self, titles: Sequence[str], x_label: str, y_label: str, columns: int | None = None
    ) -> None:
        """Empty panels with these titles under one heading: 'y_label against x_label'.

        The axes carry no labels of their own, so small panels keep room for data.
        Plots are built once and reused: a panel taken off the grid is kept, never
        deleted, because deleting a titled, gridded PlotItem that was shown makes
        the next repaint segfault (PySide6 6.9 + pyqtgraph 0.14; see
        tests/test_widgets_curvegrid.py, which rebuilds the grid until it would).
        """
        columns = columns or self.columns
        if self.plots and (list(titles), (x_label, y_label), columns) == (
            self.titles,
            self._labels,
            self.columns,
        ):
            self.clear_curves()
            return
        self.ci.clear()  # takes plots off the layout; self._pool keeps them alive
        self.columns, self.titles, self._labels = columns, list(titles), (x_label, y_label)
        if self.heading is None:
            self.heading = pg.LabelItem(size="9pt")
        self.ci.addItem(self.heading, row=0, col=0, colspan=self.columns)
        while len(self._pool) < len(self.titles):
            self._pool.append(self._new_plot())
        self.plots = self._pool[: len(self.titles)]
        for i, plot in enumerate(self.plots):
            self.ci.addItem(plot, row=1 + i // self.columns, col=i % self.columns)
            plot.enableAutoRange()
        self.clear_curves()
        self._style()

    @staticmethod
    def _new_plot() -> pg.PlotItem:
        plot = pg.PlotItem()
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=True, alpha=0.2)
        for side in ("bottom", "left"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        return plot

    def set_curve(self, panel: int, x: np.ndarray, ys: Sequence[np.ndarray]) -> None:
        """Draw (x, y) lines in `panel`, replacing what it showed."""
        plot = self.plots[panel]
        lines = self._lines.setdefault(panel, [])
        while len(lines) < len(ys):
            pen = pg.mkPen(self._colours[len(lines) % len(self._colours)], width=1.5)
            lines.append(plot.plot(pen=pen))
        for line, y in zip(lines, ys):
            line.setData(np.asarray(x), np.asarray(y))
        for line in lines[len(ys) :]:
            line.setData([], [])

    def clear_curves(self) -> None:
        for lines in self._lines.values():
            for line in lines:
                line.setData([], [])

    def panels_with_data(self) -> list[int]:
        """Panels that show at least one point (what a user sees drawn)."""
        return [
            i
            for i, lines in sorted(self._lines.items())
            if any(line.getData()[0] is not None and len(line.getData()[0]) for line in lines)
        ]

    def set_colours_theme(self, background: str, foreground: str, colours: Sequence[str]) -> None:
        self._foreground = foreground
        self._colours = tuple(colours) or _FALLBACK_COLOURS
        self.setBackground(background)
        self._style()
        for lines in self._lines.values():
            for i, line in enumerate(lines):
                line.setPen(pg.mkPen(self._colours[i % len(self._colours)], width=1.5))

    def _style(self) -> None:
        x_label, y_label = self._labels
        if self.heading is not None:
            self.heading.setText(f"{y_label} against {x_label}", color=self._foreground)
        for plot, title in zip(self.plots, self.titles):
            colour_axes(plot, self._foreground)
            plot.setTitle(title, size="9pt", color=self._foreground)

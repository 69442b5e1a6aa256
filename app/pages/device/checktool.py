"""The consistency tool: replay a folder's stored signals, RMSE per repetition live, the verdict.

The device is wired as the folder's own config says (the config that sampled
those signals), whatever config the page shows for the other tools.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.pages.device.common import RunControls, may_drive, open_in_recordings, stamped_folder
from app.pages.device.setup import DeviceRequest, DeviceSetup
from app.theme import LIGHT, Theme
from app.workers import Worker
from backend.characterise.consistency import (
    DEFAULT_MAX_RMSE_NA,
    DEFAULT_MIN_CORRELATION,
    Limits,
)

log = logging.getLogger(__name__)


def run_check(
    request: DeviceRequest,
    folder: str,
    repetitions: int,
    charge: bool,
    limits: Limits,
    out: Path,
    report: Any,
    token: Any,
) -> tuple[Any, dict]:
    """The worker's job: read the folder, build the device, check, write; (result, files)."""
    from backend.characterise.checkfiles import write_consistency
    from backend.characterise.consistency import check_consistency, load_stored_signals

    signals = load_stored_signals(folder)
    device = request.make(signals.config)
    result = check_consistency(
        device, signals, repetitions, charge=charge, limits=limits, progress=report, cancel=token
    )
    return result, write_consistency(result, out, str(signals.folder))


def _show(plot: pg.PlotWidget, curve: Any, values: Any, limit: float | None = None) -> None:
    """Values 1..n on whole-number ticks, the y axis from 0 (and up to the limit)."""
    values = np.asarray(values, dtype=float)
    x = np.arange(1, len(values) + 1)
    curve.setData(x, values)
    item = plot.getPlotItem()
    top = max(float(np.nanmax(values)) if len(values) else 0.0, limit or 0.0) * 1.1 or 1.0
    item.setYRange(0, top, padding=0)
    item.setXRange(0.5, len(values) + 0.5, padding=0)
    every = max(1, len(values) // 10)
    item.getAxis("bottom").setTicks([[(int(i), str(int(i))) for i in x[::every]]])


class CheckTool(QWidget):
    """Folder, repetitions, limits, Start / Cancel, live RMSE, the verdict."""

    busy_changed = Signal(bool)

    def __init__(self, ctx: Any, setup: DeviceSetup, guard: Any) -> None:
        super().__init__()
        self.ctx, self.setup, self.guard = ctx, setup, guard
        self.worker: Worker | None = None
        self.result: Any = None
        self.files: dict | None = None
        self.theme: Theme = LIGHT
        self.folder = QLineEdit()
        self.folder.setObjectName("check_folder")
        self.folder.setPlaceholderText(
            "postprocessed folder (reference_batch.npz, charging_signal.npz)"
        )
        self.browse = QPushButton("Folder…")
        self.repetitions = QSpinBox()
        self.repetitions.setObjectName("check_repetitions")
        self.repetitions.setRange(1, 10_000)
        self.repetitions.setValue(3)
        self.charge = QCheckBox("Charge first")
        self.charge.setObjectName("check_charge")
        self.charge.setChecked(True)
        self.charge.setToolTip("Replay charging_signal.npz batch by batch before the reference")
        self.max_rmse = QDoubleSpinBox()
        self.max_rmse.setObjectName("check_max_rmse")
        self.max_rmse.setRange(0.001, 10_000)
        self.max_rmse.setDecimals(3)
        self.max_rmse.setSuffix(" nA")
        self.max_rmse.setValue(DEFAULT_MAX_RMSE_NA)
        self.min_corr = QDoubleSpinBox()
        self.min_corr.setObjectName("check_min_correlation")
        self.min_corr.setRange(-1.0, 1.0)
        self.min_corr.setDecimals(3)
        self.min_corr.setSingleStep(0.01)
        self.min_corr.setValue(DEFAULT_MIN_CORRELATION)
        self.controls = RunControls("check", "Check")
        self.controls.lock_while_running(
            self.folder, self.browse, self.repetitions, self.charge, self.max_rmse, self.min_corr
        )
        self.rmse_plot = pg.PlotWidget()
        self.rmse_plot.setObjectName("check_rmse_plot")
        self.chargeup_plot = pg.PlotWidget()
        self.chargeup_plot.setObjectName("check_chargeup_plot")
        self._plots()
        self.verdict = QLabel("No check run yet")
        self.verdict.setObjectName("check_verdict")
        self.verdict.setWordWrap(True)
        self.open_button = QPushButton("Open in Recordings")
        self.open_button.setObjectName("check_open")
        self.open_button.setEnabled(False)
        self._lay_out()
        self.browse.clicked.connect(self._choose)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_result)
        self.folder.textChanged.connect(lambda *_: self._update())
        self._update()

    def _lay_out(self) -> None:
        grid = QGridLayout()
        grid.addWidget(QLabel("Folder"), 0, 0)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        grid.addLayout(folder_row, 0, 1, 1, 6)
        grid.setColumnStretch(6, 1)
        for col, (label, widget) in enumerate(
            (("Repetitions", self.repetitions), ("RMSE ≤", self.max_rmse),
             ("Correlation ≥", self.min_corr))
        ):  # fmt: skip
            grid.addWidget(QLabel(label), 1, 2 * col)
            grid.addWidget(widget, 1, 2 * col + 1)
        grid.addWidget(self.charge, 2, 1)
        plots = QHBoxLayout()
        plots.addWidget(self.rmse_plot, 1)
        plots.addWidget(self.chargeup_plot, 1)
        result = QHBoxLayout()
        result.addWidget(self.verdict, 1)
        result.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.controls)
        layout.addLayout(plots, 1)
        layout.addLayout(result)

    def _plots(self) -> None:
        for plot, title, x in (
            (self.rmse_plot, "RMSE per repetition", "Repetition"),
            (self.chargeup_plot, "RMSE while charging up", "Charging batch"),
        ):
            item = plot.getPlotItem()
            item.setMenuEnabled(False)
            item.showGrid(x=True, y=True, alpha=0.2)
            item.setTitle(title, size="9pt")
            item.setLabel("bottom", x)
            item.setLabel("left", "RMSE", units="nA")
            item.getAxis("left").enableAutoSIPrefix(False)
        self.rmse_curve = self.rmse_plot.plot(symbol="o", symbolSize=7)
        self.chargeup_curve = self.chargeup_plot.plot(symbol="o", symbolSize=5)
        self.limit_line = pg.InfiniteLine(angle=0, movable=False)
        self.rmse_plot.addItem(self.limit_line)
        self._pens()

    def _pens(self) -> None:
        theme = self.theme
        for plot in (self.rmse_plot, self.chargeup_plot):
            plot.setBackground(theme.plot_background)
            for side in ("left", "bottom"):
                axis = plot.getPlotItem().getAxis(side)
                axis.setPen(pg.mkPen(theme.plot_foreground))
                axis.setTextPen(pg.mkPen(theme.plot_foreground))
        colour = theme.curve_colors[0]
        for curve in (self.rmse_curve, self.chargeup_curve):
            curve.setPen(pg.mkPen(colour, width=1.5))
            curve.setSymbolBrush(pg.mkBrush(colour))
        self.limit_line.setPen(pg.mkPen(theme.error, style=pg.QtCore.Qt.PenStyle.DashLine))

    # --- state ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.running

    def _update(self) -> None:
        self.controls.set_running(self.busy, bool(self.folder.text().strip()))

    def _choose(self) -> None:
        path = dialogs.ask_folder(
            self, "Postprocessed folder", self.folder.text() or str(Path.cwd())
        )
        if path:
            self.folder.setText(path)

    def limits(self) -> Limits:
        return Limits(self.max_rmse.value(), self.min_corr.value())

    # --- run ---------------------------------------------------------------------------------
    def start(self) -> None:
        folder = self.folder.text().strip()
        if not folder or self.busy:
            return
        if not may_drive(self.ctx, self.controls, self.guard, self):
            return
        limits = self.limits()
        request, out = (
            self.setup.request(),
            stamped_folder(self.setup.output_folder(), "consistency_check"),
        )
        reps, charge = self.repetitions.value(), self.charge.isChecked()
        self.result, self.files = None, None
        self.rmse_curve.setData([], [])
        self.chargeup_curve.setData([], [])
        self.limit_line.setValue(limits.max_rmse_nA)
        self.verdict.setText("Checking…")
        self.verdict.setStyleSheet("")
        self.open_button.setEnabled(False)
        self.controls.say("Starting…")
        self.worker = self.ctx.workers.run(
            lambda report, token: run_check(
                request, folder, reps, charge, limits, out, report, token
            ),
            "consistency check",
            on_result=self._on_done,
            on_error=self._on_failed,
            on_progress=self._on_progress,
            on_cancelled=self._on_cancelled,
        )
        self.controls.set_running(True)
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.controls.say("Cancelling after the batch in flight…")

    def _on_progress(self, p: Any) -> None:
        self.controls.set_progress(p.done, p.total, f"{p.stage}: batch {p.done} / {p.total}")
        deviations = getattr(p, "deviations", ())
        if deviations:
            limit = self.limit_line.value()
            _show(self.rmse_plot, self.rmse_curve, deviations, limit)
            last = f"repetition {len(deviations)}: RMSE {deviations[-1]:.3g} nA"
            correlation = getattr(p, "correlation", ())
            if correlation:
                last += f", correlation {correlation[-1]:.4f}"
            self.controls.say(last)
        chargeup = getattr(p, "deviation_chargeup", ())
        if chargeup:
            _show(self.chargeup_plot, self.chargeup_curve, chargeup)

    def _ended(self, text: str) -> None:
        self.controls.say(text)
        self._update()
        self.busy_changed.emit(False)

    def _on_done(self, outcome: tuple[Any, dict]) -> None:
        self.result, files = outcome
        self.files = {name: str(path) for name, path in files.items()}
        verdict = self.result.verdict
        colour = self.theme.output_colors[3] if verdict.consistent else self.theme.error
        self.verdict.setText(verdict.text())
        self.verdict.setStyleSheet(f"font-weight: bold; color: {colour};")
        self.open_button.setEnabled(True)
        self._ended(f"Done ({verdict.status}); outputs at 0 V")
        folder = Path(self.files["consistency_results.npz"]).parent
        self.ctx.status(f"Consistency check: {verdict.status}; saved in {folder}")

    def _on_failed(self, exc: BaseException) -> None:
        self.verdict.setText("No verdict: the check did not finish")
        self._ended("Failed; outputs at 0 V")
        self.ctx.show_error(exc, "The outputs were set to 0 V; no results were written.")

    def _on_cancelled(self) -> None:
        self.verdict.setText("No verdict: cancelled")
        self._ended("Cancelled; outputs at 0 V, nothing written")

    def open_result(self) -> None:
        if self.files:
            open_in_recordings(self.ctx, self.files["consistency_results.npz"])

    # --- page integration ------------------------------------------------------------------
    def wait(self, timeout_s: float) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._pens()

"""The I-V tool: sweep every electrode on a worker, curves drawn as each sweep is measured.

Results (iv_curves.npz / .h5 / .png) go into a time-stamped folder under the
page's results folder; Cancel stops before the next sweep with the outputs at
0 V and nothing written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.pages.device.common import RunControls, may_drive, open_in_recordings, stamped_folder
from app.pages.device.setup import DeviceRequest, DeviceSetup
from app.theme import Theme
from app.workers import Worker
from backend.characterise.ivconfig import IVSetup, SweepSettings
from widgets.curvegrid import CurveGrid

log = logging.getLogger(__name__)


def run_iv(
    request: DeviceRequest, setup: IVSetup, settings: SweepSettings, out: Path, report, token
) -> dict:
    """The worker's job: build the device, sweep, write the files; returns name -> path."""
    from backend.characterise.iv import measure_iv
    from backend.characterise.ivfiles import write_iv

    device = request.make(setup.config)
    curves = measure_iv(device, settings, progress=report, cancel=token)
    return write_iv(curves, out, setup.config)


class IVTool(QWidget):
    """Sweep settings, Start / Cancel, progress, one plot per electrode, the saved result."""

    busy_changed = Signal(bool)

    def __init__(self, ctx: Any, setup: DeviceSetup, guard: Any) -> None:
        super().__init__()
        self.ctx, self.setup, self.guard = ctx, setup, guard
        self.worker: Worker | None = None
        self.result: dict | None = None
        self.channel_names: list[str] = []
        self._shown: IVSetup | None = None
        self.points = QSpinBox()
        self.points.setObjectName("iv_points")
        self.points.setRange(4, 1_000_000)
        self.points.setSingleStep(2)
        self.points.setValue(200)
        self.points.setToolTip("Points per sweep (even): 0 V, one end, the other end, 0 V")
        self.direction = QComboBox()
        self.direction.setObjectName("iv_direction")
        self.direction.addItems(["up", "down"])
        self.direction.setToolTip("up: to the top of the range first")
        self.shape = QComboBox()
        self.shape.setObjectName("iv_shape")
        self.shape.addItems(["sawtooth", "sine"])
        self.controls = RunControls("iv", "Sweep")
        self.controls.lock_while_running(self.points, self.direction, self.shape)
        self.grid = CurveGrid(columns=4)
        self.grid.setObjectName("iv_curves")
        self.saved = QLabel()
        self.saved.setObjectName("iv_saved")
        self.open_button = QPushButton("Open in Recordings")
        self.open_button.setObjectName("iv_open")
        self.open_button.setEnabled(False)
        row = QHBoxLayout()
        for label, widget in (
            ("Points", self.points),
            ("Direction", self.direction),
            ("Shape", self.shape),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        result = QHBoxLayout()
        result.addWidget(self.saved, 1)
        result.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.controls)
        layout.addWidget(self.grid, 1)
        layout.addLayout(result)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_result)
        self.setup.changed.connect(self.on_setup)
        self.on_setup()

    # --- setup ----------------------------------------------------------------------------
    def on_setup(self) -> None:
        """A new wiring: new panels (and the sweep settings a peer I-V config gives)."""
        setup = self.setup.setup
        if setup is not None and not self.busy and setup is not self._shown:
            self._shown = setup
            s = setup.settings
            if setup.source == "bspysmg-iv":  # the peer's file says how to sweep
                self.points.setValue(s.points)
                self.direction.setCurrentText("up" if s.up else "down")
                self.shape.setCurrentText(s.shape)
            self._panels(setup)
        self.controls.set_running(self.busy, setup is not None)

    def _panels(self, setup: IVSetup) -> None:
        layout = setup.config.layout()
        self.channel_names = list(layout.activation_channels)
        titles = [f"IV{k + 1} {name}" for k, name in enumerate(self.channel_names)]
        self.grid.set_panels(titles, "Voltage (V)", "Current (nA)", columns=4)

    def settings(self) -> SweepSettings:
        return SweepSettings(
            self.points.value(), self.direction.currentText() == "up", self.shape.currentText()
        )

    # --- run -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.running

    def start(self) -> None:
        setup = self.setup.setup
        if setup is None or self.busy:
            return
        if not may_drive(self.ctx, self.controls, self.guard, self):
            return
        try:
            settings = self.settings().checked()
        except Exception as exc:
            self.ctx.show_error(exc)
            return
        request, out = self.setup.request(), stamped_folder(self.setup.output_folder(), "iv")
        self._panels(setup)
        self.result = None
        self.open_button.setEnabled(False)
        self.saved.clear()
        self.controls.set_progress(0, setup.config.n_inputs, f"sweep 0 / {setup.config.n_inputs}")
        self.controls.say("Sweeping…")
        self.worker = self.ctx.workers.run(
            lambda report, token: run_iv(request, setup, settings, out, report, token),
            "iv curves",
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
            self.controls.say("Cancelling after the sweep in flight…")

    def _on_progress(self, p: Any) -> None:
        self.controls.set_progress(p.done, p.total, f"sweep {p.done} / {p.total}")
        for curve in getattr(p, "curves", ()):
            ys = [curve.currents[:, j] for j in range(curve.currents.shape[1])]
            self.grid.set_curve(curve.electrode, curve.voltages, ys)

    def _ended(self, text: str) -> None:
        self.controls.set_running(False, self.setup.setup is not None)
        self.controls.say(text)
        self.busy_changed.emit(False)

    def _on_done(self, files: dict) -> None:
        self.result = {name: str(path) for name, path in files.items()}
        npz = self.result["iv_curves.npz"]
        self.saved.setText(f"Saved: {npz}")
        self.saved.setToolTip(str(Path(npz).parent))
        self.open_button.setEnabled(True)
        self._ended("Done; outputs at 0 V")
        self.ctx.status(f"I-V curves saved in {Path(npz).parent}")

    def _on_failed(self, exc: BaseException) -> None:
        self._ended("Failed; outputs at 0 V")
        self.ctx.show_error(exc, "The outputs were set to 0 V; no I-V files were written.")

    def _on_cancelled(self) -> None:
        self._ended("Cancelled; outputs at 0 V, nothing written")
        self.ctx.status("I-V sweep cancelled; outputs at 0 V")

    def open_result(self) -> None:
        if self.result:
            open_in_recordings(self.ctx, self.result["iv_curves.npz"])

    # --- page integration ------------------------------------------------------------------
    def wait(self, timeout_s: float) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True

    def set_theme(self, theme: Theme) -> None:
        self.grid.set_colours_theme(
            theme.plot_background, theme.plot_foreground, theme.output_colors[1:]
        )

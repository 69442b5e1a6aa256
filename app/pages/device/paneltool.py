"""The live device panel: a level per electrode (slider + spin box), the current read back live.

The backend `DevicePanel` holds the levels on the device and reads it frame
after frame on a worker; this widget only passes the user's levels and
settings to it (thread-safe setters) and draws what the frames put into a live
buffer, on a timer. The outputs keep their levels between frames; Stop, Pause,
leaving the page, closing the window and errors all ramp them to 0 V. Record
makes the frames an ordinary recording until pressed again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.pages.device.common import RunControls, may_drive, open_in_recordings
from app.pages.device.setup import DeviceSetup
from app.theme import LIGHT, Theme
from app.workers import Worker
from backend.acquisition.livebuffer import LiveBuffer
from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.characterise.panelwave import DEFAULT_FRAME_S, DEFAULT_SLEW_V_PER_S, PanelSettings
from widgets.levelcontrols import LevelControls
from widgets.waveplot import WavePlot

if TYPE_CHECKING:
    from backend.characterise.panel import DevicePanel, PanelFrame

log = logging.getLogger(__name__)

#: Seconds of output current the live plot shows.
HISTORY_S = 10.0
REFRESH_MS = 50
MAX_PLOT_POINTS = 2000


def _spin(name: str, lo: float, hi: float, value: float, suffix: str, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setDecimals(3)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)
    return spin


class PanelTool(QWidget):
    """Levels, wave and slew settings, Start / Stop, Record, and the live current."""

    busy_changed = Signal(bool)

    def __init__(self, ctx: Any, setup: DeviceSetup, guard: Any) -> None:
        super().__init__()
        self.ctx, self.setup, self.guard = ctx, setup, guard
        self.worker: Worker | None = None
        self.panel: DevicePanel | None = None
        self.buffer: LiveBuffer | None = None
        self.recordings: list[str] = []
        self.theme: Theme = LIGHT
        self._last_levels: np.ndarray | None = None
        self._recording_now: str | None = None
        frame_tip = (
            "How often the levels and wave are updated and the current is read; the outputs "
            "hold their levels from one frame to the next"
        )
        slew_tip = (
            "How fast a level (or the wave's amplitude) may move; Stop, Pause and leaving "
            "the page ramp the outputs to 0 V at this rate (never slower than the config's "
            f"ramps). Every output moves at most {MAX_SLEW_V_PER_S:g} V/s, wave included"
        )
        self.frame = _spin("panel_frame", 0.02, 2.0, DEFAULT_FRAME_S, " s", frame_tip)
        self.slew = _spin(
            "panel_slew", 0.01, MAX_SLEW_V_PER_S, DEFAULT_SLEW_V_PER_S, " V/s", slew_tip
        )
        wave_tip = (
            "A small sine on every level (0: plain DC); shrinks near a range's ends; "
            "amplitude x frequency is limited by the slew bound"
        )
        self.amplitude = _spin("panel_wave_amplitude", 0.0, 1.6, 0.0, " V", wave_tip)
        self.frequency = _spin("panel_wave_frequency", 0.01, 500.0, 2.0, " Hz", "Sine frequency")
        self.controls = RunControls("panel", "Start", "Stop", bar=False)
        self.pause = QPushButton("Pause")
        self.pause.setObjectName("panel_pause")
        self.pause.setCheckable(True)
        self.pause.setEnabled(False)
        self.pause.setToolTip(
            "Ramp the outputs to 0 V and keep them there until pressed again "
            "(the levels then slew up again)"
        )
        self.record = QPushButton("Record")
        self.record.setObjectName("panel_record")
        self.record.setCheckable(True)
        self.record.setEnabled(False)
        self.record.setToolTip("Write the frames into an ordinary recording until pressed again")
        self.levels = LevelControls()
        self.levels.setObjectName("panel_levels")
        self.plot = WavePlot("Output current", "Current", "nA", "Readout time", "s")
        self.plot.setObjectName("panel_plot")
        self.readout = QLabel("—")
        self.readout.setObjectName("panel_readout")
        self.readout.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.saved = QLabel()
        self.saved.setObjectName("panel_saved")
        self.open_button = QPushButton("Open in Recordings")
        self.open_button.setObjectName("panel_open")
        self.open_button.setEnabled(False)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._lay_out()
        self.controls.start_button.clicked.connect(self.start)
        self.controls.cancel_button.clicked.connect(self.stop)
        self.record.toggled.connect(self._on_record)
        self.pause.toggled.connect(self._on_pause)
        self.open_button.clicked.connect(self.open_result)
        self.levels.level_changed.connect(self._on_level)
        for spin in (self.slew, self.amplitude, self.frequency):
            spin.valueChanged.connect(self._on_settings)
        self.setup.changed.connect(self.on_setup)
        self.on_setup()

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        for label, widget in (
            ("Frame", self.frame),
            ("Slew", self.slew),
            ("Wave", self.amplitude),
            ("at", self.frequency),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        controls = QHBoxLayout()
        controls.addWidget(self.controls, 1)
        controls.addWidget(self.pause)
        controls.addWidget(self.record)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.levels)
        scroll.setMinimumWidth(400)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.readout)
        column.addWidget(self.plot, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("panel_splitter")
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([440, 600])
        saved = QHBoxLayout()
        saved.addWidget(self.saved, 1)
        saved.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        layout.addLayout(saved)

    # --- setup -------------------------------------------------------------------------------
    def on_setup(self) -> None:
        setup = self.setup.setup
        if setup is not None and not self.busy:
            layout = setup.config.layout()
            self.levels.set_electrodes(list(layout.activation_channels), layout.ranges.tolist())
            self.plot.set_channels(list(layout.readout_channels), self.theme.output_colors)
        self.controls.set_running(self.busy, setup is not None)

    def settings(self) -> PanelSettings:
        return PanelSettings(
            self.frame.value(), self.slew.value(), self.amplitude.value(), self.frequency.value()
        )

    # --- run ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.running

    def start(self) -> None:
        setup = self.setup.setup
        if setup is None or self.busy:
            return
        if not may_drive(self.ctx, self.controls, self.guard, self):
            return
        config = setup.config
        from backend.characterise.panel import DevicePanel  # its recording (h5py) loads here

        try:
            device = self.setup.request().make(config)
            panel = DevicePanel(device, self.settings(), on_frame=self._on_frame)
        except Exception as exc:
            self.ctx.show_error(exc, "The device was not driven.")
            return
        panel.set_levels(np.asarray(self.levels.levels()))
        capacity = max(1, int(HISTORY_S * config.fs))
        self.buffer = LiveBuffer(config.n_outputs, capacity, fs=config.fs)
        self.panel, self._last_levels, self._recording_now = panel, None, None
        self.recordings = []
        self.plot.set_channels(list(config.layout().readout_channels), self.theme.output_colors)
        self.worker = self.ctx.workers.run(
            lambda report, token: panel.run(cancel=token),
            "device panel",
            on_error=self._on_failed,
            on_cancelled=self._on_stopped,
            on_result=lambda _=None: self._on_stopped(),
        )
        self.frame.setEnabled(False)
        self.record.setEnabled(True)
        self.pause.setEnabled(True)
        self.controls.set_running(True)
        self.controls.say("Live: levels held; Stop, Pause or leaving the page ramps to 0 V")
        self.timer.start()
        self.busy_changed.emit(True)

    def stop(self) -> None:
        """Stop after the frame in flight: outputs ramped to 0 V, any recording closed."""
        if self.worker is not None and self.busy:
            self.worker.cancel()
            self.controls.say("Stopping: ramping the outputs to 0 V…")

    def _on_frame(self, frame: PanelFrame) -> None:
        """On the panel's thread: only copy into the live buffer (never waits for the GUI)."""
        buffer = self.buffer
        if buffer is not None:
            buffer.append(frame.outputs)
        self._last_levels = frame.levels
        self._recording_now = frame.recording

    def refresh(self) -> None:
        """Timer: draw the newest seconds of current, the latest values and levels."""
        buffer = self.buffer
        if buffer is None or not buffer.total:
            return
        first, rows = buffer.latest(buffer.capacity)
        step = max(1, len(rows) // MAX_PLOT_POINTS)
        t = (first + np.arange(0, len(rows), step)) / buffer.fs
        lines = [(t, rows[::step, j]) for j in range(rows.shape[1])]
        self.plot.set_lines(lines)
        self.plot.follow_y(lines)
        tail = rows[-max(1, int(0.1 * buffer.fs)) :].mean(axis=0)
        self.readout.setText("   ".join(f"{v:+.2f} nA" for v in tail))
        if self._last_levels is not None:
            self.levels.show_reached(self._last_levels)
        if self._recording_now:
            self.saved.setText(f"Recording into {self._recording_now}")

    def _on_level(self, electrode: int, volts: float) -> None:
        if self.panel is not None:
            self.panel.set_level(electrode, volts)

    def _on_settings(self, *_args: Any) -> None:
        if self.panel is None or not self.busy:
            return
        try:
            self.panel.set_settings(self.settings())
        except Exception as exc:
            self.controls.say(f"Setting not taken: {exc}")

    def _on_record(self, on: bool) -> None:
        panel = self.panel
        if panel is None or not self.busy:
            return
        if on:
            folder = self.setup.output_folder()
            panel.record(folder)
            self.controls.say(f"Recording into {folder}…")
        else:
            panel.stop_recording()
            self.controls.say("Recording stopped; still live")

    def _on_pause(self, on: bool) -> None:
        panel = self.panel
        if panel is None or not self.busy:
            return
        if on:
            panel.pause()
            self.controls.say("Paused: outputs ramped to 0 V")
        else:
            panel.resume()
            self.controls.say("Live again; levels slew up from 0 V")

    def _ended(self, text: str) -> None:
        self.timer.stop()
        self.refresh()
        panel, self.panel = self.panel, None
        self.recordings = list(panel.summary.recordings) if panel is not None else []
        for button in (self.record, self.pause):
            button.blockSignals(True)
            button.setChecked(False)
            button.blockSignals(False)
            button.setEnabled(False)
        self.frame.setEnabled(True)
        self.controls.set_running(False, self.setup.setup is not None)
        self.controls.say(text)
        if self.recordings:
            self.saved.setText(f"Recorded: {self.recordings[-1]}")
            self.open_button.setEnabled(True)
        self.busy_changed.emit(False)

    def _on_stopped(self) -> None:
        self._ended("Stopped; outputs ramped to 0 V")

    def _on_failed(self, exc: BaseException) -> None:
        self._ended("Failed; outputs ramped to 0 V")
        self.ctx.show_error(
            exc, "The outputs were ramped to 0 V from where they stopped; recorded frames are kept."
        )

    def open_result(self) -> None:
        if self.recordings:
            open_in_recordings(self.ctx, self.recordings[-1])

    # --- page integration ---------------------------------------------------------------------
    def wait(self, timeout_s: float) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.plot.set_colours_theme(theme.plot_background, theme.plot_foreground)
        self.plot.set_colours(theme.output_colors)

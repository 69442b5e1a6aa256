"""The Streams page: watch a live session, a file or a random signal, processed on the fly.

Left: the source (the session running on the Sampling page, any file
`open_stream` reads, or a seeded random signal), optional processing (moving
average, a surrogate model's prediction beside the measured output,
downsampling), Start / Stop and what the stream does (rows, rate, dropped
rows). Right: a scrolling scope of the chosen channels, newest sample at time
0. The stream is read on a worker (`StreamRunner`); the scope polls its
buffer at 30 Hz and draws only when rows arrived.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.pages import AppContext, Page, register_page
from app.pages.streams.form import StreamForm
from app.pages.streams.pipeline import Layout, Pipeline, session_stream
from app.pages.streams.remembered import MODEL, PATH, SOURCE
from app.pages.streams.runner import StreamRunner
from app.pages.streams.stats import PumpStats, describe_stats
from app.settings import AppSettings, Remembered
from app.theme import LIGHT, Theme
from backend.streams import DeviceStream
from widgets.channelpicker import ChannelPicker
from widgets.channelplot import ChannelPlot, PlotGroup

log = logging.getLogger(__name__)

SCOPE_RATE_HZ = 30
_Y_LABELS = {"V": "Voltage", "nA": "Current"}
DATA_FILTER = "Data files (*.h5 *.hdf5 *.npy *.npz *.dat *.bin);;All files (*)"
MODEL_FILTER = "Surrogate models (*.pt *.pth);;All files (*)"


@register_page
class StreamsPage(Page):
    key = "streams"
    title = "Streams"
    order = 25

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.runner = StreamRunner(ctx.workers, self)
        self.form = StreamForm()
        self.plot = ChannelPlot(interactive=False)
        self.plot.setObjectName("stream_plot")
        self.picker = ChannelPicker()
        self.picker.setObjectName("stream_channels")
        self.status_label = QLabel("Stopped")
        self.status_label.setObjectName("stream_status")
        self.status_label.setWordWrap(True)
        self.pipeline: Pipeline | None = None
        self.layout_: Layout | None = None
        self.stats = PumpStats()
        self.theme = LIGHT
        self.waiting = False  # Start pressed, no session yet: attach when one starts
        self._early: Any = None  # the DeviceStream attached before the session's first batch
        self._seen = -1
        self.draws = 0
        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / SCOPE_RATE_HZ))
        self.timer.timeout.connect(self.refresh)
        self.change_timer = QTimer(self)  # a burst of edits is applied once
        self.change_timer.setSingleShot(True)
        self.change_timer.setInterval(250)
        self.change_timer.timeout.connect(self._apply_processing)
        self._make_actions()
        self._lay_out()
        self.form.browse_file.connect(self._browse_file)
        self.form.browse_model.connect(self._browse_model)
        self.picker.visibility_changed.connect(self.plot.set_channel_visible)
        self.runner.started.connect(self._on_ready)
        self.runner.reprocessed.connect(self._on_reprocessed)
        self.runner.reprocess_failed.connect(self._on_reprocess_failed)
        self.form.processing_changed.connect(self._on_processing_changed)
        self.runner.progress.connect(self._on_stats)
        self.runner.finished.connect(self._on_ended)
        self.runner.failed.connect(self._on_failed)
        self._restore(ctx.settings)
        self._update_actions()

    def _make_actions(self) -> None:
        self.start_action = QAction("Start", self)
        self.start_action.setObjectName("action_stream_start")
        self.start_action.setToolTip("Start watching the stream")
        self.start_action.triggered.connect(self.start)
        self.stop_action = QAction("Stop", self)
        self.stop_action.setObjectName("action_stream_stop")
        self.stop_action.setToolTip("Stop watching (a session keeps sampling)")
        self.stop_action.triggered.connect(self.stop)

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for name, act in (("start", self.start_action), ("stop", self.stop_action)):
            button = QToolButton()
            button.setObjectName(f"button_stream_{name}")
            button.setDefaultAction(act)
            button.setMinimumWidth(64)
            controls.addWidget(button)
            self.buttons[name] = button
        controls.addStretch(1)
        form_page = QWidget()
        column = QVBoxLayout(form_page)
        column.addWidget(self.form)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(form_page)
        # What the stream does and Start/Stop stay in view below the scrolled form. The
        # buttons come last, pinned to the bottom edge: the status lines re-wrap as their
        # numbers grow, and a Stop that moved with them lost clicks aimed at it.
        left = QWidget()
        left.setMinimumWidth(300)
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(scroll, 1)
        left_column.addWidget(self.status_label)
        left_column.addLayout(controls)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        # Room for the usual three lines, so the form above does not jump either.
        self.status_label.setMinimumHeight(3 * self.status_label.fontMetrics().lineSpacing())
        scope = QSplitter(Qt.Orientation.Horizontal)
        scope.addWidget(self.picker)
        scope.addWidget(self.plot)
        scope.setStretchFactor(1, 1)
        scope.setSizes([210, 900])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("streams_splitter")
        split.addWidget(left)
        split.addWidget(scope)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 1060])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    # --- start and stop ---------------------------------------------------------------
    def sampling_runner(self) -> Any:
        """The session service's runner of new sessions (the Sampling page starts them)."""
        return self.ctx.sessions.sampling

    def start(self) -> None:
        if self.runner.active or self.waiting:
            return
        spec = self.form.spec()
        session = None
        if spec.source == "session":
            runner = self.sampling_runner()
            session = runner.current()
            if session is None:
                self.waiting = True
                self._early = None
                self.form.set_editable(False)  # the stream to be is this one: source locked
                runner.watch_next(self._attach_early)
                runner.started.connect(self._on_session_started)
                self.status_label.setText("Waiting for a session to start on the Sampling page…")
                self._update_actions()
                return
        self._start(spec, session)

    def _attach_early(self, session: Any) -> None:
        """On the sampling thread, before the first batch: so every batch is seen."""
        self._early = session_stream(session)

    def _on_session_started(self, _path: str) -> None:
        runner = self.sampling_runner()
        runner.started.disconnect(self._on_session_started)
        self.waiting = False
        early, self._early = self._early, None
        session, spec = runner.current(), self.form.spec()
        attached = early is not None and early.session is session and spec.source == "session"
        if early is not None and not attached:
            early.close()
        if session is not None:
            self._start(spec, early if attached else session)
        else:
            self.form.set_editable(True)
        self._update_actions()

    def _start(self, spec: Any, session: Any) -> None:
        self.stats = PumpStats()
        self.status_label.setText("Opening the stream…")
        try:
            self.runner.start_stream(spec, session)
        except RuntimeError as exc:
            if isinstance(session, DeviceStream):  # attached early: detach it
                session.close()
            self.form.set_editable(True)  # locked while it waited for the session
            self.ctx.show_error(exc)
            return
        self.form.set_editable(False)
        self._update_actions()

    def stop(self) -> None:
        if self.waiting:
            runner = self.sampling_runner()
            runner.unwatch(self._attach_early)
            runner.started.disconnect(self._on_session_started)
            self.waiting = False
            if self._early is not None:  # attached by a session that has not said so yet
                self._early.close()
                self._early = None
            self.form.set_editable(True)
            self.status_label.setText("Stopped")
        self.runner.stop()
        self._update_actions()

    # --- runner signals -----------------------------------------------------------------
    def _on_ready(self, pipeline: Pipeline) -> None:
        self.pipeline, self.layout_ = pipeline, pipeline.layout
        layout = pipeline.layout
        colours = self._colours(layout)
        groups = [
            PlotGroup(_plot_title(title, role), *_y_of(layout, columns), tuple(columns))
            for title, role, columns in layout.groups
        ]
        self.plot.reset_visibility()
        self.plot.set_groups(groups, colours, "Time to now", "s")
        self.plot.set_colours_theme(self.theme.plot_background, self.theme.plot_foreground)
        self.picker.set_channels(
            layout.names, layout.units, colours, [(g.title, g.channels) for g in groups]
        )
        self._apply_window()
        self._seen = -1
        self.timer.start()

    def _on_processing_changed(self) -> None:
        if self.runner.active:
            self.change_timer.start()

    def _apply_processing(self) -> None:
        if self.runner.active:
            self.runner.reprocess(self.form.spec())

    def _on_reprocessed(self, pipeline: Pipeline) -> None:
        """New processing: new plots; the stream itself went on without a gap."""
        self._on_ready(pipeline)
        self.ctx.status("Processing changed; the stream goes on")

    def _on_reprocess_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, "The processing was not changed; the stream goes on as before.")

    def _on_stats(self, stats: PumpStats) -> None:
        self.stats = stats
        self._show_stats()

    def _on_ended(self, stats: PumpStats) -> None:
        self.stats = stats
        self.refresh()
        self.timer.stop()
        self._show_stats(final="Ended" if stats.ended else "Stopped")
        self.form.set_editable(True)
        self._update_actions()

    def _on_failed(self, exc: BaseException) -> None:
        self.timer.stop()
        self.form.set_editable(True)
        self.status_label.setText(f"Failed: {getattr(exc, 'message', exc)}")
        self.ctx.show_error(exc, "The stream was stopped; nothing else was affected.")
        self._update_actions()

    def _show_stats(self, final: str = "") -> None:
        layout, pipeline = self.layout_, self.pipeline
        if layout is None or pipeline is None:
            return
        lines = describe_stats(layout, self.stats, pipeline.spec.speed, final)
        self.status_label.setText("\n".join(lines))

    # --- the scope ----------------------------------------------------------------------
    def _apply_window(self) -> None:
        self.plot.set_x_range(-self.form.window_s.value(), 0.0)

    def refresh(self) -> bool:
        """Draw the newest window if rows arrived since the last frame; True if drawn."""
        pipeline = self.pipeline
        if pipeline is None:
            return False
        buffer = pipeline.buffer
        total = buffer.total
        if total == self._seen:
            return False
        fs = buffer.fs
        rows = max(1, round(self.form.window_s.value() * fs))
        start = max(buffer.first_available, total - rows)
        points = max(400, 2 * self.plot.pixel_width())
        env = buffer.envelope(start, total, points)
        last = total - 1
        lines = {}
        for c in range(buffer.channels):
            x, y = env.line(c)
            lines[c] = ((x - last) / fs, y)
        self.plot.set_lines(lines)
        self._seen = total
        self.draws += 1
        return True

    def _colours(self, layout: Layout) -> list[str]:
        """Per column: inputs in the curve colours, currents in the output colours, and in
        the model plot the measured output dark and the prediction red."""
        curves, outputs = self.theme.curve_colors, self.theme.output_colors
        out = [curves[0]] * len(layout.names)
        for _title, role, columns in layout.groups:
            for k, column in enumerate(columns):
                if role == "model":
                    predicted = k >= len(columns) // 2  # measured first, then predicted
                    out[column] = outputs[1 % len(outputs)] if predicted else outputs[0]
                elif layout.units[column] == "nA":
                    out[column] = outputs[k % len(outputs)]
                else:
                    out[column] = curves[k % len(curves)]
        return out

    # --- files ----------------------------------------------------------------------------
    def _browse_file(self) -> None:
        path = dialogs.ask_open_file(
            self, "Stream a file", self.ctx.settings.last_folder, DATA_FILTER
        )
        if path:
            self.form.path.setText(path)
            self.ctx.settings.remember_file(path)

    def _browse_model(self) -> None:
        path = dialogs.ask_open_file(
            self, "Choose a surrogate model", self.ctx.settings.last_folder, MODEL_FILTER
        )
        if path:
            self.form.model_path.setText(path)
            self.form.model_box.setChecked(True)

    def open_file(self, path: str) -> bool:
        """A trained model handed over (Models page): draw its prediction beside the output."""
        if Path(path).suffix.lower() not in (".pt", ".pth"):
            return False
        self.form.model_box.setChecked(True)
        self.form.model_path.setText(path)
        return True

    # --- window integration ---------------------------------------------------------------
    def _update_actions(self) -> None:
        busy = self.runner.active or self.waiting
        self.start_action.setEnabled(not busy)
        self.stop_action.setEnabled(busy)

    def busy_reason(self) -> str | None:
        return "the Streams page is showing a stream" if self.runner.active else None

    def shutdown(self, timeout_s: float = 30.0) -> None:
        if self.waiting:
            self.stop()
        self.runner.stop()
        self.runner.wait(min(timeout_s, 10.0))
        self.timer.stop()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.plot.set_colours_theme(theme.plot_background, theme.plot_foreground)
        if self.layout_ is not None:
            colours = self._colours(self.layout_)
            self.plot.set_colours(colours)
            self.picker.set_colours(colours)

    def save_state(self, settings: AppSettings) -> None:
        self.remembered.save()

    def _restore(self, settings: AppSettings) -> None:
        self.remembered = Remembered(settings)
        self.remembered.bind_value(SOURCE, self.form.source_key, self.form.select_source)
        self.remembered.bind(PATH, self.form.path)
        self.remembered.bind(MODEL, self.form.model_path)


def _y_of(layout: Layout, columns: list[int]) -> tuple[str, str]:
    units = {layout.units[c] for c in columns}
    unit = units.pop() if len(units) == 1 else ""
    return _Y_LABELS.get(unit, "Value"), unit


def _plot_title(title: str, role: str) -> str:
    if role == "model":
        return "Surrogate model: measured and predicted output"
    return title

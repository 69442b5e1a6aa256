"""The Sampling page: choose and edit a config, pick a device, run a session, watch it.

Left: presets and config files, the config form (validated as you type),
the run options and the run notes. Right: Start / Pause / Resume / Stop, the
progress, the recording's path and saturation flags, and the live plots. The
session belongs to the session service (`ctx.sessions`, app/sessions.py): it
runs on a worker thread, and the service refuses to start it while anything
else drives the device; this page only wires the widgets to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.devicechoices import device_choices
from app.pages import AppContext, Page, register_page
from app.pages.sampling import remembered
from app.pages.sampling.files import ConfigFiles
from app.pages.sampling.liveplots import LivePlots
from app.pages.sampling.status import SessionStatus
from app.pages.sampling.twin import TwinPicker
from app.sessions import DeviceBusy, SessionRequest
from app.settings import AppSettings, Remembered
from app.theme import Theme
from backend.config import SamplingConfig, config_problems
from backend.config.fields import field_meta, field_place
from backend.recording.runnotes import run_notes
from widgets.configfields import FieldText, form_fields
from widgets.configform import ConfigForm
from widgets.progress import SessionProgress, format_duration
from widgets.runnotes import RunNotesForm
from widgets.runoptions import DeviceChoice, RunOptions

if TYPE_CHECKING:
    from backend.devices import Device
    from backend.sampling.session import SessionResult

log = logging.getLogger(__name__)

#: (kind, config, seed, options) -> a Device, or a kind for start_session to build.
DeviceFactory = Callable[[str, SamplingConfig, "int | None", dict], "Device | str"]

SHORTCUTS = {
    "start": QKeySequence(Qt.Key.Key_F5),
    "pause": QKeySequence(Qt.Key.Key_F6),
    "resume": QKeySequence(Qt.Key.Key_F7),
    "stop": QKeySequence("Shift+F5"),
}
MODEL_SUFFIXES = (".pt", ".pth")  # trained surrogate models (app/pages/sampling/twin.py)
STATE_TEXT = {
    "idle": "Idle",
    "starting": "Starting…",
    "running": "Running",
    "paused": "Paused",
    "stopping": "Stopping…",
}


def default_device(kind: str, config: SamplingConfig, seed: int | None, options: dict) -> str:
    """Let the session build the device on its own thread (opening hardware takes time)."""
    return kind


def schema_texts() -> dict[str, FieldText]:
    """Each form field's label, tooltip and choices, as the schema states them."""
    metas = {f.path: field_meta(f.path) for f in form_fields()}
    return {path: FieldText(m.label, m.hint, m.choices) for path, m in metas.items()}


@register_page
class SamplingPage(Page):
    key = "sampling"
    title = "Sampling"
    order = 10

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.config: SamplingConfig | None = None
        self.device_factory: DeviceFactory = default_device
        self.last_result: SessionResult | None = None
        self.recording_path: str | None = None
        #: backend.devices.discovery.NIInventory once known (False if discovery failed)
        self.inventory: Any | None = None
        self.runner = ctx.sessions.sampling
        self.form = ConfigForm(schema_texts())
        self.run_options = RunOptions()
        self.twin = TwinPicker(
            ctx, self.run_options, self
        )  # the "Surrogate model…" device's model and noise
        self.files = ConfigFiles(ctx, self, self.form, lambda: self.config, self.set_config)
        self.progress = SessionProgress()
        self.plots = LivePlots()
        self.notes = RunNotesForm()
        self.status = SessionStatus(ctx)
        self._make_actions()
        self._lay_out()
        self.form.edited.connect(self._on_edited)
        self.files.title_changed.connect(self.title_changed)
        self.form.folder_requested.connect(self.files.choose_output_folder)
        self.run_options.changed.connect(self._update_actions)
        self.runner.state_changed.connect(self._on_state)
        self.runner.started.connect(self._on_started)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_start_failed)
        self._restore(ctx.settings)
        self.run_options.set_devices(*device_choices(None))
        ctx.sessions.inventory_changed.connect(self._on_inventory)
        ctx.after_first_paint(self._discover_devices)  # the NI driver loads once the window shows

    # --- construction ---------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(key: str, text: str, tip: str, slot: Callable[[], Any]) -> QAction:
            a = QAction(text, self)
            a.setObjectName(f"action_{key}")
            if key in SHORTCUTS:
                a.setShortcut(SHORTCUTS[key])
                tip = f"{tip} ({SHORTCUTS[key].toString(QKeySequence.SequenceFormat.NativeText)})"
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.start_action = action("start", "Start", "Start sampling", self.start)
        self.pause_action = action("pause", "Pause", "Pause after this batch", self.runner.pause)
        self.resume_action = action("resume", "Resume", "Resume sampling", self.runner.resume)
        self.stop_action = action("stop", "Stop", "Stop after this batch; data is kept", self.stop)
        self.open_action = self.files.open_action
        self.save_action = self.files.save_action
        self.save_bspysmg_action = self.files.save_bspysmg_action
        self._update_actions()

    def _lay_out(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.addLayout(self.files.preset_row())
        column.addWidget(self.form)
        column.addWidget(self.run_options)
        notes_box = QGroupBox("Run notes (stored in the recording)")
        QVBoxLayout(notes_box).addWidget(self.notes)
        column.addWidget(notes_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setMinimumWidth(320)
        controls = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for name, act in (
            ("start", self.start_action),
            ("pause", self.pause_action),
            ("resume", self.resume_action),
            ("stop", self.stop_action),
        ):
            button = QToolButton()
            button.setObjectName(f"button_{name}")
            button.setDefaultAction(act)
            button.setMinimumWidth(64)
            controls.addWidget(button)
            self.buttons[name] = button
        controls.addStretch(1)
        right = QWidget()
        stack = QVBoxLayout(right)
        stack.addLayout(controls)
        stack.addWidget(self.progress)
        stack.addWidget(self.status)
        stack.addWidget(self.plots, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("sampling_splitter")
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 840])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    def menu_actions(self) -> dict[str, list[QAction | None]]:
        return {
            "File": [self.open_action, self.save_action, self.save_bspysmg_action],
            "Session": [self.start_action, self.pause_action, self.resume_action, self.stop_action],
        }

    # --- config ---------------------------------------------------------------------
    def set_config(self, config: SamplingConfig) -> None:
        """Show a (valid) config in the form."""
        self.form.set_config(config.to_bspysmg())
        self._validate(self.form.config_dict())

    def _on_edited(self, data: dict) -> None:
        self._validate(data)
        self.title_changed.emit()

    def _validate(self, data: dict) -> None:
        config, problems = config_problems(data)
        self.form.show_problems([(field_place(p.path), p.message) for p in problems])
        self.config = config
        self.ctx.sessions.next_config = config
        self.form.set_summary(self._summary(config) if config else "")
        self.status.set_folder(str(data.get("save_directory") or ""))
        if config is not None and not self.runner.active:
            self.progress.reset(config.number_batches)
        self._update_actions()

    @staticmethod
    def _summary(cfg: SamplingConfig) -> str:
        per_batch = cfg.input_data.batch_time + 2 * cfg.input_data.ramp_time
        return (
            f"{cfg.batch_points:,} rows per batch at {cfg.fs:,} Hz; {cfg.total_rows:,} rows "
            f"in all; about {format_duration(cfg.number_batches * per_batch)} on hardware"
        )

    # --- devices --------------------------------------------------------------------
    def _discover_devices(self) -> None:
        choices, note = device_choices(None)
        self.run_options.set_devices(choices, note)
        self.ctx.sessions.discover_devices()

    def _on_inventory(self, inventory: Any) -> None:
        self.inventory = inventory
        if inventory is False:  # a bug in discovery must not cost the user the simulated device
            reason = f"NI-DAQmx device discovery failed: {self.ctx.sessions.discovery_error}"
            choices, _ = device_choices(None)
            ni = DeviceChoice("nidaq", "NI-DAQmx (discovery failed)", False, reason, kind="nidaq")
            self.run_options.set_devices([*choices[:-1], ni], reason)
        else:
            self.run_options.set_devices(*device_choices(inventory))
            self.run_options.select_device(remembered.DEVICE.read(self.ctx.settings))
        self._update_actions()

    # --- session --------------------------------------------------------------------
    def start(self) -> None:
        config, choice = self.config, self.run_options.device_choice()
        if config is None or choice is None or not choice.enabled or self.runner.active:
            return
        options = (
            {"realtime": self.run_options.realtime_value()} if choice.kind == "simulated" else {}
        )
        seed = self.run_options.seed_value()
        try:
            options.update(self.twin.options_for(choice.key))  # "Surrogate model…": its file
            device = self.device_factory(choice.kind, config, seed, options)
        except Exception as exc:
            self.ctx.show_error(exc)
            return
        request = SessionRequest(
            config,
            device,
            out_dir=config.save_directory,
            seed=seed,
            device_options=options if isinstance(device, str) else {},
            notes=run_notes(**self.notes.values()),
        )
        try:
            buffer = self.ctx.sessions.start_new(request)
        except DeviceBusy as exc:
            self.ctx.status(f"Not started: {exc}")
            return
        self.last_result, self.recording_path = None, None
        self.progress.reset(config.number_batches)
        ranges = config.voltage_ranges()
        span = (float(ranges[:, 0].min()), float(ranges[:, 1].max()))
        self.plots.attach(buffer, config.batch_points, config.n_inputs, span)
        self.ctx.status(f"Starting a session on the {choice.label}…")

    def stop(self) -> None:
        self.runner.stop()

    def _on_started(self, path: str) -> None:
        self.recording_path = str(Path(path).resolve())
        self.status.started(path)
        self.ctx.status(f"Sampling into {self.recording_path}", 0)

    def _on_progress(self, p: Any) -> None:
        self.progress.set_progress(p.batch, p.total, p.rows, p.elapsed, p.eta)
        self.status.progress(p.saturation)

    def _on_state(self, state: str) -> None:
        self.progress.set_state(STATE_TEXT.get(state, state))
        editable = state == "idle"
        self.form.set_editable(editable)
        self.run_options.set_editable(editable)
        self.twin.set_editable(editable)
        self.notes.set_editable(editable)
        self.files.set_enabled(editable)
        self._update_actions()
        if state == "paused":
            self.ctx.status("Paused after the batch in flight; outputs at 0 V until Resume", 0)
        elif state == "running" and self.recording_path:
            self.ctx.status(f"Sampling into {self.recording_path}", 0)
        elif state == "stopping":
            self.ctx.status("Stopping after the batch in flight…", 0)

    def _on_finished(self, result: SessionResult) -> None:
        self.plots.detach()
        self.last_result = result
        self.status.finished(result)
        where = self.status.path
        kept = f"{result.batches_done} batches ({result.rows:,} rows)"
        if result.status == "complete":
            self.progress.finish("Complete")
            self.ctx.status(f"Recording complete: {kept} in {where}", 0)
        elif result.status == "cancelled":
            self.progress.finish("Stopped")
            self.ctx.status(f"Stopped; outputs at 0 V; {kept} kept in {where}", 0)
        else:
            self.progress.finish("Failed")
            self.ctx.status(f"Session failed; outputs at 0 V; {kept} kept", 0)
            context = (
                f"The outputs were set to 0 V. The {kept} completed before the error are "
                f"kept in {where}; continue it with `samplelab sample --resume`."
            )
            self.ctx.show_error(result.error or RuntimeError("unknown failure"), context)
        log.info("session %s: %s in %s", result.status, kept, result.path)

    def _on_start_failed(self, exc: BaseException) -> None:
        self.plots.detach()
        self.progress.finish("Failed")
        self.status.forget()
        self.ctx.show_error(exc, "No session was started; the device was not driven.")

    def _update_actions(self) -> None:
        state = self.runner.state
        choice = self.run_options.device_choice()
        can_start = (
            state == "idle" and self.config is not None and choice is not None and choice.enabled
        )
        self.start_action.setEnabled(can_start)
        self.pause_action.setEnabled(state == "running")
        self.resume_action.setEnabled(state == "paused")
        self.stop_action.setEnabled(state in ("starting", "running", "paused"))
        self.files.update_actions(self.config is not None and state == "idle")

    # --- window integration ---------------------------------------------------------
    def busy_reason(self) -> str | None:
        return "a sampling session is running" if self.runner.active else None

    def open_file(self, path: str) -> bool:
        """A trained model handed over (Models page): run it as the simulated device."""
        if Path(path).suffix.lower() not in MODEL_SUFFIXES:
            return False
        if self.runner.active:  # the device chooser is the running session's
            self.ctx.status("Not now: a sampling session is running; use the model once it ends")
            return False
        self.twin.use(path)
        return True

    def confirm_close(self) -> bool:
        return self.files.keep_or_discard_changes("closing samplelab")

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop the session and wait for it: the device ends at 0 V, the data is kept."""
        self.ctx.sessions.shutdown(timeout_s)
        self.plots.timer.stop()

    def set_theme(self, theme: Theme) -> None:
        self.plots.set_theme(theme)
        self.form.set_error_colour(theme.error)
        self.status.set_colours(theme.text, theme.warning)

    def title_suffix(self) -> str:
        return self.files.title()

    def save_state(self, settings: AppSettings) -> None:
        self.remembered.save()

    def _restore(self, settings: AppSettings) -> None:
        self.remembered = Remembered(settings)
        # The device is chosen again once discovery has listed it (`_on_inventory`).
        self.remembered.bind_value(remembered.DEVICE, self.run_options.device_key)
        self.remembered.bind(remembered.REALTIME, self.run_options.realtime)
        self.remembered.bind(remembered.OPERATOR, self.notes.operator)
        self.files.load_initial()

"""What the Device page's three tools share: the wiring (a config), the device, the output folder.

The config is any file `samplelab iv` reads (our YAML, a sampler_configs.json,
the peer's I-V config) or, when none is chosen, the one on the Sampling page.
The device is the simulated DNPU (built-in model or a surrogate `.pt`, with
its noise) or NI hardware when discovery found some.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app import dialogs
from app.pages.device.remembered import CONFIG, OUT_DIR, REALTIME
from app.settings import AppSettings, Remembered
from backend.characterise.ivconfig import IVSetup, SweepSettings, device_groups, load_iv_setup
from backend.config import SamplingConfig
from backend.errors import SamplelabError
from widgets.runoptions import DeviceChoice, DeviceChoiceModel

CONFIG_FILTERS = "Configs (*.yaml *.yml *.json);;All files (*)"
MODEL_FILTERS = "Surrogate models (*.pt *.pth);;All files (*)"


@dataclass(frozen=True)
class DeviceRequest:
    """Which device to build, decided on the GUI thread, built wherever the job runs."""

    kind: str = "simulated"
    model: str | None = None
    noise_nA: float | None = None
    realtime: bool = True

    def make(self, config: SamplingConfig) -> Any:
        """A closed device for `config` (may read a model file or probe the NI driver)."""
        from backend.characterise.device import characterisation_device

        if self.kind != "simulated":
            return characterisation_device(self.kind, config)
        return characterisation_device(
            "simulated", config, model=self.model, noise_nA=self.noise_nA, realtime=self.realtime
        )


def describe_setup(setup: IVSetup) -> str:
    """'7 electrodes, 1 output, 1000 Hz (bspysmg-sampling)' plus the devices of a multi setup."""
    cfg = setup.config
    groups = device_groups(cfg)
    devices = f"; devices {', '.join(g.name for g in groups)}" if len(groups) > 1 else ""
    outs = "output" if cfg.n_outputs == 1 else "outputs"
    return (
        f"{cfg.n_inputs} electrodes, {cfg.n_outputs} {outs}, {cfg.fs:g} Hz{devices} "
        f"({setup.source})"
    )


class DeviceSetup(QWidget):
    """Config, device, model, noise, pacing, output folder; `changed` on any edit."""

    changed = Signal()

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setup: IVSetup | None = None
        self.problem = ""
        self.config_path = QLineEdit()
        self.config_path.setObjectName("device_config_path")
        self.config_path.setPlaceholderText("the Sampling page's config")
        self.config_path.setToolTip(
            "Our YAML, a bspysmg sampler_configs.json, or a bspysmg I-V config "
            "(devices, shape, input_signal); press Enter to load"
        )
        self.config_browse = QPushButton("Open…")
        self.config_browse.setObjectName("device_config_open")
        self.config_note = QLabel()
        self.config_note.setObjectName("device_config_note")
        self.config_note.setWordWrap(True)
        self.device = QComboBox()
        self.device.setObjectName("device_kind")
        self.device_model = DeviceChoiceModel(self.device)
        self.device.setModel(self.device_model)
        self._choices: list[DeviceChoice] = []
        self.model = QLineEdit()
        self.model.setObjectName("device_model_path")
        self.model.setPlaceholderText("built-in model")
        self.model.setToolTip("A trained surrogate (training_data.pt) the simulated device follows")
        self.model_browse = QPushButton("Model…")
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("device_noise")
        self.noise.setRange(-1.0, 100.0)
        self.noise.setDecimals(2)
        self.noise.setSpecialValueText("default")
        self.noise.setSuffix(" nA")
        self.noise.setValue(-1.0)
        self.noise.setToolTip("Readout noise of the simulated device (default: 0 for a surrogate)")
        self.realtime = QCheckBox("Real-time pacing")
        self.realtime.setObjectName("device_realtime")
        self.realtime.setToolTip("The simulated device takes as long as the hardware would")
        self.out_dir = QLineEdit()
        self.out_dir.setObjectName("device_out_dir")
        self.out_browse = QPushButton("Folder…")
        self._lay_out()
        self.set_devices([DeviceChoice("simulated", "Simulated DNPU")])
        self.config_path.returnPressed.connect(self.load_typed)
        self.config_browse.clicked.connect(self._choose_config)
        self.model_browse.clicked.connect(self._choose_model)
        self.out_browse.clicked.connect(self._choose_out)
        for signal in (self.device.currentIndexChanged, self.noise.valueChanged):
            signal.connect(lambda *_: self.changed.emit())
        self.model.editingFinished.connect(self.changed.emit)
        self.realtime.toggled.connect(lambda *_: self.changed.emit())
        self._restore()

    def _lay_out(self) -> None:
        """Three compact rows: wiring and results on the left, the device on the right."""
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(4, 2)
        cells = (
            (0, 0, QLabel("Config")), (0, 1, self.config_path), (0, 2, self.config_browse),
            (1, 1, self.config_note),
            (2, 0, QLabel("Results in")), (2, 1, self.out_dir), (2, 2, self.out_browse),
            (0, 3, QLabel("Device")), (0, 4, self.device), (0, 5, self.realtime),
            (1, 3, QLabel("Model")), (1, 4, self.model), (1, 5, self.model_browse),
            (2, 3, QLabel("Noise")), (2, 4, self.noise),
        )  # fmt: skip
        for row, col, widget in cells:
            grid.addWidget(widget, row, col)
        self.config_note.setWordWrap(False)

    # --- config -----------------------------------------------------------------------
    def load(self, path: str) -> bool:
        """Read `path` as a wiring for the tools; the note says what it is or what is wrong."""
        self.config_path.setText(path)
        try:
            self.setup = load_iv_setup(path)
        except SamplelabError as exc:
            self.setup, self.problem = None, str(exc)
            self.config_note.setText(f"Cannot use this config: {exc}")
            self.config_note.setProperty("problem", True)
        else:
            self.problem = ""
            self.config_note.setText(describe_setup(self.setup))
            CONFIG.write(self.settings, path)
        self.changed.emit()
        return self.setup is not None

    def load_typed(self) -> None:
        text = self.config_path.text().strip()
        if text:
            self.load(text)

    def use_config(self, config: SamplingConfig, where: str) -> None:
        """Take a config that is already validated (the Sampling page's)."""
        self.setup, self.problem = IVSetup(config, SweepSettings(), "samplelab", where), ""
        self.config_path.clear()
        self.config_note.setText(f"{describe_setup(self.setup)}, from {where}")
        self.changed.emit()

    # --- device -------------------------------------------------------------------------
    def set_devices(self, choices: list[DeviceChoice]) -> None:
        """Offer `choices`, keeping the current one while it is still usable."""
        current = self.choice()
        self._choices = list(choices)
        self.device.blockSignals(True)
        self.device_model.set_choices(self._choices)
        usable = [i for i, c in enumerate(self._choices) if c.enabled]
        keep = [i for i in usable if current is not None and self._choices[i].key == current.key]
        self.device.setCurrentIndex((keep or usable or [0])[0])
        self.device.blockSignals(False)

    def choice(self) -> DeviceChoice | None:
        row = self.device.currentIndex()
        return self._choices[row] if 0 <= row < len(self._choices) else None

    def request(self) -> DeviceRequest:
        choice = self.choice()
        kind = choice.kind if choice is not None else "simulated"
        noise = self.noise.value()
        return DeviceRequest(
            kind,
            self.model.text().strip() or None,
            None if noise < 0 or math.isnan(noise) else noise,
            self.realtime.isChecked(),
        )

    def output_folder(self) -> Path:
        text = self.out_dir.text().strip()
        return Path(text) if text else Path.cwd() / "characterisation"

    # --- file choosers ------------------------------------------------------------------
    def _choose_config(self) -> None:
        start = os.path.dirname(self.config_path.text()) or str(Path.cwd())
        path = dialogs.ask_open_file(self, "Open a config", start, CONFIG_FILTERS)
        if path:
            self.load(path)

    def _choose_model(self) -> None:
        path = dialogs.ask_open_file(self, "Surrogate model", str(Path.cwd()), MODEL_FILTERS)
        if path:
            self.model.setText(path)
            self.changed.emit()

    def _choose_out(self) -> None:
        path = dialogs.ask_folder(self, "Results folder", str(self.output_folder()))
        if path:
            self.out_dir.setText(path)
            self.changed.emit()

    # --- settings -----------------------------------------------------------------------
    def _restore(self) -> None:
        self.remembered = Remembered(self.settings)
        out_dir = self.out_dir
        self.remembered.bind_value(OUT_DIR, lambda: out_dir.text().strip(), out_dir.setText)
        self.remembered.bind(REALTIME, self.realtime)
        path = CONFIG.read(self.settings)
        if path and Path(path).is_file():
            self.load(path)

    def save(self) -> None:
        self.remembered.save()

    def set_editable(self, editable: bool) -> None:
        for widget in (
            self.config_path,
            self.config_browse,
            self.device,
            self.model,
            self.model_browse,
            self.noise,
            self.realtime,
            self.out_dir,
            self.out_browse,
        ):
            widget.setEnabled(editable)

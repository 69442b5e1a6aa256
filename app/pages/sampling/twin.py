"""The Sampling page's "Surrogate model…" device: a trained model as the simulated device.

`TwinPicker` adds a row under the Sampling page's device chooser (shown
while that device is chosen): which model file, and the noise on recorded
points (the model's test RMSE unless the user sets a value). Picking the
entry in the chooser asks for a model file; the Models page's "Use as
simulated device" hands one over directly. The session gets the model
through the simulated device's own options (`model`, `point_noise_nA`), so
the recording names the file and its sha256.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QToolButton, QWidget

from app import dialogs
from app.context import AppContext
from app.devicechoices import SURROGATE_KEY
from app.pages.sampling.remembered import TWIN_MODEL, TWIN_NOISE
from backend.errors import SamplelabError
from widgets.runoptions import RunOptions

MODEL_FILTER = "Trained models (*.pt *.pth);;All files (*)"
AUTO_NOISE = TWIN_NOISE.default  # the spin box's minimum: "the model's test RMSE"


class TwinPicker(QObject):
    """Which trained model the "Surrogate model…" device runs, and its noise."""

    def __init__(self, ctx: AppContext, run_options: RunOptions, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = parent
        self.ctx = ctx
        self.run_options = run_options
        self.label = QLabel()
        self.label.setObjectName("twin_model")
        self.label.setWordWrap(True)
        self.change = QToolButton()
        self.change.setObjectName("button_twin_model")
        self.change.setText("Choose…")
        self.change.clicked.connect(self.ask_model)
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("twin_noise")
        self.noise.setRange(AUTO_NOISE, 1000.0)
        self.noise.setDecimals(2)
        self.noise.setSingleStep(0.1)
        self.noise.setSuffix(" nA")
        self.noise.setSpecialValueText("model's test RMSE")
        self.noise.setToolTip("Noise (RMS) on each recorded point; default: the model's test RMSE")
        self.noise.setValue(TWIN_NOISE.read(self.ctx.settings))
        self.noise.valueChanged.connect(lambda value: TWIN_NOISE.write(self.ctx.settings, value))
        self.row = QWidget()
        row = QHBoxLayout(self.row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.change)
        self.noise_row = QWidget()
        noise_row = QHBoxLayout(self.noise_row)
        noise_row.setContentsMargins(0, 0, 0, 0)
        noise_row.addWidget(self.noise, 1)
        form = self.run_options.layout()
        form.insertRow(2, "Model", self.row)
        form.insertRow(3, "Noise", self.noise_row)
        self.run_options.device.activated.connect(self._on_activated)
        self.run_options.changed.connect(self._show)
        self._show()

    @property
    def model(self) -> str | None:
        path = TWIN_MODEL.read(self.ctx.settings)
        return path or None

    def use(self, path: str | Path, select: bool = True) -> None:
        """Run `path` as the simulated device from now on (and choose that device)."""
        TWIN_MODEL.write(self.ctx.settings, Path(path).resolve())
        if select:
            self.run_options.select_device(SURROGATE_KEY)
        self._show()

    def set_editable(self, editable: bool) -> None:
        """The model and its noise are the running session's: locked with the device."""
        self.change.setEnabled(editable)
        self.noise.setEnabled(editable)

    def ask_model(self) -> bool:
        start = str(Path(self.model).parent) if self.model else self.ctx.settings.last_folder
        path = dialogs.ask_open_file(self.host, "Choose a trained model", start, MODEL_FILTER)
        if path:
            self.ctx.settings.remember_file(path)
            self.use(path, select=False)
        return bool(path)

    def options_for(self, key: str) -> dict:
        """The simulated device's options for device `key` ({} unless it is the twin)."""
        if key != SURROGATE_KEY:
            return {}
        model = self.model
        if not model or not Path(model).is_file():
            raise SamplelabError(
                "no surrogate model chosen" if not model else f"model file not found: {model}",
                "Choose a trained model (training_data.pt) next to the device chooser.",
            )
        noise = self.noise.value()
        return {"model": model, **({"point_noise_nA": noise} if noise > AUTO_NOISE else {})}

    def _on_activated(self, index: int) -> None:
        choice = self.run_options.device_choice()
        if choice is not None and choice.key == SURROGATE_KEY:
            self.ask_model()

    def _show(self) -> None:
        chosen = self.run_options.device_key() == SURROGATE_KEY
        form = self.run_options.layout()
        for widget in (self.row, self.noise_row):
            widget.setVisible(chosen)
            label = form.labelForField(widget)
            if label is not None:
                label.setVisible(chosen)
        model = self.model
        self.label.setText(f"{Path(model).parent.name}/{Path(model).name}" if model else "none")
        self.label.setToolTip(model or "Choose a trained model (training_data.pt)")

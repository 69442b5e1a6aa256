"""The Models page's hyperparameter form: every field checked as it is typed.

The checks are `backend.models.settings.TrainingSettings.problems()` (the
same ones the CLI runs); each problem appears in red under its field, and
`settings()` is None while any is left.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend.errors import Problem, SamplelabError
from backend.models.settings import MAX_EPOCHS, TrainingSettings, parse_hidden
from backend.models.structure import ACTIVATION_NAMES


def _spin(name: str, lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel over it scrolls the page
    return spin


def _line(name: str, tip: str, placeholder: str = "") -> QLineEdit:
    line = QLineEdit()
    line.setObjectName(name)
    line.setToolTip(tip)
    line.setPlaceholderText(placeholder)
    return line


class TrainingForm(QWidget):
    """Network and training settings; `changed` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._split_used = True  # False: the datasets are the splits already
        self._editable = True  # False while training
        self.hidden = _line("hidden", "Hidden layer sizes, e.g. 90,90,90,90,90 or 90x5")
        self.activation = QComboBox()
        self.activation.setObjectName("activation")
        self.activation.addItems(list(ACTIVATION_NAMES))
        self.batch_norm = QCheckBox("batch norm")
        self.batch_norm.setObjectName("batch_norm")
        self.batch_norm.setToolTip(
            "A BatchNorm1d after each hidden layer. brains-py 1.0.2 cannot load such files."
        )
        self.epochs = _spin("epochs", 1, MAX_EPOCHS, 100, "Passes over the training split")
        self.learning_rate = _line("learning_rate", "Adam's learning rate (betas 0.9, 0.75)")
        self.batch_size = _spin("batch_size", 1, 10_000_000, 256, "Rows per optimisation step")
        self.split = _line(
            "split",
            "Train, validation, test fractions of one dataset (two or three datasets are "
            "used as train, validation, test as they are)",
        )
        self.seed = _line("seed", "Same data and seed: the same model", "random")
        self.seed.setValidator(QIntValidator(0, 2**31 - 1, self.seed))
        self.early = QCheckBox("after")
        self.early.setObjectName("early_stopping")
        self.early.setToolTip("Stop when the validation RMSE has not improved for some epochs")
        self.patience = _spin("patience", 1, MAX_EPOCHS, 20, "Epochs without a better validation")
        self.patience.setSuffix(" idle epochs")
        self.device = QComboBox()
        self.device.setObjectName("device")
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip("auto: a CUDA GPU when torch sees one, else the CPU")
        self.threads = _spin("threads", 1, 1024, 1, "CPU threads for torch while training")
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        network = QHBoxLayout()
        network.addWidget(self.activation)
        network.addWidget(self.batch_norm)
        network.addStretch(1)
        stopping = QHBoxLayout()
        stopping.addWidget(self.early)
        stopping.addWidget(self.patience)
        stopping.addStretch(1)
        compute = QHBoxLayout()
        compute.addWidget(self.device)
        compute.addWidget(QLabel("threads"))
        compute.addWidget(self.threads)
        compute.addStretch(1)
        rows = (
            ("hidden", "Hidden layers", self.hidden),
            ("activation", "Activation", network),
            ("epochs", "Epochs", self.epochs),
            ("learning_rate", "Learning rate", self.learning_rate),
            ("batch_size", "Batch size", self.batch_size),
            ("split", "Split", self.split),
            ("seed", "Seed", self.seed),
            ("patience", "Early stop", stopping),
            ("device", "Device", compute),
        )
        for key, label, field in rows:
            error = QLabel()
            error.setObjectName(f"{key}:error")
            error.setWordWrap(True)
            error.hide()
            self.errors[key] = error
            column = QVBoxLayout()
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            if isinstance(field, QWidget):
                column.addWidget(field)
            else:
                column.addLayout(field)
            column.addWidget(error)
            form.addRow(label, column)
        self.set_error_colour("#c62828")
        self.set_settings(TrainingSettings())
        for line in (self.hidden, self.learning_rate, self.split, self.seed):
            line.textChanged.connect(self._edited)
        for spin in (self.epochs, self.batch_size, self.patience, self.threads):
            spin.valueChanged.connect(self._edited)
        for combo in (self.activation, self.device):
            combo.currentIndexChanged.connect(self._edited)
        for box in (self.batch_norm, self.early):
            box.toggled.connect(self._edited)

    # --- values -------------------------------------------------------------------------
    def set_settings(self, s: TrainingSettings) -> None:
        """Show `s`; what the form has no field for (e.g. the peer's `steps`) is kept."""
        self._base = s
        self.blockSignals(True)
        try:
            self.hidden.setText(",".join(str(h) for h in s.hidden))
            self.activation.setCurrentText(s.activation)
            self.batch_norm.setChecked(s.batch_norm)
            self.epochs.setValue(s.epochs)
            self.learning_rate.setText(f"{s.learning_rate:g}")
            self.batch_size.setValue(s.batch_size)
            self.split.setText(",".join(f"{v:g}" for v in s.split))
            self.seed.setText("" if s.seed is None else str(s.seed))
            self.early.setChecked(s.patience is not None)
            self.patience.setValue(s.patience or 20)
            self.device.setCurrentText(s.device)
            self.threads.setValue(s.threads)
        finally:
            self.blockSignals(False)
        self._edited()

    def read(self) -> tuple[TrainingSettings | None, list[Problem]]:
        """The settings typed, or None with every problem (field name as the path)."""
        found: list[Problem] = []
        values: dict = {}
        try:
            values["hidden"] = parse_hidden(self.hidden.text())
        except SamplelabError as exc:
            found.append(Problem("hidden", exc.message))
        try:
            values["learning_rate"] = float(self.learning_rate.text())
        except ValueError:
            found.append(Problem("learning_rate", "must be a number, e.g. 0.001"))
        try:
            values["split"] = tuple(float(v) for v in self.split.text().split(",") if v.strip())
        except ValueError:
            found.append(Problem("split", "give fractions separated by commas, e.g. 0.8,0.1,0.1"))
        seed = self.seed.text().strip()
        settings = dataclasses.replace(
            self._base,
            activation=self.activation.currentText(),
            batch_norm=self.batch_norm.isChecked(),
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            seed=int(seed) if seed else None,
            patience=self.patience.value() if self.early.isChecked() else None,
            device=self.device.currentText(),
            threads=self.threads.value(),
            **values,
        )
        known = {p.path for p in found}
        found += [p for p in settings.problems() if p.path not in known]
        return (None if found else settings), found

    def settings(self) -> TrainingSettings | None:
        return self.read()[0]

    def problems(self) -> list[Problem]:
        return self.read()[1]

    # --- display --------------------------------------------------------------------------
    def set_error_colour(self, colour: str) -> None:
        for label in self.errors.values():
            label.setStyleSheet(f"color: {colour};")

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        for widget in (
            self.hidden,
            self.activation,
            self.batch_norm,
            self.epochs,
            self.learning_rate,
            self.batch_size,
            self.split,
            self.seed,
            self.early,
            self.patience,
            self.device,
            self.threads,
        ):
            widget.setEnabled(editable)
        if editable:
            self.patience.setEnabled(self.early.isChecked())
            self.split.setEnabled(self._split_used)

    def set_split_used(self, used: bool) -> None:
        """Grey the split out when the datasets are train/validation/test files already."""
        self._split_used = used
        self.split.setEnabled(used and self._editable)
        self.split.setToolTip(
            "Train, validation, test fractions of the dataset"
            if used
            else "Not used: the datasets are the train, validation (and test) splits"
        )

    def _edited(self, *_args: object) -> None:
        self.patience.setEnabled(self.early.isChecked() and self.early.isEnabled())
        by_field: dict[str, list[str]] = {}
        for problem in self.problems():
            key = "device" if problem.path == "threads" else problem.path
            by_field.setdefault(key, []).append(problem.message)
        for key, label in self.errors.items():
            messages = by_field.get(key, [])
            label.setText("; ".join(m[:1].upper() + m[1:] for m in messages))
            label.setVisible(bool(messages))
        self.changed.emit()

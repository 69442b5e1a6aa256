"""The Models page: train a surrogate of the device on sampled data, see how good it is.

Left: the datasets (recent postprocess results offered; a peer npz's pickled
config only after the user trusts it), the network and training settings
(checked as typed; or loaded from the peer's smg_configs YAML), the results
folder, Train / Cancel and the progress. Right: the loss curves live, then
RMSE per split, the error histogram and predicted vs measured, and the model
handed to the Sampling page (as the simulated device) or the Streams page.

Training runs on a worker (`backend.models.train_surrogate`); Cancel keeps
the best epoch so far, written like a finished run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.pages import AppContext, Page, register_page
from app.pages.models.form import TrainingForm
from app.pages.models.results import ResultsView
from app.pages.models.sources import RecentResults, TrainingSources
from app.recent import remember_result
from app.theme import Theme
from backend.models.settings import TrainingSettings
from widgets.sourcelist import SourceList

log = logging.getLogger(__name__)

CONFIG_FILTER = "Training configs (*.yaml *.yml);;All files (*)"


@dataclass(frozen=True)
class TrainRequest:
    datasets: list[str]
    out_dir: Path
    settings: TrainingSettings
    trust_pickle: bool
    overwrite: bool


def run_training(request: TrainRequest, report: Any, token: Any) -> Any:
    """The worker's job: train; a cancelled run returns what it kept (status 'cancelled')."""
    from backend.models.training import TrainingCancelled, train_surrogate

    try:
        return train_surrogate(
            request.datasets,
            request.out_dir,
            request.settings,
            trust_pickle=request.trust_pickle,
            overwrite=request.overwrite,
            progress=report,
            cancel=token,
        )
    except TrainingCancelled as stopped:
        return stopped.result


def default_out_dir(first_dataset: str) -> Path:
    """A new folder beside the first dataset, named as the peer names its runs."""
    folder = Path(first_dataset)
    folder = folder if folder.is_dir() else folder.parent
    return folder / time.strftime("training_data_%Y_%m_%d_%H%M%S")


@register_page
class ModelsPage(Page):
    key = "models"
    title = "Models"
    order = 30

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.worker: Any = None
        self.model_path: Path | None = None
        self.source_list = SourceList()
        suggestion_label = self.source_list.suggestion_row.findChild(QLabel)
        if suggestion_label is not None:  # the widget's default says "This session:"
            suggestion_label.setText("Recent results:")
        self.recent = RecentResults(ctx, self)
        self.sources = TrainingSources(ctx, self.source_list, self.recent, self)
        self.roles = QLabel()
        self.roles.setObjectName("dataset_roles")
        self.roles.setWordWrap(True)
        self.form = TrainingForm()
        self.load_config = QPushButton("Load smg_configs.yaml…")
        self.load_config.setObjectName("button_load_training_config")
        self.load_config.setToolTip("Settings and datasets from a brainspy-smg training config")
        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("models_out")
        self.out_browse = QToolButton()
        self.out_browse.setText("Browse…")
        self.progress = QProgressBar()
        self.progress.setObjectName("training_progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Idle")
        self.status_label = QLabel("")
        self.status_label.setObjectName("training_status")
        self.status_label.setWordWrap(True)
        self.results = ResultsView()
        self._make_actions()
        self._lay_out()
        self.sources.changed.connect(self._update)
        self.form.changed.connect(self._update)
        self.load_config.clicked.connect(self.ask_config)
        self.out_browse.clicked.connect(self.ask_out_dir)
        self.results.use_as_device.connect(self.use_as_device)
        self.results.compare_on_streams.connect(self.compare_on_streams)
        self.sources.show_suggestions()
        self._update()

    # --- construction ---------------------------------------------------------------
    def _make_actions(self) -> None:
        self.train_action = QAction("Train", self)
        self.train_action.setObjectName("action_train")
        self.train_action.setToolTip("Train a model on the datasets with these settings")
        self.train_action.triggered.connect(self.train)
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setObjectName("action_cancel_training")
        self.cancel_action.setToolTip("Stop training; the best epoch so far is kept")
        self.cancel_action.triggered.connect(self.cancel)

    def _lay_out(self) -> None:
        datasets = QGroupBox("Datasets")
        box = QVBoxLayout(datasets)
        box.addWidget(self.source_list)
        box.addWidget(self.roles)
        settings = QGroupBox("Network and training")
        box = QVBoxLayout(settings)
        box.addWidget(self.form)
        box.addWidget(self.load_config, 0, Qt.AlignmentFlag.AlignLeft)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Results in"))
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.out_browse)
        controls = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for name, act in (("train", self.train_action), ("cancel", self.cancel_action)):
            button = QToolButton()
            button.setObjectName(f"button_{name}_model")
            button.setDefaultAction(act)
            button.setMinimumWidth(72)
            controls.addWidget(button)
            self.buttons[name] = button
        controls.addStretch(1)
        inputs = QWidget()
        column = QVBoxLayout(inputs)
        column.addWidget(datasets)
        column.addWidget(settings)
        column.addLayout(out_row)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inputs)
        left = QWidget()  # Train, Cancel and the progress stay in view below the scrolled inputs
        left.setMinimumWidth(330)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(scroll, 1)
        column.addLayout(controls)
        column.addWidget(self.progress)
        column.addWidget(self.status_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("models_splitter")
        split.addWidget(left)
        split.addWidget(self.results)
        split.setStretchFactor(1, 1)
        split.setSizes([420, 980])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    # --- inputs ---------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.sources.show_suggestions()  # a postprocess run may have finished meanwhile

    def ask_config(self) -> None:
        from backend.models.settings import read_peer_config

        path = dialogs.ask_open_file(
            self, "Load a training config", self.ctx.settings.last_folder, CONFIG_FILTER
        )
        if not path:
            return
        try:
            settings, datasets = read_peer_config(path)
        except Exception as exc:
            self.ctx.show_error(exc, "The form was left as it was.")
            return
        self.ctx.settings.remember_file(path)
        self.form.set_settings(settings)
        if datasets:
            self.sources.reset([str(p) for p in datasets])

    def ask_out_dir(self) -> None:
        folder = dialogs.ask_folder(self, "Folder for the results", self.ctx.settings.last_folder)
        if folder:
            self.out_edit.setText(folder)

    def out_dir(self) -> Path | None:
        text = self.out_edit.text().strip()
        if text:
            return Path(text)
        paths = self.sources.paths()
        return default_out_dir(paths[0]) if paths else None

    # --- train ----------------------------------------------------------------------
    def can_train(self) -> bool:
        return (
            self.worker is None
            and bool(self.sources.paths())
            and not self.sources.pending
            and len(self.sources.paths()) <= 3
            and self.form.settings() is not None
        )

    def train(self) -> None:
        from backend.models.outputs import output_names

        if not self.can_train():
            return
        out = self.out_dir()
        settings = self.form.settings()
        assert out is not None and settings is not None
        existing = [n for n in output_names() if (out / n).exists()]
        if existing and not dialogs.confirm(
            self,
            "Replace results?",
            f"{out} already holds a training run's results ({', '.join(existing[:3])}…).\n\n"
            "Training replaces them. Continue?",
        ):
            return
        request = TrainRequest(
            self.sources.paths(), out, settings, self.sources.trust_needed(), bool(existing)
        )
        self.results.clear()
        self.worker = self.ctx.workers.run(
            lambda report, token: run_training(request, report, token),
            "training",
            on_result=self._on_trained,
            on_error=self._on_failed,
            on_progress=self._on_progress,
            on_cancelled=self._on_cancelled,
        )
        self.progress.setValue(0)
        self.progress.setFormat("Reading the datasets…")
        self.status_label.setText(f"Training into {out}")
        self._update()
        self.ctx.status(f"Training a model into {out}…", 0)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.progress.setFormat("Cancelling… (the best epoch so far is kept)")

    def _on_progress(self, p: Any) -> None:
        self.progress.setValue(round(1000 * p.fraction))
        if p.stage != "training":
            self.progress.setFormat(f"{p.stage.capitalize()}…")
            return
        self.results.show_progress(p)
        text = f"Epoch {p.epoch} / {p.epochs}"
        if p.train_nA:
            text += f" — train {p.train_nA[-1]:.4g} nA"
        if p.val_nA:
            text += f", validation {p.val_nA[-1]:.4g} nA"
        if p.eta_s is not None:
            text += f" — {_duration(p.eta_s)} left"
        self.progress.setFormat(text)

    def _on_trained(self, result: Any) -> None:
        self.worker = None
        self.model_path = result.checkpoint
        self.results.show_result(result)
        for path in self.sources.paths():
            remember_result(self.ctx.settings, path)
        self.progress.setValue(1000)
        how = "Stopped" if result.status == "cancelled" else "Done"
        test = f", test RMSE {result.test_rmse_nA:.4g} nA" if result.test_rmse_nA else ""
        self.progress.setFormat(f"{how}: best epoch {result.best_epoch}{test}")
        self.status_label.setText(f"Model: {result.checkpoint}")
        self.ctx.status(f"Model saved in {result.checkpoint}", 0)
        log.info("trained a model into %s (%s)", result.out_dir, result.status)
        self._update()

    def _on_failed(self, exc: BaseException) -> None:
        self.worker = None
        self.progress.setFormat("Failed")
        self.ctx.show_error(exc, "No model was written.")
        self._update()

    def _on_cancelled(self) -> None:
        self.worker = None
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled before the first epoch; nothing was written")
        self._update()

    def _update(self, *_args: object) -> None:
        running = self.worker is not None
        self.train_action.setEnabled(self.can_train())
        self.cancel_action.setEnabled(running)
        self.form.set_editable(not running)
        self.source_list.set_editable(not running)
        for widget in (self.load_config, self.out_edit, self.out_browse):
            widget.setEnabled(not running)
        self.results.set_locked(running)
        count = len(self.sources.paths())
        self.form.set_split_used(count <= 1)
        self.roles.setText(_roles(count))
        paths = self.sources.paths()
        self.out_edit.setPlaceholderText(
            f"Default: {default_out_dir(paths[0]).parent}/training_data_<time>"
            if paths
            else "Default: beside the first dataset"
        )

    # --- handing the model on -------------------------------------------------------
    def use_as_device(self) -> None:
        """Hand the model to the Sampling page, which runs it as the simulated device."""
        if self.model_path is not None and self.ctx.open_in_page("sampling", str(self.model_path)):
            self.ctx.status(f"The simulated device now runs {self.model_path}")

    def compare_on_streams(self) -> None:
        """Hand the model to the Streams page, which draws its prediction beside the output."""
        if self.model_path is not None and self.ctx.open_in_page("streams", str(self.model_path)):
            self.ctx.status("Streams: the model's prediction is drawn beside the measured output")

    # --- page -----------------------------------------------------------------------
    def busy_reason(self) -> str | None:
        return "a model is training" if self.worker is not None else None

    def shutdown(self, timeout_s: float = 30.0) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(timeout_s)

    def set_theme(self, theme: Theme) -> None:
        self.results.set_theme(theme)
        self.form.set_error_colour(theme.error)
        self.sources.warning_colour = theme.warning


def _roles(count: int) -> str:
    """What the datasets in the list will be used for."""
    if count <= 1:
        return "One dataset: split into train, validation and test as set below."
    if count <= 3:
        roles = ", ".join(["train", "validation", "test"][:count])
        return f"Used as they are: {roles} (in this order)."
    return "Give at most three datasets (train, validation, test), or merge them first."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

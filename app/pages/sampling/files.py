"""Config files for the Sampling page: presets, open, save (ours or bspysmg), output folder.

A file that cannot be read leaves the current config untouched and says why
in one dialog. Saving asks before replacing a file and writes atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

import resources
from app import dialogs
from app.context import AppContext
from backend.config import BSPYSMG_CONFIG_NAME, SamplingConfig, load_config, save_config
from backend.errors import FileFormatError, SamplelabError
from widgets.configform import ConfigForm

log = logging.getLogger(__name__)

CONFIG_FILTER = "Sampling configs (*.yaml *.yml *.json);;All files (*)"
DEFAULT_PRESET = "quick-demo"
_NO_PRESET = "(from a file)"


class ConfigFiles(QObject):
    """Owns the file actions and the preset chooser of one config form.

    It knows the form, not the page: `current()` is the valid config shown (or
    None), `show(config)` puts a loaded one in the form, `title_changed` says the
    file's name changed.
    """

    title_changed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget,
        form: ConfigForm,
        current: Callable[[], SamplingConfig | None],
        show: Callable[[SamplingConfig], None],
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.host = parent
        self.form = form
        self.current = current
        self.show = show
        self.path: Path | None = None
        self._saved: dict | None = None  # the form's dict as last loaded or saved
        self.open_action = self._action("open", "&Open config…", "Open a config file", "Ctrl+O")
        self.save_action = self._action("save", "&Save config…", "Save the config", "Ctrl+S")
        self.save_bspysmg_action = self._action(
            "save_bspysmg",
            "Save as &bspysmg…",
            "Save as a brainspy-smg sampler_configs.json",
            "Ctrl+Shift+S",
        )
        self.open_action.triggered.connect(self.open_dialog)
        self.save_action.triggered.connect(lambda: self.save_dialog("samplelab"))
        self.save_bspysmg_action.triggered.connect(lambda: self.save_dialog("bspysmg"))
        self.presets = QComboBox()
        self.presets.setObjectName("preset_choice")
        self.presets.setToolTip("Configs shipped with samplelab")
        self.presets.addItem(_NO_PRESET, None)
        for name, path in resources.preset_paths().items():
            self.presets.addItem(name, str(path))
        self.presets.activated.connect(self._on_preset)

    def _action(self, key: str, text: str, tip: str, shortcut: str) -> QAction:
        action = QAction(text, self.host)
        action.setObjectName(f"action_{key}")
        action.setShortcut(QKeySequence(shortcut))
        native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({native})")
        action.setStatusTip(tip)
        return action

    def preset_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset"))
        row.addWidget(self.presets, 1)
        for action, name, text in (
            (self.open_action, "open", "Open…"),
            (self.save_action, "save", "Save…"),
            (self.save_bspysmg_action, "save_bspysmg", "bspysmg…"),
        ):
            button = QToolButton()
            button.setObjectName(f"button_{name}")
            action.setIconText(text)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            row.addWidget(button)
        return row

    # --- loading --------------------------------------------------------------------
    def load_initial(self) -> None:
        """The command line's config, else the last one used, else the demo preset."""
        given = self.ctx.initial_config
        if given and self.load(given):
            return
        last = self.ctx.settings.last_config
        if last and self.load(last, quiet=True):
            return
        presets = resources.preset_paths()
        name = DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets), None)
        if name is not None:
            self.load(presets[name], quiet=True)

    def load(self, path: str | Path, quiet: bool = False) -> bool:
        """Show the config in `path`; on failure say why (or log it) and keep the current one."""
        path = Path(path)
        try:
            config = load_config(path)
        except SamplelabError as exc:
            if quiet:
                log.warning("could not load %s: %s", path, exc.message)
            else:
                self.ctx.show_error(exc, "The config shown before is unchanged.")
            return False
        self.show(config)
        self.path = path
        self._mark_saved()
        self._show_preset(path)
        self.ctx.settings.last_config = str(path.resolve())
        if self.presets.findData(str(path)) < 0:  # a shipped preset's folder is the install's
            self.ctx.settings.remember_file(path)
        self.ctx.status(f"Loaded {path}")
        self.title_changed.emit()
        return True

    def open_dialog(self) -> None:
        if not self.keep_or_discard_changes("opening another config"):
            return
        path = dialogs.ask_open_file(
            self.host,
            "Open a sampling config",
            self.ctx.settings.last_folder,
            CONFIG_FILTER,
        )
        if path:
            self.load(path)

    def _on_preset(self, index: int) -> None:
        path = self.presets.itemData(index)
        if not path or (self.path is not None and str(self.path) == path and not self.modified):
            self._show_preset(self.path)
            return
        if not self.keep_or_discard_changes(f"loading the preset {self.presets.itemText(index)}"):
            self._show_preset(self.path)
            return
        if not self.load(path):
            self._show_preset(self.path)

    def _show_preset(self, path: Path | None) -> None:
        index = self.presets.findData(str(path)) if path else -1
        self.presets.setCurrentIndex(max(index, 0))

    # --- saving ---------------------------------------------------------------------
    def save_dialog(self, flavour: str) -> Path | None:
        config = self.current()
        if config is None:
            return None
        folder = Path(self.ctx.settings.last_folder)
        if flavour == "bspysmg":
            start = folder / BSPYSMG_CONFIG_NAME
        else:
            is_own = self.path is not None and self.path.suffix in (".yaml", ".yml")
            is_preset = self.path is not None and self.path.parent == resources.PRESETS
            start = self.path if is_own and not is_preset else folder / f"{config.data_name}.yaml"
        title = "Save as bspysmg sampler_configs.json" if flavour == "bspysmg" else "Save config"
        path = dialogs.ask_save_file(self.host, title, str(start), CONFIG_FILTER)
        if not path:
            return None
        return self.save(Path(path), flavour)

    def save(self, path: Path, flavour: str) -> Path | None:
        """Write the current config (no questions asked; the dialog asked them)."""
        config = self.current()
        if config is None:
            return None
        try:
            save_config(config, path, flavour)
        except OSError as exc:
            error = FileFormatError(
                f"cannot write {path}: {exc.strerror or exc}",
                "Choose a folder you can write to, or free some disk space.",
            )
            self.ctx.show_error(error, "The config was not saved.")
            return None
        if flavour == "samplelab":
            self.path = path
            self._mark_saved()
            self.ctx.settings.last_config = str(path.resolve())
            self._show_preset(path)
        self.ctx.settings.remember_file(path)
        self.ctx.status(f"Saved {path}")
        self.title_changed.emit()
        return path

    def choose_output_folder(self, field_path: str) -> None:
        current = self.form.config_dict().get("save_directory") or ""
        start = current if current and Path(current).is_dir() else self.ctx.settings.last_folder
        folder = dialogs.ask_folder(self.host, "Choose the output folder", start)
        if folder:
            self.form.set_value(field_path, folder)

    # --- unsaved edits --------------------------------------------------------------
    def _mark_saved(self) -> None:
        self._saved = self.form.config_dict()

    @property
    def modified(self) -> bool:
        """Whether the form differs from the config as last loaded or saved."""
        return self._saved is not None and self.form.config_dict() != self._saved

    def keep_or_discard_changes(self, action: str) -> bool:
        """Before `action` replaces the form: True to go on (saved or discarded), else False.

        Unsaved edits get the question every editor asks: Save / Discard / Cancel.
        """
        if not self.modified:
            return True
        name = self.path.name if self.path else "The config"
        answer = dialogs.ask_save_changes(self.host, name, action, self.current() is not None)
        if answer == "discard":
            return True
        if answer == "save":
            return self.save_in_place() is not None
        return False

    def save_in_place(self) -> Path | None:
        """Ctrl+S of an editor: our own YAML file is rewritten; presets and others ask where."""
        own = self.path is not None and self.path.suffix in (".yaml", ".yml")
        if own and self.path.parent != resources.PRESETS:
            return self.save(self.path, "samplelab")
        return self.save_dialog("samplelab")

    # --- state ----------------------------------------------------------------------
    def set_enabled(self, enabled: bool) -> None:
        self.presets.setEnabled(enabled)
        self.open_action.setEnabled(enabled)

    def update_actions(self, can_save: bool) -> None:
        self.save_action.setEnabled(can_save)
        self.save_bspysmg_action.setEnabled(can_save)

    def title(self) -> str:
        name = self.path.name if self.path else "untitled"
        return f"{name}{'*' if self.modified else ''}"

"""What the application remembers between runs, in one INI file (QSettings).

Every remembered value is declared once as a `Setting` (key, type, default):
each page package lists its own in `remembered.py` under a prefix of its own
(e.g. 'sampling/device'), the window's and the shared ones are declared
here. A page binds its settings to widgets with `Remembered` (restored when
bound, saved when the window closes); values saved as they change use
`Setting.read` / `Setting.write`. The shared ones (theme, last folder, window
layout) also have properties. The file is `samplelab.ini` in the
platform's settings folder (`backend.userdirs.settings_dir`). Tests and tools
redirect it to a temporary folder with `use_settings_dir` (or the
SAMPLELAB_SETTINGS_DIR environment variable) so they never touch a user's settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QGroupBox, QLineEdit, QWidget

from backend.userdirs import settings_dir

ORGANIZATION = "samplelab"
APPLICATION = "samplelab"
SETTINGS_DIR_ENV = "SAMPLELAB_SETTINGS_DIR"


_redirected: str | None = None


def use_settings_dir(folder: str | os.PathLike) -> None:
    """Store every AppSettings created from now on under `folder`."""
    global _redirected
    _redirected = str(folder)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


def settings_file() -> Path:
    """The INI file AppSettings reads and writes."""
    folder = os.environ.get(SETTINGS_DIR_ENV) or _redirected
    if folder:  # laid out as QSettings does under a redirected folder
        return Path(folder) / ORGANIZATION / f"{APPLICATION}.ini"
    return settings_dir() / f"{APPLICATION}.ini"


class AppSettings:
    """Typed access to the application's QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings(str(settings_file()), QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self.q.fileName()

    # --- generic ------------------------------------------------------------------
    def value(self, key: str, default: Any = None, kind: type | None = None) -> Any:
        """The stored value, converted to `kind` (INI files store text); default if absent."""
        raw = self.q.value(key, None)
        if raw is None:
            return default
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
        if kind is not None:
            try:
                return kind(raw)
            except (TypeError, ValueError):
                return default
        return raw

    def set_value(self, key: str, value: Any) -> None:
        if value is None:
            self.q.remove(key)
        else:
            self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()

    # --- shared keys --------------------------------------------------------------
    @property
    def theme(self) -> str:
        return self.value("view/theme", "light", str)

    @theme.setter
    def theme(self, name: str) -> None:
        self.set_value("view/theme", name)

    @property
    def log_dock_visible(self) -> bool:
        return self.value("view/log_dock", True, bool)

    @log_dock_visible.setter
    def log_dock_visible(self, visible: bool) -> None:
        self.set_value("view/log_dock", bool(visible))

    @property
    def last_folder(self) -> str:
        """The folder of the last file opened or saved, for the next file dialog."""
        folder = self.value("files/last_folder", "", str)
        return folder if folder and Path(folder).is_dir() else str(Path.cwd())

    @last_folder.setter
    def last_folder(self, folder: str | os.PathLike) -> None:
        self.set_value("files/last_folder", str(folder))

    def remember_file(self, path: str | os.PathLike) -> None:
        self.last_folder = str(Path(path).resolve().parent)

    @property
    def last_config(self) -> str | None:
        path = self.value("files/last_config", "", str)
        return path if path and Path(path).is_file() else None

    @last_config.setter
    def last_config(self, path: str | os.PathLike | None) -> None:
        self.set_value("files/last_config", None if path is None else str(path))

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self.set_value("window/geometry", data)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self.set_value("window/state", data)

    def _bytes(self, key: str) -> QByteArray | None:
        raw = self.q.value(key, None)
        if isinstance(raw, QByteArray) and not raw.isEmpty():
            return raw
        if isinstance(raw, (bytes, bytearray)) and raw:
            return QByteArray(bytes(raw))
        return None


@dataclass(frozen=True)
class Setting:
    """One remembered value: where it is stored, its type, and what it is before it is."""

    key: str
    kind: type
    default: Any

    def read(self, settings: AppSettings) -> Any:
        return settings.value(self.key, self.default, self.kind)

    def write(self, settings: AppSettings, value: Any) -> None:
        """Store `value` as the declared type (None forgets it: the default comes back)."""
        settings.set_value(self.key, None if value is None else self.kind(value))


def _accessors(widget: QWidget) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    """How to get and set the value a widget shows (the kinds pages remember)."""
    if isinstance(widget, (QAbstractButton, QGroupBox)):
        return widget.isChecked, widget.setChecked
    if isinstance(widget, QLineEdit):
        return widget.text, widget.setText
    if isinstance(widget, QAbstractSpinBox) and hasattr(widget, "setValue"):
        return widget.value, widget.setValue
    raise TypeError(f"cannot remember a {type(widget).__name__}; use bind_value")


class Remembered:
    """A page's declared settings bound to what shows them: restored on binding, saved together."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._bound: list[tuple[Setting, Callable[[], Any]]] = []

    def bind(self, setting: Setting, widget: QWidget) -> None:
        """Show the remembered value in `widget` now; `save` stores what it shows then."""
        get, put = _accessors(widget)
        self.bind_value(setting, get, put)

    def bind_value(
        self,
        setting: Setting,
        get: Callable[[], Any],
        put: Callable[[Any], None] | None = None,
    ) -> None:
        """Like `bind` for anything else: `put` (if given) restores now, `get` is saved."""
        if put is not None:
            put(setting.read(self.settings))
        self._bound.append((setting, get))

    def save(self) -> None:
        for setting, get in self._bound:
            setting.write(self.settings, get())


# --- the window's and the shared settings ----------------------------------------------------
WINDOW_PAGE = Setting("window/page", str, "")  # the tab shown when the window closed
DATASET_FOLDER = Setting("dataset/last_folder", str, "")  # where dataset sources were added
RECENT_DATASETS = Setting("models/recent_datasets", str, "")  # newline-separated, newest first

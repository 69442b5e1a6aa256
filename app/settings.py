"""What the application remembers between runs, in one INI file (QSettings).

Pages read and write their own keys through `value`/`set_value` under a
prefix of their own (e.g. 'sampling/device'); the shared ones (theme, last
folder, window layout) have properties. The file is `samplelab.ini` in the
platform's settings folder (`backend.userdirs.settings_dir`). Tests and tools
redirect it to a temporary folder with `use_settings_dir` (or the
SAMPLELAB_SETTINGS_DIR environment variable) so they never touch a user's settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

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

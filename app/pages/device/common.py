"""Pieces the Device page's tools share: Start/Cancel with progress, results into Recordings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


def stamped_folder(base: Path, prefix: str) -> Path:
    """`base/<prefix>_<YYYY_MM_DD_HHMMSS>`, as the peer names its result folders; never reused."""
    stamp = datetime.now().strftime("%Y_%m_%d_%H%M%S")
    path, n = base / f"{prefix}_{stamp}", 1
    while path.exists():
        path = base / f"{prefix}_{stamp}_{n}"
        n += 1
    return path


def open_in_recordings(ctx: Any, path: str | Path) -> bool:
    """Show `path` on the Recordings page (its folder in the tree) and switch to it."""
    return ctx.open_in_page("recordings", str(path))


def may_drive(ctx: Any, controls: RunControls, guard: Any, tool: Any) -> bool:
    """Whether `tool` may drive the device now (`guard` asks the session service);
    if not, why, in the status bar and in the tool's state line."""
    reason = guard(tool)
    if reason:
        ctx.status(f"Not started: {reason}; only one thing may drive the device")
        controls.say(f"Not started: {reason}")
    return not reason


class RunControls(QWidget):
    """Start and Cancel (or Stop) buttons, a progress bar and a one-line state."""

    def __init__(
        self, name: str, start: str = "Start", stop: str = "Cancel", bar: bool = True
    ) -> None:
        super().__init__()
        self.start_button = QPushButton(start)
        self.start_button.setObjectName(f"{name}_start")
        self.cancel_button = QPushButton(stop)
        self.cancel_button.setObjectName(f"{name}_cancel")
        self.cancel_button.setEnabled(False)
        self._settings: tuple[QWidget, ...] = ()
        self.bar = QProgressBar(self)  # a parent first: shown without one, it is a window
        self.bar.setObjectName(f"{name}_progress")
        self.bar.setTextVisible(True)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setVisible(bar)
        self.state = QLabel("Idle")
        self.state.setObjectName(f"{name}_state")
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.start_button)
        box.addWidget(self.cancel_button)
        box.addWidget(self.bar, 1)
        box.addWidget(self.state, 2 if bar else 3)

    def lock_while_running(self, *widgets: QWidget) -> None:
        """The tool's own settings: greyed out while it runs, as the shared setup is (the
        running job read them at Start; an edit would only disagree with its result)."""
        self._settings = (*self._settings, *widgets)

    def set_running(self, running: bool, can_start: bool = True) -> None:
        self.start_button.setEnabled(not running and can_start)
        self.cancel_button.setEnabled(running)
        for widget in self._settings:
            widget.setEnabled(not running)

    def set_progress(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        self.bar.setFormat(text)

    def say(self, text: str) -> None:
        self.state.setText(text)
        self.state.setToolTip(text)

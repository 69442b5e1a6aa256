"""Under the Sampling page's progress: where the data goes, what it looks like, where it went.

- The recording's full path (never relative: a relative output folder is
  resolved against the folder samplelab runs in, which a user cannot see).
  Before a session it names the folder the next recording goes to.
- The live saturation counts (`backend.acquisition.quality`) with their warning threshold.
- After a session that kept data: "Show in Recordings", which opens the new
  recording on the Recordings page (through `AppContext.open_in_page`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from backend.acquisition.quality import Saturation
from backend.sampling.session import SessionResult
from widgets.saturation import DEFAULT_THRESHOLD_PCT, SaturationView

if TYPE_CHECKING:
    from app.pages import AppContext

log = logging.getLogger(__name__)
THRESHOLD_KEY = "sampling/saturation_threshold_pct"


class SessionStatus(QWidget):
    """The recording's path, the saturation flags and the way to the data afterwards."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.recording_label = QLabel()
        self.recording_label.setObjectName("recording_label")
        self.recording_label.setWordWrap(True)
        self.recording_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QToolButton()
        self.show_button.setObjectName("button_show_recording")
        self.show_button.setText("Show in Recordings")
        self.show_button.setToolTip("Open the new recording on the Recordings page")
        self.show_button.clicked.connect(self.show_recording)
        self.show_button.hide()
        self.saturation = SaturationView()
        self.saturation.threshold.setValue(
            ctx.settings.value(THRESHOLD_KEY, DEFAULT_THRESHOLD_PCT, float)
        )
        self.saturation.threshold_changed.connect(
            lambda pct: ctx.settings.set_value(THRESHOLD_KEY, pct)
        )
        self._warned = False
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.recording_label, 1)
        row.addWidget(self.show_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.saturation)

    def set_folder(self, folder: str) -> None:
        """Idle: say where the next recording goes (the config's output folder, resolved)."""
        if self.path is None:
            self.recording_label.setText(f"Records into {Path(folder or '.').resolve()}")

    def started(self, path: str) -> None:
        self.path = Path(path).resolve()
        self._warned = False
        self.recording_label.setText(f"Recording: {self.path}")
        self.show_button.hide()
        self.saturation.reset()

    def progress(self, saturation: Saturation | None) -> None:
        if saturation is None:
            return
        s = saturation
        self.saturation.show_counts(
            s.batch,
            s.count,
            s.samples,
            s.total,
            s.batches_saturated,
            s.batches,
            s.worst_batch,
            s.worst_fraction,
        )
        if self.saturation.warning and not self._warned:
            self._warned = True
            log.warning(
                "outputs saturate: batch %d had %.2f%% of its samples at the ADC limit "
                "(warning threshold %.2f%%)",
                s.worst_batch,
                100 * s.worst_fraction,
                self.saturation.threshold_pct(),
            )

    def finished(self, result: SessionResult) -> None:
        self.path = Path(result.path).resolve()
        self.recording_label.setText(f"Recording: {self.path}")
        self.show_button.setVisible(result.rows > 0)

    def forget(self) -> None:
        """A session failed to start: no recording to speak of."""
        self.path = None
        self.show_button.hide()

    def show_recording(self) -> bool:
        if self.path is None:
            return False
        return self.ctx.open_in_page("recordings", str(self.path))

    def set_colours(self, normal: str, warning: str) -> None:
        self.saturation.set_colours(normal, warning)

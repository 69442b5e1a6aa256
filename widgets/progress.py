"""Session progress: a bar with batch n/N, rows, elapsed time and the time to go."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget


def format_duration(seconds: float | None) -> str:
    """'1:02:03', '2:03' or '--' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "--"
    s = round(seconds)
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SessionProgress(QWidget):
    """Shows where a session stands; the caller passes plain numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setObjectName("session_progress")
        self.bar.setTextVisible(True)
        self.state = QLabel("Idle")
        self.state.setObjectName("session_state")
        self.state.setMinimumWidth(80)
        self.rows = QLabel("rows 0")
        self.elapsed = QLabel("elapsed --")
        self.eta = QLabel("ETA --")
        for label in (self.rows, self.elapsed, self.eta):
            label.setMinimumWidth(90)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.state, 0, 0)
        grid.addWidget(self.bar, 0, 1, 1, 4)
        grid.addWidget(self.rows, 1, 1)
        grid.addWidget(self.elapsed, 1, 2)
        grid.addWidget(self.eta, 1, 3)
        grid.setColumnStretch(4, 1)
        self.reset(0)

    def reset(self, total: int, done: int = 0) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"batch {done} / {total}")
        self.rows.setText("rows 0")
        self.elapsed.setText("elapsed --")
        self.eta.setText("ETA --")

    def set_state(self, text: str) -> None:
        self.state.setText(text)

    def set_progress(
        self, batch: int, total: int, rows: int, elapsed: float, eta: float | None
    ) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(batch)
        self.bar.setFormat(f"batch {batch} / {total}")
        self.rows.setText(f"rows {rows:,}")
        self.elapsed.setText(f"elapsed {format_duration(elapsed)}")
        self.eta.setText(f"ETA {format_duration(eta)}")

    def finish(self, state: str) -> None:
        """The session ended: show how, and no time to go."""
        self.state.setText(state)
        self.eta.setText("ETA --")

    def text(self) -> str:
        """Everything shown, on one line (for tests and the status bar)."""
        return (
            " | ".join(w.text() for w in (self.state, self.rows, self.elapsed, self.eta))
            + f" | {self.bar.text()}"
        )

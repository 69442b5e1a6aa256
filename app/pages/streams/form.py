"""The Streams page's choices: source, processing and speed, as a `StreamSpec`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.pages.streams.pipeline import StreamSpec

SOURCES = (("session", "Sampling session"), ("file", "File"), ("random", "Random signal"))
SPEEDS = (("1× (real time)", 1.0), ("10×", 10.0), ("100×", 100.0), ("As fast as possible", None))


class StreamForm(QWidget):
    """Source, processing and speed; emits when the user asks for a file."""

    browse_file = Signal()
    browse_model = Signal()
    processing_changed = Signal()  # average, model or downsampling edited

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QComboBox()
        self.source.setObjectName("stream_source")
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.pages = QStackedWidget()
        session_note = QLabel(
            "Watches the session running on the Sampling page (or the next one started). "
            "It never slows the session: rows the display could not keep up with are "
            "skipped and counted as dropped."
        )
        session_note.setWordWrap(True)
        self.path = QLineEdit()
        self.path.setObjectName("stream_path")
        self.path.setPlaceholderText("a recording, bspysmg folder, .npy, .npz, HDF5…")
        self.browse = QToolButton()
        self.browse.setText("Browse…")
        file_page = QWidget()
        row = QHBoxLayout(file_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        self.seed = _spin(0, 2**31 - 1, 0, "stream_seed")
        self.channels = _spin(1, 64, 4, "stream_channels")
        self.rate = QDoubleSpinBox()
        self.rate.setObjectName("stream_rate")
        self.rate.setRange(1.0, 1e6)
        self.rate.setDecimals(0)
        self.rate.setValue(1000.0)
        self.rate.setSuffix(" Hz")
        random_page = QWidget()
        grid = QFormLayout(random_page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addRow("Seed", self.seed)
        grid.addRow("Channels", self.channels)
        grid.addRow("Rate", self.rate)
        for page in (session_note, file_page, random_page):
            self.pages.addWidget(page)
        self.speed = QComboBox()
        self.speed.setObjectName("stream_speed")
        for text, value in SPEEDS:
            self.speed.addItem(text, value)
        self.average = QGroupBox("Moving average")
        self.average.setObjectName("stream_average")
        self.average.setCheckable(True)
        self.average.setChecked(False)
        self.taps = _spin(2, 100_000, 8, "stream_taps")
        box = QFormLayout(self.average)
        box.addRow("Taps (samples)", self.taps)
        self.model_box = QGroupBox("Surrogate model")
        self.model_box.setObjectName("stream_model")
        self.model_box.setCheckable(True)
        self.model_box.setChecked(False)
        self.model_path = QLineEdit()
        self.model_path.setObjectName("stream_model_path")
        self.model_path.setPlaceholderText("bspysmg training_data.pt")
        self.browse_model_button = QToolButton()
        self.browse_model_button.setText("Browse…")
        model_row = QHBoxLayout(self.model_box)
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(self.browse_model_button)
        self.model_box.setToolTip(
            "Predicts the output current from the input channels (V) and plots it beside the "
            "measured output. Loaded with torch weights_only: no code in the file is run."
        )
        self.factor = _spin(1, 1000, 1, "stream_factor")
        self.factor.setToolTip("Keep one sample in N, after an anti-aliasing filter (1 = off)")
        self.window_s = QDoubleSpinBox()
        self.window_s.setObjectName("stream_window")
        self.window_s.setRange(0.01, 30.0)
        self.window_s.setValue(2.0)
        self.window_s.setSuffix(" s")
        source_box = QGroupBox("Source")
        form = QFormLayout(source_box)
        form.addRow("Stream", self.source)
        form.addRow(self.pages)
        form.addRow("Speed", self.speed)
        processing = self.processing = QGroupBox("Processing (can change while running)")
        column = QVBoxLayout(processing)
        column.addWidget(self.average)
        column.addWidget(self.model_box)
        resample = QFormLayout()
        resample.addRow("Downsample by", self.factor)
        column.addLayout(resample)
        view = QFormLayout()
        view.addRow("Plot window", self.window_s)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(source_box)
        layout.addWidget(processing)
        layout.addLayout(view)
        self.source.currentIndexChanged.connect(self._on_source)
        self.browse.clicked.connect(self.browse_file)
        self.browse_model_button.clicked.connect(self.browse_model)
        for box in (self.average, self.model_box):
            box.toggled.connect(lambda _on: self.processing_changed.emit())
        for spin in (self.taps, self.factor):
            spin.valueChanged.connect(lambda _value: self.processing_changed.emit())
        self.model_path.editingFinished.connect(self.processing_changed)
        self.processing.setToolTip("Can be changed while the stream runs")
        self._on_source()

    def _on_source(self) -> None:
        self.pages.setCurrentIndex(self.source.currentIndex())
        self.speed.setEnabled(self.source.isEnabled() and self.source_key() != "session")

    def source_key(self) -> str:
        return str(self.source.currentData())

    def select_source(self, key: str) -> None:
        self.source.setCurrentIndex(max(0, self.source.findData(key)))

    def spec(self) -> StreamSpec:
        return StreamSpec(
            source=self.source_key(),
            path=self.path.text().strip(),
            seed=self.seed.value(),
            channels=self.channels.value(),
            rate=self.rate.value(),
            taps=self.taps.value() if self.average.isChecked() else 0,
            surrogate=self.model_path.text().strip() if self.model_box.isChecked() else "",
            factor=self.factor.value(),
            speed=self.speed.currentData(),
        )

    def set_editable(self, editable: bool) -> None:
        """Lock the source and speed while streaming; the processing stays editable."""
        for widget in (self.source, self.pages):
            widget.setEnabled(editable)
        self.speed.setEnabled(editable and self.source_key() != "session")


def _spin(lo: int, hi: int, value: int, name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin

"""The Postprocess page's sources and clipping choice, with the live clipping preview.

Adding or removing a source opens the new list on a worker (`inspect_sources`:
the backend's merge rules decide; a refused source leaves the list as it was
and its reason is shown). An accepted list is scanned once on another worker
(`scan_preview`) into every row's output mean, sorted (`backend.postprocess.preview.RowMeans`);
from then on the number of rows a clip range drops is `RowMeans.dropped(lo, hi)`:
exact (what the run drops) and instant, so it follows every keystroke and
every drag of the limit lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QGroupBox, QVBoxLayout, QWidget

from app import dialogs
from app.pages import AppContext
from app.pages.postprocess_jobs import (
    SourcesInfo,
    drop_text,
    inspect_sources,
    preview_bins,
    scan_preview,
)
from app.pages.postprocess_sessions import SessionRecordings
from app.theme import LIGHT, Theme
from app.workers import Worker
from backend.errors import SamplelabError
from widgets.cliprange import ClipRange
from widgets.histogramplot import HistogramPlot
from widgets.sourcelist import SourceEntry, SourceList

SOURCE_FILTER = (
    "Recordings and sampling files (*.h5 *.hdf5 IO.dat sampler_configs.json);;All files (*)"
)
PREVIEW_TITLE = "Mean output per row (all rows)"


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, SamplelabError) else str(exc)


class SourcesPanel(QWidget):
    """Sources (merged in order) and clipping; `changed` when either changed."""

    changed = Signal()

    def __init__(
        self, ctx: AppContext, recordings: SessionRecordings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.recordings = recordings
        self.theme: Theme = LIGHT
        self.paths: list[str] = []  # accepted sources, in order
        self.info: SourcesInfo | None = None  # what they hold (None: not usable)
        self.preview: Any = None  # backend.postprocess.preview.RowMeans once scanned
        self.scan_worker: Worker | None = None
        self._checking = 0  # generation of the check in flight (0: none)
        self._generation = 0
        self._running = False
        self.sources = SourceList()
        self.clip = ClipRange()
        self.preview_plot = HistogramPlot(PREVIEW_TITLE, "Row mean", "nA")
        self.preview_plot.setObjectName("plot_clip_preview")
        self.preview_plot.setMinimumHeight(170)
        self.preview_plot.setToolTip("Drag the red lines to set custom limits")
        sources_box = QGroupBox("Sources (merged in this order)")
        QVBoxLayout(sources_box).addWidget(self.sources)
        clip_box = QGroupBox("Clipping (drag the red lines)")
        clip_box.setToolTip(
            "Rows whose mean output is not strictly inside LO … HI are dropped; "
            "drag a red line on the histogram to set a custom limit"
        )
        column = QVBoxLayout(clip_box)
        column.addWidget(self.clip)
        column.addWidget(self.preview_plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(sources_box)
        layout.addWidget(clip_box, 1)
        self.sources.add_files_requested.connect(self.ask_files)
        self.sources.add_folder_requested.connect(self.ask_folder)
        self.sources.remove_requested.connect(self.remove_sources)
        self.sources.suggestion_chosen.connect(lambda path: self.add_sources([path]))
        self.clip.changed.connect(self._on_clip_changed)
        self.preview_plot.limits_changed.connect(self.clip.set_custom_limits)
        recordings.changed.connect(self._show_suggestions)
        self._show_suggestions()
        self._on_clip_changed()

    @property
    def checking(self) -> bool:
        """Whether a new list of sources is being opened (Run waits for it)."""
        return bool(self._checking)

    # --- choosing sources -------------------------------------------------------------
    def last_folder(self) -> str:
        folder = self.ctx.settings.value("postprocess/last_folder", "", str)
        return folder if folder and Path(folder).is_dir() else self.ctx.settings.last_folder

    def ask_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add recordings", self.last_folder(), SOURCE_FILTER
        )
        if paths:
            self.ctx.settings.set_value("postprocess/last_folder", str(Path(paths[0]).parent))
            self.add_sources(paths)

    def ask_folder(self) -> None:
        folder = dialogs.ask_folder(self, "Add a bspysmg sampling folder", self.last_folder())
        if folder:
            self.ctx.settings.set_value("postprocess/last_folder", str(Path(folder).parent))
            self.add_sources([folder])

    def add_sources(self, paths: list[str]) -> None:
        """Check the list with these added (in order); refused ones leave it as it was."""
        new = [str(Path(p)) for p in paths]
        new = [p for i, p in enumerate(new) if p not in self.paths and p not in new[:i]]
        if new:
            self._check([*self.paths, *new], new)

    def remove_sources(self, paths: list[str]) -> None:
        if paths:
            self._check([p for p in self.paths if p not in paths], [])

    def _check(self, paths: list[str], added: list[str]) -> None:
        self._generation += 1
        gen = self._generation
        self.cancel_scan()
        self._set_preview(None)
        if not paths:
            self._accept([], None)
            return
        self._checking = gen
        self.sources.set_entries([SourceEntry(p, f"{Path(p).name} — checking…") for p in paths])
        self.sources.set_note("Checking the sources…")
        self.changed.emit()
        self.ctx.workers.run(
            lambda _report, _token: inspect_sources(paths),
            "inspect sources",
            on_result=lambda info: self._on_inspected(gen, info),
            on_error=lambda exc: self._on_inspect_failed(gen, paths, added, exc),
        )

    def _on_inspected(self, gen: int, info: SourcesInfo) -> None:
        if gen != self._generation:
            return
        self._checking = 0
        self._accept(info.paths, info)
        self._start_scan(gen, info.paths)

    def _on_inspect_failed(
        self, gen: int, paths: list[str], added: list[str], exc: BaseException
    ) -> None:
        if gen != self._generation:
            return
        self._checking = 0
        if added:  # refused: the list stays as it was
            names = ", ".join(Path(p).name for p in added)
            self._accept(self.paths, self.info)
            self.sources.set_note(f"Not added ({names}): {_reason(exc)}", self.theme.error)
            context = f"{names} was not added; the sources are as before."
            if any(p.lower().endswith(".npz") for p in added):
                context += (
                    " To split a dataset (.npz) for training, use Export dataset… in the File menu."
                )
            self.ctx.show_error(exc, context)
            if self.info is not None:
                self._start_scan(gen, self.info.paths)
        else:  # what is left after a removal cannot be read any more
            self._accept(paths, None)
            self.sources.set_note(_reason(exc), self.theme.error)
            self.ctx.show_error(exc)

    def _accept(self, paths: list[str], info: SourcesInfo | None) -> None:
        self.paths, self.info = list(paths), info
        if info is not None:
            entries = [SourceEntry(f.path, f.describe(), f.path) for f in info.sources]
            notes = [f"{Path(f.path).name}: {f.note}" for f in info.sources if f.note]
            lo, hi = info.default_clip or (None, None)
            self.clip.set_default_text(f"{lo:.5g} … {hi:.5g} nA" if lo is not None else "")
            self.sources.set_note("; ".join(notes), self.theme.warning if notes else "")
        else:
            entries = [SourceEntry(p, Path(p).name) for p in paths]
            self.sources.set_note("")
        self.sources.set_entries(entries)
        self.preview_plot.clear_histograms()
        self.preview_plot.set_title(PREVIEW_TITLE)
        self._on_clip_changed()

    def _show_suggestions(self) -> None:
        self.sources.set_suggestions(
            [SourceEntry(p, Path(p).name, p) for p in self.recordings.paths()]
        )

    # --- the preview ------------------------------------------------------------------
    def _start_scan(self, gen: int, paths: list[str]) -> None:
        self.clip.set_estimate("Scanning the outputs…")
        self.scan_worker = self.ctx.workers.run(
            lambda report, token: scan_preview(paths, report, token),
            "clipping preview",
            on_result=lambda hist: self._on_scanned(gen, hist),
            on_error=lambda exc: self._on_scan_failed(gen, exc),
            on_progress=lambda p: self._on_scan_progress(gen, p),
        )

    def cancel_scan(self) -> None:
        if self.scan_worker is not None:
            self.scan_worker.cancel()
            self.scan_worker = None

    def _on_scan_progress(self, gen: int, p: Any) -> None:
        if gen == self._generation:
            self.clip.set_estimate(f"Scanning the outputs… {100 * p.fraction:.0f} %")

    def _on_scanned(self, gen: int, means: Any) -> None:
        if gen != self._generation:
            means.close()
            return
        self.scan_worker = None
        self._set_preview(means)
        self._draw_preview()
        self._on_clip_changed()

    def _set_preview(self, means: Any) -> None:
        """Hold the scan's row means (the old ones' temporary file, if any, is deleted)."""
        old, self.preview = self.preview, means
        if old is not None and old is not means:
            old.close()

    def _draw_preview(self) -> None:
        edges, counts = preview_bins(self.preview)
        self.preview_plot.set_title(f"Mean output per row: all {self.preview.total:,} rows")
        self.preview_plot.set_histograms([("row mean", edges, counts)], self.theme.output_colors)

    def _on_scan_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._generation:
            return
        self.scan_worker = None
        self.clip.set_estimate(f"No preview: {_reason(exc)}")
        self.ctx.show_error(exc, "The preview of clipping is not available.")

    # --- clipping ---------------------------------------------------------------------
    def clip_spec(self) -> Any:
        """What `postprocess(clip=...)` takes: 'default', None or [lo, hi]."""
        mode = self.clip.mode()
        if mode == "custom":
            return list(self.clip.custom_limits())
        return "default" if mode == "default" else None

    def clip_limits(self) -> list[float] | None:
        """The range in nA for the current choice (None: no clipping or not valid)."""
        from backend.postprocess.electrodes import clipping_value

        if self.info is None or not self.clip.is_valid():
            return None
        return clipping_value(self.clip_spec(), self.info.amplification)

    def _on_clip_changed(self) -> None:
        limits = self.clip_limits()
        drawn = limits
        if self.info is not None and self.clip.mode() == "custom":
            drawn = list(self.clip.custom_limits())  # shown even when wrong, to drag right
        if drawn is None:
            self.preview_plot.set_limits(None, None)
        else:
            self.preview_plot.set_limits(drawn[0], drawn[1], movable=not self._running)
        if self.preview is not None and self.clip.is_valid():
            lo, hi = limits or (None, None)
            self.clip.set_estimate(drop_text(self.preview.dropped(lo, hi)))
        elif self.preview is not None:
            self.clip.set_estimate("")
        elif self.info is None:
            self.clip.set_estimate("Add a recording to see how many rows clipping drops.")
        self.changed.emit()

    # --- page integration -------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        """Lock the choices while postprocessing runs (the limits stop being draggable)."""
        self._running = running
        self.sources.set_editable(not running)
        self.clip.set_editable(not running)
        self._on_clip_changed()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.preview_plot.set_colours_theme(
            theme.plot_background, theme.plot_foreground, theme.error
        )
        self.clip.set_error_colour(theme.error)
        if self.preview is not None:
            self._draw_preview()
            self._on_clip_changed()

    def save_state(self, settings: Any) -> None:
        settings.set_value("postprocess/clip_mode", self.clip.mode())
        lo, hi = self.clip.custom_limits()
        settings.set_value("postprocess/clip_lo", lo)
        settings.set_value("postprocess/clip_hi", hi)

    def restore(self, settings: Any) -> None:
        self.clip.set_custom_limits(
            settings.value("postprocess/clip_lo", -150.0, float),
            settings.value("postprocess/clip_hi", 150.0, float),
            switch=False,
        )
        mode = settings.value("postprocess/clip_mode", "default", str)
        self.clip.set_mode(mode if mode in ClipRange.MODES else "default")

"""The Postprocess page's backend work, as plain functions run on worker threads.

Each job is `fn(..., report, token)` or a plain call: it opens what it needs,
calls the backend (`backend.data.sources`, `backend.postprocess.preview`, `backend.postprocess.job`,
`backend.export.exporters`), and returns plain data the page shows. No Qt
here, so the same steps can be driven from a test or a script.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.data.histograms import Histogram, RowMeanHistogram

if TYPE_CHECKING:
    from backend.postprocess.preview import RowMeans

Report = Callable[[Any], None]
#: Bins of the row-mean preview as drawn.
PREVIEW_DRAW_BINS = 256
KEPT_BINS = 100


# --- sources ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFacts:
    path: str
    kind: str  # "recording" | "bspysmg folder"
    rows: int
    batches: int
    batch_points: int
    fs: float
    note: str

    def describe(self) -> str:
        """'rec.h5 — recording, 20 × 50 rows at 1,000 Hz'."""
        name = Path(self.path).name
        text = (
            f"{name} — {self.kind}, {self.batches:,} × {self.batch_points:,} rows "
            f"at {self.fs:,.0f} Hz"
        )
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class SourcesInfo:
    """What the chosen sources hold together (they were opened and found mergeable)."""

    paths: list[str]
    sources: list[SourceFacts]
    rows: int
    output_names: list[str]
    amplification: list[float]
    default_clip: list[float] | None
    default_out: Path


def inspect_sources(paths: Sequence[str]) -> SourcesInfo:
    """Open the sources (merge rules checked: MergeError says why not) and describe them."""
    from backend.data.sources import open_sources
    from backend.postprocess.electrodes import clipping_value
    from backend.postprocess.job import default_output_dir

    src = open_sources(list(paths))
    try:
        parts = getattr(src, "sources", [src])
        facts = [
            SourceFacts(
                str(p.path),
                "bspysmg folder" if Path(p.path).is_dir() else "recording",
                int(p.n_rows),
                int(p.batches_done),
                int(p.batch_points),
                float(p.fs),
                p.note,
            )
            for p in parts
        ]
        amplification = [float(a) for a in np.atleast_1d(src.config.driver.amplification)]
        return SourcesInfo(
            [str(p) for p in paths],
            facts,
            int(src.n_rows),
            list(src.output_names),
            amplification,
            clipping_value("default", amplification),
            default_output_dir(src.path),
        )
    finally:
        src.close()


def scan_preview(paths: Sequence[str], report: Report, token: Any) -> RowMeans:
    """One pass over the outputs: every row's mean, sorted, behind the live '% dropped'."""
    from backend.postprocess.preview import scan_row_means

    return scan_row_means(list(paths), progress=report, cancel=token)


def preview_bins(means: RowMeans, bins: int = PREVIEW_DRAW_BINS) -> tuple:
    """(edges, counts) of the row means to draw (np.histogram's binning, exact counts)."""
    hist = means.histogram(bins)
    return hist.edges, hist.counts


def drop_text(count: Any) -> str:
    """'Would drop 12.34 % (1,234 of 10,000 rows)': exactly what a run drops."""
    if count.total == 0:
        return "No rows to clip."
    return f"Would drop {count.percent:.2f} % ({count.rows:,} of {count.total:,} rows)"


# --- the run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRequest:
    paths: list[str]
    out_dir: Path
    clip: Any  # "default" | None | [lo, hi]
    charging_batches: int
    reference_batches: int


@dataclass
class RunOutcome:
    request: RunRequest
    out_dir: Path
    files: dict[str, Path]
    summary: dict
    kept: list[Histogram]  # per output: np.histogram(kept rows, 100 bins)
    coverage: list[Histogram]  # per input: kept rows (every 3rd) over the wave range
    row_means: RowMeanHistogram | None = None
    notes: list[str] = field(default_factory=list)


def _clip_text(clip: Any) -> str:
    if clip is None:
        return "no clipping"
    if isinstance(clip, str):
        return f"{clip} clipping"
    return f"clipping [{_num(clip[0])}, {_num(clip[1])}] nA"


def stale_note(outcome: RunOutcome | None, now: RunRequest | None) -> str:
    """'' when the results shown still match what Run would do; else what changed."""
    if outcome is None:
        return ""
    then = outcome.request
    changed = []
    if now is None or list(now.paths) != list(then.paths):
        names = " + ".join(Path(p).name for p in then.paths)
        changed.append(f"the sources changed (this run used {names})")
    elif now.clip != then.clip:
        changed.append(f"clipping changed (this run used {_clip_text(then.clip)})")
    if now is not None and (now.charging_batches, now.reference_batches) != (
        then.charging_batches,
        then.reference_batches,
    ):
        changed.append("the raw tail batches changed")
    if not changed:
        return ""
    return f"Out of date: {'; '.join(changed)}. Run again to update these results."


def result_names() -> list[str]:
    """Every file a run writes into its output folder."""
    from backend.postprocess.names import FIGURE_NAME, NPZ_NAMES, RESULTS_NAME

    return [RESULTS_NAME, *NPZ_NAMES.values(), FIGURE_NAME]


def existing_results(out_dir: str | os.PathLike) -> list[str]:
    """The result files already in `out_dir` that a run would replace."""
    return [name for name in result_names() if (Path(out_dir) / name).exists()]


def run_postprocess(request: RunRequest, report: Report, token: Any) -> RunOutcome:
    """Postprocess (cancellable: the folder stays as it was), then the kept-output histograms."""
    from backend.postprocess.job import RESULTS_NAME, postprocess

    result = postprocess(
        list(request.paths),
        request.out_dir,
        clip=request.clip,
        charging_batches=request.charging_batches,
        reference_batches=request.reference_batches,
        progress=report,
        cancel=token,
    )
    kept = kept_output_histograms(result.files[RESULTS_NAME])
    return RunOutcome(
        request,
        result.out_dir,
        result.files,
        result.summary,
        kept,
        result.histograms.get("inputs", []),
        result.row_means,
    )


def kept_output_histograms(
    results_path: str | os.PathLike, bins: int = KEPT_BINS
) -> list[Histogram]:
    """The results file's histograms of the kept outputs (the backend reads them in chunks)."""
    from backend.postprocess.results import PostprocessedFile

    with PostprocessedFile(results_path) as results:
        return results.kept_histograms(bins)


# --- exports ----------------------------------------------------------------------------
#: (format, button text, file filter; None = a folder)
EXPORTS = (
    ("npz", "bspysmg npz…", "bspysmg dataset (*.npz)"),
    ("hdf5", "HDF5…", "HDF5 (*.h5 *.hdf5)"),
    ("csv", "CSV…", "CSV table (*.csv)"),
    ("iodat", "IO.dat folder…", None),
    ("histograms-png", "Histograms PNG…", "PNG image (*.png)"),
    ("waveform-png", "Waveform PNG…", "PNG image (*.png)"),
)
SUFFIXES = {
    "npz": ".npz",
    "hdf5": ".h5",
    "csv": ".csv",
    "histograms-png": "_histograms.png",
    "waveform-png": "_waveform.png",
}


def export_problems(
    outcome: RunOutcome | None, sources: SourcesInfo | None
) -> dict[str, dict[str, str | None]]:
    """which ('kept' | 'all') -> format -> why it cannot be written now (None: it can).

    The kept rows are the last run's dataset; clipping cut rows out of batches,
    so IO.dat (whole batches only) is offered from them only when nothing was
    dropped. Every row of the sources needs only an accepted list of sources.
    """
    kept: dict[str, str | None] = {}
    every: dict[str, str | None] = {}
    for fmt, _, _ in EXPORTS:
        kept[fmt] = None if outcome is not None else "Run postprocessing first."
        every[fmt] = None if sources is not None else "Add sources first."
    if outcome is not None and outcome.summary["rows_dropped"]:
        s = outcome.summary
        kept["iodat"] = (
            f"IO.dat holds whole {s['batch_points']:,}-row batches; clipping dropped "
            f"{s['rows_dropped']:,} rows from inside them. Export IO.dat from the source rows "
            "(Export source rows), or run without clipping."
        )
    return {"kept": kept, "all": every}


def export_titles(outcome: RunOutcome | None, sources: SourcesInfo | None) -> dict[str, str]:
    """The heading of each export menu: exactly which rows it writes."""
    from backend.postprocess.names import DATA_NAME

    kept = "Kept rows: run postprocessing first"
    if outcome is not None:
        kept = f"Kept rows of the last run: {outcome.summary['rows_kept']:,} ({DATA_NAME})"
    every = "Source rows: add sources first"
    if sources is not None:
        n = len(sources.paths)
        every = f"Every row of the {n} source{'s' * (n != 1)}: {sources.rows:,} rows"
    return {"kept": kept, "all": every}


def export_rows(
    which: str,
    fmt: str,
    out: str | os.PathLike,
    report: Report,
    token: Any,
    *,
    kept_file: str | os.PathLike | None = None,
    paths: Sequence[str] = (),
) -> Path:
    """Export the kept rows (`which='kept'`: `kept_file`) or every row of `paths` ('all')."""
    from backend.data.sources import open_sources
    from backend.export.exporters import export

    if which == "kept":
        return export(
            kept_file,
            fmt,
            out,
            overwrite=True,  # the save dialog asked
            progress=report,
            cancel=token,
        )
    src = open_sources(list(paths))
    try:
        return export(src, fmt, out, overwrite=True, progress=report, cancel=token)
    finally:
        src.close()


# --- the summary as text ----------------------------------------------------------------
def _num(value: Any) -> str:
    return "–" if value is None else f"{value:.6g}"


def _ranges(info: dict) -> list[list[float]]:
    ranges = info["activation_electrodes"]["voltage_ranges"]
    if isinstance(ranges, dict):  # JSON-tagged numpy array
        ranges = ranges.get("__ndarray__", [])
    return [list(map(float, r)) for r in ranges]


def summary_rows(outcome: RunOutcome) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """(facts, channel header, channel rows) for the summary table."""
    s = outcome.summary
    clip = s["clipping_value"]
    info = s["electrode_info"]
    act, out = info["activation_electrodes"], info["output_electrodes"]
    names = [Path(p).name for p in s["sources"]]
    facts = [
        ("Sources", " + ".join(names)),
        (
            "Rows in",
            f"{s['rows_in']:,} ({s['batches']:,} batches × {s['batch_points']:,} rows, "
            f"{s['sampling_frequency_hz']:,.0f} Hz)",
        ),
        ("Rows kept", f"{s['rows_kept']:,}"),
        ("Rows dropped", f"{s['rows_dropped']:,} ({s['percent_dropped']:.2f} % clipped)"),
        (
            "Clipping",
            "none" if clip is None else f"[{_num(clip[0])}, {_num(clip[1])}] nA (row mean)",
        ),
        (
            "Electrodes",
            f"{info['electrode_no']}: {act['electrode_no']} activation, "
            f"{out['electrode_no']} output; amplification {out['amplification']}",
        ),
    ]
    if s.get("note"):
        facts.insert(1, ("Note", s["note"]))
    for key, label in (("charging_signal", "Charging signal"), ("reference_batch", "Reference")):
        t = s[key]
        facts.append(
            (
                label,
                f"last {t['batches']:,} batches ({t['batches_asked']:,} asked), "
                f"{t['rows']:,} rows, {t['seconds']:g} s",
            )
        )
    facts.append(("Output folder", str(outcome.out_dir)))
    facts.append(("Files", ", ".join(sorted(p.name for p in outcome.files.values()))))
    header = ["Channel", "Units", "Min", "Max", "Kept min", "Kept max", "Range"]
    rows = []
    clip_text = "no clipping" if clip is None else f"clip [{_num(clip[0])}, {_num(clip[1])}]"
    for o in s["outputs"]:
        rows.append(
            [
                o["name"],
                o["units"],
                _num(o["min"]),
                _num(o["max"]),
                _num(o["kept_min"]),
                _num(o["kept_max"]),
                clip_text,
            ]
        )
    for c, (lo, hi) in zip(s["inputs"], _ranges(info)):
        rows.append(
            [c["name"], c["units"], _num(c["min"]), _num(c["max"]), "", "", f"[{lo:.4g}, {hi:.4g}]"]
        )
    return facts, header, rows

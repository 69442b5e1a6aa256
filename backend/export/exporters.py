"""Exports of a recording (or sampling folder, or npz dataset) for other tools.

Every export streams the rows in chunks (bounded memory), writes to a
temporary name and renames at the end, so a failed or cancelled export
leaves no file that looks complete.

- iodat: a bspysmg sampling folder (IO.dat + sampler_configs.json), the peer's bytes.
- npz:   all rows with the peer's keys (+ `sampling_configs_json`), no clipping.
- csv:   `Input 0 (V),...,Output 0 (nA)` header, shortest round-trip numbers.
- hdf5:  /inputs, /outputs and the config as plain JSON, readable with h5py alone.
A recording's run notes go along: `run_notes_json` (HDF5 attribute, npz member)
or `run_notes.json` beside IO.dat; CSV has no place for them.
- histograms-png / waveform-png: figures for reports.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend.channels import ChannelLayout
from backend.config import BSPYSMG_CONFIG_NAME
from backend.data.formats.bspysmg import write_bspysmg_folder
from backend.data.formats.iodat import IODAT_NAME
from backend.data.formats.npz_write import NpzWriter, jsonable
from backend.data.histograms import ColumnHistograms, Histogram, MinMax, Spool, column_min_max
from backend.data.sources import open_export_source, source_from
from backend.display.figures import histograms_png, waveform_png
from backend.errors import SamplelabError
from backend.files import replace_file
from backend.jobs import CancelToken, JobControl, ProgressFn
from backend.recording.runnotes import NOTES_FILE, NOTES_MEMBER

FORMATS = ("iodat", "npz", "csv", "hdf5", "histograms-png", "waveform-png")
HDF5_EXPORT_FORMAT = "samplelab-export"
_ROWS = 1 << 17


def _chunks(src: Any, ctl: JobControl, stage: str = "exporting") -> Iterator[tuple]:
    for first, x, y in src.iter_chunks(_ROWS):
        ctl.report(stage, first, src.n_rows)
        yield first, x, y
    ctl.report(stage, src.n_rows, src.n_rows)


class _Target:
    """`out` written under a temporary name; moved into place only by `commit`.

    For a folder export (iodat) the folder may exist and hold other files; only
    the files the export writes are refused (without `overwrite`) or replaced.
    """

    def __init__(self, out: Path, overwrite: bool, folder_files: tuple[str, ...] = ()) -> None:
        self.out, self.folder_files = out, folder_files
        if folder_files:
            clash = [n for n in folder_files if (out / n).exists()]
            if clash and not overwrite:
                raise SamplelabError(
                    f"{out} already holds a bspysmg export ({', '.join(clash)})",
                    "Choose another --out folder, or pass --overwrite.",
                )
        elif out.exists() and not overwrite:
            raise SamplelabError(
                f"{out} already exists", "Choose another --out, or pass --overwrite."
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = out.with_name(f".{out.name}.partial")

    def commit(self) -> Path:
        if self.folder_files:
            self.out.mkdir(exist_ok=True)
            for name in self.folder_files:
                replace_file(self.tmp / name, self.out / name)
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            if self.out.is_dir():
                shutil.rmtree(self.out)
            replace_file(self.tmp, self.out)
        return self.out

    def abandon(self) -> None:
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            self.tmp.unlink(missing_ok=True)


def export(
    source: str | os.PathLike | Any,
    fmt: str,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    trust_pickle: bool = False,
    batch: int | None = None,
    rows: tuple[int, int] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Export `source` (path or open source) as `fmt` to `out`; returns what was written.

    `batch`/`rows` choose what `waveform-png` draws (default: the first batch).
    """
    if fmt not in FORMATS:
        raise SamplelabError(f"unknown export format {fmt!r}", f"Use one of {', '.join(FORMATS)}.")
    ctl = JobControl(progress, cancel)
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    with source_from(source, lambda paths: open_export_source(paths[0], trust_pickle)) as src:
        folder_files = (IODAT_NAME, BSPYSMG_CONFIG_NAME) if fmt == "iodat" else ()
        if folder_files and _notes(src):
            folder_files += (NOTES_FILE,)
        target = _Target(Path(out), overwrite, folder_files)
        try:
            _WRITERS[fmt](src, target.tmp, ctl, final=target.out, batch=batch, rows=rows)
            ctl.check()
            return target.commit()
        except BaseException:
            target.abandon()
            raise


def _export_iodat(src: Any, tmp: Path, ctl: JobControl, final: Path, **_: Any) -> None:
    bp = src.config.batch_points
    if src.n_rows % bp:
        raise SamplelabError(
            f"{src.path} holds {src.n_rows} rows, not a whole number of {bp}-row batches "
            "(a clipped dataset?), which IO.dat cannot describe",
            "Export the recording or sampling folder it came from instead.",
        )
    blocks = ((x, y) for _, x, y in _chunks(src, ctl))
    write_bspysmg_folder(tmp, src.config, blocks, src.n_rows // bp, str(final))
    if _notes(src):
        (tmp / NOTES_FILE).write_text(json.dumps(_notes(src), indent=2), encoding="utf-8")


def _notes(src: Any) -> dict:
    """The run notes of a recording source ({} for every other kind)."""
    return dict(getattr(src, "run_notes", None) or {})


def _export_npz(src: Any, tmp: Path, ctl: JobControl, **_: Any) -> None:
    """inputs stream straight into the zip; outputs wait in a spool (one member at a time)."""
    config = src.peer_config()
    n_in, n_out = len(src.input_names), len(src.output_names)
    with NpzWriter(tmp) as npz, Spool(n_out, tmp.parent) as outputs:
        with npz.open_rows("inputs", (src.n_rows, n_in)) as member:
            for _, x, y in _chunks(src, ctl):
                member.write(x)
                outputs.append(y)
        npz.write_rows("outputs", (src.n_rows, n_out), outputs.iter_chunks(_ROWS))
        npz.write_config(config)
        if _notes(src):
            npz.write_array(NOTES_MEMBER, np.array(json.dumps(_notes(src))))


def _export_csv(src: Any, tmp: Path, ctl: JobControl, **_: Any) -> None:
    import pyarrow as pa  # pyarrow: on use
    import pyarrow.csv as pacsv

    layout = ChannelLayout.sampling(src.input_names, src.output_names)
    names = [f"{n} ({u})" for n, u in zip(layout.names, layout.units)]
    options = pacsv.WriteOptions(include_header=False)
    with open(tmp, "wb") as fh:
        fh.write((",".join(names) + "\n").encode("utf-8"))
        for _, x, y in _chunks(src, ctl):
            columns = [pa.array(x[:, j]) for j in range(x.shape[1])]
            columns += [pa.array(y[:, j]) for j in range(y.shape[1])]
            pacsv.write_csv(
                pa.table(columns, names=[f"c{j}" for j in range(len(names))]), fh, options
            )


def _export_hdf5(src: Any, tmp: Path, ctl: JobControl, **_: Any) -> None:
    config = jsonable(src.peer_config(), tag_arrays=False)
    n_in, n_out = len(src.input_names), len(src.output_names)
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = HDF5_EXPORT_FORMAT
        f.attrs["config_json"] = json.dumps(config)
        f.attrs["source"] = str(src.path)
        f.attrs["rows"] = src.n_rows
        f.attrs["batch_points"] = int(src.batch_points)
        f.attrs["sampling_frequency"] = float(getattr(src, "fs", 0.0) or 0.0)
        if _notes(src):
            f.attrs[NOTES_MEMBER] = json.dumps(_notes(src))
        sets = []
        for name, n, units, names in (
            ("inputs", n_in, "V", src.input_names),
            ("outputs", n_out, "nA", src.output_names),
        ):
            chunk = max(1, min(src.n_rows, (1 << 20) // (8 * n)))
            ds = f.create_dataset(name, shape=(src.n_rows, n), dtype="<f8", chunks=(chunk, n))
            ds.attrs["units"] = units
            ds.attrs["channel_names"] = json.dumps(list(names))
            sets.append(ds)
        for first, x, y in _chunks(src, ctl):
            sets[0][first : first + len(x)] = x
            sets[1][first : first + len(y)] = y


def table_histograms(src: Any, ctl: JobControl, bins: int = 100, step: int = 3) -> dict:
    """Per-channel histograms of every `step`-th row, each over its own min..max (two passes)."""
    n_in = len(src.input_names)
    mm = MinMax(n_in + len(src.output_names))
    for first, x, y in _chunks(src, ctl, "ranges"):
        rows = np.hstack([x, y])[(-first) % step :: step]
        mm.add(rows)
    ranges = np.array([(a, b) if a is not None else (0.0, 1.0) for a, b in mm.ranges()])
    acc = ColumnHistograms(ranges, bins)
    for first, x, y in _chunks(src, ctl, "histograms"):
        rows = np.hstack([x, y])[(-first) % step :: step]
        acc.add(rows, *column_min_max(rows))
    hists: list[Histogram] = acc.histograms(src.input_names + src.output_names, "V")
    outputs = [Histogram(h.name, "nA", h.edges, h.counts, h.below, h.above) for h in hists[n_in:]]
    return {"inputs": hists[:n_in], "outputs": outputs}


def _export_histograms_png(src: Any, tmp: Path, ctl: JobControl, **_: Any) -> None:
    hists = table_histograms(src, ctl)
    histograms_png(
        hists["outputs"] + hists["inputs"],
        tmp,
        title=f"{Path(src.path).name}: every 3rd row, 100 bins",
    )


def _export_waveform_png(
    src: Any,
    tmp: Path,
    ctl: JobControl,
    batch: int | None = None,
    rows: tuple[int, int] | None = None,
    **_: Any,
) -> None:
    bp = int(src.batch_points)
    if rows is None:
        index = batch or 0
        if not 0 <= index < max(1, src.n_rows // bp):
            raise SamplelabError(
                f"batch {index} does not exist ({src.n_rows // bp} batches)",
                "Choose --batch between 0 and the last batch.",
            )
        rows = (index * bp, (index + 1) * bp)
        title = f"{Path(src.path).name}: batch {index}"
    else:
        title = f"{Path(src.path).name}: rows {rows[0]}-{rows[1]}"
    start, stop = max(0, rows[0]), min(src.n_rows, rows[1])
    if start >= stop:
        raise SamplelabError(f"rows {rows[0]}:{rows[1]} hold no data ({src.n_rows} rows)")
    x, y = src.read(start, stop)
    waveform_png(
        x, y, tmp, getattr(src, "fs", None) or None, src.input_names, src.output_names, title
    )


_WRITERS = {
    "iodat": _export_iodat,
    "npz": _export_npz,
    "csv": _export_csv,
    "hdf5": _export_hdf5,
    "histograms-png": _export_histograms_png,
    "waveform-png": _export_waveform_png,
}

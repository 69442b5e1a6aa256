"""The postprocessing results as one HDF5 file (`postprocessed_data.h5`), for our tools.

Everything `samplelab postprocess` computed, readable with h5py alone
(spec in docs/postprocessing.md):

  /inputs, /outputs              kept rows, float64, V and nA
  /dropped_runs                  (k, 2) int64 [start, stop) source rows that clipping dropped
  /charging_signal/{inputs,outputs}, /reference_batch/{inputs,outputs}   raw tails
  /histograms/outputs/{edges,counts}      per output: outputs[::3], 100 bins (the peer's plot)
  /histograms/inputs/{edges,counts,below,above}   per input: kept rows over its wave range
  /histograms/output_mean/{edges,counts}  per-row output mean, fine bins (clipping preview)
  root attrs: format, format_version, config_json (the peer's dict incl. electrode_info,
              numpy arrays tagged), summary_json, created, app_version

The npz files are written from this file after the pass, so the kept-row
count is known when their headers are written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend import __version__
from backend.data.formats.npz_write import config_from_json, config_to_json
from backend.data.histograms import ColumnHistograms, Histogram, RowMeanHistogram
from backend.errors import FileFormatError

FORMAT_NAME = "samplelab-postprocessed"
FORMAT_VERSION = 1
_CHUNK_BYTES = 1 << 20


def _append(ds: h5py.Dataset, start: int, rows: np.ndarray) -> None:
    """Write `rows` at `start` with h5py's low-level calls (cheap per chunk).

    Growable (chunked) tables are extended first; fixed-size ones, made when
    the row count is known in advance, are written in place.
    """
    if not len(rows):
        return
    rows = np.ascontiguousarray(rows, dtype=ds.dtype)
    if ds.chunks is not None:
        ds.id.set_extent((start + rows.shape[0], *rows.shape[1:]))
    space = ds.id.get_space()
    space.select_hyperslab((start,) + (0,) * (rows.ndim - 1), rows.shape)
    ds.id.write(h5py.h5s.create_simple(rows.shape), space, rows)


def _table(
    group: h5py.Group,
    name: str,
    n: int,
    rows: int = 0,
    units: str = "",
    names: list[str] | None = None,
    most: int = 0,
) -> h5py.Dataset:
    """A growable (rows, n) float64 table; chunks ~1 MiB, smaller for small tables."""
    chunk = max(1, min(_CHUNK_BYTES // (8 * n), max(rows, most)))
    ds = group.create_dataset(
        name, shape=(rows, n), maxshape=(None, n), chunks=(chunk, n), dtype="<f8"
    )
    _describe(ds, units, names)
    return ds


def _fixed_table(
    group: h5py.Group, name: str, n: int, rows: int, units: str, names: list[str]
) -> h5py.Dataset:
    """A (rows, n) float64 table of known size: contiguous, so writes go straight to disk."""
    ds = group.create_dataset(name, shape=(rows, n), dtype="<f8")
    _describe(ds, units, names)
    return ds


def _describe(ds: h5py.Dataset, units: str, names: list[str] | None) -> None:
    if units:
        ds.attrs["units"] = units
    if names is not None:
        ds.attrs["channel_names"] = json.dumps(names)


class ResultsWriter:
    """Writes the results file during the pass: kept rows, tails, dropped runs."""

    def __init__(
        self,
        path: Path,
        input_names: list[str],
        output_names: list[str],
        tails: dict[str, tuple[int, int]],
        most_rows: int = 0,
    ) -> None:
        self.path = path
        self._f = h5py.File(path, "w")
        n_in, n_out = len(input_names), len(output_names)
        self._names = (input_names, output_names)
        self._most_rows = most_rows
        self.inputs: h5py.Dataset | None = None
        self.outputs: h5py.Dataset | None = None
        self._runs = self._f.create_dataset(
            "dropped_runs", shape=(0, 2), maxshape=(None, 2), chunks=(4096, 2), dtype="<i8"
        )
        self._tails: dict[str, tuple[int, int, h5py.Dataset, h5py.Dataset]] = {}
        for name, (start, stop) in tails.items():
            group = self._f.create_group(name)
            group.attrs["first_row"] = start
            x = _table(group, "inputs", n_in, stop - start, "V", input_names)
            y = _table(group, "outputs", n_out, stop - start, "nA", output_names)
            self._tails[name] = (start, stop, x, y)
        self.kept = 0
        self._n_runs = 0
        self._open_run: list[int] | None = None

    def expect_kept_rows(self, rows: int) -> None:
        """The kept-row count, when a first pass knows it: fixed-size tables, written in place."""
        input_names, output_names = self._names
        self.inputs = _fixed_table(self._f, "inputs", len(input_names), rows, "V", input_names)
        self.outputs = _fixed_table(self._f, "outputs", len(output_names), rows, "nA", output_names)

    def _growable_tables(self) -> None:
        input_names, output_names = self._names
        most = self._most_rows
        self.inputs = _table(self._f, "inputs", len(input_names), 0, "V", input_names, most)
        self.outputs = _table(self._f, "outputs", len(output_names), 0, "nA", output_names, most)

    def add(self, first: int, x: np.ndarray, y: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> None:
        """One source chunk: raw rows (for the tails) and the rows clipping kept."""
        if self.inputs is None:
            self._growable_tables()
        n = len(x)
        for start, stop, tx, ty in self._tails.values():
            a, b = max(first, start), min(first + n, stop)
            if a < b:
                tx[a - start : b - start] = x[a - first : b - first]
                ty[a - start : b - start] = y[a - first : b - first]
        _append(self.inputs, self.kept, kx)
        _append(self.outputs, self.kept, ky)
        self.kept += len(kx)

    def tail_datasets(self, name: str) -> tuple[h5py.Dataset, h5py.Dataset]:
        _, _, x, y = self._tails[name]
        return x, y

    def add_runs(self, first: int, keep: np.ndarray) -> None:
        """Record which rows of a chunk clipping dropped, as [start, stop) runs."""
        dropped = ~keep
        if not dropped.any():
            return
        edges = np.flatnonzero(np.diff(np.concatenate(([0], dropped.view(np.int8), [0]))))
        runs = edges.reshape(-1, 2) + first
        if self._open_run is not None and self._open_run[1] == runs[0, 0]:
            runs[0, 0] = self._open_run[0]
        elif self._open_run is not None:
            runs = np.vstack([self._open_run, runs])
        self._open_run = runs[-1].tolist()
        if len(runs) > 1:
            _append(self._runs, self._n_runs, runs[:-1])
            self._n_runs += len(runs) - 1

    def finish(
        self,
        config: dict,
        summary: dict,
        histograms: dict[str, list[Histogram]],
        row_means: RowMeanHistogram,
    ) -> None:
        """Write what is known only after the pass, then close the file."""
        if self._open_run is not None:
            _append(self._runs, self._n_runs, np.asarray([self._open_run], dtype=np.int64))
        if self.inputs is None:  # a source without rows
            self._growable_tables()
        f = self._f
        f.attrs.update(
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "config_json": config_to_json(config),
                "summary_json": json.dumps(summary),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "app_version": __version__,
            }
        )
        group = f.create_group("histograms")
        for name, hists in histograms.items():
            sub = group.create_group(name)
            sub.create_dataset("edges", data=np.stack([h.edges for h in hists]))
            sub.create_dataset("counts", data=np.stack([h.counts for h in hists]))
            sub.create_dataset("below", data=np.asarray([h.below for h in hists], dtype=np.int64))
            sub.create_dataset("above", data=np.asarray([h.above for h in hists], dtype=np.int64))
            sub.attrs["channel_names"] = json.dumps([h.name for h in hists])
            sub.attrs["units"] = hists[0].units if hists else ""
        means = group.create_group("output_mean")
        means.create_dataset("edges", data=row_means.edges)
        means.create_dataset("counts", data=row_means.counts)
        self.close()

    def close(self) -> None:
        if self._f.id.valid:
            self._f.close()


class PostprocessedFile:
    """Read access to a results file written by `samplelab postprocess`."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._f = h5py.File(self.path, "r")
        except (OSError, FileNotFoundError) as exc:
            raise FileFormatError(f"{self.path} is not a readable HDF5 file ({exc})") from None
        attrs = self._f.attrs
        if attrs.get("format") != FORMAT_NAME:
            self._f.close()
            raise FileFormatError(f"{self.path} is not a samplelab postprocessing result")
        self.config: dict = config_from_json(attrs["config_json"])
        self.summary: dict = json.loads(attrs["summary_json"])
        self.inputs: h5py.Dataset = self._f["inputs"]
        self.outputs: h5py.Dataset = self._f["outputs"]
        self.dropped_runs: np.ndarray = self._f["dropped_runs"][:]

    @property
    def electrode_info(self) -> dict:
        return self.config["electrode_info"]

    def iter_chunks(self, rows: int = 1 << 17) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for start in range(0, self.inputs.shape[0], rows):
            yield start, self.inputs[start : start + rows], self.outputs[start : start + rows]

    def tail_datasets(self, name: str) -> tuple[h5py.Dataset, h5py.Dataset]:
        """The (inputs, outputs) datasets of 'charging_signal' or 'reference_batch'."""
        return self._f[name]["inputs"], self._f[name]["outputs"]

    def tail(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) of 'charging_signal' or 'reference_batch', in memory."""
        x, y = self.tail_datasets(name)
        return x[:], y[:]

    def keep_mask(self, n_rows: int) -> np.ndarray:
        """Which of the first `n_rows` source rows were kept (built from dropped_runs)."""
        mask = np.ones(n_rows, dtype=bool)
        for start, stop in self.dropped_runs:
            mask[start:stop] = False
        return mask

    def histograms(self, name: str) -> list[Histogram]:
        """'outputs' or 'inputs' histograms as `Histogram` objects."""
        group = self._f["histograms"][name]
        names = json.loads(group.attrs["channel_names"])
        units = str(group.attrs["units"])
        return [
            Histogram(
                n,
                units,
                group["edges"][j],
                group["counts"][j],
                int(group["below"][j]),
                int(group["above"][j]),
            )
            for j, n in enumerate(names)
        ]

    def kept_histograms(self, bins: int = 100, chunk_rows: int = 1 << 17) -> list[Histogram]:
        """Per output, `np.histogram` of the rows clipping kept over their min..max.

        The stored 'outputs' histograms follow the peer's PNG (every row, before
        clipping); this is the distribution the dataset will actually hold.
        """
        outputs = self.summary["outputs"]
        ranges = np.array(
            [
                (o["kept_min"], o["kept_max"]) if o["kept_min"] is not None else (0.0, 1.0)
                for o in outputs
            ],
            dtype=float,
        )
        acc = ColumnHistograms(ranges, bins)
        for start in range(0, self.outputs.shape[0], chunk_rows):
            acc.add(self.outputs[start : start + chunk_rows])
        return acc.histograms([o["name"] for o in outputs], "nA")

    def row_mean_histogram(self) -> RowMeanHistogram:
        group = self._f["histograms"]["output_mean"]
        return RowMeanHistogram(group["edges"][:], group["counts"][:])

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> PostprocessedFile:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

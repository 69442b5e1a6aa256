"""The facts the Recordings page shows about a file, as sections for the metadata tree.

Run on a worker: a recording's sections (status, config, device, provenance,
batch table) come from its attributes and its small batch table, never from
its data; per-channel ranges are computed separately (chunked, or from the
overview) and filled in with `channel_section` when they arrive. Any other
file gets what `describe_file` says (kind, shape, dtype, channels) without
the ranges, plus the datasets / members / variables it holds.
"""

from __future__ import annotations

import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.kinds import detect_kind, open_reader
from backend.errors import SamplelabError
from widgets.metatree import Summary, format_value

Sections = list[tuple[str, Any]]
PENDING = "computing…"
EXPANDED = ("File", "Recording", "Batches", "Channels", "Contents", "Problem")


def file_size(path: Path) -> str:
    if path.is_dir():
        size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    else:
        size = path.stat().st_size
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):  # as the file tree counts
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.2f} {unit}"
        size /= 1024
    return ""


def channel_section(
    names: list[str],
    units: list[str],
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
    note: str = PENDING,
) -> dict[str, Summary]:
    """name -> 'units  min … max …' with Units/Min/Max below (ranges pending if None)."""
    out: dict[str, Summary] = {}
    for i, (name, unit) in enumerate(zip(names, units)):
        if lo is None or hi is None:
            out[name] = Summary(f"{unit}  min/max {note}", {"Units": unit or "–"})
            continue
        a, b = _finite(lo[i]), _finite(hi[i])
        out[name] = Summary(
            f"{unit}  min {format_value(a)}  max {format_value(b)}",
            {"Units": unit or "–", "Min": a, "Max": b},
        )
    return out


def plain(value: Any) -> Any:
    """Numpy arrays and scalars inside nested dicts/lists as lists and Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _when(stamp: float) -> str:
    if not np.isfinite(stamp) or stamp <= 0:
        return "–"
    return datetime.fromtimestamp(stamp).isoformat(sep=" ", timespec="seconds")


def batch_summary(table: np.ndarray, planned: int) -> dict[str, Any]:
    """Counts, sizes, timing and order of a recording's batch table."""
    if not len(table):
        return {"Complete": f"0 of {planned}"}
    rows = np.unique(table["rows"])
    index = table["index"]
    in_order = bool(np.array_equal(index, np.arange(index[0], index[0] + len(index))))
    duration = table["duration"]
    return {
        "Complete": f"{len(table)} of {planned}",
        "Rows per batch": ", ".join(str(int(r)) for r in rows[:6]),
        "Indices": f"{int(index[0])}…{int(index[-1])}" + ("" if in_order else " (with gaps)"),
        "First started": _when(float(table["started"][0])),
        "Last started": _when(float(table["started"][-1])),
        "Device time per batch": (
            f"mean {1000 * float(np.mean(duration)):.1f} ms, "
            f"max {1000 * float(np.max(duration)):.1f} ms"
        ),
        "Device time in all": f"{float(np.sum(duration)):.2f} s",
    }


def recording_sections(path: str | os.PathLike, rec: Any = None) -> Sections:
    """Sections of a recording; `rec` is an open `Recording` to use (else one is opened).

    Every reader of the file in this process shares one handle (`backend.recording.h5open`).
    """
    from backend.recording.reader import Recording

    if rec is not None:
        return _recording_sections(Path(path), rec)
    with Recording(path) as opened:
        return _recording_sections(Path(path), opened)


def _recording_sections(path: Path, rec: Any) -> Sections:
    from backend.recording.reader import FORMAT_NAME

    status = rec.status
    facts: dict[str, Any] = {
        "Status": status,
        "Message": rec.message or "–",
        "Rows": f"{rec.n_rows:,}",
        "Duration": f"{rec.duration_s():.6g} s",
        "Sampling frequency": f"{rec.fs:g} Hz",
        "Batches": f"{rec.batches_done} of {rec.batches_planned} ({rec.batch_points:,} rows each)",
        "Seed": rec.seed,
    }
    if status == "interrupted":
        facts["Resume"] = "Resume sampling continues it from its last complete batch"
    return [
        (
            "File",
            {
                "Path": str(path),
                "Kind": "samplelab recording",
                "Format": FORMAT_NAME,
                "Size": file_size(path),
            },
        ),
        ("Recording", facts),
        ("Batches", batch_summary(rec.batches, rec.batches_planned)),
        ("Channels", channel_section(rec.channel_names, rec.units)),
        ("Device", rec.device or "–"),
        ("Config", plain(rec.config.to_bspysmg())),
        ("Provenance", rec.provenance or "–"),
    ]


def contents(path: Path, kind: str) -> list[str] | None:
    """The datasets / members / variables of a multi-array file, one line each.

    Read from the containers' own indexes (HDF5 tree, zip directory and .npy
    headers, MATLAB's variable table): no array is loaded, nothing unpickled.
    """
    import h5py  # on a worker, never before the window's first paint

    try:
        if kind in ("hdf5", "recording", "stream") or (kind == "mat" and h5py.is_hdf5(path)):
            return _hdf5_datasets(path)
        if kind == "npz":
            return _npz_members(path)
        if kind == "mat":
            from scipy.io import whosmat

            return [f"{name}  {tuple(shape)}  {cls}" for name, shape, cls in whosmat(str(path))]
    except Exception:  # damaged containers: the reader's own error says what is wrong
        return None
    return None


def _hdf5_datasets(path: Path) -> list[str]:
    import h5py

    from backend.recording.h5shared import acquire

    found: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and not name.startswith("#refs#"):
            found.append(f"{name}  {obj.shape}  {obj.dtype}")

    share = acquire(path)  # the browser's own handle of this file, if it has one
    try:
        share.file.visititems(visit)
    finally:
        share.release()
    return found


def _npz_members(path: Path) -> list[str]:
    fmt = np.lib.format
    found = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as fh:
                version = fmt.read_magic(fh)
                read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                shape, _, dtype = read(fh, max_header_size=100_000)
            found.append(f"{info.filename[:-4]}  {tuple(shape)}  {dtype}")
    return found


def file_sections(path: str | os.PathLike, reader: Any = None) -> Sections:
    """Sections for any file or bspysmg folder; a recording gets `recording_sections`.

    `reader` is the browser's open reader of `path`, if any (its recording is reused).
    """
    path = Path(path)
    kind = detect_kind(path)
    if kind == "recording":
        return recording_sections(path, getattr(reader, "recording", None))
    head = {"Path": str(path), "Kind": kind, "Size": file_size(path)}
    listing = contents(path, kind)
    try:
        reader = open_reader(path, kind=kind)
    except SamplelabError as exc:
        sections: Sections = [("File", head), ("Problem", {"Error": exc.message})]
        if exc.hint:
            sections[1][1]["What to do"] = exc.hint
        if listing:
            sections.append(("Contents", listing))
        return sections
    with reader:
        facts = reader.describe(ranges=False)
        config = getattr(reader, "config", None)
    rows, channels = facts["shape"]
    fs = facts.get("sampling_frequency_hz")
    head.update(
        {
            "Kind": facts["kind"],
            "Shape": f"{rows:,} rows × {channels} channels",
            "Data type": facts["dtype"],
            "Sampling frequency": f"{fs:g} Hz" if fs else "unknown",
            "Duration": f"{facts['duration_s']:.6g} s" if facts.get("duration_s") else "–",
        }
    )
    sections = [("File", head)]
    if facts.get("notes"):
        sections.append(("Notes", facts["notes"]))
    names = [c["name"] for c in facts["channels"]]
    units = [c.get("units", "") for c in facts["channels"]]
    sections.append(("Channels", channel_section(names, units)))
    if listing:
        sections.append(("Contents", listing))
    if isinstance(config, dict):
        sections.append(("Config", plain(config)))
    return sections

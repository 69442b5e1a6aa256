"""Export recordings as train/validation/test files the peer's training code loads.

Each output is a postprocessed-style npz (`inputs`, `outputs`,
`sampling_configs` + our JSON copy of the config), written by streaming rows
so memory stays bounded whatever the sources' size. Sources: samplelab
recordings, bspysmg sampling folders, and bspysmg/samplelab npz files; they
must agree on channel counts and amplification.

Every source is split by the same percentages (sizes as the peer computes
them): at random (seeded), or in time blocks (`blocks=True`: contiguous
pieces, or `block_rows`-row blocks dealt out at random) so neighbouring
samples never end up on both sides of the split.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backend.config import bspysmg_config_dict
from backend.data.finiterows import check_finite_rows
from backend.data.formats.bspysmg import config_facts, parse_peer_config
from backend.data.formats.npz_config import read_npz_config
from backend.data.formats.npz_write import NpzWriter
from backend.data.kinds import open_reader
from backend.data.reader import Reader
from backend.datasets.splits import (
    SPLIT_NAMES,
    block_split_indices,
    check_percentages,
    random_split_indices,
)
from backend.errors import Cancelled, FileFormatError, SamplelabError
from backend.files import discard, replace_file
from backend.jobs import CancelToken, JobProgress, ProgressFn, parse_memory
from backend.postprocess.electrodes import electrode_info


def _unclipped_info(config: dict) -> dict:
    """The peer's electrode_info for unclipped data (clipping_value None), amplification
    as a list whatever the config holds."""
    driver = config["driver"]
    amplification = list(np.atleast_1d(driver["amplification"]).tolist())
    return electrode_info({**config, "driver": {**driver, "amplification": amplification}}, None)


def source_config(reader: Reader, trust_pickle: bool) -> dict:
    """The peer-style sampling config (with electrode_info) of an opened source."""
    rec = getattr(reader, "recording", None)
    if rec is not None:
        config = bspysmg_config_dict(rec.config)
        config["electrode_info"] = _unclipped_info(config)
        return config
    if reader.kind in ("bspysmg-folder", "iodat") and getattr(reader, "config", None):
        config = bspysmg_config_dict(parse_peer_config(reader.config, reader.path))
        config["electrode_info"] = _unclipped_info(config)
        return config
    if reader.kind in ("bspysmg-npz", "npz"):
        config = read_npz_config(reader.path, trust_pickle=trust_pickle)
        if "electrode_info" not in config:
            try:
                config = {**config, "electrode_info": _unclipped_info(config)}
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise FileFormatError(
                    f"{reader.path}: its stored sampling config lacks what a dataset states "
                    f"({type(exc).__name__}: {exc})",
                    "Export it from its recording or sampling folder instead.",
                ) from None
        return config
    raise FileFormatError(
        f"{reader.path} carries no sampling config, so the peer could not train on it",
        "Export from samplelab recordings, bspysmg folders or postprocessed npz files.",
    )


def source_clipping(config: dict) -> list[float] | None:
    """The clipping range a source's rows went through: [lo, hi] nA, or None (raw rows)."""
    info = config.get("electrode_info") or {}
    value = (info.get("output_electrodes") or {}).get("clipping_value")
    if isinstance(value, dict):  # a JSON-tagged numpy array
        value = value.get("__ndarray__")
    if value is None:
        return None
    values = np.asarray(value, dtype=np.float64).ravel().tolist()
    return values if len(values) == 2 else None


def clipping_text(clip: list[float] | None) -> str:
    return "raw (not clipped)" if clip is None else f"clipped to [{clip[0]:g}, {clip[1]:g}] nA"


def clipping_mix(paths: Sequence[str | os.PathLike], clips: Sequence[list[float] | None]) -> str:
    """'' when every source went through the same clipping; else one line per source.

    Clipped and raw rows (or two clipping ranges) in one dataset are two output
    distributions, and the dataset's config can state only one clipping value.
    """
    if all(c == clips[0] for c in clips):
        return ""
    return "; ".join(f"{Path(p).name}: {clipping_text(c)}" for p, c in zip(paths, clips))


def _mixed_electrode_info(config: dict, clips: Sequence[list[float] | None]) -> dict:
    """A mixed dataset's config states the widest range: None once any source is raw."""
    config = copy.deepcopy(config)
    widest = None
    if all(c is not None for c in clips):
        widest = [min(c[0] for c in clips), max(c[1] for c in clips)]  # type: ignore[index]
    config["electrode_info"]["output_electrodes"]["clipping_value"] = widest
    return config


def _amplification(config: dict) -> np.ndarray:
    return np.atleast_1d(np.asarray(config["driver"]["amplification"], dtype=np.float64))


def _labels(n: int, percentages: list[float], blocks: bool, block_rows: int | None, seed: int):
    parts = (
        block_split_indices(n, percentages, block_rows, seed)
        if blocks
        else random_split_indices(n, percentages, seed)
    )
    labels = np.empty(n, dtype=np.uint8)
    for k, idx in enumerate(parts):
        labels[idx] = k
    return labels


def export_dataset(
    sources: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    blocks: bool = False,
    block_rows: int | None = None,
    seed: int = 0,
    trust_pickle: bool = False,
    overwrite: bool = False,
    mix_clipping: bool = False,
    max_memory: int | str = "256MiB",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Path]:
    """Write `<out_dir>/{train,validation,test}.npz`; returns the files written by split name.

    Sources that went through different clipping (a clipped npz and a raw
    recording) are refused unless `mix_clipping`; a mixed dataset's config then
    states the widest clipping (None once any source is raw) and lists each
    source's clipping in `samplelab_dataset`.
    """
    percentages = check_percentages(split)
    if not sources:
        raise SamplelabError("no sources to export", "Name at least one recording.")
    out = Path(out_dir)
    names = list(SPLIT_NAMES[: len(percentages)])
    targets = {name: out / f"{name}.npz" for name in names}
    clash = [str(p) for p in targets.values() if p.exists()]
    if clash and not overwrite:
        raise SamplelabError(
            f"{', '.join(clash)} already exist", "Choose another folder or allow overwriting."
        )
    readers = [open_reader(s, trust_pickle=trust_pickle, verified=True) for s in sources]
    try:
        configs = [source_config(r, trust_pickle) for r in readers]
        n_in = check_sources(readers, configs)
        clips = [source_clipping(c) for c in configs]
        mixed = clipping_mix([r.path for r in readers], clips)
        if mixed and not mix_clipping:
            raise SamplelabError(
                f"the sources mix clipped and raw data ({mixed})",
                "Postprocess the raw recordings with the same clipping first, or export "
                "them as separate datasets (the CLI's --mix-clipping mixes them anyway).",
            )
        labels = [
            _labels(r.n_rows, percentages, blocks, block_rows, seed + i)
            for i, r in enumerate(readers)
        ]
        sizes = [sum(int(np.count_nonzero(lab == k)) for lab in labels) for k in range(len(names))]
        out.mkdir(parents=True, exist_ok=True)
        budget = parse_memory(max_memory) // 4  # a block, its selection, its cast, slack
        stream = _Stream(readers, labels, n_in, budget, progress, cancel)
        stream.total = 2 * len(names) * sum(r.n_rows for r in readers)
        provenance = {
            "sources": [str(r.path) for r in readers],
            "split": percentages,
            "mode": ("blocks" if blocks else "random"),
            "block_rows": block_rows,
            "seed": seed,
            "clipping": clips,
        }
        first = _mixed_electrode_info(configs[0], clips) if mixed else configs[0]
        partial = {n: p.with_name(p.name + ".partial") for n, p in targets.items()}
        try:
            for k, name in enumerate(names):
                if not sizes[k]:
                    continue
                config = copy.deepcopy(first)
                config["samplelab_dataset"] = {**provenance, "part": name, "rows": sizes[k]}
                with NpzWriter(partial[name]) as npz:
                    n_out = readers[0].n_channels - n_in
                    npz.write_rows("inputs", (sizes[k], n_in), stream.rows(k, True))
                    npz.write_rows("outputs", (sizes[k], n_out), stream.rows(k, False))
                    npz.write_config(config)
        except BaseException:  # all or nothing: no file of a failed export stays
            for tmp in partial.values():
                tmp.unlink(missing_ok=True)
            raise
        written = {}
        try:
            for k, name in enumerate(names):
                if sizes[k]:
                    written[name] = replace_file(partial[name], targets[name])
                else:  # an empty split: no file, and no stale one from an earlier export
                    targets[name].unlink(missing_ok=True)
        finally:  # a part that could not be moved into place leaves no temporary behind
            for tmp in partial.values():
                discard(tmp)
        return written
    finally:
        for r in readers:
            r.close()


def check_sources(readers: list[Reader], configs: list[dict]) -> int:
    """Number of input channels; every source must match the first."""
    facts = [config_facts(c) for c in configs]
    n_in = facts[0]["n_inputs"]
    if not isinstance(n_in, int) or not 0 < n_in < readers[0].n_channels:
        raise FileFormatError(
            f"{readers[0].path}: its config says {n_in} inputs for {readers[0].n_channels} columns"
        )
    first_amp = _amplification(configs[0])
    for r, f, c in zip(readers[1:], facts[1:], configs[1:]):
        if f["n_inputs"] != n_in or r.n_channels != readers[0].n_channels:
            raise SamplelabError(
                f"{r.path} has {f['n_inputs']} inputs and {r.n_channels} columns, but "
                f"{readers[0].path} has {n_in} and {readers[0].n_channels}",
                "Only recordings of the same electrode layout can form one dataset.",
            )
        amp = _amplification(c)
        if amp.shape != first_amp.shape or not np.array_equal(amp, first_amp):
            raise SamplelabError(
                f"{r.path} was amplified by {amp.tolist()} but {readers[0].path} by "
                f"{first_amp.tolist()}",
                "Only recordings from the same setup (same amplification) can be combined.",
            )
    return n_in


def _line_of_row(reader: Reader) -> Any:
    """A text table's row -> line mapping (errors name lines there), else None."""
    layout = getattr(reader, "layout", None)
    return getattr(layout, "line_of_row", None)


class _Stream:
    """Rows of one split, inputs or outputs, from every source in order, in chunks."""

    def __init__(self, readers, labels, n_in, budget, progress, cancel) -> None:
        self.readers, self.labels, self.n_in = readers, labels, n_in
        self.budget, self.progress, self.cancel = budget, progress, cancel
        self.done, self.total = 0, 0

    def rows(self, part: int, inputs: bool) -> Iterator[np.ndarray]:
        for reader, labels in zip(self.readers, self.labels):
            n_ch = reader.n_channels
            channels = np.arange(self.n_in) if inputs else np.arange(self.n_in, n_ch)
            for first, block in reader.iter_chunks(channels=channels, max_memory=self.budget):
                if self.cancel is not None and self.cancel.cancelled:
                    raise Cancelled("dataset export cancelled")
                names = ("Input",) if inputs else ("Output",)
                check_finite_rows(reader.path, first, (block,), names, _line_of_row(reader))
                keep = labels[first : first + len(block)] == part
                yield np.compress(keep, block, 0)
                self.done += len(block)
                if self.progress is not None:
                    self.progress(JobProgress("export", self.done, self.total))

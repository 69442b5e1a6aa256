"""The dataset export dialog's backend work, as plain functions run on worker threads.

`probe_source` opens one source the way `backend.datasets.export_dataset`
will (raising `UntrustedPickleError` for a peer npz until the user trusts
it); `run_export` writes the splits and reads back how many rows each file
holds; `split_problem` / `expected_rows` validate the split as it is typed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.errors import SamplelabError

KIND_NAMES = {
    "recording": "recording",
    "bspysmg-folder": "bspysmg folder",
    "iodat": "IO.dat",
    "npz": "npz dataset",
    "bspysmg-npz": "bspysmg npz",
}


@dataclass(frozen=True)
class SourceProbe:
    path: str
    kind: str
    rows: int
    inputs: int
    outputs: int
    config_from: str  # "file" or "pickle (trusted)"
    clipping: list[float] | None = None  # what its rows went through; None: raw rows

    def describe(self) -> str:
        from backend.datasets.export import clipping_text

        kind = KIND_NAMES.get(self.kind, self.kind)
        text = f"{Path(self.path).name} — {kind}, {self.rows:,} rows, {self.inputs} in / "
        text += f"{self.outputs} out, {clipping_text(self.clipping)}"
        return f"{text}, config from a trusted pickle" if self.config_from != "file" else text


def probe_source(path: str, trust_pickle: bool) -> SourceProbe:
    """Open `path` as the export will and read its config (the pickle only when trusted)."""
    from backend.data.kinds import open_reader
    from backend.datasets.export import source_clipping, source_config

    with open_reader(path, trust_pickle=trust_pickle) as reader:
        config = source_config(reader, trust_pickle)
        n_in = int(config.get("input_data", {}).get("activation_electrode_no", 0))
        # trust is only given after the file said its config is a pickle
        pickled = trust_pickle and reader.kind in ("npz", "bspysmg-npz")
        return SourceProbe(
            str(path),
            reader.kind,
            reader.n_rows,
            n_in,
            reader.n_channels - n_in,
            "pickle (trusted)" if pickled else "file",
            source_clipping(config),
        )


def clipping_mix(probes: Sequence[SourceProbe]) -> str:
    """'' when the sources went through the same clipping; else what each went through."""
    from backend.datasets.export import clipping_mix as mix

    if not probes:
        return ""
    return mix([p.path for p in probes], [p.clipping for p in probes])


def split_problem(texts: Sequence[str], names: Sequence[str]) -> tuple[list[float] | None, str]:
    """(fractions, '') when the typed split is usable, else (None, what is wrong)."""
    from backend.datasets import check_percentages

    values = []
    for name, text in zip(names, texts):
        text = text.strip() or "0"
        try:
            values.append(float(text))
        except ValueError:
            return None, f"{name}: {text!r} is not a number"
    try:
        return check_percentages(values), ""
    except SamplelabError as exc:
        return None, exc.message[:1].upper() + exc.message[1:]


def expected_rows(rows: Sequence[int], fractions: Sequence[float]) -> list[int]:
    """Rows per split over all sources (each source is split on its own, as the export does)."""
    from backend.datasets import split_sizes

    total = [0] * len(fractions)
    for n in rows:
        for k, size in enumerate(split_sizes(n, fractions)):
            total[k] += size
    return total


@dataclass(frozen=True)
class ExportRequest:
    sources: list[str]
    out_dir: Path
    split: list[float]
    blocks: bool
    block_rows: int | None
    seed: int
    trust_pickle: bool
    overwrite: bool
    mix_clipping: bool = False


@dataclass(frozen=True)
class WrittenSplit:
    name: str
    path: Path
    rows: int


def existing_splits(out_dir: str | os.PathLike) -> list[Path]:
    from backend.datasets import SPLIT_NAMES

    return [p for n in SPLIT_NAMES if (p := Path(out_dir) / f"{n}.npz").exists()]


def run_export(request: ExportRequest, report: Any, token: Any) -> list[WrittenSplit]:
    """Write the splits (all or nothing), then read each file's row count from its header."""
    from backend.data.formats.npzfile import npz_array_info
    from backend.datasets import export_dataset

    written = export_dataset(
        request.sources,
        request.out_dir,
        request.split,
        blocks=request.blocks,
        block_rows=request.block_rows,
        seed=request.seed,
        trust_pickle=request.trust_pickle,
        overwrite=request.overwrite,
        mix_clipping=request.mix_clipping,
        progress=report,
        cancel=token,
    )
    return [
        WrittenSplit(name, Path(path), int(npz_array_info(path, "inputs")[0][0]))
        for name, path in written.items()
    ]

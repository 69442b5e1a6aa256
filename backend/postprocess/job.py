"""Postprocessing: a recording (or bspysmg folder, or several merged) -> a dataset.

Does what brainspy-smg's `post_process` does, with the same files and
numbers, in bounded memory:

- `charging_signal.npz` / `reference_batch.npz`: the LAST N*batch_points raw
  rows (before clipping; the two overlap), config without electrode_info.
- `electrode_info` as the peer computes it (voltage ranges float32 from
  offset +- amplitude, clipping value default `amplification * [-4, 4]`).
- Clipping DROPS rows whose mean over the outputs is not strictly inside
  (lo, hi).
- `postprocessed_data.npz`: the kept rows, config with electrode_info.
- `output_distribution.png`: histogram of `outputs[::3]`, 100 bins.

Plus `postprocessed_data.h5` (everything, for our tools; see
`backend.postprocess.results`). The chunk passes (what is read when, and why the
kept-row count must be known before an npz header is written) are in
`backend.postprocess.passes`. All files are written into a hidden staging
folder and renamed into place at the end: a failure or a cancel leaves the
output folder as it was.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.formats.npz_write import NpzWriter
from backend.data.histograms import Histogram, RowMeanHistogram
from backend.data.sources import SamplingSource, source_from
from backend.display.figures import output_distribution_png
from backend.errors import FileFormatError, SamplelabError
from backend.files import discard, replace_file
from backend.jobs import DEFAULT_CHUNK_ROWS, CancelToken, JobControl, ProgressFn
from backend.postprocess.electrodes import ClipSpec, clipping_value, electrode_info
from backend.postprocess.names import (
    DATA_NAME,
    FIGURE_NAME,
    NPZ_NAMES,
    OUTPUT_NAMES,
    RESULTS_NAME,
    TAILS,
)
from backend.postprocess.passes import Background, BufferPool, InputStats, OutputStats, run_summary
from backend.postprocess.results import ResultsWriter

DEFAULT_CHARGING_BATCHES = 40
DEFAULT_REFERENCE_BATCHES = 15


def default_output_dir(source_path: str | os.PathLike) -> Path:
    """A sampling folder itself (as the peer); `<stem>_postprocessed` beside a recording."""
    path = Path(source_path)
    return path if path.is_dir() else path.with_name(f"{path.stem}_postprocessed")


# --- the job ----------------------------------------------------------------------------


@dataclass
class PostprocessResult:
    """Where the results went and what they say."""

    out_dir: Path
    files: dict[str, Path]
    summary: dict
    histograms: dict[str, list[Histogram]] = field(default_factory=dict)
    row_means: RowMeanHistogram | None = None


def refuse_read_only(out: Path, names: Sequence[str] | None = None) -> None:
    """Refuse a folder (or result file) marked read-only, even for root.

    Write permission bits are how a lab marks ground truth (e.g. a sampling
    folder kept as reference); the peer's default of writing beside IO.dat
    must not overwrite such a folder just because the user runs as root.
    `names` defaults to every file postprocessing writes.
    """
    names = OUTPUT_NAMES if names is None else names
    marked = [out] if out.is_dir() and not out.stat().st_mode & 0o222 else []
    marked += [
        out / n for n in names if (out / n).is_file() and not (out / n).stat().st_mode & 0o222
    ]
    if marked:
        raise SamplelabError(
            f"{marked[0]} is read-only; postprocessing would replace files in it",
            "Choose another output folder with --out.",
        )


STAGING_PREFIX = ".samplelab-staging-"


class Staging:
    """A hidden folder inside `out` whose files are moved into `out` only on success.

    Every job that writes a set of result files uses it (postprocessing, I-V curves,
    consistency checks): a failure or a cancel leaves `out` as it was. A job that
    may run again after its worker was lost (`backend.fanout`) names its folder
    with a `tag`, so the retry starts by removing what the lost attempt left.
    """

    def __init__(self, out: Path, names: Sequence[str], tag: str | None = None) -> None:
        self.out = out
        self._created = not out.exists()
        refuse_read_only(out, names)
        try:
            out.mkdir(parents=True, exist_ok=True)
            if tag is None:
                self.dir = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
            else:  # a retried job: what a lost attempt left under this tag goes first
                self.dir = self.leftover(out, tag)
                discard(self.dir)
                self.dir.mkdir()
        except OSError as exc:
            raise SamplelabError(
                f"cannot write into {out}: {exc.strerror or exc}", "Choose another --out folder."
            ) from None

    def commit(self, names: Sequence[str]) -> dict[str, Path]:
        moved = {}
        for name in names:
            moved[name] = replace_file(self.dir / name, self.out / name)
        shutil.rmtree(self.dir, ignore_errors=True)
        return moved

    @staticmethod
    def leftover(out: Path, tag: str) -> Path:
        """The staging folder of the job tagged `tag` in `out` (a lost worker may leave it)."""
        return out / f"{STAGING_PREFIX}{tag}"

    def abandon(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._created:
            with contextlib.suppress(OSError):
                self.out.rmdir()


def postprocess(
    source: str | os.PathLike | Sequence[str | os.PathLike] | SamplingSource,
    out_dir: str | os.PathLike | None = None,
    *,
    clip: ClipSpec = "default",
    charging_batches: int = DEFAULT_CHARGING_BATCHES,
    reference_batches: int = DEFAULT_REFERENCE_BATCHES,
    figure: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    staging_tag: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> PostprocessResult:
    """Postprocess one source, or several merged (a list of paths), into `out_dir`.

    `staging_tag` names the hidden staging folder (see `Staging`) for a job that
    may be retried.
    """
    for name, n in (("charging", charging_batches), ("reference", reference_batches)):
        if n < 1:
            raise SamplelabError(f"{name} batches must be >= 1 (got {n})")
    ctl = JobControl(progress, cancel)
    with source_from(source) as src:
        peer = src.peer_config()
        clip_value = clipping_value(clip, peer["driver"]["amplification"])
        config = copy.deepcopy(peer)
        config["electrode_info"] = electrode_info(peer, clip_value)
        out = Path(out_dir) if out_dir is not None else default_output_dir(src.path)
        stage = Staging(out, OUTPUT_NAMES, staging_tag)
        try:
            return _run(
                src,
                stage,
                peer,
                config,
                clip_value,
                charging_batches,
                reference_batches,
                figure,
                chunk_rows,
                ctl,
            )
        except BaseException:
            stage.abandon()
            raise


def _run(
    src: SamplingSource,
    stage: Staging,
    peer: dict,
    config: dict,
    clip_value: list[float] | None,
    charging_batches: int,
    reference_batches: int,
    figure: bool,
    chunk_rows: int,
    ctl: JobControl,
) -> PostprocessResult:
    cfg, total, bp = src.config, src.n_rows, src.batch_points
    tails = {
        "charging_signal": max(0, total - charging_batches * bp),
        "reference_batch": max(0, total - reference_batches * bp),
    }
    writer = ResultsWriter(
        stage.dir / RESULTS_NAME,
        src.input_names,
        src.output_names,
        {name: (start, total) for name, start in tails.items()},
        most_rows=total,
    )
    wave = np.stack([cfg.offset() - cfg.amplitude(), cfg.offset() + cfg.amplitude()], axis=1)
    outs = OutputStats(cfg.n_outputs, clip_value, stage.dir)
    ins = InputStats(wave)
    bg = Background()
    npz: NpzWriter | None = None
    member = None
    output_results: dict[str, Any] = {}
    try:
        if src.reader.columns_read_alone:
            # The raw tails need no clipping mask: their npz files are written
            # from the source in the background while the outputs are scanned.
            bg.submit(_write_tail_files, src, stage.dir, tails, peer, chunk_rows)
            for first, y in src.iter_output_chunks(chunk_rows):
                ctl.report("scanning outputs", first, total)
                keep = outs.add(first, y)
                if keep is not None:
                    writer.add_runs(first, keep)
            writer.expect_kept_rows(outs.kept_rows)
            # Output statistics are complete now: the background has time for them.
            bg.submit(_output_results, outs, src.output_names, output_results)
            npz = NpzWriter(stage.dir / DATA_NAME)
            member = npz.open_rows("inputs", (outs.kept_rows, cfg.n_inputs))
        rows = 0
        # Streaming (two passes): blocks are read into two reused buffers and the
        # kept inputs copied into pooled ones that come back once the background
        # thread wrote them; fresh multi-MB arrays cost a page fault per 4 KiB.
        streaming = member is not None
        pool = BufferPool(3, (chunk_rows, cfg.n_inputs)) if streaming else None
        for first, x, y in src.iter_chunks(chunk_rows, reuse=streaming):
            ctl.report("reading", first, total)
            if pool is not None:
                buffer = pool.take(bg)
                kx, ky = _kept_into(buffer, x, y, outs.keep(y)[1])
            else:
                keep = outs.add(first, y)
                kx, ky = x, y
                if keep is not None:
                    writer.add_runs(first, keep)
                    # np.compress copies rows ~4x faster than boolean indexing
                    kx, ky = np.compress(keep, x, 0), np.compress(keep, y, 0)
            lo, hi = ins.add_raw(x)
            writer.add(first, x, y, kx, ky)
            bg.submit(ins.hist.add, ins.kept_sample(kx), lo, hi)
            if pool is not None:
                bg.submit(member.write, kx)
                bg.submit(pool.give, buffer)
            rows = first + len(x)
        bg.join()
        ctl.report("reading", rows, total)
        if rows != total or writer.kept != outs.kept_rows:
            raise FileFormatError(
                f"{src.path} changed while it was read ({rows} of {total} rows, "
                f"{writer.kept} kept rows of {outs.kept_rows})",
                "Postprocess it again once nothing is writing to it.",
            )
        if not output_results:
            _output_results(outs, src.output_names, output_results)
        histograms = {
            "outputs": output_results["histograms"],
            "inputs": ins.hist.histograms(src.input_names, "V"),
        }
        row_means = output_results["row_means"]
        summary = run_summary(
            src,
            writer.kept,
            clip_value,
            config,
            ins.raw,
            outs.raw,
            outs.kept,
            charging_batches,
            reference_batches,
            tails,
        )
        names = _write_npz_files(stage.dir, writer, peer, config, ctl, npz, member)
        names += [NPZ_NAMES[t] for t in TAILS if npz is not None]
        npz = None
        writer.finish(config, summary, histograms, row_means)
    except BaseException:
        bg.join(reraise=False)
        if member is not None:
            member.discard()  # an open member would keep the zip from closing
        if npz is not None:
            npz.close()
        writer.close()
        raise
    finally:
        outs.close()
    names.insert(0, RESULTS_NAME)
    if figure:
        ctl.report("figure", 0, 1)
        output_distribution_png(histograms["outputs"], stage.dir / FIGURE_NAME, clip_value)
        names.append(FIGURE_NAME)
    ctl.check()
    files = stage.commit(names)
    return PostprocessResult(stage.out, files, summary, histograms, row_means)


def _kept_into(
    buffer: np.ndarray, x: np.ndarray, y: np.ndarray, keep: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The kept rows of x in the leading rows of `buffer`, and those of y."""
    if keep is None:
        kx = buffer[: len(x)]
        kx[...] = x
        return kx, y
    rows = np.flatnonzero(keep)
    # take(mode="clip") fills `out` directly (compress would copy through a temporary)
    kx = np.take(x, rows, 0, out=buffer[: len(rows)], mode="clip")
    return kx, np.compress(keep, y, 0)


def _output_results(outs: OutputStats, names: list[str], into: dict[str, Any]) -> None:
    """The output histograms and row-mean histogram, once every output was seen."""
    into["histograms"] = outs.histograms(names)
    into["row_means"] = outs.row_means()


def _write_npz_files(
    folder: Path,
    writer: ResultsWriter,
    peer: dict,
    config: dict,
    ctl: JobControl,
    npz: NpzWriter | None,
    member: Any,
) -> list[str]:
    """The npz files not written during the pass, from the results; returns their names."""
    groups = {"postprocessed_data": (writer.inputs, writer.outputs, config)}
    if npz is None:  # else the background wrote the tails' files already
        for tail in TAILS:
            groups[tail] = (*writer.tail_datasets(tail), peer)
    total = sum(x.shape[0] for x, _, _ in groups.values())
    done = 0
    for key, (xs, ys, cfg) in groups.items():
        streamed = key == "postprocessed_data" and npz is not None
        with npz if streamed else NpzWriter(folder / NPZ_NAMES[key]) as out:
            if streamed:
                member.close()
            else:
                out.write_rows("inputs", xs.shape, _blocks(xs, ctl, done, total))
            out.write_rows("outputs", ys.shape, _blocks(ys, ctl, done, total))
            out.write_config(cfg)
        done += xs.shape[0]
    return [NPZ_NAMES[key] for key in groups]


def _write_tail_files(
    src: SamplingSource, folder: Path, tails: dict[str, int], peer: dict, rows: int
) -> None:
    """Background: `charging_signal.npz` and `reference_batch.npz` straight from the source."""
    total, n_in = src.n_rows, src.n_inputs
    channels = {"inputs": np.arange(n_in), "outputs": np.arange(n_in, src.reader.n_channels)}
    for name, start in tails.items():
        with NpzWriter(folder / NPZ_NAMES[name]) as out:
            for key, cols in channels.items():
                blocks = (
                    src.reader.read(a, min(a + rows, total), cols)
                    for a in range(start, total, rows)
                )
                out.write_rows(key, (total - start, len(cols)), blocks)
            out.write_config(peer)


def _blocks(ds: Any, ctl: JobControl, done: int, total: int, rows: int = 1 << 17):
    for start in range(0, ds.shape[0], rows):
        ctl.report("writing npz", done + start, total)
        yield ds[start : start + rows]

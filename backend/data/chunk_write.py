"""Disk mode of `ChunkProcessor.write`: a raw file + sidecar, in one or many processes.

The first chunk is run here to learn the output's channels and dtype; the
file is then preallocated at its final size under a `.partial` name and every
chunk is written at its own offset (row offset x row bytes), by this process
or by pool workers that each open the file themselves. No worker waits on
another, and the bytes are the same for any number of workers. The sidecar is
written and the file renamed into place only when every chunk is in, so an
interrupted job never leaves a file that looks complete.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.data.formats.raw import RawLayout, sidecar_path, write_sidecar
from backend.errors import Cancelled, SamplelabError
from backend.files import replace_file

if TYPE_CHECKING:
    from backend.data.chunks import ChunkInfo, ChunkProcessor, Chunks

_WORKER: dict[str, Any] = {}

IF_EXISTS = ("abort", "overwrite", "skip")


def run_function(
    function: Callable | None,
    chunk: np.ndarray,
    info: ChunkInfo,
    pass_info: bool,
    kwargs: dict,
    cast_dtype: Any,
) -> np.ndarray:
    """function(chunk) as (data rows, channels), buffer dropped and cast; checked."""
    result = (
        chunk
        if function is None
        else function(chunk, **({"info": info} if pass_info else {}), **kwargs)
    )
    result = np.asarray(result)
    data_rows = info.rows.stop - info.rows.start
    if result.ndim == 1:
        result = result.reshape(-1, 1)
    if result.ndim != 2 or result.shape[0] not in (data_rows, len(chunk)):
        raise SamplelabError(
            f"chunk {info.index}: the function returned shape {result.shape}; writing to disk "
            f"needs one row per input row ({data_rows}, or {len(chunk)} with the buffer)",
            "Use map() for functions that summarise chunks.",
        )
    if result.shape[0] != data_rows:
        result = result[info.local]
    if cast_dtype is not None:
        result = result.astype(cast_dtype, copy=False)
    return np.ascontiguousarray(result)


def output_exists(path: Path) -> bool:
    return path.exists() or sidecar_path(path).exists()


def remove_output(path: Path) -> None:
    """Delete a raw output and its sidecar (only ever called on our own outputs)."""
    path.unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)


def _same_file(a: Path | None, b: Path) -> bool:
    if a is None:
        return False
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def write_chunks(
    proc: ChunkProcessor,
    function: Callable | None,
    output: Path,
    *,
    if_exists: str,
    cast_dtype: Any,
    processes: int,
    pass_info: bool,
    kwargs: dict,
) -> Path:
    if if_exists not in IF_EXISTS:
        raise SamplelabError(f"if_exists must be one of {', '.join(IF_EXISTS)} (got {if_exists!r})")
    if _same_file(proc.source_path, output) or _same_file(proc.source_path, sidecar_path(output)):
        raise SamplelabError(
            f"{output} is the source file; refusing to overwrite it", "Choose another output name."
        )
    if output_exists(output):
        if if_exists == "skip":
            return output
        if if_exists == "abort":
            raise SamplelabError(
                f"{output} already exists", "Choose another name, or use if_exists='overwrite'."
            )
    if processes < 1:
        raise SamplelabError(f"processes must be >= 1 (got {processes})")
    plan = proc.plan
    spec = {"function": function, "pass_info": pass_info, "kwargs": kwargs, "cast": cast_dtype}
    partial = output.with_name(output.name + ".partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        layout = _run(proc, plan, spec, partial, processes)
        remove_output(output)
        replace_file(partial, output)
        write_sidecar(output, layout)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output


def _run(
    proc: ChunkProcessor, plan: Chunks, spec: dict, partial: Path, processes: int
) -> RawLayout:
    n = len(plan)
    reader = proc.reader
    if n:
        proc._check()
        chunk, info = plan.load(0)
        first = run_function(spec["function"], chunk, info, spec["pass_info"], spec["kwargs"],
                             spec["cast"])  # fmt: skip
        del chunk
        n_out, dtype = first.shape[1], first.dtype
    else:
        n_out = len(plan.channels)
        dtype = np.dtype(spec["cast"] or reader.dtype)
    rows = plan.stop - plan.start
    row_bytes = n_out * dtype.itemsize
    with open(partial, "wb") as fh:
        fh.truncate(rows * row_bytes)
    shape = (n_out, dtype.str)
    with proc._progress() as bar:
        if n:
            _write_at(partial, 0, first)
            del first
            proc._tick(bar, 1)
        if processes == 1 or n <= 2:
            for i in range(1, n):
                proc._check()
                _write_one(plan, spec, partial, row_bytes, shape, i)
                proc._tick(bar, i + 1)
        else:
            _run_pool(proc, plan, spec, partial, row_bytes, shape, processes, bar)
    keeps_channels = n_out == len(plan.channels)
    return RawLayout(
        dtype=dtype.str,
        n_channels=n_out,
        order="samples",
        n_rows=rows,
        sampling_frequency=reader.fs,
        channel_names=[reader.channel_names[c] for c in plan.channels] if keeps_channels else None,
        units=[reader.units[c] for c in plan.channels] if keeps_channels else None,
    )


def _write_at(path: Path, offset: int, array: np.ndarray) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(memoryview(array).cast("B"))


def _write_one(plan: Chunks, spec: dict, path: Path, row_bytes: int, shape: tuple, i: int) -> int:
    chunk, info = plan.load(i)
    result = run_function(spec["function"], chunk, info, spec["pass_info"], spec["kwargs"],
                          spec["cast"])  # fmt: skip
    del chunk
    if (result.shape[1], result.dtype.str) != shape:
        raise SamplelabError(
            f"chunk {i}: the function returned {result.shape[1]} channels of {result.dtype}, "
            f"but the first chunk gave {shape[0]} of {np.dtype(shape[1])}",
            "Return the same number of channels and dtype for every chunk (or set cast_dtype).",
        )
    _write_at(path, (info.rows.start - plan.start) * row_bytes, result)
    return i


def _init_worker(plan: Chunks, spec: dict, path: Path, row_bytes: int, shape: tuple) -> None:
    _WORKER.update(plan=plan, spec=spec, path=path, row_bytes=row_bytes, shape=shape)


def _work(i: int) -> int:
    w = _WORKER
    return _write_one(w["plan"], w["spec"], w["path"], w["row_bytes"], w["shape"], i)


def _run_pool(proc, plan, spec, path, row_bytes, shape, processes, bar) -> None:
    for what, obj, hint in (
        ("the function", spec, "Use a function defined at module level, or processes=1."),
        ("the data source", plan, "Open it with open_reader (workers reopen it), or processes=1."),
    ):
        try:
            pickle.dumps(obj)
        except Exception as exc:  # lambdas, closures, open handles...
            raise SamplelabError(
                f"{what} cannot be sent to worker processes ({exc})", hint
            ) from None
    ctx = multiprocessing.get_context("spawn")
    pending: set[Future] = set()
    todo = iter(range(1, len(plan)))
    done = 1
    with ProcessPoolExecutor(
        processes, mp_context=ctx, initializer=_init_worker,
        initargs=(plan, spec, path, row_bytes, shape),
    ) as pool:  # fmt: skip
        try:
            for i in todo:
                pending.add(pool.submit(_work, i))
                if len(pending) >= 2 * processes:
                    break
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
                    done += 1
                    proc._tick(bar, done)
                proc._check()
                for i in todo:
                    pending.add(pool.submit(_work, i))
                    if len(pending) >= 2 * processes:
                        break
        except BrokenProcessPool:
            raise SamplelabError(
                "a worker process died while processing chunks",
                "Run with processes=1 to see the error, or give the job more memory.",
            ) from None
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if done != len(plan):  # pragma: no cover - defensive
        raise Cancelled("chunk processing stopped early")

"""Chains of chunk steps: each step reads the previous step's output.

Every step is a `ChunkProcessor.write` into `output_dir/<output_name>` (raw +
sidecar). A step with `keep=False` has its output deleted once the next step
has read it; the last step's output is always kept, and the user's source
file is never written to or deleted: a step whose output would land on the
source is refused before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.data.chunk_write import remove_output
from backend.data.chunks import ChunkProcessor, ProgressFn
from backend.data.formats.raw import sidecar_path
from backend.data.reader import Reader
from backend.errors import SamplelabError
from backend.jobs import CancelToken


@dataclass
class Step:
    """One transformation: function(chunk, **kwargs) written to `output_name`."""

    function: Callable | None
    output_name: str
    keep: bool = True
    if_exists: str = "abort"
    cast_dtype: Any = None
    pass_info: bool = False
    kwargs: dict = field(default_factory=dict)


class ChunkPipeline:
    """Run steps in order over a source; channel/row selection applies to the first step."""

    def __init__(
        self,
        source: str | os.PathLike | Reader,
        output_dir: str | os.PathLike,
        *,
        max_memory: int | str = "256MiB",
        buffer: int = 0,
        channels: Any = None,
        start: int | None = None,
        stop: int | None = None,
        processes: int = 1,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
        on_step: Callable[[int, Step], None] | None = None,
        cancel: CancelToken | None = None,
        **open_options: Any,
    ) -> None:
        self.source = source
        self.output_dir = Path(output_dir)
        self.steps: list[Step] = []
        self.first_options = {"channels": channels, "start": start, "stop": stop, **open_options}
        self.common = {
            "max_memory": max_memory,
            "buffer": buffer,
            "show_progress": show_progress,
            "progress": progress,
            "cancel": cancel,
        }
        self.processes = processes
        self.on_step = on_step

    def add(self, *steps: Step) -> ChunkPipeline:
        self.steps.extend(steps)
        return self

    def outputs(self) -> list[Path]:
        return [self.output_dir / s.output_name for s in self.steps]

    def _check_outputs(self) -> None:
        source = self.source.path if isinstance(self.source, Reader) else Path(self.source)
        protected = {p.resolve() for p in [source] if p is not None}
        if source is not None:
            protected.add(sidecar_path(source).resolve())
        seen = set()
        for out in self.outputs():
            for p in (out, sidecar_path(out)):
                if p.resolve() in protected:
                    raise SamplelabError(
                        f"step output {out} would overwrite the source {source}",
                        "Give the step another output_name or output_dir.",
                    )
            if out.resolve() in seen:
                raise SamplelabError(f"two steps write to {out}", "Give each step its own name.")
            seen.add(out.resolve())

    def run(self) -> list[Path]:
        """Run every step; returns each step's output path (deleted ones included)."""
        if not self.steps:
            raise SamplelabError("the pipeline has no steps", "add() at least one Step.")
        self._check_outputs()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        current: str | os.PathLike | Reader = self.source
        previous_step: tuple[Step, Path] | None = None
        written = []
        for i, step in enumerate(self.steps):
            if self.on_step is not None:
                self.on_step(i, step)
            options = self.first_options if i == 0 else {}
            out = self.output_dir / step.output_name
            with ChunkProcessor(current, **self.common, **options) as proc:
                proc.stage = f"step {i + 1} of {len(self.steps)}: {step.output_name}"
                proc.write(
                    step.function,
                    out,
                    if_exists=step.if_exists,
                    cast_dtype=step.cast_dtype,
                    processes=self.processes,
                    pass_info=step.pass_info,
                    **step.kwargs,
                )
            if previous_step is not None and not previous_step[0].keep:
                remove_output(previous_step[1])
            previous_step = (step, out)
            written.append(out)
            current = out
        return written

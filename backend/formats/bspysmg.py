"""Folders that brainspy-smg's own scripts read: IO.dat + sampler_configs.json."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from backend.config import BSPYSMG_CONFIG_NAME, config_to_bspysmg_yaml
from backend.errors import RecordingError
from backend.formats.iodat import IODAT_NAME, write_iodat
from backend.recording import Recording


def export_bspysmg_folder(
    recording: str | os.PathLike | Recording,
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Path:
    """Write a recording as a bspysmg sampling folder; returns the folder.

    The config records the batches actually sampled, so the peer's
    post_process (which requires rows == number_batches * batch_points)
    accepts a folder exported from an interrupted recording too.
    """
    out = Path(out_dir)
    targets = [out / IODAT_NAME, out / BSPYSMG_CONFIG_NAME]
    if not overwrite and any(t.exists() for t in targets):
        raise RecordingError(
            f"{out} already holds a bspysmg export", "Choose another folder or allow overwriting."
        )
    rec = recording if isinstance(recording, Recording) else Recording(recording)
    try:
        out.mkdir(parents=True, exist_ok=True)
        config = rec.config.model_copy(deep=True)
        config.input_data.number_batches = rec.batches_done
        blocks = ((x, y) for _, x, y in rec.iter_chunks())
        write_iodat(targets[0], blocks, rec.config.n_inputs, rec.config.n_outputs, on_rows)
        text = config_to_bspysmg_yaml(config, save_directory=str(out))
        targets[1].write_text(text, encoding="utf-8")
    finally:
        if rec is not recording:
            rec.close()
    return out

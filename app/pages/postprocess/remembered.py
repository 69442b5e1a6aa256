"""What the Postprocess page remembers between runs (declared once; see app/settings.py)."""

from __future__ import annotations

from app.settings import Setting

CHARGING_BATCHES = Setting("postprocess/charging_batches", int, 40)
REFERENCE_BATCHES = Setting("postprocess/reference_batches", int, 15)
CLIP_MODE = Setting("postprocess/clip_mode", str, "default")
CLIP_LO = Setting("postprocess/clip_lo", float, -150.0)  # nA, the custom clipping range
CLIP_HI = Setting("postprocess/clip_hi", float, 150.0)
SOURCE_FOLDER = Setting("postprocess/last_folder", str, "")  # where recordings were added
EXPORT_FOLDER = Setting("postprocess/export_folder", str, "")  # where the last export went
EACH = Setting("postprocess/each", bool, False)  # each source on its own, not merged
RUN_ON = Setting("postprocess/run_on", str, "here")  # here, a local cluster, a scheduler
WORKERS = Setting("postprocess/workers", int, 2)  # worker processes of a local cluster
SCHEDULER = Setting("postprocess/scheduler", str, "")  # a Dask scheduler's address

SETTINGS = (
    CHARGING_BATCHES,
    REFERENCE_BATCHES,
    CLIP_MODE,
    CLIP_LO,
    CLIP_HI,
    SOURCE_FOLDER,
    EXPORT_FOLDER,
    EACH,
    RUN_ON,
    WORKERS,
    SCHEDULER,
)

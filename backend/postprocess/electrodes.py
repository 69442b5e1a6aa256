"""The peer's electrode info and clipping rules, as brainspy-smg computes them.

`electrode_info` goes into `postprocessed_data.npz`'s config; the clipping
value decides which rows postprocessing drops (those whose mean output is
not strictly inside it). The GUI's clipping preview and dataset export use
the same rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.config import ADC_LIMIT_V as ADC_LIMIT
from backend.config import saturation_current
from backend.errors import SamplelabError

ClipSpec = Any  # "default" | None | (lo, hi) | a number x meaning (-x, x)


def parse_clip(text: str) -> ClipSpec:
    """CLI text -> clip spec: 'default', 'none', 'LO,HI' or 'X' (= -X,X)."""
    t = text.strip().lower()
    if t == "default":
        return "default"
    if t in ("none", "off", "no"):
        return None
    try:
        values = [float(v) for v in t.split(",")]
    except ValueError:
        raise SamplelabError(
            f"clipping range {text!r} is not understood",
            "Use default, none, or LO,HI in nA (e.g. -150,150).",
        ) from None
    if len(values) == 1:
        return abs(values[0])
    if len(values) == 2:
        return values
    raise SamplelabError(f"clipping range {text!r} needs two values", "Use LO,HI in nA.")


def clipping_value(clip: ClipSpec, amplification: Sequence[float]) -> list[float] | None:
    """[lo, hi] in nA, or None for no clipping.

    'default' is the ADC limit (+-4 V) times the amplification, computed as the
    peer does for one output; with several outputs the mean amplification
    (the peer's formula only works for one).
    """
    if clip is None:
        return None
    if isinstance(clip, str):
        if clip != "default":
            return clipping_value(parse_clip(clip), amplification)
        amp = np.asarray(amplification, dtype=float)
        scale = amp if amp.size == 1 else np.asarray([amp.mean()])
        return (scale * np.array([-ADC_LIMIT, ADC_LIMIT])).tolist()
    if isinstance(clip, (int, float)):
        clip = [-abs(clip), abs(clip)]
    lo, hi = (float(v) for v in clip)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise SamplelabError(
            f"clipping range [{lo}, {hi}] keeps nothing", "Give LO < HI (nA), both finite."
        )
    return [lo, hi]


def kept_by_clipping(means: np.ndarray, clip_value: Sequence[float]) -> np.ndarray:
    """The rows clipping keeps: mean output (float64, `histograms.row_means`) strictly
    inside (lo, hi); NaN means are dropped. `backend.postprocess.preview.RowMeans` counts
    the same."""
    return (means > float(clip_value[0])) & (means < float(clip_value[1]))


def saturation_limits(amplification: Sequence[float]) -> list[tuple[float, float]]:
    """Per output, the (low, high) currents (nA) where the ADC saturates, as pairs for
    `at_limit`: ± `backend.config.saturation_current`. A reading at the limit is the
    ADC's last code, not the device's current: it is what the default clipping drops.
    """
    return [(-float(c), float(c)) for c in saturation_current(amplification)]


def at_limit(values: np.ndarray, limits: tuple[float, float], rel: float = 1e-9) -> np.ndarray:
    """Where `values` sit at (or beyond) the saturation limits, within `rel` of them."""
    lo, hi = limits
    return (values <= lo + rel * abs(lo)) | (values >= hi - rel * abs(hi))


def voltage_ranges(offset: Any, amplitude: Any) -> np.ndarray:
    """(n, 2) float32 [offset - amplitude, offset + amplitude], computed in float32 as the peer."""
    off = np.asarray(offset, dtype=np.float32)
    amp = np.asarray(amplitude, dtype=np.float32)
    return np.stack([off - amp, off + amp], axis=1)


def electrode_info(peer_config: dict, clip_value: list[float] | None) -> dict:
    """The peer's `electrode_info` for a config dict and a resolved clipping value."""
    data = peer_config["input_data"]
    n_in, n_out = data["activation_electrode_no"], data["readout_electrode_no"]
    return {
        "electrode_no": n_in + n_out,
        "activation_electrodes": {
            "electrode_no": n_in,
            "voltage_ranges": voltage_ranges(data["offset"], data["amplitude"]),
        },
        "output_electrodes": {
            "electrode_no": n_out,
            "amplification": peer_config["driver"]["amplification"],
            "clipping_value": clip_value,
        },
    }

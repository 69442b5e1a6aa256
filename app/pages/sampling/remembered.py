"""What the Sampling page remembers between runs (declared once; see app/settings.py)."""

from __future__ import annotations

from app.settings import Setting
from widgets.saturation import DEFAULT_THRESHOLD_PCT

DEVICE = Setting("sampling/device", str, "simulated")  # chosen again once discovery ends
REALTIME = Setting("sampling/realtime", bool, True)
OPERATOR = Setting("sampling/operator", str, "")  # the run notes' operator; the rest is per run
SATURATION_PCT = Setting("sampling/saturation_threshold_pct", float, DEFAULT_THRESHOLD_PCT)
TWIN_MODEL = Setting("models/twin_model", str, "")  # the "Surrogate model…" device's file
TWIN_NOISE = Setting("models/twin_noise", float, -0.01)  # -0.01: the model's test RMSE

SETTINGS = (DEVICE, REALTIME, OPERATOR, SATURATION_PCT, TWIN_MODEL, TWIN_NOISE)

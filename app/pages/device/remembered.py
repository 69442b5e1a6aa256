"""What the Device page remembers between runs (declared once; see app/settings.py)."""

from __future__ import annotations

from app.settings import Setting

CONFIG = Setting("device/config", str, "")  # the wiring's config file, loaded again if it exists
OUT_DIR = Setting("device/out_dir", str, "")
REALTIME = Setting("device/realtime", bool, True)

SETTINGS = (CONFIG, OUT_DIR, REALTIME)

"""What the Recordings page remembers between runs (declared once; see app/settings.py)."""

from __future__ import annotations

from app.settings import Setting

ROOT = Setting("recordings/root", str, "")  # only a folder the user chose
STACKED = Setting("recordings/stacked", bool, True)

SETTINGS = (ROOT, STACKED)

"""What the Streams page remembers between runs (declared once; see app/settings.py)."""

from __future__ import annotations

from app.settings import Setting

SOURCE = Setting("streams/source", str, "random")
PATH = Setting("streams/path", str, "")  # the file source's file
MODEL = Setting("streams/model", str, "")  # the surrogate model drawn beside the output

SETTINGS = (SOURCE, PATH, MODEL)

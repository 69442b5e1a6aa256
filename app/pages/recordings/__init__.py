"""The Recordings page and its parts (one package per page)."""

from app.pages.recordings.page import RecordingsPage

__all__ = ["RecordingsPage"]

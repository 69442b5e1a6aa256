"""The Streams page and its parts (one package per page)."""

from app.pages.streams.page import StreamsPage

__all__ = ["StreamsPage"]

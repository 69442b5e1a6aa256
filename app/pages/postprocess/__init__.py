"""The Postprocess page and its parts (one package per page)."""

from app.pages.postprocess.page import PostprocessPage

__all__ = ["PostprocessPage"]

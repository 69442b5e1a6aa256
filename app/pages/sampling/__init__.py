"""The Sampling page and its parts (one package per page)."""

from app.pages.sampling.page import SamplingPage

__all__ = ["SamplingPage"]

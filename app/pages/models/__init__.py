"""The Models page package: train, evaluate and use surrogate models (see `page`)."""

from app.pages.models.page import ModelsPage

__all__ = ["ModelsPage"]

"""Pages of the main window and what they share.

A page is a `Page` subclass registered with `@register_page`; the window
shows registered pages as tabs in `order`. To add one, write a module here,
decorate its class, and add the module to `PAGE_MODULES`. Every page gets the
same `AppContext` (app/context.py): settings, the worker pool (run backend jobs on threads),
the error dialog, the status bar, the current theme and the session service
(app/sessions.py: what drives the device). Pages never import each other:
they talk through the service's signals and `AppContext.open_in_page`. Pages contribute
actions to the menu bar through `menu_actions()` and tell the window whether
closing now would interrupt something (`busy_reason` / `shutdown`) or lose
unsaved edits (`confirm_close`).
"""

from __future__ import annotations

import importlib

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.context import AppContext
from app.settings import AppSettings
from app.theme import Theme

#: Modules whose import registers pages; later pages add themselves here.
PAGE_MODULES = [
    "app.pages.sampling",
    "app.pages.postprocess",
    "app.pages.recordings",
    "app.pages.streams",
    "app.pages.device",
    "app.pages.models",
]

_REGISTRY: list[type[Page]] = []


class Page(QWidget):
    """Base of every page: a tab with its own menu actions, theme and shutdown."""

    key = "page"  # settings prefix and object name
    title = "Page"
    order = 100
    title_changed = Signal()  # title_suffix() changed (e.g. a config was edited)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"page_{self.key}")

    def menu_actions(self) -> dict[str, list[QAction | None]]:
        """Menu title ('File', 'Session'...) -> actions (None = separator)."""
        return {}

    def set_theme(self, theme: Theme) -> None:
        """Follow the application theme (plots paint their own colours)."""

    def busy_reason(self) -> str | None:
        """Why closing now would interrupt work ('a sampling session is running'), or None."""
        return None

    def open_file(self, path: str) -> bool:
        """Show `path`, offered by another page; False if this page does not open files."""
        return False

    def confirm_close(self) -> bool:
        """Ask about unsaved work before the window closes; False keeps the window open."""
        return True

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop this page's work safely before the window closes."""

    def save_state(self, settings: AppSettings) -> None:
        """Remember what should survive a restart (called when the window closes)."""

    def title_suffix(self) -> str:
        """Text for the window title while this page is shown (e.g. the config file)."""
        return ""


def register_page(cls: type[Page]) -> type[Page]:
    if cls not in _REGISTRY:
        _REGISTRY.append(cls)
    return cls


def page_classes() -> list[type[Page]]:
    """Every registered page class, in tab order."""
    for module in PAGE_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY, key=lambda cls: cls.order)

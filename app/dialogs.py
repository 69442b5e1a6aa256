"""Shared dialogs: errors that say what to do, confirmations, file choosers.

A `SamplelabError` is shown as its message and its hint, never a traceback.
Anything else is a bug: the dialog says so, keeps the traceback behind the
"Show Details" button and logs it. Error dialogs are window-modal but not
blocking (`open`, not `exec`), so a worker's outcome never nests event loops.
Confirmations and file choosers block and return the answer; they go through
the QMessageBox / QFileDialog static functions, which tests replace.
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from backend.errors import SamplelabError, from_os_error

log = logging.getLogger(__name__)

_open_dialogs: list[ErrorDialog] = []


class ErrorDialog(QMessageBox):
    """One error: `message` (what went wrong), `hint` (what to do), `details` (for bugs)."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        details: str = "",
        title: str = "samplelab",
        unexpected: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.message, self.hint, self.details = message, hint, details
        self.setWindowTitle(title)
        self.setIcon(QMessageBox.Icon.Critical if unexpected else QMessageBox.Icon.Warning)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(message)
        if hint:
            self.setInformativeText(hint)
        if details:
            self.setDetailedText(details)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowModality(Qt.WindowModality.WindowModal)


def error_parts(exc: BaseException, context: str = "") -> tuple[str, str, str, bool]:
    """(message, hint, details, unexpected) for an exception, as the dialog shows them."""
    if isinstance(exc, OSError):  # disk full, permissions, a drive gone: not a bug of ours
        exc = from_os_error(exc)
    if isinstance(exc, SamplelabError):
        hint = "\n\n".join(part for part in (exc.hint, context) if part)
        cause = exc.__cause__
        details = f"Reported by {type(cause).__name__}: {cause}" if cause is not None else ""
        return exc.message, hint, details, False
    message = f"An unexpected error occurred: {type(exc).__name__}: {exc}"
    hint = "\n\n".join(
        part
        for part in (
            context,
            "This is a bug in samplelab. The details below help to report it; "
            "the log console and the log file (Help > Open log folder) have them too.",
        )
        if part
    )
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return message, hint, details, True


def show_error(
    parent: QWidget | None,
    exc: BaseException,
    context: str = "",
    title: str = "samplelab",
    logged: bool = False,
) -> ErrorDialog:
    """Show `exc` in a non-blocking dialog; `context` adds what it means here (data kept...).

    The error is logged (with its traceback when it is a bug) unless `logged` says it was.
    """
    message, hint, details, unexpected = error_parts(exc, context)
    if logged:
        pass
    elif unexpected:
        log.error("unexpected error: %s", message, exc_info=(type(exc), exc, exc.__traceback__))
    else:
        log.error("%s", message)
    dialog = ErrorDialog(message, hint, details, title, unexpected, parent)
    _open_dialogs.append(dialog)
    dialog.finished.connect(lambda _=0: _forget(dialog))
    dialog.open()
    return dialog


def _forget(dialog: ErrorDialog) -> None:
    if dialog in _open_dialogs:
        _open_dialogs.remove(dialog)


def open_error_dialogs() -> list[ErrorDialog]:
    """Error dialogs on screen now, oldest first (tests and tools read them)."""
    return list(_open_dialogs)


def confirm(parent: QWidget | None, title: str, text: str, yes: str = "") -> bool:
    """Ask a yes/no question; True only for Yes."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_save_changes(parent: QWidget | None, name: str, action: str, can_save: bool) -> str:
    """Unsaved edits in `name` before `action`: 'save', 'discard' or 'cancel'.

    Without `can_save` (the edits do not validate) only Discard and Cancel are offered.
    """
    button = QMessageBox.StandardButton
    if can_save:
        text = f"{name} has unsaved changes.\n\nSave them before {action}?"
        buttons, default = button.Save | button.Discard | button.Cancel, button.Save
    else:
        text = (
            f"{name} has unsaved changes that cannot be saved: the config has problems "
            f"(shown in red).\n\nDiscard them and go on with {action}?"
        )
        buttons, default = button.Discard | button.Cancel, button.Cancel
    answer = QMessageBox.question(parent, "Unsaved changes", text, buttons, default)
    return {button.Save: "save", button.Discard: "discard"}.get(answer, "cancel")


def confirm_overwrite(parent: QWidget | None, path: str | os.PathLike) -> bool:
    """True if `path` does not exist or the user agrees to replace it."""
    path = Path(path)
    if not path.exists():
        return True
    return confirm(
        parent,
        "Replace file?",
        f"{path.name} already exists in {path.parent}.\nDo you want to replace it?",
    )


def ask_open_file(parent: QWidget | None, title: str, folder: str, filters: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path or None


def ask_save_file(parent: QWidget | None, title: str, start: str, filters: str) -> str | None:
    """A path to write, after the overwrite question (asked by us, so tests see it)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, title, start, filters, options=QFileDialog.Option.DontConfirmOverwrite
    )
    if not path or not confirm_overwrite(parent, path):
        return None
    return path


def ask_folder(parent: QWidget | None, title: str, folder: str) -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title, folder)
    return path or None

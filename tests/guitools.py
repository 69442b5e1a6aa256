"""Fixtures and helpers shared by the GUI tests (imported by tests/test_gui_*.py).

Every GUI test gets its own settings file in tmp_path, and any QMessageBox
question or file dialog that a test did not expect fails the test instead of
blocking it forever.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import small_config
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app import dialogs
from app.settings import SETTINGS_DIR_ENV, AppSettings, use_settings_dir
from backend.config import save_config


def _unexpected(*args, **kwargs):
    raise AssertionError(f"unexpected dialog: {args[1:3]}")


@pytest.fixture
def settings_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "settings"
    use_settings_dir(folder)
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(folder))
    monkeypatch.setenv("SAMPLELAB_HOME", str(tmp_path / "home"))  # logs, caches: never the user's
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(_unexpected))
    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(_unexpected))
    return folder


def write_config(folder: Path, name: str = "small.yaml", **input_data) -> Path:
    """A small valid config saved as our YAML, recording into `folder`/recordings."""
    cfg = small_config(**input_data).model_copy(deep=True)
    cfg.save_directory = str(folder / "recordings")
    cfg.data_name = "gui_test"
    return save_config(cfg, folder / name)


def write_raw(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def make_window(qtbot, settings_dir):
    """Factory: a shown MainWindow (device discovery finished); closed safely at teardown."""
    from app.mainwindow import MainWindow

    made = []

    def make(config_path: str | None = None) -> MainWindow:
        # Not qtbot.addWidget: pytest-qt would close the window before this fixture's
        # teardown, while a cancelled job may still be finishing on its worker.
        window = MainWindow(AppSettings(), config_path=config_path)
        window.show()
        page = window.pages["sampling"]
        qtbot.waitUntil(lambda: page.inventory is not None, timeout=10_000)
        made.append(window)
        return window

    yield make
    for window in made:
        page = window.pages["sampling"]
        page.shutdown(30)
        for dialog in dialogs.open_error_dialogs():
            dialog.close()
        window._closing = True
        window.close()
        window.deleteLater()
    qtbot.wait(1)  # let the deletions run before the next test


@pytest.fixture
def window(make_window):
    return make_window()


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_radio(qtbot, button) -> None:
    """Click a radio button on its indicator (a wide one is empty in the middle)."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def add_files(qtbot, monkeypatch, page, *paths) -> None:
    """Add files to a page's source list with its Add files… button (the dialog answered)."""
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(p) for p in paths], ""))
    )
    click(qtbot, page.sources.add_files)


def choose_output(qtbot, monkeypatch, page, folder) -> None:
    """Choose a page's output folder with its Browse… button (the dialog answered)."""
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder))
    )
    click(qtbot, page.out_browse)


def type_into(qtbot, line_edit, text: str) -> None:
    """Select all and type, as a user replacing a field's text."""
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line_edit, text)


def wait_for_dialog(qtbot, timeout: int = 10_000) -> dialogs.ErrorDialog:
    qtbot.waitUntil(lambda: bool(dialogs.open_error_dialogs()), timeout=timeout)
    return dialogs.open_error_dialogs()[-1]


def make_recording(path: Path, seed: int = 7, **input_data) -> Path:
    """A complete small recording (6 x 50 rows unless told) on the analytic simulated device."""
    from backend.sampling.session import start_session

    session = start_session(
        small_config(**input_data), "simulated", path=path, seed=seed, model="analytic"
    )
    result = session.run()
    assert result.status == "complete"
    return Path(result.path)


def copy_fixture(tmp_path: Path, name: str) -> Path:
    """A copy of a bspysmg fixture folder: the shared ground truth is never written."""
    import shutil

    from conftest import BSPYSMG_FIXTURES

    source = BSPYSMG_FIXTURES / name
    if not source.is_dir():
        pytest.skip(f"bspysmg fixtures not found at {source}")
    copy = Path(shutil.copytree(source, tmp_path / name))
    for path in [copy, *copy.rglob("*")]:  # the fixtures are read-only; the copy is ours
        path.chmod(path.stat().st_mode | 0o200)
    return copy


def start_long_session(qtbot, make_window, folder: Path, batches: int = 500):
    """A window sampling a long realtime session, two batches in: (window, page, session)."""
    window = make_window(str(write_config(folder, number_batches=batches)))
    page = window.pages["sampling"]
    page.run_options.realtime.setChecked(True)
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.progress.bar.value() >= 2, timeout=10_000)
    return window, page, page.runner.session


def answer_questions(monkeypatch, yes: bool) -> list[str]:
    """Answer every QMessageBox.question with Yes or No; returns the texts asked, in order."""
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        button = QMessageBox.StandardButton
        return button.Yes if yes else button.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def hold_until(condition, timeout_s: float = 10.0) -> None:
    """Block a worker thread until `condition()` (e.g. the GUI cancelled its job) or timeout."""
    import time

    end = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < end:
        time.sleep(0.005)


def show_page(qtbot, window, key: str):
    """Bring a page's tab to the front (as a click on the tab would) and return the page."""
    page = window.pages[key]
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(page.isVisible)
    return page


def click_path(qtbot, tree, path, timeout: int = 10_000) -> None:
    """Click `path` in a widgets.filetree.FileTree once its model has listed it."""

    def listed() -> bool:
        index = tree.index_of(path)
        if not index.isValid():
            return False
        tree.view.scrollTo(index)
        return not tree.view.visualRect(index).isEmpty()

    qtbot.waitUntil(listed, timeout=timeout)
    rect = tree.view.visualRect(tree.index_of(path))
    qtbot.mouseClick(tree.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def open_cell_editor(qtbot, viewport: QWidget) -> QLineEdit:
    """The line edit a table cell opened for typing (the one shown: the previous edit's
    editor may still wait, hidden, for its deferred delete)."""

    def shown() -> list[QLineEdit]:
        return [e for e in viewport.findChildren(QLineEdit) if e.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1)
    return shown()[0]


INPUT_KINDS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractButton, QTextEdit, QPlainTextEdit)


def _name(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, (QAbstractButton, QLineEdit)) else ""
    text = widget.title() if isinstance(widget, QGroupBox) else text
    return f"{type(widget).__name__}({widget.objectName() or text or widget.toolTip()[:40]!r})"


def live_inputs(root: QWidget, allowed: dict[QWidget, str] | None = None) -> list[str]:
    """The visible inputs under `root` a user could still use (enabled, not read-only),
    less `allowed` (widget -> the one-line reason it may stay live while a job runs).

    The class of bug: a page locks its inputs when a job starts, and a later update
    (a choice changing, a result arriving) enables one again while the job runs.
    """
    allowed = allowed or {}
    assert all(reason.strip() for reason in allowed.values()), "every allowed input needs a reason"
    live = []
    for widget in root.findChildren(QWidget):
        checkable_box = isinstance(widget, QGroupBox) and widget.isCheckable()
        if not (isinstance(widget, INPUT_KINDS) or checkable_box) or widget in allowed:
            continue
        if not widget.isVisible() or not widget.isEnabled():
            continue
        if isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit)) and widget.isReadOnly():
            continue
        if isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # a spin box's or combo's own line edit: the box itself is checked
        live.append(_name(widget))
    return live

"""Help: the documentation (shipped with the app, read locally), the shortcuts, the log folder.

The docs are the repository's `docs/*.md` with their screenshots. A source
checkout (and the editable install `bootstrap.py` makes) reads them where they
are; a built wheel carries a copy as package data in `resources/docs`
(setup.py's build step). The viewer renders the Markdown itself (Qt's
QTextBrowser: headings, tables, code, images); links between the pages stay
in the viewer, web links open in the system browser. Nothing is fetched.

The shortcut list is read from the window's own actions, so it is always the
shortcuts the window really has.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import resources

_SOURCE_DOCS = Path(__file__).resolve().parents[1] / "docs"
_PACKAGED_DOCS = resources.ROOT / "docs"
_PATH_ROLE = Qt.ItemDataRole.UserRole
ICON_NAMES = ("samplelab.svg", "samplelab.png", "icon.svg", "icon.png")


def docs_dir() -> Path | None:
    """Where the docs are: the packaged copy, else the source checkout's; None if neither."""
    for folder in (_PACKAGED_DOCS, _SOURCE_DOCS):
        if folder.is_dir() and any(folder.glob("*.md")):
            return folder
    return None


def doc_pages(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(title, path) of each page, the desktop application's first, then by title."""
    folder = folder or docs_dir()
    if folder is None:
        return []
    pages = [(_title_of(path), path) for path in folder.glob("*.md")]
    pages.sort(key=lambda page: (page[1].stem != "gui", page[0].lower()))
    return pages


def _title_of(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def app_icon_path() -> Path | None:
    """The application's icon in resources/icons, if the project ships one."""
    folder = resources.ROOT / "icons"
    return next((folder / name for name in ICON_NAMES if (folder / name).is_file()), None)


def open_folder(path: Path) -> bool:
    """Show `path` in the system's file manager (created first); False if that failed."""
    path.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class HelpWindow(QMainWindow):
    """The docs: page list on the left, the rendered page on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("help_window")
        self.setWindowTitle("samplelab help")
        self.pages = QListWidget()
        self.pages.setObjectName("help_pages")
        self.pages.setWordWrap(True)
        self.browser = QTextBrowser()
        self.browser.setObjectName("help_text")
        self.browser.setOpenExternalLinks(True)  # http(s): the system browser
        self.browser.sourceChanged.connect(self._on_source)
        split = QSplitter()
        split.addWidget(self.pages)
        split.addWidget(self.browser)
        split.setStretchFactor(1, 1)
        split.setSizes([250, 750])
        self.setCentralWidget(split)
        self.resize(1000, 720)
        folder = docs_dir()
        for title, path in doc_pages(folder):
            item = QListWidgetItem(title)
            item.setData(_PATH_ROLE, str(path))
            self.pages.addItem(item)
        self.pages.currentItemChanged.connect(self._on_page)
        if self.pages.count():
            self.pages.setCurrentRow(0)
        else:
            self.browser.setPlainText(
                "The documentation is not installed with this copy of samplelab. "
                "It is in the docs/ folder of the source code."
            )

    def show_page(self, stem: str) -> None:
        """Show docs/<stem>.md."""
        for row in range(self.pages.count()):
            if Path(self.pages.item(row).data(_PATH_ROLE)).stem == stem:
                self.pages.setCurrentRow(row)
                return

    def _on_page(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is not None:
            url = QUrl.fromLocalFile(item.data(_PATH_ROLE))
            if self.browser.source() != url:
                self.browser.setSource(url)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_images()

    def _fit_images(self) -> None:
        """Screenshots no wider than the page (they are up to 1920 px), aspect kept."""
        doc = self.browser.document()
        width = max(200, self.browser.viewport().width() - 40)
        cursor = QTextCursor(doc)
        block = doc.begin()
        while block.isValid():
            for part in block:
                fragment = part.fragment()
                style = fragment.charFormat()
                if not style.isImageFormat():
                    continue
                image = style.toImageFormat()
                natural = doc.resource(
                    QTextDocument.ResourceType.ImageResource.value, QUrl(image.name())
                )
                size = natural.width() if hasattr(natural, "width") else 0
                if size and int(image.width()) != min(size, width):
                    image.setWidth(min(size, width))
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    cursor.setCharFormat(image)
            block = block.next()

    def _on_source(self, url: QUrl) -> None:
        """A link to another page moved the browser: select that page in the list."""
        self._fit_images()
        path = url.toLocalFile()
        for row in range(self.pages.count()):
            if self.pages.item(row).data(_PATH_ROLE) == path:
                self.pages.blockSignals(True)
                self.pages.setCurrentRow(row)
                self.pages.blockSignals(False)

    def text(self) -> str:
        return self.browser.document().toPlainText()


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(command, shortcut) for every action of `window` that has a shortcut, in menu order."""
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []
    actions = [a for menu in getattr(window, "menus", {}).values() for a in menu.actions()]
    actions += window.findChildren(QAction)
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        name = re.sub(r"&(?!&)", "", action.text()).replace("…", "").strip()
        if keys and name and name not in seen:
            seen.add(name)
            rows.append((name, keys))
    return rows


class ShortcutsDialog(QDialog):
    """A table of the window's keyboard shortcuts."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcuts_table")
        self.table.setHorizontalHeaderLabels(["Command", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(420, 28 * len(rows) + 110)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text())
            for r in range(self.table.rowCount())
        ]


def about_icon(size: int = 64) -> QPixmap | None:
    path = app_icon_path()
    if path is None:
        return None
    pixmap = QPixmap(str(path))
    return None if pixmap.isNull() else pixmap.scaled(size, size)

"""A folder tree that shows the data files a browser can open, and marks special folders.

A `QFileSystemModel` (it watches the folder and loads it off the GUI thread)
behind a filter proxy: by default only files whose names end in one of the
given suffixes are listed (folders always are), some names are hidden (cache
files), and folders the caller recognises (e.g. a bspysmg sampling folder) are
shown in bold with their kind in the "Kind" column, so a user sees at a glance
that they open as one recording. The caller decides what is openable; this
widget only asks through the callables it was given, and takes what a slower
check found out later (`set_kinds`: e.g. "cannot be opened: not HDF5" for a
file that only looks like one; such files stay listed, marked, in grey).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QDir,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from widgets.elidedlabel import ElidedLabel
from widgets.filemodel import ROWS, SORT, STATUS, DataFileModel, FileFacts

#: (suffix or exact name) -> kind text shown in the Kind column
KindOfName = Callable[[str], str | None]
#: folder path -> kind text for folders that open as data (None for plain folders)
KindOfFolder = Callable[[str], str | None]

_NAME, _SIZE, _KIND, _DATE = range(4)


class DataFileFilter(QSortFilterProxyModel):
    """Hides files the caller cannot open (unless `show_all`) and labels what it can."""

    def __init__(
        self,
        kind_of_name: KindOfName,
        kind_of_folder: KindOfFolder,
        hidden_suffixes: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind_of_name, self.kind_of_folder = kind_of_name, kind_of_folder
        self.hidden_suffixes = tuple(s.lower() for s in hidden_suffixes)
        self.show_all = False
        self.unopenable_prefix = "cannot"
        self._folder_kinds: dict[str, str | None] = {}  # stat calls are cached per path
        self._detected: dict[str, str] = {}  # path -> kind found by the caller's scan

    def set_kinds(self, kinds: dict[str, str]) -> None:
        self._detected.update(kinds)
        self.invalidate()

    def lessThan(
        self,
        left: QModelIndex | QPersistentModelIndex,
        right: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if left.column() in (_SIZE, ROWS):  # by number, not by the text "1.2 MiB"
            a, b = left.data(SORT), right.data(SORT)
            if a is not None and b is not None and a != b:
                return a < b
        return super().lessThan(left, right)

    def file_kind(self, path: str, name: str) -> str | None:
        return self._detected.get(path) or self.kind_of_name(name)

    def set_show_all(self, show: bool) -> None:
        self.show_all = bool(show)
        self.invalidateFilter()

    def folder_kind(self, path: str) -> str | None:
        if path not in self._folder_kinds:
            self._folder_kinds[path] = self.kind_of_folder(path)
        return self._folder_kinds[path]

    def forget(self) -> None:
        self._folder_kinds.clear()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        if model.isDir(index):
            return True
        name = model.fileName(index)
        if name.lower().endswith(self.hidden_suffixes):
            return False
        if self.show_all or self.kind_of_name(name) is not None:
            return True  # listed by its name; a scan may still mark it unopenable
        found = self._detected.get(model.filePath(index))
        return found is not None and not found.startswith(self.unopenable_prefix)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if section == _KIND and role == Qt.ItemDataRole.DisplayRole:
            return "Kind"
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if index.column() in (_NAME, _KIND) and role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.FontRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            source = self.mapToSource(index)
            model = self.sourceModel()
            path = model.filePath(source)
            is_dir = model.isDir(source)
            kind = (
                self.folder_kind(path) if is_dir else self.file_kind(path, model.fileName(source))
            )
            if role == Qt.ItemDataRole.FontRole and is_dir and kind:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:
                if not is_dir and (not kind or kind.startswith(self.unopenable_prefix)):
                    return QBrush(QColor(128, 128, 128))
                return None
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{path}\n{kind}" if kind else path
            if index.column() == _KIND:
                if kind:
                    return kind
                return "folder" if is_dir else "cannot be opened"
        return super().data(index, role)


class FileTree(QWidget):
    """The chosen root folder as a tree; emits the path of what the user selects."""

    path_selected = Signal(str)  # a file, or a folder that opens as data
    choose_folder_requested = Signal()
    folder_loaded = Signal(str)  # the model listed a folder (scan it for kinds now)

    def __init__(
        self,
        kind_of_name: KindOfName,
        kind_of_folder: KindOfFolder,
        hidden_suffixes: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = DataFileModel(self)
        self.model.setFilter(QDir.Filter.AllDirs | QDir.Filter.Files | QDir.Filter.NoDotAndDotDot)
        self.model.setReadOnly(True)
        self.proxy = DataFileFilter(kind_of_name, kind_of_folder, hidden_suffixes, self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setDynamicSortFilter(True)
        self.view = QTreeView()
        self.view.setObjectName("file_tree")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(_NAME, Qt.SortOrder.AscendingOrder)
        self.view.setColumnHidden(_DATE, True)
        self.view.setUniformRowHeights(True)
        # Long recording names keep their start and their time stamp: "quick_…_0305.h5".
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(_NAME, QHeaderView.ResizeMode.Stretch)
        for column in (_SIZE, STATUS, ROWS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # The kind is the longest text and the least needed: it gives way to the names
        # (a tooltip holds it whole; the user can widen the column).
        header.setSectionResizeMode(_KIND, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(_KIND, 110)
        for visual, column in enumerate((_NAME, STATUS, ROWS, _SIZE, _KIND)):
            header.moveSection(header.visualIndex(column), visual)
        self.root_label = ElidedLabel()  # a long path keeps its start and the folder's name
        self.root_label.setObjectName("root_label")
        self.choose_button = QToolButton()
        self.choose_button.setObjectName("button_choose_folder")
        self.choose_button.setText("Choose folder…")
        self.choose_button.setToolTip("Browse another folder")
        self.show_all = QCheckBox("All files")
        self.show_all.setObjectName("show_all_files")
        self.show_all.setToolTip("Also list files samplelab cannot open")
        self.offer_button = QToolButton()
        self.offer_button.setObjectName("button_open_offered")
        self.offer_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.offer_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.offer_button.hide()
        self.offered: str | None = None
        self._offer_text = ""
        row = QHBoxLayout()
        row.addWidget(self.root_label, 1)
        row.addWidget(self.show_all)
        row.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.offer_button)
        layout.addWidget(self.view, 1)
        self._rescan = QTimer(self)  # files added to a listed folder: scan it again
        self._rescan.setSingleShot(True)
        self._rescan.setInterval(300)
        self._rescan_folders: set[str] = set()
        self._rescan.timeout.connect(self._emit_rescans)
        self.offer_button.clicked.connect(self._open_offered)
        self.root: str | None = None
        self.choose_button.clicked.connect(self.choose_folder_requested)
        self.show_all.toggled.connect(self.proxy.set_show_all)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.view.activated.connect(self._on_activated)
        self.model.directoryLoaded.connect(self.folder_loaded)
        self.model.rowsInserted.connect(self._on_rows_inserted)

    def set_kinds(self, kinds: dict[str, str]) -> None:
        """What a scan found each file to be (path -> kind text); listed files are relabelled."""
        self.proxy.set_kinds(kinds)

    def set_facts(self, facts: dict[str, FileFacts]) -> None:
        """What a scan found (kind, and status and rows of recordings), per path."""
        self.model.facts.update(facts)
        self.proxy.set_kinds({path: f.kind for path, f in facts.items()})

    def file_changed(self, path: str | os.PathLike, facts: FileFacts | None = None) -> None:
        """A file grew or its status changed (e.g. a recording followed while written)."""
        path = str(Path(path).resolve())
        if facts is not None:
            self.model.facts[path] = facts
        self.model.file_changed(path)

    def facts_of(self, path: str | os.PathLike) -> FileFacts | None:
        return self.model.facts.get(str(Path(path).resolve()))

    def cell_text(self, path: str | os.PathLike, column: str) -> str:
        """The text shown for `path` in a column ('Name', 'Size', 'Kind', 'Status', 'Rows')."""
        number = {"Name": _NAME, "Size": _SIZE, "Kind": _KIND, "Status": STATUS, "Rows": ROWS}
        index = self.index_of(path)
        if not index.isValid():
            return ""
        value = self.proxy.data(index.siblingAtColumn(number[column]))
        return "" if value is None else str(value)

    def offer(self, path: str | None, text: str = "") -> None:
        """Offer one file above the tree (e.g. the newest recording); None hides the offer."""
        self.offered, self._offer_text = path, text
        self.offer_button.setVisible(path is not None)
        if path is not None:
            self._elide_offer()
            self.offer_button.setToolTip(f"{text}\nOpen {path}")

    def offer_text(self) -> str:
        """The whole text of the offer (the button shows it elided when narrow)."""
        return self._offer_text

    def _elide_offer(self) -> None:
        width = max(40, self.width() - 16)
        metrics = self.offer_button.fontMetrics()
        shown = metrics.elidedText(self._offer_text, Qt.TextElideMode.ElideMiddle, width)
        self.offer_button.setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.offered is not None:
            self._elide_offer()

    def _open_offered(self) -> None:
        if self.offered is not None and not self.select(self.offered):
            self.path_selected.emit(self.offered)  # not listed yet: open it all the same

    def _on_rows_inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if parent.isValid():
            self._rescan_folders.add(self.model.filePath(parent))
            self._rescan.start()

    def _emit_rescans(self) -> None:
        folders, self._rescan_folders = self._rescan_folders, set()
        for folder in sorted(folders):
            self.folder_loaded.emit(folder)

    def set_root(self, folder: str | os.PathLike) -> None:
        """Show `folder` (and below); the tree loads in the background."""
        folder = str(Path(folder).resolve())
        self.root = folder
        self.proxy.forget()
        source_root = self.model.setRootPath(folder)
        self.view.setRootIndex(self.proxy.mapFromSource(source_root))
        self.root_label.setText(folder)

    def index_of(self, path: str | os.PathLike) -> QModelIndex:
        """The view's index of `path` (invalid until the model has loaded it)."""
        return self.proxy.mapFromSource(self.model.index(str(Path(path).resolve())))

    def select(self, path: str | os.PathLike) -> bool:
        """Make `path` the current item (as a click would); False if not listed yet."""
        index = self.index_of(path)
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def listed_names(self) -> list[str]:
        """Names directly under the root, as listed now (for tests and tools)."""
        root = self.view.rootIndex()
        return sorted(
            self.proxy.data(self.proxy.index(r, _NAME, root))
            for r in range(self.proxy.rowCount(root))
        )

    def kind_text(self, path: str | os.PathLike) -> str:
        index = self.index_of(path)
        return str(self.proxy.data(index.siblingAtColumn(_KIND))) if index.isValid() else ""

    def _path_of(self, index: QModelIndex) -> tuple[str, bool]:
        source = self.proxy.mapToSource(index)
        return self.model.filePath(source), self.model.isDir(source)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        path, is_dir = self._path_of(current)
        if not is_dir or self.proxy.folder_kind(path):
            self.path_selected.emit(path)

    def _on_activated(self, index: QModelIndex) -> None:
        """Enter/double-click re-opens the current item (e.g. after it changed on disk)."""
        path, is_dir = self._path_of(index)
        if not is_dir or self.proxy.folder_kind(path):
            self.path_selected.emit(path)

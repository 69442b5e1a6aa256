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
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFileSystemModel,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

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
        self.model = QFileSystemModel(self)
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
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(_SIZE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_KIND, QHeaderView.ResizeMode.ResizeToContents)
        self.root_label = QLabel()
        self.root_label.setObjectName("root_label")
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.root_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.choose_button = QToolButton()
        self.choose_button.setObjectName("button_choose_folder")
        self.choose_button.setText("Choose folder…")
        self.choose_button.setToolTip("Browse another folder")
        self.show_all = QCheckBox("All files")
        self.show_all.setObjectName("show_all_files")
        self.show_all.setToolTip("Also list files samplelab cannot open")
        row = QHBoxLayout()
        row.addWidget(self.root_label, 1)
        row.addWidget(self.show_all)
        row.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.root: str | None = None
        self.choose_button.clicked.connect(self.choose_folder_requested)
        self.show_all.toggled.connect(self.proxy.set_show_all)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.view.activated.connect(self._on_activated)
        self.model.directoryLoaded.connect(self.folder_loaded)

    def set_kinds(self, kinds: dict[str, str]) -> None:
        """What a scan found each file to be (path -> kind text); listed files are relabelled."""
        self.proxy.set_kinds(kinds)

    def set_root(self, folder: str | os.PathLike) -> None:
        """Show `folder` (and below); the tree loads in the background."""
        folder = str(Path(folder).resolve())
        self.root = folder
        self.proxy.forget()
        source_root = self.model.setRootPath(folder)
        self.view.setRootIndex(self.proxy.mapFromSource(source_root))
        self.root_label.setText(folder)
        self.root_label.setToolTip(folder)

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

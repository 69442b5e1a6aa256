"""A two-column tree of facts about a file: sections of nested dicts, lists and values.

The caller hands plain data (what `json.dumps` could print): a list of
(section title, value) pairs. Dicts become branches, short lists of scalars one
line, long lists numbered branches. A branch can carry a one-line summary of
its own with `Summary(text, children)` (e.g. a channel: "V  min -1.2  max 0.6",
with units, min and max below it). Items are addressed by their path of keys,
so a value computed later (per-channel ranges) can be filled in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

#: Lists of scalars up to this many items are shown on one line.
INLINE_ITEMS = 12


@dataclass(frozen=True)
class Summary:
    """A branch whose own row shows `text`; its children come from `children`."""

    text: str
    children: Any = None


def format_value(value: Any) -> str:
    """A scalar as a user reads it: floats to 6 significant digits, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (Mapping, list, tuple, Summary))


class MetaTree(QTreeWidget):
    """Sections of facts; `set_sections` replaces everything, `set_text` one value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Property", "Value"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QTreeWidget.SelectionMode.ContiguousSelection)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def set_sections(
        self, sections: Sequence[tuple[str, Any]], expanded: Sequence[str] = ()
    ) -> None:
        """Show the sections (top-level branches); those named in `expanded` are open."""
        self.clear()
        for title, value in sections:
            item = QTreeWidgetItem([title, ""])
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            self.addTopLevelItem(item)
            self._fill(item, value)
            item.setExpanded(title in expanded)

    def update_sections(
        self, sections: Sequence[tuple[str, Any]], expanded: Sequence[str] = ()
    ) -> None:
        """Show new values of the same file: open branches, selection and scroll stay.

        Sections new to the tree open as `expanded` says (e.g. a file seen for the
        first time); a value that changed (rows of a growing recording) is simply
        shown anew.
        """
        was_open = self._open_paths()
        had = set(self.section_titles())
        current = self.currentItem()
        current_path = self._path_of(current) if current is not None else None
        scroll = self.verticalScrollBar().value()
        self.set_sections(sections)
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            title = item.text(0)
            item.setExpanded((title,) in was_open if title in had else title in expanded)
        self._reopen(was_open)
        if current_path is not None:
            item = self.item_at(current_path)
            if item is not None:
                self.setCurrentItem(item)
        self.verticalScrollBar().setValue(scroll)

    def _path_of(self, item: QTreeWidgetItem) -> tuple[str, ...]:
        path = []
        while item is not None:
            path.append(item.text(0))
            item = item.parent()
        return tuple(reversed(path))

    def _open_paths(self) -> set[tuple[str, ...]]:
        found = set()
        stack = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.isExpanded():
                found.add(self._path_of(item))
                stack.extend(item.child(i) for i in range(item.childCount()))
        return found

    def _reopen(self, paths: set[tuple[str, ...]]) -> None:
        for path in sorted(paths, key=len):
            if len(path) > 1:
                item = self.item_at(path)
                if item is not None:
                    item.setExpanded(True)

    def _fill(self, item: QTreeWidgetItem, value: Any) -> None:
        if isinstance(value, Summary):
            item.setText(1, value.text)
            if value.children is not None:
                self._fill_children(item, value.children)
            return
        if _is_scalar(value):
            item.setText(1, format_value(value))
            return
        if (
            isinstance(value, (list, tuple))
            and len(value) <= INLINE_ITEMS
            and all(_is_scalar(v) for v in value)
        ):
            item.setText(1, ", ".join(format_value(v) for v in value) or "(none)")
            return
        self._fill_children(item, value)
        if not item.text(1):
            item.setText(1, f"{len(value)} items" if isinstance(value, (list, tuple)) else "")

    def _fill_children(self, item: QTreeWidgetItem, value: Any) -> None:
        pairs = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, child_value in pairs:
            child = QTreeWidgetItem([str(key), ""])
            item.addChild(child)
            self._fill(child, child_value)

    # --- lookup ------------------------------------------------------------------
    def item_at(self, path: Sequence[str]) -> QTreeWidgetItem | None:
        """The item under the keys `path` (section title first), or None."""
        items = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        found = None
        for key in path:
            found = next((it for it in items if it.text(0) == key), None)
            if found is None:
                return None
            items = [found.child(i) for i in range(found.childCount())]
        return found

    def text_at(self, path: Sequence[str]) -> str:
        """The value column of the item at `path` ('' if there is none)."""
        item = self.item_at(path)
        return item.text(1) if item is not None else ""

    def set_text(self, path: Sequence[str], text: str) -> bool:
        item = self.item_at(path)
        if item is None:
            return False
        item.setText(1, text)
        return True

    def replace(self, path: Sequence[str], value: Any) -> bool:
        """Replace the children and value of the item at `path` (keeps it open or shut)."""
        item = self.item_at(path)
        if item is None:
            return False
        item.takeChildren()
        item.setText(1, "")
        self._fill(item, value)
        return True

    def section_titles(self) -> list[str]:
        return [self.topLevelItem(i).text(0) for i in range(self.topLevelItemCount())]

    def expand_section(self, title: str) -> None:
        item = self.item_at([title])
        if item is not None:
            item.setExpanded(True)
            self.scrollToItem(item, QTreeWidget.ScrollHint.PositionAtTop)

    def selected_text(self) -> str:
        """Selected rows as 'key<TAB>value' lines (what Copy puts on the clipboard)."""
        return "\n".join(f"{it.text(0)}\t{it.text(1)}" for it in self.selectedItems())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy) and self.selectedItems():
            QGuiApplication.clipboard().setText(self.selected_text())
            return
        super().keyPressEvent(event)

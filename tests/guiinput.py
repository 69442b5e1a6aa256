"""Real input events for GUI tests: menu entries clicked, lines dragged, the wheel turned.

Everything here goes through QTest (or QApplication.sendEvent of the events a
mouse makes) at widget positions, as a user's hand would, never through the
widgets' own methods.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QPushButton, QWidget

LEFT = Qt.MouseButton.LeftButton


def window_shows(widget: QWidget) -> bool:
    """Whether `widget` is visible and lies wholly inside its window (nothing cut off)."""
    if not widget.isVisible() or widget.visibleRegion().isEmpty():
        return False
    top = widget.window()
    corner = widget.mapTo(top, QPoint(0, 0))
    inside = top.rect().contains(corner) and top.rect().contains(
        corner + QPoint(widget.width() - 1, widget.height() - 1)
    )
    return inside and widget.visibleRegion().boundingRect().size() == widget.size()


def click_menu_entry(qtbot, button: QPushButton, action: QAction, timeout_ms: int = 5000) -> bool:
    """Press `button`, then click `action` in the menu it opens; True if it was triggered.

    A disabled entry does nothing when clicked (the menu stays open): the menu is
    then closed with Escape and False is returned, as a user would see it.
    """
    menu: QMenu = button.menu()
    state = {"triggered": False, "waited": 0}

    def triggered() -> None:
        state["triggered"] = True

    def pick() -> None:
        if not menu.isVisible():
            state["waited"] += 10
            if state["waited"] < timeout_ms:
                QTimer.singleShot(10, pick)
            return
        rect = menu.actionGeometry(action)
        assert rect.isValid(), f"{action.text()!r} is not in the menu"
        QTest.mouseClick(menu, LEFT, Qt.KeyboardModifier.NoModifier, rect.center())
        if menu.isVisible() and not state["triggered"]:
            QTest.keyClick(menu, Qt.Key.Key_Escape)

    action.triggered.connect(triggered)
    try:
        QTimer.singleShot(0, pick)
        qtbot.mouseClick(button, LEFT)  # opens the menu (its own event loop) until picked
        qtbot.waitUntil(lambda: not menu.isVisible(), timeout=timeout_ms)
        for _ in range(30):  # the menu emits `triggered` once it has closed
            if state["triggered"]:
                break
            QTest.qWait(10)
    finally:
        action.triggered.disconnect(triggered)
    return state["triggered"]


def _send_mouse(widget: QWidget, kind, pos: QPointF, button, buttons) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: QPoint, end: QPoint, steps: int = 12) -> None:
    """Press at `start`, move in steps with the button held, release at `end`."""
    from PySide6.QtCore import QEvent

    _send_mouse(
        widget,
        QEvent.Type.MouseMove,
        QPointF(start),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
    )
    QTest.qWait(12)
    _send_mouse(widget, QEvent.Type.MouseButtonPress, QPointF(start), LEFT, LEFT)
    for i in range(1, steps + 1):
        QTest.qWait(12)  # pyqtgraph ignores moves less than 10 ms apart (a hand is slower)
        p = QPointF(start) + (QPointF(end) - QPointF(start)) * (i / steps)
        _send_mouse(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, LEFT)
    QTest.qWait(12)
    _send_mouse(widget, QEvent.Type.MouseButtonRelease, QPointF(end), LEFT, Qt.MouseButton.NoButton)
    QApplication.processEvents()


def move_mouse(widget: QWidget, pos: QPoint) -> None:
    """The mouse moved over `widget` to `pos`, no button held."""
    from PySide6.QtCore import QEvent

    _send_mouse(
        widget,
        QEvent.Type.MouseMove,
        QPointF(pos),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
    )
    QApplication.processEvents()


def wheel(widget: QWidget, pos: QPoint, notches: int = 1) -> None:
    """Turn the mouse wheel over `widget` at `pos` (positive: away from the user)."""
    global_pos = QPointF(widget.mapToGlobal(pos))
    event = QWheelEvent(
        QPointF(pos),
        global_pos,
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    QApplication.processEvents()


def plot_point(view, x: float, y_fraction: float = 0.5, plot_item=None) -> QPoint:
    """The viewport position of data x (and a height in the plot) in a pyqtgraph view."""
    item = plot_item if plot_item is not None else view.plot_item
    vb = item.getViewBox()
    y0, y1 = vb.viewRange()[1]
    scene = vb.mapViewToScene(QPointF(x, y0 + y_fraction * (y1 - y0)))
    return view.mapFromScene(scene)


def click_group_box_check(qtbot, box) -> None:
    """Click the check box in a checkable QGroupBox's title, where the user clicks it."""
    from PySide6.QtWidgets import QStyle, QStyleOptionGroupBox

    option = QStyleOptionGroupBox()
    box.initStyleOption(option)
    rect = box.style().subControlRect(
        QStyle.ComplexControl.CC_GroupBox, option, QStyle.SubControl.SC_GroupBoxCheckBox, box
    )
    qtbot.mouseClick(box, LEFT, pos=rect.center())

"""One application-wide rule: the mouse wheel never edits a field the user is not in.

Scrolling a form with the wheel must scroll the form. Qt lets a combo box or
spin box under the pointer take the wheel (and, with its default
`Qt.WheelFocus` policy, even the focus), so scrolling past the Wiring combo
once switched it from cdaq_to_cdaq to cdaq_to_nidaq without notice. The
`WheelGuard`, an event filter on the QApplication, covers every such widget
of every page, including pages written later:

- when a combo box or spin box is polished, its focus policy loses the wheel
  bit (click or Tab still focus it), so the wheel never focuses it;
- a wheel event over one the user has not put the focus in is ignored, and
  Qt passes it on to the parent (the scroll area scrolls).

Once the user clicked into the field, tabbed to it or typed into it, the
wheel steps its value as usual. Focus Qt hands out by itself (the first field
of a window that opens) does not count until then: that field is not one the
user chose.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget

#: Widgets whose value the wheel changes.
GUARDED = (QComboBox, QAbstractSpinBox)
_WHEEL = QEvent.Type.Wheel
_POLISH = QEvent.Type.Polish
_FOCUS_IN = QEvent.Type.FocusIn
_FOCUS_OUT = QEvent.Type.FocusOut
_PRESS = QEvent.Type.MouseButtonPress
_KEY = QEvent.Type.KeyPress
_CHOSEN = "wheel_guard_chosen"  # property: the user put the focus here
#: Focus the user gave: a click, Tab, a shortcut, or back from the field's own popup.
_USER_REASONS = (
    Qt.FocusReason.MouseFocusReason,
    Qt.FocusReason.TabFocusReason,
    Qt.FocusReason.BacktabFocusReason,
    Qt.FocusReason.ShortcutFocusReason,
    Qt.FocusReason.PopupFocusReason,
)


def _guarded(obj: QObject) -> QWidget | None:
    """The guarded field `obj` is, or belongs to (a spin box's line edit), else None."""
    if isinstance(obj, GUARDED):
        return obj
    parent = obj.parent() if isinstance(obj, QWidget) else None
    return parent if isinstance(parent, GUARDED) else None


class WheelGuard(QObject):
    """The event filter; `install(app)` puts one on the application (once)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == _WHEEL:
            field = _guarded(obj)
            if field is not None and not (field.hasFocus() and field.property(_CHOSEN)):
                event.ignore()  # handled here, not accepted: Qt offers it to the parent
                return True
        elif kind in (_FOCUS_IN, _FOCUS_OUT):
            if isinstance(obj, GUARDED):
                reason = event.reason()
                if kind == _FOCUS_IN and reason != Qt.FocusReason.ActiveWindowFocusReason:
                    obj.setProperty(_CHOSEN, reason in _USER_REASONS)
                elif kind == _FOCUS_OUT and reason != Qt.FocusReason.ActiveWindowFocusReason:
                    obj.setProperty(_CHOSEN, False)
        elif kind in (_PRESS, _KEY):  # a click or a key into it: the user's field now
            field = _guarded(obj)
            if field is not None and field.hasFocus():
                field.setProperty(_CHOSEN, True)
        elif kind == _POLISH and isinstance(obj, GUARDED):
            policy = obj.focusPolicy()
            if policy == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return False


def install(app: QApplication) -> WheelGuard:
    """Install the guard on `app` unless it has one; returns it."""
    guard = app.findChild(WheelGuard, "wheel_guard")
    if guard is None:
        guard = WheelGuard(app)
        guard.setObjectName("wheel_guard")
        app.installEventFilter(guard)
    return guard

"""Rules every widget of the application follows, from one event filter on the QApplication.

It covers every page and dialog, including ones written later, with nothing
to opt into.

1. The mouse wheel never edits a field the user is not in.

Scrolling a form with the wheel must scroll the form. Qt lets a combo box or
spin box under the pointer take the wheel (and, with its default
`Qt.WheelFocus` policy, even the focus), so scrolling past the Wiring combo
once switched it from cdaq_to_cdaq to cdaq_to_nidaq without notice. So:

- when a combo box or spin box is polished, its focus policy loses the wheel
  bit (click or Tab still focus it), so the wheel never focuses it;
- a wheel event over one the user has not put the focus in is ignored, and
  Qt passes it on to the parent (the scroll area scrolls).

Once the user clicked into the field, tabbed to it or typed into it, the
wheel steps its value as usual. Focus Qt hands out by itself (the first field
of a window that opens) does not count until then: that field is not one the
user chose.

2. Check boxes, radio buttons and the check marks in lists and menus are
   drawn with visible outlines in both themes (`app.theme.OutlinedFusion`).
   Only those widgets get that Python-drawn style: the rest of the window
   keeps Fusion's C++ drawing (a whole-window repaint costs the same as before).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget

from app.theme import INDICATOR_WIDGETS, outlined_style

#: Widgets whose value the wheel changes.
GUARDED = (QComboBox, QAbstractSpinBox)
_WHEEL = QEvent.Type.Wheel
_POLISH = QEvent.Type.Polish
_FOCUS_IN = QEvent.Type.FocusIn
_FOCUS_OUT = QEvent.Type.FocusOut
_PRESS = QEvent.Type.MouseButtonPress
_KEY = QEvent.Type.KeyPress
_CHOSEN = "widget_rules_wheel_chosen"  # property: the user put the focus here
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


class WidgetRules(QObject):
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
        elif kind == _POLISH:
            if isinstance(obj, GUARDED) and obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            elif isinstance(obj, INDICATOR_WIDGETS):
                style = outlined_style()
                if obj.style() is not style:
                    obj.setStyle(style)
        return False


def install(app: QApplication) -> WidgetRules:
    """Install the rules on `app` unless it has them; returns the filter."""
    rules = app.findChild(WidgetRules, "widget_rules")
    if rules is None:
        rules = WidgetRules(app)
        rules.setObjectName("widget_rules")
        app.installEventFilter(rules)
    return rules

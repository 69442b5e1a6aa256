"""Light and dark themes: one Qt palette and the matching plot colours.

The palette goes on the QApplication (Fusion style, which honours palettes on
every platform); pages pass the plot colours to their widgets, since
pyqtgraph draws its own backgrounds. Check boxes and radio buttons get an
outline that shows on both (`OutlinedFusion`, given to those widgets by
`app.widgetrules`). Curve colours are the Okabe-Ito /
Tableau families, distinguishable for colour-blind users, brightened for dark
backgrounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QMenu,
    QProxyStyle,
    QRadioButton,
    QStyle,
)


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alternate: str
    text: str
    disabled_text: str
    button: str
    highlight: str
    link: str
    error: str  # validation messages next to fields
    warning: str
    plot_background: str
    plot_foreground: str
    curve_colors: tuple[str, ...]
    output_colors: tuple[str, ...]

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Theme(
    name="light",
    window="#f3f3f3",
    base="#ffffff",
    alternate="#f0f3f7",
    text="#1b1b1b",
    disabled_text="#8a8a8a",
    button="#e9e9e9",
    highlight="#2f6fb3",
    link="#1f5fa8",
    error="#c62828",
    warning="#a15c00",
    plot_background="#ffffff",
    plot_foreground="#303030",
    curve_colors=(
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ),
    output_colors=("#111111", "#c62828", "#1565c0", "#2e7d32"),
)

DARK = Theme(
    name="dark",
    window="#202124",
    base="#17181a",
    alternate="#26282b",
    text="#e6e6e6",
    disabled_text="#7b7b7b",
    button="#2d2f33",
    highlight="#3d7fd1",
    link="#79b0ff",
    error="#ff6b6b",
    warning="#ffb74d",
    plot_background="#121314",
    plot_foreground="#d0d0d0",
    curve_colors=(
        "#4fa3e0",
        "#ffa04d",
        "#5cc85c",
        "#ff6666",
        "#b493e0",
        "#c99a8a",
        "#f49ad6",
        "#40d4e4",
        "#dede4a",
        "#b0b0b0",
    ),
    output_colors=("#f5f5f5", "#ff6b6b", "#79b0ff", "#81c784"),
)

THEMES = {t.name: t for t in (LIGHT, DARK)}


def theme_named(name: str) -> Theme:
    return THEMES.get(name, LIGHT)


def palette_of(theme: Theme) -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: theme.window,
        role.WindowText: theme.text,
        role.Base: theme.base,
        role.AlternateBase: theme.alternate,
        role.ToolTipBase: theme.base,
        role.ToolTipText: theme.text,
        role.PlaceholderText: theme.disabled_text,
        role.Text: theme.text,
        role.Button: theme.button,
        role.ButtonText: theme.text,
        role.BrightText: theme.error,
        role.Highlight: theme.highlight,
        role.HighlightedText: "#ffffff",
        role.Link: theme.link,
    }
    for r, colour in colours.items():
        p.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor(theme.disabled_text))
    p.setColor(group.Disabled, role.Base, QColor(theme.window))
    return p


_INDICATORS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorRadioButton,
)


def indicator_outline(palette: QPalette) -> QColor:
    """The outline of check boxes and radio buttons: 65 % of the way from Base to Text.

    Fusion outlines them in the window colour darkened, which on a dark window
    is the window colour again (contrast 1.1:1: invisible when unchecked);
    this keeps at least 3:1 against the window in both themes.
    """
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    mix = 0.65
    return QColor(
        round(base.red() + (text.red() - base.red()) * mix),
        round(base.green() + (text.green() - base.green()) * mix),
        round(base.blue() + (text.blue() - base.blue()) * mix),
    )


class OutlinedFusion(QProxyStyle):
    """Fusion with check box and radio button outlines that show on any background."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _INDICATORS:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(indicator_outline(option.palette), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        else:
            painter.drawRect(rect)
        painter.restore()


#: Widgets that draw check indicators: they get `outlined_style()` (app.widgetrules).
INDICATOR_WIDGETS = (QCheckBox, QRadioButton, QAbstractItemView, QMenu)
_OUTLINED: list[OutlinedFusion] = []  # widgets do not own their style: it lives here


def outlined_style() -> OutlinedFusion:
    """The one OutlinedFusion of the application (made on first use)."""
    if not _OUTLINED:
        _OUTLINED.append(OutlinedFusion())
    return _OUTLINED[0]


def apply_theme(app: QApplication, name: str) -> Theme:
    """Put theme `name` on the application and on plots created from now on."""
    theme = theme_named(name)
    if app.property("samplelab_style") != "Fusion":
        # Once per application: setStyle deletes the previous QStyle and re-polishes
        # every widget, which left stale wrappers behind when done per window.
        app.setStyle("Fusion")
        app.setProperty("samplelab_style", "Fusion")
    app.setPalette(palette_of(theme))
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    return theme

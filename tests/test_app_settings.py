"""What the app remembers is declared once (key, type, default) and bound to its widgets."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from guitools import settings_dir, type_into
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

from app import settings as app_settings
from app.settings import AppSettings, Remembered, Setting

__all__ = ["settings_dir"]  # fixture used by name

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("sampling", "postprocess", "recordings", "streams", "device")
#: a settings call with a literal key: what the declared settings replace
LITERAL_KEY = re.compile(r"""(?:\.value|\.set_value|QSettings\(\)\.\w+)\(\s*["']\w+/""")


def declared() -> list[Setting]:
    modules = [app_settings] + [
        importlib.import_module(f"app.pages.{page}.remembered") for page in PAGES
    ]
    return [value for m in modules for value in vars(m).values() if isinstance(value, Setting)]


def test_every_setting_is_declared_once_under_one_key():
    settings = declared()
    keys = [s.key for s in settings]
    assert len(set(keys)) == len(keys) > 20
    for page in PAGES:
        module = importlib.import_module(f"app.pages.{page}.remembered")
        assert set(module.SETTINGS) == {
            v for v in vars(module).values() if isinstance(v, Setting)
        }  # the page's list is complete
    for s in settings:
        assert isinstance(s.default, s.kind), s


def test_no_settings_key_is_written_by_hand():
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name == "settings.py" and path.parent.name == "app":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LITERAL_KEY.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_bound_widgets_are_restored_as_the_user_left_them(qtbot, settings_dir):
    text, on, count = (
        Setting("t/text", str, "x"),
        Setting("t/on", bool, True),
        Setting("t/count", int, 3),
    )
    edit, box, spin = QLineEdit(), QCheckBox("on"), QSpinBox()
    for widget in (edit, box, spin):
        qtbot.addWidget(widget)
        widget.show()
    remembered = Remembered(AppSettings())
    remembered.bind(text, edit)
    remembered.bind(on, box)
    remembered.bind(count, spin)
    assert (edit.text(), box.isChecked(), spin.value()) == ("x", True, 3)  # the defaults
    type_into(qtbot, edit, "folder/a")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    type_into(qtbot, spin.lineEdit(), "7")
    remembered.save()
    remembered.settings.sync()

    again = [QLineEdit(), QCheckBox("on"), QSpinBox()]
    for widget in again:
        qtbot.addWidget(widget)
    later = Remembered(AppSettings())
    for setting, widget in zip((text, on, count), again):
        later.bind(setting, widget)
    assert (again[0].text(), again[1].isChecked(), again[2].value()) == ("folder/a", False, 7)
    stored = Path(AppSettings().path).read_text(encoding="utf-8")
    assert "count=7" in stored and "text=folder/a" in stored  # one INI file, readable

"""The backend never imports Qt or pyqtgraph: it must run in scripts, on servers, in workers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT

GUI_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")

_IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import backend
failed, names = {}, ["backend"]
for info in pkgutil.walk_packages(backend.__path__, "backend."):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = f"{type(exc).__name__}: {exc}"
gui = sorted(m for m in sys.modules if m.split(".")[0] in GUI_PACKAGES)
print(json.dumps({"modules": names, "failed": failed, "gui": gui}))
""".replace("GUI_PACKAGES", repr(GUI_PACKAGES))


def test_importing_every_backend_module_loads_no_gui_toolkit():
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERYTHING],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["modules"]) > 10  # the walk really found the package
    assert (
        "backend.sampling.session" in report["modules"]
        and "backend.acquisition.livebuffer" in report["modules"]
    )
    assert report["failed"] == {}
    assert report["gui"] == []


def test_no_backend_source_mentions_a_gui_toolkit():
    pattern = re.compile(rf"^\s*(?:from|import)\s+({'|'.join(GUI_PACKAGES)})\b", re.MULTILINE)
    offenders = {
        str(path.relative_to(ROOT)): pattern.findall(path.read_text(encoding="utf-8"))
        for path in (ROOT / "backend").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10


def test_widgets_take_plain_data_and_never_import_backend_jobs():
    pattern = re.compile(r"^\s*(?:from|import)\s+(backend|app)\b", re.MULTILINE)
    offenders = {
        str(path.relative_to(ROOT)): pattern.findall(path.read_text(encoding="utf-8"))
        for path in (ROOT / "widgets").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}

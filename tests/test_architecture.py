"""The architecture holds: import-linter contracts (pyproject.toml) and small modules.

The contracts say what DESIGN.md says in words: app > widgets > backend, the backend
imports no Qt, widgets take plain data, and backend packages form no import cycle.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap

from conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MAX_LINES = 400
# Modules allowed above MAX_LINES, each with the reason; remove an entry once it fits.
# None today: the last five were split along their seams (see docs/architecture.md).
LONG_MODULES: dict[str, str] = {}
# Imports that still close a cycle in the backend, listed in the acyclic contract's
# ignore_imports; this number only goes down.
KNOWN_CYCLE_IMPORTS = 0
# Imports inside functions in backend/ without a comment saying why (torch: on use, an
# optional extra, off the start-up path...); this number only goes down. A module-level
# import is the default: a cycle is untied, not dodged with a local import.
UNREASONED_FUNCTION_IMPORTS = 0

_LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def _lint(cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _LINT],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_state_the_design_rules_and_cycles_only_go_down():
    contracts = _contracts()
    assert contracts["layers"]["layers"] == ["app", "widgets", "backend"]
    assert {"PySide6", "pyqtgraph"} <= set(contracts["backend-no-qt"]["forbidden_modules"])
    assert set(contracts["widgets-plain-data"]["forbidden_modules"]) == {"backend", "app"}
    assert contracts["backend-acyclic"]["ancestors"] == ["backend"]
    ignored = contracts["backend-acyclic"].get("ignore_imports", [])
    assert len(ignored) <= KNOWN_CYCLE_IMPORTS, "a new import cycle: untie it instead"


def test_the_contracts_catch_a_backend_that_imports_qt_or_a_cycle(tmp_path):
    """The same contracts on a tiny project that breaks them: the linter says so."""
    section = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.importlinter]")
    config = re.sub(r"ignore_imports = \[[^\]]*\]", "", section[1])
    marker = "[[tool.importlinter.contracts]]"  # the app's contracts name pages it lacks
    config = marker.join(c for c in config.split(marker) if 'id = "app-' not in c)
    (tmp_path / "pyproject.toml").write_text("[tool.importlinter]" + config, "utf-8")
    files = {
        "app/__init__.py": "import widgets\n",
        "widgets/__init__.py": "",
        "backend/__init__.py": "",
        "backend/a.py": "import PySide6\nfrom backend import b\n",
        "backend/b.py": "from backend import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    result = _lint(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "imports no Qt" in out and "BROKEN" in out
    assert "backend.a -> PySide6" in out
    assert "No cycles are allowed in backend" in out


def _line_counts() -> dict[str, int]:
    counts = {}
    for package in ("backend", "app", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            with path.open(encoding="utf-8") as handle:
                counts[path.relative_to(ROOT).as_posix()] = sum(1 for _ in handle)
    return counts


def test_modules_stay_under_400_lines_unless_a_reason_is_stated():
    counts = _line_counts()
    assert len(counts) > 50  # the walk really found the packages
    too_long = {p: n for p, n in counts.items() if n > MAX_LINES and p not in LONG_MODULES}
    assert too_long == {}, "split these modules (or state why not in LONG_MODULES)"
    stale = {p for p in LONG_MODULES if counts.get(p, 0) <= MAX_LINES}
    assert stale == set(), "these fit now: remove them from LONG_MODULES"
    assert all(len(reason) > 20 for reason in LONG_MODULES.values())


def test_the_architecture_doc_names_every_backend_package():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "```mermaid" in text
    assert "## App" in text and "How to add a file kind" in text and "How to add a device" in text
    packages = sorted(p.parent.name for p in (ROOT / "backend").glob("*/__init__.py"))
    missing = [name for name in packages if f"backend/{name}" not in text]
    assert missing == [], textwrap.shorten(f"docs/architecture.md misses {missing}", 200)


def _function_imports(text: str) -> list[tuple[int, bool]]:
    """(line, has a reason) of each import inside a function or class body.

    Imports under `if TYPE_CHECKING:` are type hints, not runtime imports. A reason
    is a comment on the import's line or heading its group of imports.
    """
    lines = text.splitlines()
    found: list[tuple[int, bool]] = []

    def reason(node: ast.stmt) -> bool:
        if any("#" in lines[i] for i in range(node.lineno - 1, node.end_lineno)):
            return True
        j = node.lineno - 2
        while j >= 0:
            above = lines[j].strip()
            if above.startswith("#"):
                return True
            if not above.startswith(("import ", "from ")):
                return False
            if "#" in above:
                return True
            j -= 1
        return False

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if nested and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child.lineno, reason(child)))
            inner = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            visit(child, nested or inner)

    visit(ast.parse(text), False)
    return found


def test_function_level_imports_in_the_backend_say_why():
    unreasoned = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        for line, why in _function_imports(path.read_text(encoding="utf-8")):
            if not why:
                unreasoned.append(f"{path.relative_to(ROOT).as_posix()}:{line}")
    assert len(unreasoned) <= UNREASONED_FUNCTION_IMPORTS, (
        "import at module level, or say why not in a comment (e.g. '# torch: on use'): "
        + ", ".join(unreasoned)
    )


def test_the_function_import_count_sees_reasons_and_type_hints():
    text = textwrap.dedent(
        """
        from typing import TYPE_CHECKING

        import os

        if TYPE_CHECKING:
            import numpy

        def plain():
            import json
            return json

        def lazy():
            import torch  # torch: on use
            import torch.nn
            return torch

        def headed():
            # scipy: on use
            from scipy import signal
            return signal

        class Holder:
            def method(self):
                if TYPE_CHECKING:
                    import h5py
                import csv
                return csv
        """
    )
    found = dict(_function_imports(text))
    assert sorted(found) == [10, 14, 15, 20, 27]
    assert [line for line, why in found.items() if not why] == [10, 27]

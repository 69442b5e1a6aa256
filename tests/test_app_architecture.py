"""The app's shape holds: pages meet only in the session service, never in each other.

The import contracts (pyproject.toml, import-linter) forbid one page package
importing another and a page starting a session itself; this also finds the
other way pages used to reach each other, through the window's page table.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict

from conftest import ROOT

APP_CONTRACTS = ("app-pages-independent", "app-sessions-in-service")
_LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', limit_to_contracts={ids!r}, "
    "no_cache=True, no_logo=True))"
)
#: a page looking another page up in the window (`window.pages[...]`, `getattr(window, "pages")`)
REACH = re.compile(r"""window\.pages\b|window\s*,\s*["']pages["']""")
#: the command protocol every `app/commands/<name>.py` implements (app/cli.py calls them)
COMMAND_PROTOCOL = {"register", "run"}
#: a method whose `self` is typed as another class: a mixin that reaches into its host
TYPED_SELF = re.compile(r"def \w+\(\s*self\s*:")
#: typed mixins not yet untied, with why (remove the entry when it is untied); none today:
#: the plot's lanes and overlays are parts it owns (widgets/channellanes.py)
KNOWN_MIXINS: dict[str, str] = {}


def test_the_app_import_contracts_hold():
    result = subprocess.run(
        [sys.executable, "-c", _LINT.format(ids=APP_CONTRACTS)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(APP_CONTRACTS)} kept, 0 broken" in result.stdout


def test_no_page_reaches_into_another_through_the_window():
    offenders = []
    for path in sorted((ROOT / "app" / "pages").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if REACH.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_each_command_helper_has_one_home():
    """Two command modules defining one public helper name (once: two
    `format_summary`) means a reader cannot tell which one a caller gets, and a
    shared helper belongs in one module (common.py) that both import."""
    homes: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "app" / "commands").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                homes[node.name].append(path.name)
    twice = {name: files for name, files in homes.items() if len(files) > 1}
    assert set(twice) <= COMMAND_PROTOCOL, {n: twice[n] for n in set(twice) - COMMAND_PROTOCOL}
    assert len(twice.get("run", [])) > 5  # the scan saw the command modules


def test_no_typed_mixins_reach_into_their_host():
    """Helpers are components their owner holds (e.g. the Recordings page's
    `RecordingsFolder`), talking through signals and callables, not mixins typed
    `self: Page` that can touch any attribute of the class they are mixed into."""
    found = set()
    for package in ("app", "widgets", "backend"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if TYPED_SELF.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    assert found == set(KNOWN_MIXINS)

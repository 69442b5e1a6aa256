"""The files a user reads first say what is true: README, LICENSE, package metadata."""

from __future__ import annotations

import re
import sys

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_benchmark_is_listed_in_the_readme_and_named_in_the_docs():
    docs = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob("*.md")))
    for bench in sorted((ROOT / "bench").glob("*.py")):
        assert f"bench/{bench.name}" in README, bench.name
        assert bench.name in docs, f"no page in docs/ says what {bench.name} measures"


def test_the_license_is_mit_everywhere():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib is not None:
        meta = tomllib.loads(text)
        assert meta["project"]["license"] == "MIT"
        assert meta["project"]["license-files"] == ["LICENSE"]
        requires = meta["build-system"]["requires"]
        assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r[12:]) >= 77 for r in requires)
    assert "[LICENSE](LICENSE)" in README


def test_every_resource_file_ships_as_package_data():
    import fnmatch

    text = (ROOT / "pyproject.toml").read_text()
    patterns = re.search(r"^resources = \[(.*)\]$", text, re.M).group(1)
    globs = re.findall(r'"([^"]+)"', patterns)
    resources = ROOT / "resources"
    for path in resources.rglob("*"):
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
            name = path.relative_to(resources).as_posix()
            assert any(fnmatch.fnmatch(name, g) for g in globs), name


def test_pytest_m_slow_has_tests_to_run():
    marked = [
        p.name for p in (ROOT / "tests").glob("test_*.py") if "@pytest.mark.slow" in p.read_text()
    ]
    assert marked, "README tells users to run `pytest -m slow`"
    assert "-m slow" in README

"""A `git clone` of this repository, with nothing beside it, collects and passes its tests.

The clone is of the committed HEAD. The quick check runs in CI with this
environment's Python (the clone's own modules first on the path); the slow one
runs `.ci/run` in the clone, which builds its own .venv from a bare Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

#: Tests that read the brainspy-smg ground truth (tests/data), quick to run.
FIXTURE_BACKED = [
    "tests/test_fixture_copy.py",
    "tests/test_iodat_reader.py",
    "tests/test_postprocess_cli.py::test_postprocess_prints_a_summary_and_the_folder_last",
]


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path) -> Path:
    """The committed HEAD, cloned alone into an otherwise empty folder."""
    head = _git("rev-parse", "HEAD", cwd=ROOT)
    target = tmp_path / "samplelab"
    _git("clone", "--quiet", "--no-checkout", str(ROOT), str(target), cwd=tmp_path)
    _git("checkout", "--quiet", head, cwd=target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samplelab"]
    assert not (target / ".venv").exists() and not (target.parent / "shared").exists()
    return target


def _env(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(clone), QT_QPA_PLATFORM="offscreen")
    env["SAMPLELAB_HOME"] = str(clone.parent / "home")
    return env


def _pytest(clone: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=clone,
        env=_env(clone),
        capture_output=True,
        text=True,
        timeout=280,
    )


def test_a_fresh_clone_collects_everything_and_passes_fixture_backed_tests(clone):
    where = subprocess.run(
        [sys.executable, "-c", "import app, backend, conftest; print(app.__file__)"],
        cwd=clone / "tests",
        env=_env(clone),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(clone)  # the clone's code is what runs
    collected = _pytest(clone, "--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    summary = collected.stdout.strip().splitlines()[-1]
    assert "collected" in summary and "error" not in summary
    ran = _pytest(clone, "-q", *FIXTURE_BACKED)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    summary = ran.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_ci_run_in_a_fresh_clone_sets_itself_up_and_passes(clone):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    env["SAMPLELAB_HOME"] = str(clone.parent / "home")
    done = subprocess.run(
        [str(clone / ".ci" / "run")],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=3500,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert "passed" in summary and "failed" not in summary and "error" not in summary

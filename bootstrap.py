"""Set up samplelab in ./.venv and run it: one command on Linux, macOS and Windows.

    python bootstrap.py            set up, then open samplelab on the simulated device
    python bootstrap.py test       set up, then run the whole test suite
    python bootstrap.py setup      set up only
    python bootstrap.py run ARGS   set up, then run `samplelab ARGS`

Needs only Python 3.10+. Installation is skipped when pyproject.toml has not
changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".samplelab-installed"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def setup() -> Path:
    if sys.version_info < (3, 10):  # noqa: UP036 - runs before anything is installed
        sys.exit(f"samplelab needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = venv_python()
    if not python.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return python
    print("installing samplelab and its dependencies (first run takes a few minutes)", flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    # torch first and pinned, so no resolver step can pull a multi-GB CUDA build.
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(_fingerprint())
    return python


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    python = setup()
    env = dict(os.environ)
    if command == "setup":
        return 0
    if command == "test":
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT, env=env)
    if command == "run":
        return subprocess.call([str(python), "-m", "app", *rest], cwd=ROOT, env=env)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

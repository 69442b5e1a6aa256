"""Set up samplelab in ./.venv and run it: one command on Linux, macOS and Windows.

    python bootstrap.py            set up, then open samplelab on the simulated device
    python bootstrap.py test       set up, then run the whole test suite
    python bootstrap.py setup      set up only
    python bootstrap.py run ARGS   set up, then run `samplelab ARGS`

Needs only Python 3.10+. Installation is skipped when pyproject.toml has not
changed since the last run. Ctrl+C and SIGTERM reach samplelab (or pytest)
once each and this script waits for its safe stop (outputs to 0 V, recording
closed), then exits with its exit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".samplelab-installed"
TORCH = "torch==2.13.0"  # as pinned in pyproject.toml


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
    # torch first and pinned, from SAMPLELAB_TORCH_INDEX if set: on Linux PyPI's torch
    # wheel pulls NVIDIA's CUDA packages (GBs); https://download.pytorch.org/whl/cpu
    # has the CPU-only build. Windows and macOS wheels on PyPI are CPU-only already.
    index = os.environ.get("SAMPLELAB_TORCH_INDEX")
    subprocess.run([*pip, TORCH, *(["--index-url", index] if index else [])], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(_fingerprint())
    return python


def _signals() -> tuple[list[int], list[int]]:
    """(signals this script forwards to the child, signals it only ignores)."""
    if os.name == "nt":
        # The console sends Ctrl+C / Ctrl+Break to every process attached to it,
        # the child included: forwarding would deliver them twice. Closing the
        # console reaches the child the same way; its own handler keeps it alive
        # for its safe stop (app/commands/winconsole.py), and this process ending
        # first does not end it (no job object ties them).
        return [], [signal.SIGINT, signal.SIGBREAK]
    return [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], []


def run_child(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run `command` until it ends by itself, however often it is interrupted; its exit code.

    On POSIX the child gets its own session, so a terminal's Ctrl+C reaches only
    this process, which passes each SIGINT / SIGTERM / SIGHUP on exactly once (a
    second Ctrl+C stays a second one) and keeps waiting: the child's safe stop
    is never cut short. A child killed by signal N gives 128 + N, like a shell.
    """
    forwarded, ignored = _signals()
    child: subprocess.Popen | None = None
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child is None:
            pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    def ignore(_signum: int, _frame: object) -> None:
        """A Python handler, not SIG_IGN: the child must not inherit the ignoring."""

    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    previous.update({sig: signal.signal(sig, ignore) for sig in ignored})
    try:
        child = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=os.name != "nt")
        for signum in pending:
            forward(signum, None)
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    python = setup()
    env = dict(os.environ)
    if command == "setup":
        return 0
    if command == "test":
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return run_child([str(python), "-m", "pytest", *rest], ROOT, env)
    if command == "run":
        return run_child([str(python), "-m", "app", *rest], ROOT, env)
    print(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # during set-up; a running samplelab handles its own
        sys.exit("bootstrap: interrupted")
    except subprocess.CalledProcessError as exc:
        sys.exit(f"bootstrap: installing failed (exit {exc.returncode}); see pip's output above")

"""Every script in bench/ and tools/ runs, as a user runs it, at its smallest size.

Nothing in the application imports these scripts, so when code they call moves they
break silently (bench_training.py once died on `electrode_info()` missing an argument).
The scripts are found by globbing: a new one fails `test_every_script_has_a_smoke_run`
until RUNS says how to run it small and what its output must show, or NOT_RUN says why
it cannot run on its own and what runs it instead. Benchmarks must print the JSON their
docstring promises with their ratios finite (timing targets stay in the benchmarks);
tools must exit 0 and print what they document. Fast runs go two at a time (the suite
runs on 2-core machines); runs too long for the fast suite are marked slow, and their
`--help` still runs in the fast suite. Every script's imports of our own code (most are
inside functions, after the arguments are parsed) are checked to resolve, run or not.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPTS = sorted(
    p.relative_to(ROOT).as_posix() for d in ("bench", "tools") for p in (ROOT / d).glob("*.py")
)
TIMEOUT_S = 240  # per script; a hang fails the test, it does not stall the suite
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Done:
    """One finished run: its exit status, output, and the folder it was given."""

    script: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    out: Path

    def explain(self) -> str:
        return (
            f"{self.script} exited {self.returncode} after {self.seconds:.1f} s\n"
            f"--- stdout (end)\n{self.stdout[-3000:]}\n--- stderr (end)\n{self.stderr[-3000:]}"
        )


@dataclass(frozen=True)
class Run:
    """How to run a script small (`{out}` is replaced by a fresh folder) and what to check."""

    args: tuple[str, ...]
    check: Callable[[Done], None]
    slow: bool = False
    needs: tuple[str, ...] = ()  # programs that must be installed (else the test skips)


# --- checks ------------------------------------------------------------------------------


def _json(done: Done) -> dict:
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(f"stdout is not one JSON object ({error})\n{done.explain()}") from None
    assert isinstance(report, dict), done.explain()
    return report


def _finite(value: object, where: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _finite(inner, f"{where}.{key}")
        return
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (where, value)
    assert math.isfinite(value), (where, value)


def _ratios(report: dict, where: str = "") -> list[str]:
    """Every key naming a ratio or a speedup, at any depth; each value checked finite."""
    found = []
    for key, value in report.items():
        path = f"{where}.{key}" if where else key
        if "ratio" in key or "speedup" in key:
            _finite(value, path)
            found.append(path)
        elif isinstance(value, dict):
            found += _ratios(value, path)
    return found


def bench(*keys: str) -> Callable[[Done], None]:
    """A benchmark's check: one JSON object holding `keys` (dotted paths), every ratio finite."""

    def check(done: Done) -> None:
        report = _json(done)
        found = _ratios(report)
        missing = [key for key in keys if key not in found]
        assert not missing, f"ratio keys missing: {missing}; found {found}\n{done.explain()}"

    return check


def pngs_printed(*names: str) -> Callable[[Done], None]:
    """A screenshot tool's check: every PNG it printed exists in --out; `names` among them."""

    def check(done: Done) -> None:
        lines = [line.split(": ")[0] for line in done.stdout.splitlines() if ".png" in line]
        printed = {Path(line).name for line in lines}
        assert printed, done.explain()
        for name in printed:
            assert (done.out / name).read_bytes()[:8] == PNG, name
        missing = set(names) - printed
        assert not missing, f"not written: {sorted(missing)}\n{done.explain()}"

    return check


def hostile_table(done: Done) -> None:
    assert done.stdout.startswith("| trial | tried | clear | accepted |"), done.explain()
    for group in ("sample", "info", "postprocess", "export", "dataset"):
        assert f"via `{group}` |" in done.stdout, (group, done.explain())
    assert "FAILED" not in done.stdout, done.explain()


def trial_table(done: Done) -> None:
    table = _json(done)
    assert "`info` on a recording after SIGKILL" in table, table
    assert "two readers of a live file, reads" in table, table
    for trial, (tried, passed) in table.items():
        assert 0 <= passed <= tried and tried >= 1, (trial, tried, passed)


def xdrive_saw(done: Done) -> None:
    for seen in ("header:", "run dropped", "exported", "after Stop: Stopped", "app exit code 0"):
        assert seen in done.stdout, (seen, done.explain())
    assert len(list(done.out.glob("*-xvfb.png"))) >= 4, done.explain()


# --- what runs, and how -------------------------------------------------------------------

RUNS: dict[str, Run] = {
    "bench/bench_browser.py": Run(
        ("--rows", "30000", "--baseline-rows", "30000", "--repeat", "1", "--dir", "{out}"),
        bench("speedup_first_overview"),
    ),
    "bench/bench_datasets.py": Run(("--rows", "5000", "--seconds", "0.5"), bench("loader.speedup")),
    "bench/bench_decimate.py": Run(
        ("--rows", "20000", "--live-rows", "20000", "--baseline-rows", "20000", "--repeat", "2"),
        bench("live_buffer.speedup", "row_major.speedup", "pyramid.speedup"),
    ),
    "bench/bench_fanout.py": Run(
        ("--recordings", "2", "--rows", "5000", "--repeat", "1", "--dir", "{out}"),
        bench("ratios_vs_serial"),
    ),
    "bench/bench_gui.py": Run(
        ("--batches", "4", "--rounds", "1", "--idle-seconds", "0.2", "--feed-seconds", "0.2"),
        bench("ratios"),
    ),
    "bench/bench_npz_crc.py": Run(
        ("--mb", "8", "--repeat", "1", "--dir", "{out}"),
        bench("crc_ratio_to_dataset", "crc_ratio_to_train_load"),
    ),
    "bench/bench_postprocess.py": Run(
        ("--rows", "25000", "--repeat", "1", "--dir", "{out}"),
        bench("ratios_vs_baseline", "cpu_ratios_vs_baseline"),
    ),
    "bench/bench_sampling.py": Run(
        ("--batches", "2", "--repeat", "1"),
        bench("ratio_ours_over_baseline", "ratio_of_medians"),
    ),
    "bench/bench_startup.py": Run(
        ("--rounds", "1"),  # one fresh process per case and round: ~30 s
        bench("first_window_ratio", "help_ratio", "info_ratio"),
        slow=True,
    ),
    "bench/bench_streams.py": Run(
        ("--batches", "2", "--repeat", "1"),
        bench("ratio_with_stream_unread", "ratio_with_consumer", "ratio_with_filter"),
    ),
    "bench/bench_training.py": Run(
        ("--rows", "2000", "--epochs", "1", "--rounds", "1"),
        bench("speedup_per_epoch", "speedup_per_epoch_cpu_time", "rmse_ratio"),
    ),
    "tools/hostile_matrix.py": Run(("--limit", "1", "--timeout", "120"), hostile_table),
    "tools/trial_reading.py": Run(
        ("--kills", "1", "--files", "1", "--read-seconds", "0.5"), trial_table
    ),
    "tools/screenshots.py": Run(
        ("--out", "{out}", "--seconds", "0.5"),
        pngs_printed("sampling-light.png", "postprocess.png", "recordings.png", "streams.png"),
        slow=True,  # a session, a postprocess run and a 20 s recording: ~35 s
    ),
    "tools/shots_data_pages.py": Run(
        ("--out", "{out}", "--sizes", "800x600", "--themes", "light"),
        pngs_printed("postprocess-800x600-light.png", "streams-800x600-light.png"),
        slow=True,  # six recordings, two postprocess runs, a paced session: ~25 s
    ),
    "tools/shots_device.py": Run(
        (
            "--out",
            "{out}",
        ),
        pngs_printed("device-iv-1024-light.png"),
        slow=True,  # 8 shots, ~40 s
    ),
    "tools/shots_models.py": Run(
        (
            "--out",
            "{out}",
        ),
        pngs_printed("models-1024x700-light.png"),
        slow=True,  # trains: ~20 s
    ),
    "tools/xdrive_data_pages.py": Run(
        ("--display", "auto", "--shots", "{out}"),
        xdrive_saw,
        slow=True,  # real X input with pauses between steps: ~50 s
        needs=("Xvfb", "xdotool", "import"),
    ),
}

NOT_RUN: dict[str, str] = {
    "tools/shots_browser.py": "module of tools/screenshots.py (its shoot() runs there)",
    "tools/shots_postprocess.py": "module of tools/screenshots.py (its shoot() runs there)",
    "tools/shots_sampling.py": "module of tools/screenshots.py (its shoot() runs there)",
    "tools/xprobe.py": "started by tools/xdrive_data_pages.py under Xvfb; it runs the app "
    "until the window is closed, so it cannot end on its own",
}

FAST = [s for s in SCRIPTS if s in RUNS and not RUNS[s].slow]
SLOW = [s for s in SCRIPTS if s in RUNS and RUNS[s].slow]


def _env(folder: Path) -> dict[str, str]:
    """Offscreen, settings and temporary files in `folder` (what a script leaks stays there)."""
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SAMPLELAB_HOME": str(folder / "home")}
    env["TMPDIR"] = str(folder / "tmp")
    env.pop("PYTHONPATH", None)  # as the README runs them: from the repository root
    return env


def run_script(script: str, args: tuple[str, ...], folder: Path) -> Done:
    """`python SCRIPT ARGS` from the repository root, `{out}` in ARGS meaning folder/out."""
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    argv = [arg.replace("{out}", str(out)) for arg in args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, script, *argv],
            cwd=ROOT,
            env=_env(folder),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"{script} still ran after {TIMEOUT_S} s: {error.stderr}") from None
    return Done(script, proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start, out)


def _missing(needs: tuple[str, ...]) -> list[str]:
    return [program for program in needs if shutil.which(program) is None]


@pytest.fixture(scope="module")
def fast_runs(request, tmp_path_factory):
    """The selected fast runs, started together two at a time; script -> Future[Done]."""
    selected = {
        item.callspec.params["script"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and item.originalname == "test_script_runs"
        and hasattr(item, "callspec")
    }
    pool = ThreadPoolExecutor(2)
    futures: dict[str, Future[Done]] = {}
    for script in FAST:
        if script in selected:
            folder = tmp_path_factory.mktemp(Path(script).stem)
            futures[script] = pool.submit(run_script, script, RUNS[script].args, folder)
    yield futures
    pool.shutdown(wait=True)


FIRST_PARTY = {"backend", "app", "widgets", "resources", "tools"}
CHECK_NAMES = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
missing = []
for script, module, name in json.loads(sys.stdin.read()):
    try:
        found = importlib.import_module(module)
        if name is not None and not hasattr(found, name):
            importlib.import_module(f"{module}.{name}")
    except ImportError as error:
        missing.append(f"{script}: {module}{'.' + name if name else ''}: {error}")
print(json.dumps(missing))
"""


def _code(text: str) -> list[ast.AST]:
    """The nodes of `text` and of the Python code in its string constants (child programs)."""
    nodes = list(ast.walk(ast.parse(text)))
    for node in list(nodes):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "import " in node.value
        ):
            with contextlib.suppress(SyntaxError):  # else a docstring or message, not code
                nodes += _code(node.value)
    return nodes


def first_party_imports(script: str) -> list[tuple[str, str, str | None]]:
    """(script, module, name) of every import of our own code in `script`, in functions and
    in the code it hands to child processes too."""
    found = []
    for node in _code((ROOT / script).read_text(encoding="utf-8")):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in FIRST_PARTY:
                found += [(script, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (script, a.name, None) for a in node.names if a.name.split(".")[0] in FIRST_PARTY
            ]
    return found


def test_every_name_a_script_imports_from_our_code_exists(tmp_path):
    """Moved or renamed code shows here for every script, slow or not run, in seconds:
    the imports inside functions too (most scripts import lazily, after parsing arguments)."""
    wanted = [entry for script in SCRIPTS for entry in first_party_imports(script)]
    # the walk sees lazy imports: the one that broke silently once is among them
    assert ("bench/bench_training.py", "backend.postprocess.electrodes", "electrode_info") in wanted
    assert ("bench/bench_startup.py", "app.main", "run_gui") in wanted  # in a child's code
    done = subprocess.run(
        [sys.executable, "-c", CHECK_NAMES, str(ROOT)],
        input=json.dumps(wanted),
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == []


def test_every_script_has_a_smoke_run():
    """A new script needs a RUNS entry (small arguments, a check) or a NOT_RUN reason."""
    covered = set(RUNS) | set(NOT_RUN)
    assert not set(RUNS) & set(NOT_RUN)
    assert [s for s in SCRIPTS if s not in covered] == [], "add these to RUNS or NOT_RUN"
    assert sorted(covered - set(SCRIPTS)) == [], "entries for scripts that are gone"
    for script, reason in NOT_RUN.items():
        runner = reason.split("tools/")[-1].split()[0] if "tools/" in reason else ""
        assert runner == "" or f"tools/{runner}" in RUNS, (script, reason)


@pytest.mark.parametrize("script", FAST)
def test_script_runs(script, fast_runs):
    done = fast_runs[script].result(timeout=TIMEOUT_S * len(FAST))
    assert done.returncode == 0, done.explain()
    RUNS[script].check(done)


@pytest.mark.slow
@pytest.mark.parametrize("script", SLOW)
def test_slow_script_runs(script, tmp_path):
    missing = _missing(RUNS[script].needs)
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    done = run_script(script, RUNS[script].args, tmp_path)
    assert done.returncode == 0, done.explain()
    RUNS[script].check(done)


@pytest.mark.parametrize("script", SLOW)
def test_slow_script_imports_and_parses_help(script, tmp_path):
    """What the fast suite can afford of a slow script: its imports and its arguments."""
    done = run_script(script, ("--help",), tmp_path)
    assert done.returncode == 0, done.explain()
    assert done.stdout.startswith("usage:"), done.explain()
    for arg in RUNS[script].args:
        if arg.startswith("--"):
            assert arg in done.stdout, (arg, done.explain())

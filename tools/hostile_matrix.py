"""Hostile configs and non-HDF5 data files through the real CLI, counted as a table.

    python tools/hostile_matrix.py [--workers 2] [--timeout 60] [--keep DIR] [--limit N]

Every case is one `python -m app ...` subprocess, as a user runs it:

- bad configs: `sample CONFIG --out DIR` for each config of `bad_configs()`
  (names that leave DIR or overwrite a file, absurd sizes, NaN/inf, YAML bombs,
  duplicate keys, python tags, FIFOs and devices...);
- bad data files: `info`, `postprocess`, `export` and `dataset` on each damaged
  npz, IO.dat folder, config and non-regular file of `bad_files()`.

A case counts as *clear* when it ends with exit status 1 or 2 and one
`samplelab: error:` message, as *accepted* when it exits 0 (some damage, e.g.
NaN rows, is fine to browse), and as a failure when it prints a traceback,
runs past the timeout (a hang), dies by a signal, or leaves a file behind (for
`sample`: anything in DIR; else a `.partial` or an output of a failed run).
The numbers in docs/reliability.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.config import load_config, save_config  # noqa: E402
from resources import preset_paths  # noqa: E402


@dataclass
class Case:
    group: str
    name: str
    argv: list[str]
    out: Path | None = None  # must stay empty (sample) / hold no output after a failure


def _run(case: Case, timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "app", *case.argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "hang"
    if "Traceback" in done.stderr:
        return "traceback"
    if done.returncode < 0:
        return "crash"
    left = _left_behind(case, done.returncode)
    if left:
        return "left a file"
    if done.returncode == 0:
        return "accepted"
    if done.returncode in (1, 2) and done.stderr.count("samplelab: error:") == 1:
        return "clear"
    return "unclear"


def _left_behind(case: Case, code: int) -> bool:
    if case.out is None or not case.out.exists():
        return False
    found = [p for p in case.out.rglob("*") if p.is_file()]
    if case.group == "config":
        return code != 0 and bool(found)
    return any(p.name.endswith(".partial") for p in found) or (code != 0 and bool(found))


# --- bad configs ------------------------------------------------------------------------


def _laughs() -> str:
    text = 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, 10):
        text += f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n"
    return text


def bad_configs(work: Path, victim: Path) -> dict[str, bytes | Path]:
    """name -> YAML bytes (or a path to pass as is): each must be refused."""
    cfg = load_config(preset_paths()["quick-demo"])
    cfg.input_data.number_batches = 2
    base = save_config(cfg, work / "base.yaml").read_text()

    def sub(old: str, new: str) -> bytes:
        assert old in base, old
        return base.replace(old, new, 1).encode("utf-8", "surrogatepass")

    name = "data_name: quick_demo"
    out: dict[str, bytes | Path] = {
        "data_name NUL into a victim": sub(name, f'data_name: "{victim}\\0.x"'),
        "data_name absolute path": sub(name, f"data_name: {victim}"),
        "data_name ../../x": sub(name, "data_name: ../../escaped"),
        "data_name a/b": sub(name, "data_name: a/b"),
        "data_name backslash": sub(name, 'data_name: "a\\\\b"'),
        "data_name ..": sub(name, "data_name: '..'"),
        "data_name empty": sub(name, "data_name: ''"),
        "data_name CON": sub(name, "data_name: CON"),
        "data_name nul.txt": sub(name, "data_name: nul.txt"),
        "data_name COM1": sub(name, "data_name: COM1"),
        "data_name lone surrogate": sub(name, 'data_name: "x\\ud800"'),
        "data_name line break": sub(name, 'data_name: "a\\nb"'),
        "data_name tab": sub(name, 'data_name: "a\\tb"'),
        "data_name 300 chars": sub(name, "data_name: " + "x" * 300),
        "data_name trailing dot": sub(name, "data_name: 'x.'"),
        "data_name a:b": sub(name, "data_name: 'a:b'"),
        "data_name a number": sub(name, "data_name: [1]"),
    }
    numbers = {
        "number_batches: 2": ["1000000000000000000000000000000", "0", "-1", "x", "1.5", ".inf"],
        "batch_time: 0.5": ["1e9", "1.0e9", ".inf", "-.inf", ".nan", "1e308", "1.0e308", "0",
                            "-1", "abc", "0.00001", "80000.0"],
        "ramp_time: 0.1": [".inf", ".nan", "1.0e9", "0", "-0.5"],
        "activation_sampling_frequency: 5000": ["1000000000000000000000000000000", "0", ".nan",
                                                "-5", "7000"],
    }  # fmt: skip
    for old, values in numbers.items():
        for value in values:
            out[f"{old.split(':')[0]}: {value}"] = sub(old, f"{old.split(':')[0]}: {value}")
    waves = {
        "phase": "  phase: [-0.57, 0.25, 0.83, 1.02, -2.31, 0.42, 1.57]",
        "input_frequency": "  input_frequency: [2, 3, 5, 7, 13, 17, 19]",
    }
    for key, line in waves.items():
        for bad in (".nan", ".inf", "-.inf", "1.0e300"):
            out[f"{key} holds {bad}"] = sub(line, f"  {key}: [{bad}, 0.25, 0.83, 1.02, 2, 3, 4]")
    for key in ("amplitude", "offset"):
        for bad in (".nan", ".inf"):
            other = "offset" if key == "amplitude" else "amplitude"
            text = f"  {key}: [{bad}, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]\n  {other}: [0.1] \n"
            text = text.replace("[0.1] ", "[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]")
            out[f"{key} holds {bad}"] = sub("  ramp_time:", text + "  ramp_time:")
    lists, maps = "[" * 900 + "]" * 900, "{a: " * 900 + "1" + "}" * 900
    tag, touch = "!!python/object/", f"['touch {work}/pwned']"
    out |= {
        "factor .inf": sub("  ramp_time:", "  factor: .inf\n  ramp_time:"),
        "voltage range [.nan, 0.6]": sub("- [-1.2, 0.6]", "- [.nan, 0.6]"),
        "voltage range [-.inf, .inf]": sub("- [-1.2, 0.6]", "- [-.inf, .inf]"),
        "amplification .nan": sub("amplification: [39.17]", "amplification: [.nan]"),
        "amplification 0": sub("amplification: [39.17]", "amplification: [0]"),
        "driver: 5": sub("driver:\n", "driver: 5\nold_driver:\n"),
        "input_data: a list": sub("input_data:\n", "input_data: []\nold_input:\n"),
        "duplicate key (top level)": sub("data_name:", "data_name: a\ndata_name:"),
        "duplicate key (nested)": sub("  ramp_time:", "  batch_time: 9\n  ramp_time:"),
        "nesting 900 levels": sub("input_data:\n", f"deep: {lists}\ninput_data:\n"),
        "nesting 900 mappings": sub("input_data:\n", f"deep: {maps}\ninput_data:\n"),
        "billion laughs": (base + _laughs()).encode(),
        "alias loop": sub("input_data:\n", "loop: &a [1, *a]\ninput_data:\n"),
        "!!python/object/apply os.system": sub(name, f"data_name: {tag}apply:os.system {touch}"),
        "!!python/name": sub(name, "data_name: !!python/name:os.system ''"),
        "!!python/object/new Popen": sub(name, f"data_name: {tag}new:subprocess.Popen [['true']]"),
        "2 MB file": (base + "#" * (2 << 20)).encode(),
        "binary garbage": bytes(range(256)) * 4,
        "empty file": b"",
        "a list, not a mapping": b"- 1\n- 2\n",
        "not YAML": b"driver: [unclosed\n",
        "UTF-16 without its byte order mark": base.encode("utf-16-le"),
        "missing file": work / "no-such-config.yaml",
        "a folder": work / "a-folder",
        "/dev/zero": Path("/dev/zero"),
    }  # fmt: skip
    (work / "a-folder").mkdir(exist_ok=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(work / "fifo.yaml")
        out["a FIFO"] = work / "fifo.yaml"
    return out


def config_cases(work: Path) -> list[Case]:
    victim = work / "victim"
    victim.write_bytes(b"precious")
    cases = []
    for i, (name, content) in enumerate(bad_configs(work, victim).items()):
        if isinstance(content, Path):
            path = content
        else:
            path = work / f"c{i}.yaml"
            path.write_bytes(content)
        out = work / f"out{i}"
        out.mkdir()
        cases.append(Case("config", name, ["sample", str(path), "--out", str(out), "-q"], out))
    return cases


# --- bad data files ---------------------------------------------------------------------


def _rewrite_member(src: Path, dst: Path, key: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == key else zin.read(info))
    return dst


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def bad_files(work: Path) -> dict[str, Path]:
    """name -> a damaged file or folder, made from a fresh recording of the simulator."""
    from backend.data.formats.bspysmg import export_bspysmg_folder
    from backend.postprocess.job import postprocess
    from backend.sampling.session import start_session

    cfg = load_config(preset_paths()["quick-demo"])
    cfg.input_data.number_batches = 4
    session = start_session(cfg, "simulated", out_dir=work / "rec", seed=1)
    rec = session.run().path
    pp = work / "pp"
    postprocess(rec, pp)
    npz = pp / "postprocessed_data.npz"
    folder = export_bspysmg_folder(rec, work / "folder")
    with np.load(npz, allow_pickle=False) as stored:  # our keys; the peer's pickle left out
        data = {k: stored[k] for k in ("inputs", "outputs", "sampling_configs_json")}
    files: dict[str, Path] = {}

    def npz_with(name: str, **members) -> None:
        path = work / f"{name}.npz"
        np.savez(path, **{**data, **members})
        files[f"npz: {name}"] = path

    bomb = np.empty((), dtype=object)
    bomb[()] = {"a": 1}
    npz_with("object-dtype sampling_configs_json", sampling_configs_json=bomb)
    cfg_json = json.loads(str(data["sampling_configs_json"]))
    npz_with("driver 5", sampling_configs_json=np.array(json.dumps({**cfg_json, "driver": 5})))
    npz_with("JSON not JSON", sampling_configs_json=np.array("{not json"))
    nan_in = data["inputs"].copy()
    nan_in[5, 2] = np.nan
    npz_with("NaN row", inputs=nan_in)
    inf_out = data["outputs"].copy()
    inf_out[9, 0] = np.inf
    npz_with("inf row", outputs=inf_out)
    npz_with("inputs 3-D", inputs=data["inputs"].reshape(1, *data["inputs"].shape))
    npz_with("rows differ", outputs=data["outputs"][:-5])
    shape = data["inputs"].shape
    grown = _npy(data["inputs"]).replace(
        f"({shape[0]}, ".encode(), f"({shape[0] * 1000}, ".encode()
    )
    files["npz: header claims 1000x the rows"] = _rewrite_member(
        npz, work / "mmap.npz", "inputs.npy", grown
    )
    raw = npz.read_bytes()
    for tenth in (1, 3, 5, 7, 9):
        cut = work / f"cut{tenth}.npz"
        cut.write_bytes(raw[: len(raw) * tenth // 10])
        files[f"npz: cut at {tenth}0%"] = cut
    rng = np.random.default_rng(0)
    for k in range(3):
        flipped = bytearray(raw)
        for at in rng.integers(0, len(raw), 16):
            flipped[at] ^= 0xFF
        path = work / f"flip{k}.npz"
        path.write_bytes(bytes(flipped))
        files[f"npz: 16 flipped bytes ({k + 1})"] = path

    def folder_with(name: str, edit) -> None:
        dest = work / name.replace(" ", "_").replace(",", "")
        shutil.copytree(folder, dest)
        edit(dest)
        files[f"folder: {name}"] = dest

    def line(n: int, text: str):
        def edit(dest: Path) -> None:
            lines = (dest / "IO.dat").read_text().split("\n")
            lines[n - 1] = text
            (dest / "IO.dat").write_text("\n".join(lines))

        return edit

    folder_with("garbage at line 201", line(201, "garbage 1 2 3"))
    folder_with("NaN at line 201", line(201, " ".join(["nan"] + ["0.1"] * 7)))
    folder_with("3,000,000-value line", line(6, " ".join(["1.0"] * 3_000_000)))
    folder_with("3,000,000-value first row", line(2, " ".join(["1.0"] * 3_000_000)))
    folder_with(
        "IO.dat cut mid-line",
        lambda d: (d / "IO.dat").write_bytes((d / "IO.dat").read_bytes()[:-37]),
    )
    folder_with("IO.dat empty", lambda d: (d / "IO.dat").write_bytes(b""))
    cfg_name = "sampler_configs.json"

    def config_edit(old: str, new: str):
        def edit(dest: Path) -> None:
            text = (dest / cfg_name).read_text()
            (dest / cfg_name).write_text(text.replace(old, new, 1) if old else text + new)

        return edit

    def no_batch_time(dest: Path) -> None:
        text = (dest / cfg_name).read_text().splitlines(keepends=True)
        (dest / cfg_name).write_text("".join(t for t in text if "batch_time" not in t))

    folder_with("config without batch_time", no_batch_time)
    folder_with("config billion laughs", config_edit("", _laughs()))
    folder_with("config duplicate key", config_edit("", "save_directory: x\n"))
    folder_with(
        "config python tag", config_edit("", "x: !!python/object/apply:os.system ['true']\n")
    )
    if hasattr(os, "mkfifo"):
        fifo_folder = work / "fifo_folder"
        shutil.copytree(folder, fifo_folder)
        (fifo_folder / "IO.dat").unlink()
        os.mkfifo(fifo_folder / "IO.dat")
        files["folder: IO.dat is a FIFO"] = fifo_folder
        os.mkfifo(work / "fifo.npz")
        files["a FIFO named .npz"] = work / "fifo.npz"
    files["/dev/zero"] = Path("/dev/zero")
    (work / "empty_folder").mkdir()
    files["an empty folder"] = work / "empty_folder"
    huge = work / "huge.npy"
    huge.write_bytes(_npy(np.zeros((10, 4))).replace(b"(10, 4)", b"(10000000000, 4)"))
    files["npy: header claims 10^10 rows"] = huge
    return files


def file_cases(work: Path) -> list[Case]:
    cases = []
    for i, (name, path) in enumerate(bad_files(work).items()):
        out = {c: work / f"o{i}" / c for c in ("info", "postprocess", "export", "dataset")}
        argvs = {
            "info": ["info", str(path)],
            "postprocess": ["postprocess", str(path), "--out", str(out["postprocess"]), "-q",
                            "--no-figure"],
            "export": ["export", str(path), "--format", "csv", "--out",
                       str(out["export"] / "x.csv"), "-q"],
            "dataset": ["dataset", str(path), "--out", str(out["dataset"]), "--quiet"],
        }  # fmt: skip
        cases += [Case(c, f"{name} [{c}]", argv, out[c]) for c, argv in argvs.items()]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--keep", help="build the cases here and keep them")
    parser.add_argument("--only", choices=["configs", "files"])
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="run only the first N cases of each group (a smoke run)",
    )
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        cases: list[Case] = []
        if args.only != "files":
            (work / "configs").mkdir()
            cases += config_cases(work / "configs")
        if args.only != "configs":
            (work / "files").mkdir()
            cases += file_cases(work / "files")
        if args.limit is not None:
            cases = _first_of_each_group(cases, args.limit)
        with ThreadPoolExecutor(args.workers) as pool:
            results = list(pool.map(lambda c: _run(c, args.timeout), cases))
        harmed = _outside_changes(work / "configs") if args.only != "files" else []
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    code = _report(cases, results)
    if harmed:
        print(f"CHANGED OUTSIDE --out: {'; '.join(harmed)}")
    return 1 if harmed else code


def _first_of_each_group(cases: list[Case], limit: int) -> list[Case]:
    """The first `limit` cases of each group, in order (a quick check that the matrix runs)."""
    seen: Counter[str] = Counter()
    kept = []
    for case in cases:
        seen[case.group] += 1
        if seen[case.group] <= limit:
            kept.append(case)
    return kept


def _outside_changes(work: Path) -> list[str]:
    """What the bad configs did outside their --out folders (must be nothing)."""
    found = []
    if (work / "victim").read_bytes() != b"precious":
        found.append("the victim file was overwritten")
    found += [str(p) for p in (work / "pwned", work.parent / "escaped", work / "escaped")
              if p.exists()]  # fmt: skip
    return found


def _report(cases: list[Case], results: list[str]) -> int:
    columns = ["clear", "accepted", "traceback", "hang", "crash", "left a file", "unclear"]
    groups = {"config": "bad configs via `sample`", **{g: f"bad data files via `{g}`" for g in
              ("info", "postprocess", "export", "dataset")}}  # fmt: skip
    print("| trial | tried | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for group, title in groups.items():
        counts = Counter(r for c, r in zip(cases, results) if c.group == group)
        if counts:
            cells = " | ".join(str(counts[k]) for k in columns)
            print(f"| {title} | {sum(counts.values())} | {cells} |")
    failures = [(c, r) for c, r in zip(cases, results) if r not in ("clear", "accepted")]
    accepted = [c.name for c, r in zip(cases, results) if r == "accepted"]
    if accepted:
        print("\naccepted (exit 0): " + "; ".join(accepted))
    for case, result in failures:
        print(f"FAILED ({result}): {case.name}: samplelab {' '.join(case.argv)[:200]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

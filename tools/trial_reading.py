"""Trial counts for docs/reliability.md: reading killed, live, cut and flipped recordings.

    python tools/trial_reading.py [--kills 10] [--files 10] [--read-seconds 10]

Runs the real CLI as a user would (writers are `samplelab sample` subprocesses,
SIGKILLed at random moments), then `info`, `export` and the data layer on what
they left; prints one JSON object of {trial: [tried, passed]}.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from writertools import start_writer, wait_for_batches  # noqa: E402

from app.cli import main  # noqa: E402
from backend.data.kinds import open_reader  # noqa: E402


def quiet(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def trials(kills: int, files: int, work: Path, read_seconds: float = 10.0) -> dict[str, list[int]]:
    rng = random.Random(1)
    table: dict[str, list[int]] = {}

    def count(name: str, ok: bool) -> None:
        entry = table.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += bool(ok)

    killed: list[Path] = []
    for i in range(kills):
        proc, path = start_writer(work / f"k{i}", batches=400, seed=i)
        wait_for_batches(proc, path, 1)
        time.sleep(rng.uniform(0, 1.5))
        code, text = quiet(["info", str(path)])
        count("`info` on a recording being written", code == 0 and "running" in text)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
        code, text = quiet(["info", str(path)])
        count("`info` on a recording after SIGKILL", code == 0 and "interrupted" in text)
        out = work / f"k{i}.csv"
        code, _ = quiet(["export", str(path), "--format", "csv", "--out", str(out), "-q"])
        count("`export` of a recording after SIGKILL", code == 0 and out.is_file())
        killed.append(path)
    for i, path in enumerate(killed[:files]):
        data = path.read_bytes()
        for decile in range(1, 10):
            cut = work / f"cut{i}_{decile}.h5"
            cut.write_bytes(data[: len(data) * decile // 10])
            code, text = quiet(
                ["export", str(cut), "--format", "csv", "--out", str(work / "c.csv")]
            )
            count("cut at a decile: refused as truncated", code == 1 and "truncated" in text)
        damaged = bytearray(data)
        start = len(data) // 10  # past the header: the data chunks, where flips went unseen
        for at in rng.sample(range(start, len(data)), 16):
            damaged[at] ^= 1 << rng.randrange(8)
        flipped = work / f"flip{i}.h5"
        flipped.write_bytes(bytes(damaged))
        code, text = quiet(
            ["export", str(flipped), "--format", "csv", "--out", str(work / "f.csv")]
        )
        count("16 flipped bytes: detected (checksum)", code == 1 and "damaged" in text)
        (work / "f.csv").unlink(missing_ok=True)
    proc, path = start_writer(work / "two", batches=400)
    wait_for_batches(proc, path, 2)
    readers, reads, failures = [open_reader(path), open_reader(path)], [0], [0]

    def keep_reading(reader) -> None:
        end = time.monotonic() + read_seconds
        while time.monotonic() < end:
            try:
                n = reader.refresh()
                reader.read(max(0, n - 100), n)
                reads[0] += 1
            except Exception:
                failures[0] += 1

    threads = [threading.Thread(target=keep_reading, args=(r,)) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stderr.close()
    table["two readers of a live file, reads"] = [reads[0] + failures[0], reads[0]]
    return table


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument(
        "--read-seconds", type=float, default=10.0, help="how long two readers follow a live file"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        table = trials(args.kills, args.files, Path(work), args.read_seconds)
        print(json.dumps(table, indent=2))


if __name__ == "__main__":
    run()

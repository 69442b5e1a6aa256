"""Reading recordings as a user meets them: killed, live, cut, flipped, altered, shared.

Every command (info, export, postprocess, dataset) and the data layer open a
recording whose writer was SIGKILLed or is still running, without touching the
file; a cut file is refused (never read as zeros), a flipped byte fails its
chunk's checksum, an altered file gives one clear message, and two readers of a
live file in one process share one handle.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from writertools import killed_recording, start_writer, wait_for_batches

from app.cli import main
from backend.data.kinds import describe_file, open_reader
from backend.errors import SamplelabError
from backend.recording.h5shared import open_count
from backend.recording.reader import Recording
from backend.recording.superblock import read_superblock

pytestmark = pytest.mark.timeout(240)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def commands(path: Path, out: Path) -> list[list[str]]:
    return [
        ["info", str(path)],
        ["export", str(path), "--format", "csv", "--out", str(out / "x.csv"), "-q"],
        ["postprocess", str(path), "--out", str(out / "pp"), "-q"],
        ["dataset", str(path), "--out", str(out / "ds"), "--quiet"],
    ]


def test_a_killed_recording_opens_everywhere_untouched_then_resumes(tmp_path, capsys):
    path = killed_recording(tmp_path, batches=40, after=3)
    before = digest(path)
    assert read_superblock(path).writing  # the writer's flags are still set
    for argv in commands(path, tmp_path / "out"):
        assert main(argv) == 0, capsys.readouterr().err
    assert "interrupted" in capsys.readouterr().out
    with open_reader(path) as reader:
        assert reader.n_rows >= 3 * 50 and not reader.live
    assert digest(path) == before  # reading never touched the flags (or anything else)
    assert open_count(path) == 0
    assert main(["sample", "--resume", str(path), "-q"]) == 0
    with Recording(path) as rec:
        assert (rec.status, rec.batches_done) == ("complete", 40)
    assert not read_superblock(path).writing


def test_a_live_recording_is_read_while_written_and_refused_for_postprocessing(tmp_path, capsys):
    proc, path = start_writer(tmp_path, batches=400)
    try:
        wait_for_batches(proc, path, 2)
        assert main(["info", str(path)]) == 0
        assert "status      running" in capsys.readouterr().out
        with Recording(path) as rec:
            assert rec.live and rec.writer_alive() and rec.status == "running"
            first = rec.n_rows
            end = time.monotonic() + 30
            while rec.refresh() == first and time.monotonic() < end:
                time.sleep(0.05)
            assert rec.n_rows > first  # it follows the writer
        assert main(["postprocess", str(path), "--out", str(tmp_path / "pp"), "-q"]) == 1
        assert "still being recorded" in capsys.readouterr().err
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()


@pytest.mark.parametrize("decile", range(1, 10))
def test_a_cut_recording_is_refused_by_every_command(tmp_path, capsys, recording, decile):
    data = recording.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) * decile // 10])
    for argv in commands(cut, tmp_path / "out"):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "truncated" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "x.csv").exists() and not (tmp_path / "out" / "pp").exists()


def test_flipped_bytes_in_the_data_fail_their_checksum(tmp_path, capsys, recording):
    with h5py.File(recording, "r") as f:
        assert f["inputs"].fletcher32 and f["outputs"].fletcher32 and f["batches"].fletcher32
        offset = f["inputs"].id.get_chunk_info(0).byte_offset
    data = bytearray(recording.read_bytes())
    data[offset + 100] ^= 0x10
    bad = tmp_path / "flipped.h5"
    bad.write_bytes(bytes(data))
    assert main(["export", str(bad), "--format", "csv", "--out", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert "fails its checksum" in err and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def altered(recording: Path, tmp_path: Path, change) -> Path:
    path = tmp_path / "altered.h5"
    path.write_bytes(recording.read_bytes())
    with h5py.File(path, "r+") as f:
        change(f)
    return path


def claim_rows(f: h5py.File) -> None:
    table = f["batches"][:]
    table["rows"][-1] = 10**9
    f["batches"][:] = table


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.__delitem__("batches"), "has no /batches"),
        (lambda f: f.attrs.__setitem__("device_json", "{not json"), "device_json is not valid"),
        (lambda f: f.attrs.__setitem__("device_json", "[1, 2]"), "device_json holds list"),
        (claim_rows, "claims 1,000,000,"),
        (lambda f: f.attrs.__setitem__("seed", "many"), "seed is not a whole number"),
    ],
)
def test_an_altered_recording_gives_one_clear_message(
    tmp_path, capsys, recording, change, expected
):
    path = altered(recording, tmp_path, change)
    for argv in commands(path, tmp_path / "out"):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err, err
    with pytest.raises(SamplelabError, match=expected):
        describe_file(path)
    assert open_count(path) == 0


def test_damaged_files_are_refused_quickly(tmp_path, capsys, recording):
    """Was: minutes of SWMR read retries inside `is_recording` for a damaged file."""
    killed = killed_recording(tmp_path / "k", batches=40, after=2)
    rng = np.random.default_rng(5)
    for source in (recording, killed):
        data = source.read_bytes()
        for trial in range(6):
            damaged = bytearray(data)
            for at in rng.integers(48, 4096, 16):  # the metadata at the file's start
                damaged[int(at)] ^= 1 << int(rng.integers(8))
            path = tmp_path / f"damaged{trial}.h5"
            path.write_bytes(bytes(damaged))
            start = time.monotonic()
            code = main(["export", str(path), "--format", "csv", "--out", str(tmp_path / "x.csv")])
            assert time.monotonic() - start < 10
            err = capsys.readouterr().err
            assert code in (0, 1) and "Traceback" not in err
            (tmp_path / "x.csv").unlink(missing_ok=True)


def test_two_readers_of_a_live_file_share_one_handle(tmp_path):
    proc, path = start_writer(tmp_path, batches=400)
    failures: list[BaseException] = []
    reads = [0, 0]
    try:
        wait_for_batches(proc, path, 2)
        readers = [open_reader(path), open_reader(path)]
        assert open_count(path) == 2

        def keep_reading(k: int, reader) -> None:
            end = time.monotonic() + 6
            while time.monotonic() < end:
                try:
                    n = reader.refresh()
                    block = reader.read(max(0, n - 100), n)
                    assert block.shape == (min(n, 100), 8) and np.isfinite(block).all()
                    reads[k] += 1
                except BaseException as exc:  # every failure counts
                    failures.append(exc)

        threads = [
            threading.Thread(target=keep_reading, args=(k, r)) for k, r in enumerate(readers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for reader in readers:
            reader.close()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
    assert failures == [] and min(reads) > 500, (failures[:3], reads)
    assert open_count(path) == 0


def test_info_json_of_a_killed_recording(tmp_path, capsys):
    path = killed_recording(tmp_path, batches=40, after=2)
    assert main(["info", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["status"] == "interrupted" and facts["batches_done"] >= 2

"""Damaged recordings through every reader: each case ends in success or one SamplelabError.

Sources: a complete recording and a copy taken while its writer had it open
(flags set, as a killed writer leaves it). Damage: cut at every decile, 16
flipped bytes anywhere (hypothesis picks them), and superblocks that claim an
oversized end of file. Readers: `info` (describe_file), the data layer
(open_reader + every row), `export`, and `Recording`. Each case must finish
within a time limit and leave no output file behind on failure.
SAMPLELAB_FUZZ_EXAMPLES raises the number of flip cases (default 8 per source).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from backend.data.kinds import describe_file, open_reader
from backend.errors import SamplelabError
from backend.recording.h5clear import lookup3
from backend.recording.h5shared import open_count
from backend.recording.reader import Recording
from backend.recording.superblock import read_superblock
from backend.recording.writer import RecordingWriter
from backend.sampling.session import start_session

LIMIT_S = 10.0
EXAMPLES = int(os.environ.get("SAMPLELAB_FUZZ_EXAMPLES", "8"))
pytestmark = pytest.mark.timeout(600)


def _complete(folder: Path) -> bytes:
    """A recording closed properly."""
    config = small_config(number_batches=12)
    session = start_session(config, "simulated", path=folder / "c.h5", seed=3, model="analytic")
    return Path(session.run().path).read_bytes()


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz_sources")
    complete = _complete(folder)
    config = small_config(number_batches=12)
    writer = RecordingWriter.create(folder / "open.h5", config, {"kind": "simulated"}, seed=5)
    import numpy as np

    rng = np.random.default_rng(0)
    for i in range(5):
        n = config.batch_points
        writer.append(i, rng.normal(size=(n, 7)) * 0.1, rng.normal(size=(n, 1)), np.zeros(7),
                      i * 0.1, 0.0, 0.1)  # fmt: skip
    live = (folder / "open.h5").read_bytes()  # flags set, as a SIGKILL leaves them
    writer.close()
    # Written by this process's pid, which is alive: name a pid that is not.
    return {"complete": complete, "killed": _dead_writer(live)}


def _dead_writer(data: bytes) -> bytes:
    """The same bytes, with the writer's pid patched to one that no longer runs."""
    import re

    import psutil

    match = re.search(rb'\{"pid": (\d+), "host"', data)
    assert match is not None
    width = len(match.group(1))
    dead = next(
        pid for pid in range(10 ** (width - 1), 10**width) if not psutil.pid_exists(pid)
    )  # same width: no offset in the file moves
    return data[: match.start(1)] + str(dead).encode() + data[match.end(1) :]


def run_readers(path: Path, out: Path) -> list[str]:
    """Every reader on `path`; the outcome of each ('ok' or the error's class)."""
    outcomes = []
    for name, read in (
        ("info", lambda: describe_file(path)),
        ("data", lambda: _read_all(path)),
        ("recording", lambda: _recording(path)),
    ):
        start = time.monotonic()
        try:
            read()
            outcomes.append("ok")
        except SamplelabError as exc:
            assert exc.message.strip(), name
            outcomes.append(type(exc).__name__)
        assert time.monotonic() - start < LIMIT_S, name
    start = time.monotonic()
    target = out / "x.csv"
    code = main(["export", str(path), "--format", "csv", "--out", str(target), "-q"])
    assert time.monotonic() - start < LIMIT_S
    assert code in (0, 1)
    if code == 1:
        assert not target.exists()  # nothing left behind
    else:
        target.unlink()
    outcomes.append("ok" if code == 0 else "refused")
    assert open_count(path) == 0  # every handle released
    return outcomes


def _read_all(path: Path) -> None:
    with open_reader(path) as reader:
        for _ in reader.iter_chunks(max_memory="1MiB"):
            pass


def _recording(path: Path) -> None:
    with Recording(path) as rec:
        rec.refresh()
        for _ in rec.iter_chunks(rows=1000):
            pass
        rec.summary()


@pytest.mark.parametrize("source", ["complete", "killed"])
@pytest.mark.parametrize("decile", range(1, 10))
def test_a_cut_recording_is_refused_by_every_reader(tmp_path, sources, source, decile, capsys):
    data = sources[source]
    path = tmp_path / "cut.h5"
    path.write_bytes(data[: len(data) * decile // 10])
    outcomes = run_readers(path, tmp_path)
    assert "ok" not in outcomes, outcomes  # never read as zeros
    assert "truncated" in capsys.readouterr().err


@pytest.mark.parametrize("source", ["complete", "killed"])
def test_flipped_bytes_end_in_data_or_one_clear_error(tmp_path_factory, sources, source):
    data = sources[source]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.integers(0, len(data) - 1), min_size=16, max_size=16), st.data())
    def case(positions, draw):
        folder = tmp_path_factory.mktemp("flip")
        damaged = bytearray(data)
        for at in positions:
            damaged[at] ^= 1 << draw.draw(st.integers(0, 7))
        path = folder / "flipped.h5"
        path.write_bytes(bytes(damaged))
        run_readers(path, folder)
        shutil.rmtree(folder)

    case()


def _with_eoa(data: bytes, eoa: int) -> bytes:
    """`data` whose (v2/v3) superblock claims end of file `eoa`, its checksum made valid."""
    body = bytearray(data[:44])
    body[28:36] = eoa.to_bytes(8, "little")
    return bytes(body[:44]) + lookup3(bytes(body[:44])).to_bytes(4, "little") + data[48:]


@pytest.mark.parametrize("source", ["complete", "killed"])
@pytest.mark.parametrize("eoa", [2**40, 2**63 - 1, 0])
def test_an_oversized_or_empty_header_claim_gives_one_clear_error(tmp_path, sources, source, eoa):
    data = sources[source]
    assert read_superblock_of(data).eoa == len(data)
    path = tmp_path / "claims.h5"
    path.write_bytes(_with_eoa(data, eoa))
    outcomes = run_readers(path, tmp_path)
    if eoa > len(data):
        assert "ok" not in outcomes, outcomes


def read_superblock_of(data: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".h5") as fh:
        fh.write(data)
        fh.flush()
        return read_superblock(fh.name)


@pytest.mark.parametrize("stamp", [b'"pid"# ', b'"pid": '])
def test_a_damaged_file_with_an_unreadable_writer_stamp_is_refused_quickly(
    tmp_path, sources, stamp
):
    """Was: a flip in `writer_json` made the writer 'maybe live', so the damaged file went
    to HDF5's SWMR read, whose metadata retries slept for minutes."""
    data = sources["killed"].replace(b'"pid": ', stamp, 1)
    assert read_superblock_of(data).writing
    rng = np.random.default_rng(11)
    for trial in range(6):
        damaged = bytearray(data)
        for at in rng.integers(48, len(data), 16):
            damaged[int(at)] ^= 1 << int(rng.integers(8))
        path = tmp_path / f"d{trial}.h5"
        path.write_bytes(bytes(damaged))
        run_readers(path, tmp_path)

"""The overview pyramid: envelopes equal raw min/max, reads stay small, growth extends it."""

from __future__ import annotations

import threading

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.data.reader import ArrayReader
from backend.display.decimate import minmax
from backend.display.pyramid import Pyramid, overview_path
from backend.errors import Cancelled
from backend.jobs import CancelToken
from backend.streams import H5StreamWriter

ROWS = 200_003
SMALL = {"base": 4, "factor": 4, "top_bins": 64, "chunk_rows": 10_000}


def walk(rows: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A random walk with spikes: extremes that decimation must not lose."""
    rng = np.random.default_rng(seed)
    data = np.cumsum(rng.normal(size=(rows, channels)), axis=0)
    data[rng.integers(0, rows, 50)] += 1000
    return data


DATA = walk(ROWS)


class Counting(ArrayReader):
    """Counts the rows read, to prove queries read level bins, not the source."""

    def __init__(self, data: np.ndarray) -> None:
        super().__init__(data)
        self.rows_read = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        self.rows_read += max(0, min(stop, self.n_rows) - start)
        return super().read(start, stop)


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pyramid")
    reader = Counting(DATA)
    with Pyramid(reader, folder / "data.overview.h5", **SMALL) as p:
        p.update()
        yield p


def check_against_raw(p: Pyramid, data: np.ndarray, start: int, stop: int, points: int) -> None:
    env = p.envelope(start, stop, points)
    a, step = int(env.starts[0]), env.step
    b = min(int(env.starts[-1]) + step, len(data))
    assert a <= start and a % step == 0  # whole bins, aligned to multiples of the step
    assert b >= min(stop, len(data))
    expected = minmax(data[a:b], 0, a, step)
    np.testing.assert_array_equal(env.starts, expected.starts)
    np.testing.assert_array_equal(env.mins, expected.mins)
    np.testing.assert_array_equal(env.maxs, expected.maxs)
    if step > 1:
        assert env.bins <= points // 2 + 2  # two partial edge bins at most


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, ROWS - 1),
    length=st.integers(1, ROWS),
    points=st.integers(2, 5000),
)
def test_envelopes_equal_plain_minmax_of_the_raw_rows(pyramid, start, length, points):
    check_against_raw(pyramid, DATA, start, start + length, points)


def test_it_has_the_levels_it_needs_and_queries_use_them(pyramid):
    assert pyramid.rows == ROWS
    assert pyramid.steps == [4, 16, 64, 256, 1024, 4096]  # until <= 64 bins of 4096 rows
    reader = pyramid.reader
    before = reader.rows_read
    env = pyramid.envelope(0, ROWS, 4000)
    assert reader.rows_read == before  # the full extent came from the levels alone
    assert env.step % 4 == 0 and 1000 <= env.bins <= 2001
    pyramid.envelope(1000, 1100, 4000)  # short window: raw rows, but only those
    assert reader.rows_read - before <= 100


def test_windows_outside_the_data_are_empty_or_clipped(pyramid):
    assert pyramid.envelope(ROWS, ROWS + 10, 100).bins == 0
    assert pyramid.envelope(50, 50, 100).bins == 0
    env = pyramid.envelope(-100, 10**12, 1000)
    assert env.starts[0] == 0
    check_against_raw(pyramid, DATA, 0, ROWS, 1000)


def test_a_growing_recording_extends_the_overview(tmp_path):
    data = walk(60_000, seed=3)
    path = tmp_path / "live.h5"
    writer = H5StreamWriter(path, 3, fs=1000)
    writer.put(data[:777])
    with Pyramid.open(path, **SMALL) as p:
        assert p.rows == 777
        for stop in (5000, 5001, 17_777, 40_000, 60_000):
            writer.put(data[p.rows : stop])
            assert p.update() == stop
            for start, length, points in ((0, stop, 500), (stop // 3, stop // 2, 64)):
                check_against_raw(p, data[:stop], start, start + length, points)
        grown = {k: p._f[k]["min"][:] for k in p._f}
    writer.close()
    fresh_path = tmp_path / "fresh.overview.h5"
    with Pyramid(ArrayReader(data), fresh_path, **SMALL) as fresh:
        fresh.update()
        assert sorted(grown) == sorted(fresh._f)
        for key, mins in grown.items():
            np.testing.assert_array_equal(mins, fresh._f[key]["min"][:])


def test_reopening_reuses_the_sidecar_and_notices_other_data(tmp_path):
    data = walk(30_000, seed=5)
    sidecar = tmp_path / "x.overview.h5"
    with Pyramid(ArrayReader(data), sidecar, **SMALL) as p:
        p.update()
    again = Counting(data)
    with Pyramid(again, sidecar, **SMALL) as p:
        assert p.rows == 30_000
        p.update()
        assert again.rows_read <= 4096 + 1  # only the identity hashes were read
    changed = data.copy()
    changed[-1] += 1
    with Pyramid(ArrayReader(changed), sidecar, **SMALL) as p:
        assert p.rows == 0  # not the data it was built from: rebuilt
        p.update()
        check_against_raw(p, changed, 0, 30_000, 100)
    with Pyramid(ArrayReader(data), sidecar, base=8, factor=2) as p:
        assert p.rows == 0  # other settings: rebuilt too


def test_a_cancelled_build_stays_consistent_and_resumes(tmp_path):
    data = walk(50_000, seed=8)
    cancel = CancelToken()

    def progress(p):
        if p.done >= 20_000:
            cancel.cancel()

    with Pyramid(ArrayReader(data), tmp_path / "c.overview.h5", **SMALL) as p:
        with pytest.raises(Cancelled):
            p.update(progress=progress, cancel=cancel)
        assert p.rows == 0
        assert p.update() == 50_000
        check_against_raw(p, data, 123, 45_678, 300)


def test_recordings_get_a_sidecar_beside_them_and_stay_untouched(recording, tmp_path):
    before = recording.read_bytes()
    with Pyramid.open(recording, base=4, factor=2, top_bins=8) as p:
        assert p.path == overview_path(recording)
        assert p.path.name == recording.name + ".overview.h5"
        with h5py.File(recording, "r") as f:
            data = np.hstack([f["inputs"][:], f["outputs"][:]])
        check_against_raw(p, data, 0, len(data), 40)
    assert recording.read_bytes() == before
    cached = overview_path(recording, cache_dir=tmp_path / "cache")
    assert cached.parent == tmp_path / "cache" and cached.name.endswith(".overview.h5")
    assert cached != overview_path(tmp_path / "other" / recording.name, tmp_path / "cache")


def test_the_overview_follows_a_recording_while_it_is_sampled(tmp_path):
    from conftest import small_config

    from backend.sampling.session import start_session

    config = small_config(number_batches=400)
    path = tmp_path / "live.h5"
    session = start_session(config, "simulated", path=path, seed=6, model="analytic")
    # The sampler stops at these batches until the overview has caught up: the
    # overview provably sees the recording grow, however slow the machine is.
    stops = {99: threading.Event(), 249: threading.Event()}
    reached = threading.Event()

    def hold(batch):
        if batch.index in stops:
            reached.set()
            stops[batch.index].wait(30)

    session.add_listener(hold)
    thread = threading.Thread(target=session.run)
    thread.start()
    seen = []
    try:
        with Pyramid.open(path, **SMALL) as p:
            for index in sorted(stops):
                assert reached.wait(30)
                reached.clear()
                seen.append(p.update())
                data = p.reader.read(0, seen[-1])
                check_against_raw(p, data, 0, seen[-1], 300)
                check_against_raw(p, data, seen[-1] // 2, seen[-1], 50)
                stops[index].set()
            thread.join(60)
            seen.append(p.update())
            data = p.reader.read(0, seen[-1])
            check_against_raw(p, data, 0, seen[-1], 300)
    finally:
        for event in stops.values():
            event.set()
        thread.join()
    assert seen == [100 * 50, 250 * 50, 400 * 50]

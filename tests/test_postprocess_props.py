"""Property: chunked postprocessing equals the whole-array computation, always."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from conftest import small_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.config import bspysmg_config_dict
from backend.data.histograms import ColumnHistograms, bin_edges, row_means
from backend.data.reader import ArrayReader
from backend.data.sources import SamplingSource
from backend.postprocess.electrodes import kept_by_clipping
from backend.postprocess.job import postprocess
from backend.postprocess.preview import RowMeans, preview_dropped, scan_row_means
from backend.postprocess.results import PostprocessedFile


class ArraySource(SamplingSource):
    """Rows in memory as a sampling source; optionally outputs-only reads are cheap."""

    def __init__(self, x: np.ndarray, y: np.ndarray, bp: int, outputs_alone: bool) -> None:
        config = small_config(batch_time=bp / 1000, number_batches=len(x) // bp)
        config.input_data.readout_electrode_no = y.shape[1]
        config.driver.amplification = [39.17] * y.shape[1]
        names = config.input_names() + config.output_names()
        reader = ArrayReader(np.hstack([x, y]), names=names)
        # like our recordings when True: the outputs are read alone in a first pass
        reader.columns_read_alone = outputs_alone
        super().__init__("memory", reader, config)

    def peer_config(self) -> dict:
        return bspysmg_config_dict(self.config)


@st.composite
def cases(draw):
    bp = draw(st.integers(1, 40))
    batches = draw(st.integers(1, 12))
    n_out = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = bp * batches
    x = rng.uniform(-1.2, 0.6, (n, 7))
    x[:, 5:] = rng.uniform(-0.7, 0.3, (n, 2))
    y = rng.normal(0, 120, (n, n_out))
    if draw(st.booleans()):  # saturated stretches, as real recordings have
        y[: n // 3] = 180.0
    clip = draw(
        st.one_of(
            st.just("default"),
            st.none(),
            st.tuples(st.floats(-200, 50), st.floats(1, 200)).map(lambda t: [t[0], t[0] + t[1]]),
        )
    )
    return dict(
        x=x,
        y=y,
        bp=bp,
        clip=clip,
        chunk=draw(st.integers(1, n + 5)),
        charging=draw(st.integers(1, batches + 2)),
        reference=draw(st.integers(1, batches + 2)),
        outputs_alone=draw(st.booleans()),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_chunked_results_equal_whole_array_results(case):
    x, y, bp = case["x"], case["y"], case["bp"]
    src = ArraySource(x, y, bp, case["outputs_alone"])
    with tempfile.TemporaryDirectory() as tmp:
        result = postprocess(
            src,
            tmp,
            clip=case["clip"],
            charging_batches=case["charging"],
            reference_batches=case["reference"],
            figure=False,
            chunk_rows=case["chunk"],
        )
        mean = y.mean(axis=1)
        clip = result.summary["clipping_value"]
        keep = np.ones(len(x), bool) if clip is None else (mean > clip[0]) & (mean < clip[1])
        with np.load(Path(tmp) / "postprocessed_data.npz", allow_pickle=True) as data:
            assert np.array_equal(data["inputs"], x[keep])
            assert np.array_equal(data["outputs"], y[keep])
        for name, batches in (
            ("charging_signal", case["charging"]),
            ("reference_batch", case["reference"]),
        ):
            with np.load(Path(tmp) / f"{name}.npz") as data:
                assert np.array_equal(data["inputs"], x[-batches * bp :])
                assert np.array_equal(data["outputs"], y[-batches * bp :])
        with PostprocessedFile(Path(tmp) / "postprocessed_data.h5") as res:
            assert np.array_equal(res.keep_mask(len(x)), keep)
            for j, h in enumerate(res.histograms("outputs")):
                counts, edges = np.histogram(y[::3, j], bins=100)
                assert np.array_equal(h.counts, counts) and np.array_equal(h.edges, edges)
            wave = np.stack(
                [
                    src.config.offset() - src.config.amplitude(),
                    src.config.offset() + src.config.amplitude(),
                ],
                axis=1,
            )
            for j, h in enumerate(res.histograms("inputs")):
                counts, _ = np.histogram(x[keep][::3, j], bins=100, range=tuple(wave[j]))
                assert np.array_equal(h.counts, counts)
            means = res.row_mean_histogram()
            counts, edges = np.histogram(mean, bins=len(means.counts))
            assert np.array_equal(means.counts, counts) and np.array_equal(means.edges, edges)
        s = result.summary
        assert s["rows_kept"] == int(keep.sum()) and s["rows_in"] == len(x)
        assert [o["min"] for o in s["outputs"]] == y.min(axis=0).tolist()
        assert [i["max"] for i in s["inputs"]] == x.max(axis=0).tolist()


AMP = 39.17
EDGE = 4 * AMP  # the default clip limit: where a saturated output sits


@st.composite
def preview_cases(draw):
    """Outputs with saturated stretches at the clip edge, ties, and means on bin edges."""
    bp = draw(st.integers(1, 30))
    batches = draw(st.integers(1, 10))
    n_out = draw(st.integers(1, 3))
    n = bp * batches
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.normal(0, 120, (n, n_out))
    if draw(st.booleans()):  # ADC-quantised readings: many rows share a mean
        y = np.round(y / 4) * 4
    for _ in range(draw(st.integers(0, 3))):  # saturated stretches, at either clip edge
        a = draw(st.integers(0, n - 1))
        y[a : a + draw(st.integers(1, n))] = draw(st.sampled_from([EDGE, -EDGE]))
    if n_out == 1 and n > 2:  # some means exactly on the preview's bin edges
        edges = bin_edges(float(y.min()), float(y.max()), draw(st.sampled_from([4, 256, 4096])))
        for _ in range(draw(st.integers(0, 4))):
            y[draw(st.integers(0, n - 1)), 0] = edges[draw(st.integers(0, len(edges) - 1))]
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    means = y.astype(dtype).mean(axis=1) if n_out > 1 else y[:, 0].astype(dtype)
    limit = st.one_of(
        st.sampled_from([float(v) for v in means[:50]]),  # exactly a row's mean
        st.sampled_from([EDGE, -EDGE, -1e9, 1e9]),
        st.floats(-300, 300),
    )
    lo, hi = sorted([draw(limit), draw(limit)])
    clip = draw(
        st.sampled_from(["default", None, [lo, hi] if lo < hi else "default", EDGE, -EDGE / 2])
    )
    x = rng.uniform(-1.2, 0.6, (n, 7))
    return dict(
        x=x.astype(dtype),
        y=y.astype(dtype),
        bp=bp,
        clip=clip,
        chunk=draw(st.integers(1, n + 3)),
        run_rows=draw(st.integers(1, n + 3)),
        alone=draw(st.booleans()),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=preview_cases())
@example(  # 784 of 2,000 rows saturated exactly at the default limit: the case
    case=dict(
        x=np.zeros((2000, 7)),
        y=np.r_[np.full(784, EDGE), np.linspace(-100, 100, 1216)][:, None],
        bp=50,
        clip="default",
        chunk=300,
        run_rows=2000,
        alone=True,
    )
)
def test_the_preview_drops_exactly_what_postprocessing_drops(case):
    src = ArraySource(case["x"], case["y"], case["bp"], case["alone"])
    with scan_row_means(src, chunk_rows=case["chunk"], run_rows=case["run_rows"]) as means:
        preview = preview_dropped(means, case["clip"], [AMP] * case["y"].shape[1])
    with tempfile.TemporaryDirectory() as tmp:
        result = postprocess(
            src, tmp, clip=case["clip"], figure=False, chunk_rows=max(1, case["chunk"] // 2)
        )
    assert preview.total == result.summary["rows_in"]
    assert preview.rows == result.summary["rows_dropped"]


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.5])),
        min_size=0,
        max_size=200,
    ),
    limits=st.tuples(st.floats(allow_nan=False), st.floats(allow_nan=False)),
    dtype=st.sampled_from([np.float64, np.float32]),
    run_rows=st.integers(1, 64),
    chunks=st.integers(1, 5),
)
@example(values=[1.5, 1.5, 0.0], limits=(0.0, 1.5), dtype=np.float64, run_rows=1, chunks=1)
def test_row_means_count_like_the_clipping_rule(values, limits, dtype, run_rows, chunks):
    """Against the run's own rule (kept_by_clipping) for any floats: NaN, inf, ties, float32."""
    with np.errstate(over="ignore", invalid="ignore"):
        means = row_means(np.asarray(values, dtype=np.float64).astype(dtype)[:, None])
        lo, hi = sorted(limits)
        with RowMeans(run_rows) as index:
            for part in np.array_split(means, chunks):
                index.add(part)
            index.finish()
            got = index.dropped(lo, hi).rows if lo < hi else None
            want = int(np.count_nonzero(~kept_by_clipping(means, [lo, hi])))
            if got is not None:
                assert got == want
            assert index.dropped(None, None).rows == 0 and index.total == len(means)
            finite = means[np.isfinite(means)]
            drawn = index.histogram(16)
            assert drawn.total == len(finite)
            if len(finite) and finite.min() < finite.max():
                counts, edges = np.histogram(finite.astype(np.float64), bins=16)
                assert np.array_equal(drawn.counts, counts)
                assert np.array_equal(drawn.edges, edges)


def test_many_runs_spill_to_a_temporary_file_that_close_deletes(tmp_path):
    rng = np.random.default_rng(1)
    means = rng.normal(size=10_000)
    index = RowMeans(run_rows=1000, directory=tmp_path)
    for part in np.array_split(means, 7):
        index.add(part)
    index.finish()
    assert [p.name.startswith(".rowmeans-") for p in tmp_path.iterdir()] == [True]
    assert index.dropped(-0.5, 0.5).rows == int(np.count_nonzero(np.abs(means) >= 0.5))
    index.close()
    assert list(tmp_path.iterdir()) == []
    index.close()  # twice is fine


def test_histograms_over_a_range_too_narrow_to_split_count_everything():
    """np.histogram refuses 100 bins over [0, 5e-324]; ours widen the range instead."""
    acc = ColumnHistograms(np.array([[0.0, 5e-324]]), 100)
    acc.add(np.array([[0.0], [5e-324], [0.0]]))
    (hist,) = acc.histograms(["Output 0"], "nA")
    assert hist.counts.sum() == 3 and hist.below == hist.above == 0
    assert np.all(np.diff(hist.edges) > 0)

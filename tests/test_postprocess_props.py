"""Property: chunked postprocessing equals the whole-array computation, always."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from conftest import small_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.config import bspysmg_config_dict
from backend.histograms import ColumnHistograms, RowMeanHistogram, Spool
from backend.postprocess import postprocess
from backend.postprocessed import PostprocessedFile
from backend.readers import ArrayReader
from backend.sources import SamplingSource


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


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=300),
    lo=st.floats(-1.2e3, 1.2e3),
    width=st.floats(0, 2e3),
    bins=st.integers(1, 64),
)
@example(values=[0.0, 5e-324], lo=0.0, width=0.0, bins=2)  # too narrow for 2 bins
def test_drop_estimate_bounds_always_hold(values, lo, width, bins):
    y = np.asarray(values)
    with Spool(1) as spool:
        spool.append(y)
        hist = RowMeanHistogram.from_spool(spool, float(y.min()), float(y.max()), bins)
    hi = lo + width
    exact = int(np.count_nonzero(~((y > lo) & (y < hi))))
    est = hist.dropped(lo, hi)
    assert est.low <= exact <= est.high
    assert est.low <= est.rows <= est.high and est.total == len(y)


def test_histograms_over_a_range_too_narrow_to_split_count_everything():
    """np.histogram refuses 100 bins over [0, 5e-324]; ours widen the range instead."""
    acc = ColumnHistograms(np.array([[0.0, 5e-324]]), 100)
    acc.add(np.array([[0.0], [5e-324], [0.0]]))
    (hist,) = acc.histograms(["Output 0"], "nA")
    assert hist.counts.sum() == 3 and hist.below == hist.above == 0
    assert np.all(np.diff(hist.edges) > 0)

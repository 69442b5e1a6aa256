"""The device stream: every batch of a running session, in order, without slowing it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import small_config

from backend.recording.reader import Recording
from backend.sampling.session import resume_session, start_session
from backend.streams import DeviceStream, StreamError, run_stream
from backend.streams import device as device_module


def recorded(path) -> np.ndarray:
    with Recording(path) as rec:
        inputs, outputs = rec.read()
    return np.hstack([inputs, outputs])


def consume(stream, chunk: int, out: list, errors: list) -> threading.Thread:
    def work() -> None:
        try:
            out.extend(stream.chunks(chunk))
        except Exception as exc:  # reported to the test thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.parametrize("chunk", [1, 37, 50, 4096])
def test_a_consumer_sees_every_row_of_a_fast_session_in_order(tmp_path, chunk):
    config = small_config(number_batches=300)  # 15 000 rows in a fraction of a second
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=5, model="analytic")
    stream = DeviceStream(session)
    assert stream.names == config.input_names() + config.output_names()
    assert stream.units == ["V"] * 7 + ["nA"] and stream.fs == config.fs
    chunks: list = []
    errors: list = []
    thread = consume(stream, chunk, chunks, errors)
    result = session.run()
    thread.join(timeout=60)
    assert result.status == "complete" and not errors and not thread.is_alive()
    assert all(len(c) == chunk for c in chunks[:-1])
    np.testing.assert_array_equal(np.concatenate(chunks), recorded(result.path))
    assert stream.ended and len(stream) == 15_000 and stream.first_row == 0
    assert stream.t == pytest.approx(15_000 / config.fs)


def test_outputs_only_through_a_model_while_sampling(tmp_path):
    config = small_config(number_batches=40)
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=2, model="analytic")
    stream = DeviceStream(session, part="outputs")
    box: dict = {}
    thread = threading.Thread(
        target=lambda: box.update(out=run_stream(lambda y: 2 * y, stream, chunk=64))
    )
    thread.start()
    session.run()
    thread.join(timeout=60)
    with Recording(tmp_path / "r.h5") as rec:
        np.testing.assert_array_equal(box["out"], 2 * rec.read()[1])


def test_get_returns_what_is_there_after_its_timeout(tmp_path):
    config = small_config(number_batches=3)
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=1, model="analytic")
    stream = DeviceStream(session, timeout=0.05)
    started = time.monotonic()
    assert stream.get(10).shape == (0, 8)  # nothing sampled yet: waits 50 ms, then gives up
    assert time.monotonic() - started >= 0.04
    assert stream.available == 0 and not stream.ended and stream.length is None
    session.run()
    assert stream.get(120, timeout=0).shape == (120, 8)  # no waiting for what is there
    assert stream.get(1000).shape == (30, 8)  # the session ended: the rest, at once
    assert stream.ended and stream.get(5).shape == (0, 8)
    stream.reset()  # everything is still in the buffer
    np.testing.assert_array_equal(stream.get(150), recorded(tmp_path / "r.h5"))


def test_the_sampler_never_waits_for_a_consumer(tmp_path):
    """Even with the wake-up lock held by someone else, batches keep coming."""
    config = small_config(number_batches=50)
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=1, model="analytic")
    stream = DeviceStream(session)
    with stream._wake:  # a consumer stuck inside the lock
        done = threading.Event()
        thread = threading.Thread(target=lambda: (session.run(), done.set()))
        thread.start()
        assert done.wait(30), "the session waited for the stream's lock"
    thread.join()
    assert stream.available == 2500


def test_a_consumer_that_falls_behind_is_told_or_skips(tmp_path):
    config = small_config(number_batches=20)  # 1000 rows into a 300-row buffer
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=1, model="analytic")
    strict = DeviceStream(session, capacity=300)
    lenient = DeviceStream(session, capacity=300, overrun="skip")
    session.run()
    with pytest.raises(StreamError, match="fell behind"):
        strict.get(10)
    rows = lenient.get(1000)
    assert len(rows) == 300 and lenient.dropped == 700 and lenient.position == 1000
    np.testing.assert_array_equal(rows, recorded(tmp_path / "r.h5")[700:])
    with pytest.raises(StreamError, match="no longer held"):
        lenient.reset()


def test_a_resumed_session_streams_from_where_the_recording_continues(tmp_path):
    config = small_config(number_batches=10)
    path = tmp_path / "r.h5"
    first = start_session(config, "simulated", path=path, seed=4, model="analytic")
    first.add_listener(lambda batch: batch.index == 3 and first.cancel())
    assert first.run().status == "cancelled"
    session = resume_session(path)
    stream = DeviceStream(session)
    session.run()
    rows = stream.get(10**6)
    assert stream.first_row == 200
    np.testing.assert_array_equal(rows, recorded(path)[200:])


def test_closing_detaches_the_stream_from_the_session(tmp_path):
    config = small_config(number_batches=4)
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=1, model="analytic")
    stream = DeviceStream(session)
    stream.close()
    assert not session._listeners
    assert session.run().status == "complete"
    assert stream.buffer.total == 0


def test_at_a_slow_pace_every_batch_wakes_the_reader(tmp_path, monkeypatch):
    """Wake-ups are rate-limited for fast sessions, never delayed at the lab's pace."""
    monkeypatch.setattr(device_module, "POLL_S", 30.0)  # a missed wake-up would show
    config = small_config(number_batches=4)
    session = start_session(config, "simulated", path=tmp_path / "r.h5", seed=1, model="analytic")
    stream = DeviceStream(session, timeout=None)
    appended: list[float] = []
    session.add_listener(lambda batch: (appended.append(time.monotonic()), time.sleep(0.2)))
    thread = threading.Thread(target=session.run)
    thread.start()
    lags = []
    for _ in range(4):
        assert len(stream.get(config.batch_points)) == config.batch_points
        lags.append(time.monotonic() - appended[len(lags)])
    thread.join()
    assert max(lags) < 5.0, lags

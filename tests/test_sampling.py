"""The sampling session: progress, pause/resume/cancel, faults, 0 V, resume."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import small_config

from backend.acquisition.waves import BatchPlan
from backend.devices import FaultPlan, SimulatedDevice
from backend.devices.models import FunctionModel
from backend.errors import SafetyError
from backend.recording.reader import Recording
from backend.sampling.session import resume_session, start_session


def test_a_complete_session_writes_every_batch(tmp_path):
    progress = []
    session = start_session(
        small_config(),
        "simulated",
        path=tmp_path / "r.h5",
        seed=3,
        model="analytic",
        on_progress=progress.append,
    )
    results = []
    session.add_listener(results.append)
    result = session.run()
    assert (result.status, result.batches_done, result.rows) == ("complete", 6, 300)
    assert [p.batch for p in progress] == [1, 2, 3, 4, 5, 6]
    assert progress[-1].eta == 0 and progress[-1].rows == 300 and progress[-1].fraction == 1
    assert [r.first_row for r in results] == [0, 50, 100, 150, 200, 250]
    with Recording(result.path) as rec:
        assert rec.status == "complete" and rec.seed == 3
        np.testing.assert_array_equal(rec.read()[0], BatchPlan(small_config(), 3).all_inputs())
        np.testing.assert_array_equal(rec.read()[1], np.vstack([r.outputs for r in results]))
        assert rec.device["kind"] == "simulated"


def test_outputs_end_at_zero_and_device_closed(tmp_path):
    session = start_session(small_config(), "simulated", path=tmp_path / "r.h5", model="analytic")
    session.run()
    assert np.all(session.device.output_voltages == 0)
    assert not session.device.is_open and session.device.zeroed >= 1


@pytest.mark.parametrize("fault", ["timeout@3", "overflow@3", "disconnect@3"])
def test_device_fault_stops_safely_and_keeps_the_data(tmp_path, fault):
    session = start_session(
        small_config(),
        "simulated",
        path=tmp_path / "r.h5",
        model="analytic",
        faults=FaultPlan.parse(fault),
    )
    result = session.run()
    assert result.status == "failed" and result.batches_done == 3
    assert "batch 3" in str(result.error) or "disconnected" in str(result.error)
    assert np.all(session.device.output_voltages == 0)
    with Recording(result.path) as rec:
        assert rec.status == "failed" and rec.n_rows == 150 and rec.message


def test_unsafe_plan_never_reaches_the_device(tmp_path, monkeypatch):
    cfg = small_config()
    calls = []
    device = SimulatedDevice(cfg, model=FunctionModel(lambda x: calls.append(1) or x[:, :1], 7))
    session = start_session(cfg, device, path=tmp_path / "r.h5")
    original = session.plan.batch

    def corrupt(index):
        batch = original(index)
        if index == 2:
            batch.data[0, 30] = 1.55  # inside the global limit, outside this electrode's range
        return batch

    monkeypatch.setattr(session.plan, "batch", corrupt)
    result = session.run()
    assert result.status == "failed" and isinstance(result.error, SafetyError)
    assert len(calls) == 2 and result.batches_done == 2


def test_listener_errors_do_not_stop_sampling(tmp_path):
    session = start_session(small_config(), "simulated", path=tmp_path / "r.h5", model="analytic")
    session.add_listener(lambda r: 1 / 0)
    assert session.run().status == "complete"


def test_pause_resume_and_cancel_from_another_thread(tmp_path):
    cfg = small_config(number_batches=200)
    session = start_session(cfg, "simulated", path=tmp_path / "r.h5", model="analytic")
    reached = threading.Event()
    release = threading.Event()

    def on_progress(p):
        if p.batch == 5:
            session.pause()
            reached.set()

    session.on_progress = on_progress
    worker = threading.Thread(target=lambda: setattr(session, "result", session.run()))
    worker.start()
    assert reached.wait(10)
    release.wait(0.2)
    assert session.state == "paused" and session.writer.batches_done == 5
    assert np.all(session.device.output_voltages == 0)
    session.resume()
    session.cancel()
    worker.join(10)
    result = session.result
    assert result.status == "cancelled" and 5 <= result.batches_done < 200
    with Recording(result.path) as rec:
        assert rec.status == "cancelled" and rec.batches_done == result.batches_done


def test_keyboard_interrupt_is_a_safe_cancel(tmp_path):
    session = start_session(small_config(), "simulated", path=tmp_path / "r.h5", model="analytic")

    def interrupt(p):
        if p.batch == 2:
            raise KeyboardInterrupt

    session.on_progress = interrupt
    result = session.run()
    assert result.status == "cancelled" and result.batches_done == 2
    assert np.all(session.device.output_voltages == 0)


def test_resume_gives_the_same_arrays_as_an_uninterrupted_run(tmp_path):
    cfg = small_config(number_batches=8, random_phase_shift_each=3)
    full = start_session(cfg, "simulated", path=tmp_path / "full.h5", seed=9).run()
    part = start_session(
        cfg, "simulated", path=tmp_path / "part.h5", seed=9, faults=FaultPlan.parse("disconnect@5")
    ).run()
    assert part.status == "failed" and part.batches_done == 5
    resumed = resume_session(part.path).run()
    assert resumed.status == "complete" and resumed.batches_done == 8
    with Recording(full.path) as a, Recording(part.path) as b:
        np.testing.assert_array_equal(a.read()[0], b.read()[0])
        np.testing.assert_array_equal(a.read()[1], b.read()[1])
        np.testing.assert_array_equal(a.batches["phases"], b.batches["phases"])
        assert b.batches["index"].tolist() == list(range(8))


def test_a_device_that_cannot_open_leaves_no_recording(tmp_path):
    from backend.errors import DeviceDisconnectedError

    with pytest.raises(DeviceDisconnectedError):
        start_session(
            small_config(), "simulated", path=tmp_path / "r.h5", faults=FaultPlan(fail_open=True)
        )
    assert not (tmp_path / "r.h5").exists()


def test_a_recording_that_cannot_be_created_closes_the_device(tmp_path):
    from backend.errors import RecordingError

    (tmp_path / "r.h5").write_text("taken")
    device = SimulatedDevice(small_config(), model="analytic")
    with pytest.raises(RecordingError):
        start_session(small_config(), device, path=tmp_path / "r.h5")
    assert not device.is_open and np.all(device.output_voltages == 0)


def test_listeners_can_be_removed_while_sampling(tmp_path):
    session = start_session(small_config(), "simulated", path=tmp_path / "r.h5", model="analytic")
    seen = []

    def once(result):
        seen.append(result.index)
        session.remove_listener(once)

    session.add_listener(once)
    session.remove_listener(print)  # never added: harmless
    assert session.run().status == "complete" and seen == [0]

"""The live device panel: levels slew, pause is 0 V, Record makes an ordinary recording."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pytest
from chartools import SpyDevice, faulty
from conftest import small_config

from backend.characterise.panel import DevicePanel, PanelSettings
from backend.errors import Cancelled, RecordingError, SamplelabError
from backend.jobs import CancelToken
from backend.recording import Recording, RecordingWriter


def run_in_thread(panel: DevicePanel, token: CancelToken) -> threading.Thread:
    def go():
        with contextlib.suppress(Cancelled):
            panel.run(cancel=token)

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def wait_for(condition, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)


def test_levels_slew_to_their_targets_and_hold():
    device = SpyDevice(small_config())
    panel = DevicePanel(device, PanelSettings(frame_s=0.05, slew_v_per_s=1.0))
    assert panel.set_level(0, -0.3) == -0.3
    device.open()
    frames = [panel.step() for _ in range(8)]
    device.close()
    first = frames[0].inputs[:, 0]
    assert first[-1] == pytest.approx(-0.05) and np.diff(first).min() >= -0.001 - 1e-12
    assert [round(f.levels[0], 6) for f in frames[:7]] == [
        -0.05,
        -0.1,
        -0.15,
        -0.2,
        -0.25,
        -0.3,
        -0.3,
    ]
    assert (frames[-1].inputs[:, 0] == -0.3).all() and not frames[-1].inputs[:, 1:].any()
    assert device.at_zero()


def test_pause_is_zero_volts_and_levels_restart_from_zero():
    device = SpyDevice(small_config())
    panel = DevicePanel(device, PanelSettings(frame_s=0.05, slew_v_per_s=10.0))
    panel.set_level(2, 0.5)
    token = CancelToken()
    thread = run_in_thread(panel, token)
    wait_for(lambda: panel.levels[2] == 0.5)
    zeroed = device.zeroed
    panel.pause()
    wait_for(lambda: panel.levels[2] == 0.0 and device.zeroed > zeroed)
    sent = len(device.sent)
    time.sleep(0.1)
    assert len(device.sent) == sent and not device.output_voltages.any()
    panel.resume()
    wait_for(lambda: len(device.sent) > sent + 1)
    token.cancel()
    thread.join(10)
    assert device.at_zero()
    after_pause = device.sent[sent][2]
    assert after_pause[device.config.ramp_points] == pytest.approx(0.01)  # slewing up again


def test_record_turns_frames_into_an_ordinary_recording(tmp_path):
    config = small_config()
    device = SpyDevice(config)
    frames = []
    panel = DevicePanel(device, PanelSettings(0.05, 2.0, 0.1, 4.0), on_frame=frames.append)
    panel.set_levels(np.array([0.2, -0.4, 0, 0, 0, 0.1, -0.1]))
    token = CancelToken()
    thread = run_in_thread(panel, token)
    wait_for(lambda: len(frames) >= 3)
    panel.record(tmp_path)
    wait_for(lambda: sum(f.recording is not None for f in frames) >= 5)
    panel.stop_recording()
    wait_for(lambda: frames[-1].recording is None and frames[-2].recording is None)
    token.cancel()
    thread.join(10)
    recorded = [f for f in frames if f.recording is not None]
    (path,) = panel.summary.recordings
    with Recording(path) as rec:
        assert rec.status == "complete"
        assert rec.batches_done == rec.batches_planned == len(recorded)
        assert rec.config.number_batches == len(recorded) and rec.config.data_name == "device_panel"
        assert rec.device["panel"]["wave_amplitude_v"] == 0.1 and rec.device["kind"] == "simulated"
        inputs, outputs = rec.read()
    np.testing.assert_array_equal(inputs, np.concatenate([f.inputs for f in recorded]))
    np.testing.assert_array_equal(outputs, np.concatenate([f.outputs for f in recorded]))
    with pytest.raises(RecordingError, match="already complete"):
        RecordingWriter.resume(path)


def test_a_fault_while_recording_keeps_the_frames_and_ends_at_zero(tmp_path):
    device = faulty(small_config(), "timeout@6")
    panel = DevicePanel(device, PanelSettings(0.05))
    panel.record(tmp_path)
    with pytest.raises(SamplelabError, match="timed out"):
        panel.run()
    assert device.at_zero()
    with Recording(panel.summary.recordings[0]) as rec:
        assert rec.status == "failed" and rec.batches_done == rec.batches_planned == 6


def test_settings_change_live_but_not_the_frame_length():
    device = SpyDevice(small_config())
    panel = DevicePanel(device, PanelSettings(0.05))
    device.open()
    panel.step()
    panel.set_settings(PanelSettings(0.05, 2.0, 0.05, 2.0))
    assert np.ptp(panel.step().inputs[:, 0]) > 0.01  # the wave rides on the level
    with pytest.raises(SamplelabError, match="frame length"):
        panel.set_settings(PanelSettings(0.1))
    device.close()

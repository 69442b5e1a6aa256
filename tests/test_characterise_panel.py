"""The live device panel: levels are held between frames, moves slew, pause ramps to 0 V,
Record makes an ordinary recording."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pytest
from chartools import SpyDevice, faulty
from conftest import small_config

from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.characterise.panel import DevicePanel
from backend.characterise.panelwave import PanelSettings
from backend.errors import Cancelled, RecordingError, SamplelabError
from backend.jobs import CancelToken
from backend.recording.reader import Recording
from backend.recording.writer import RecordingWriter

FS = 1000.0  # small_config's DAC rate
BOUND = MAX_SLEW_V_PER_S / FS + 1e-9  # the largest step a held session allows (V)


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


def test_levels_slew_to_their_targets_and_are_held_between_frames():
    device = SpyDevice(small_config())
    frames = []
    panel = DevicePanel(device, PanelSettings(0.05, 1.0), frames.append, paced=False)
    assert panel.set_level(0, -0.3) == -0.3
    panel.run(max_frames=8)
    first = frames[0].inputs[:, 0]
    assert first[0] == pytest.approx(-0.001) and first[-1] == pytest.approx(-0.05)
    assert np.diff(first).min() >= -0.001 - 1e-12
    reached = [round(f.levels[0], 6) for f in frames]
    assert reached == [-0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.3, -0.3]
    # each frame starts where the last one ended: no ramp to 0 V (or anywhere) in between
    for before, after in zip(device.sent, device.sent[1:]):
        assert np.abs(after[:, 0] - before[:, -1]).max() <= 0.001 + 1e-12
    assert (frames[-1].inputs[:, 0] == -0.3).all() and not frames[-1].inputs[:, 1:].any()
    assert len(device.sent) == 8 and all(f.shape == (7, 50) for f in device.sent)
    # only at the end do the outputs go back to 0 V, ramped; then the device is closed
    (ramp,) = device.moves
    assert ramp[0, -1] == 0.0 and ramp[0, 0] > -0.3
    assert device.largest_step().max() <= BOUND and device.at_zero()


def test_a_held_level_stays_put_while_its_current_is_read():
    device = SpyDevice(small_config())
    frames = []
    panel = DevicePanel(device, PanelSettings(0.05, 10.0), frames.append, paced=False)
    panel.set_levels(np.array([0.4, -0.6, 0, 0, 0, 0.2, 0]))
    panel.run(max_frames=12)
    held = np.concatenate([f.inputs for f in frames[3:]])
    np.testing.assert_array_equal(held, np.tile([0.4, -0.6, 0, 0, 0, 0.2, 0], (len(held), 1)))
    currents = np.concatenate([f.outputs for f in frames[3:]])
    assert np.ptp(currents) < 1e-9  # a steady level, a steady current (noise off)
    assert device.at_zero()


def test_pause_ramps_to_zero_and_levels_restart_from_zero():
    device = SpyDevice(small_config())
    panel = DevicePanel(device, PanelSettings(0.05, 10.0), paced=False)
    panel.set_level(2, 0.3)
    token = CancelToken()
    thread = run_in_thread(panel, token)
    wait_for(lambda: panel.levels[2] == 0.3)
    zeroed = device.zeroed
    panel.pause()
    wait_for(lambda: device.zeroed > zeroed)
    assert panel.levels[2] == 0.0 and not device.output_voltages.any()
    ramp = device.moves[-1]
    assert ramp[2, 0] > 0.25 and ramp[2, -1] == 0.0  # from the level down, not a step
    sent = len(device.sent)
    time.sleep(0.1)
    assert len(device.sent) == sent
    panel.resume()
    wait_for(lambda: len(device.sent) > sent + 1)
    token.cancel()
    thread.join(10)
    assert device.at_zero() and device.largest_step().max() <= BOUND
    after_pause = device.sent[sent]
    assert after_pause[2, 0] == pytest.approx(0.01)  # slewing up from 0 V again


def test_record_turns_frames_into_an_ordinary_recording(tmp_path):
    config = small_config()
    device = SpyDevice(config)
    frames = []
    panel = DevicePanel(device, PanelSettings(0.05, 2.0, 0.1, 4.0), frames.append, paced=False)
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


def test_a_fault_while_recording_keeps_the_frames_and_ramps_down_from_where_it_stopped(tmp_path):
    device = faulty(small_config(), "timeout@6")
    panel = DevicePanel(device, PanelSettings(0.05, 5.0), paced=False)
    panel.set_level(1, -1.0)
    panel.record(tmp_path)
    with pytest.raises(SamplelabError, match="timed out"):
        panel.run()
    assert device.at_zero()
    stopped = device.sent[-1][:, 25]  # the simulated fault stops a frame halfway
    assert stopped[1] < -1.2 + 1.0  # well away from 0 V
    (ramp,) = device.moves
    np.testing.assert_allclose(ramp[:, -1], 0.0)
    assert abs(ramp[1, 0] - stopped[1]) <= BOUND and device.largest_step().max() <= BOUND
    with Recording(panel.summary.recordings[0]) as rec:
        assert rec.status == "failed" and rec.batches_done == rec.batches_planned == 6


def test_settings_change_live_without_a_jump_but_not_the_frame_length():
    device = SpyDevice(small_config())
    panel = DevicePanel(device, PanelSettings(0.05), paced=False)
    changes = [PanelSettings(0.05, 2.0, 0.05, 2.0), PanelSettings(0.05, 2.0, 0.2, 5.0),
               PanelSettings(0.05, 0.5, 0.0, 5.0)]  # fmt: skip

    def change(frame):
        if frame.index % 3 == 2 and changes:
            panel.set_settings(changes.pop(0))

    panel.on_frame = change
    panel.set_level(0, 0.3)
    panel.run(max_frames=14)
    assert np.ptp(device.sent[5][0]) > 0.01  # the wave rides on the level
    assert device.largest_step().max() <= BOUND and device.at_zero()
    with pytest.raises(SamplelabError, match="frame length"):
        panel.set_settings(PanelSettings(0.1))


def test_a_wave_too_fast_for_the_slew_bound_is_refused_with_its_numbers():
    device = SpyDevice(small_config())
    with pytest.raises(SamplelabError, match=r"swings at up to 12\.6 V/s"):
        DevicePanel(device, PanelSettings(0.05, 1.0, 0.2, 10.0))

"""I-V curves: the peer's sweeps, its ground truth reproduced, configs of all three kinds."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from chartools import LIFECYCLE, SpyDevice
from conftest import BSPYSMG_FIXTURES, ROOT, small_config

from app.cli import main
from backend.characterise.iv import IVProgress, measure_iv
from backend.characterise.ivconfig import SweepSettings, device_groups, load_iv_setup
from backend.characterise.ivfiles import read_iv
from backend.characterise.sweeps import sawtooth_sweep, sine_sweep, sweep
from backend.errors import ConfigError, SamplelabError

IV_DATA = ROOT / "tests" / "data" / "iv"


@pytest.mark.parametrize("wave", ["sawtooth", "sine"])
def test_sawtooth_is_the_peers_point_for_point(wave):
    peer = np.load(BSPYSMG_FIXTURES / LIFECYCLE.format(wave) / "iv_curves.npz")
    for k, (lo, hi) in enumerate(peer["voltage_ranges"]):
        np.testing.assert_array_equal(sawtooth_sweep(lo, hi, 200, up=True), peer["voltages"][k])


def test_sawtooth_segments_follow_the_peers_rounding():
    down = sawtooth_sweep(-1.2, 0.6, 200, up=False)  # 0 -> -1.2 -> 0.6 -> 0
    assert len(down) == 67 + 100 + 33
    assert down[66] == -1.2 and down[166] == 0.6 and down[0] == down[-1] == 0.0
    up = sawtooth_sweep(-1.2, 0.6, 200, up=True)
    assert up.max() == 0.6 and up.min() == -1.2 and np.argmax(up) < np.argmin(up)


def test_a_segment_that_rounds_away_still_starts_at_zero():
    s = sawtooth_sweep(-1.2, 0.004, 200, up=True)  # the first ramp rounds to no points
    assert s[0] == 0.0 and s[1] == 0.004 and s[-1] == 0.0
    assert sawtooth_sweep(0.0, 0.5, 10)[0] == 0.0


def test_sine_sweep_spans_the_range_and_never_leaves_it():
    s = sine_sweep(-0.3, 1.0, 400, up=True)  # the peer's sine would reach -1.0 V here
    assert s[0] == s[-1] == 0.0
    assert s.max() == pytest.approx(1.0, abs=1e-4) and s.min() == pytest.approx(-0.3, abs=1e-4)
    assert s.min() >= -0.3 and s.max() <= 1.0
    assert np.argmax(s) < np.argmin(s)
    assert np.argmin(sine_sweep(-0.3, 1.0, 400, up=False)) < 200


@pytest.mark.parametrize(
    "args, words",
    [
        ((-1, 1, 201), "even"),
        ((-1, 1, 2), "even"),
        ((0.1, 1, 200), "0 V"),
        ((1, -1, 200), "empty"),
        ((-1, float("nan"), 200), "empty"),
    ],
)
def test_bad_sweep_requests_are_clear(args, words):
    with pytest.raises(SamplelabError, match=words):
        sweep("sawtooth", *args)


@pytest.mark.parametrize("wave", ["sawtooth", "sine"])
def test_cli_reproduces_the_peers_iv_curves(tmp_path, wave, capsys):
    folder = BSPYSMG_FIXTURES / f"small_{wave}"
    life = BSPYSMG_FIXTURES / LIFECYCLE.format(wave)
    out = tmp_path / "iv"
    args = ["iv", str(folder / "sampler_configs.json"), "--device", "simulated"]
    args += ["--model", str(life / "training_data.pt"), "--noise", "0", "--points", "200"]
    code = main([*args, "--direction", "up", "--out", str(out), "-q"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert Path(printed.strip().splitlines()[-1]) == out / "iv_curves.npz"
    peer = np.load(life / "iv_curves.npz")
    ours = np.load(out / "iv_curves.npz", allow_pickle=False)
    assert ours["voltages"].shape == (7, 200) and ours["currents"].shape == (7, 200, 1)
    np.testing.assert_allclose(ours["currents"], peer["currents"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours["voltages"], peer["voltages"], rtol=0, atol=1e-6)
    assert int(ours["points"]) == 200 and bool(ours["up_direction"])
    assert sorted(p.name for p in out.iterdir()) == [
        "iv_curves.h5",
        "iv_curves.npz",
        "iv_curves.png",
    ]
    with h5py.File(out / "iv_curves.h5", "r") as f:
        assert f.attrs["format"] == "samplelab-iv"
        np.testing.assert_array_equal(f["currents"][()], ours["currents"])
        assert json.loads(f.attrs["config_json"])["data_name"] == f"small_{wave}"
        device = json.loads(f.attrs["device_json"])
        assert device["model"]["model"] == "surrogate" and device["noise_nA"] == 0.0
    again = read_iv(out / "iv_curves.h5")
    np.testing.assert_array_equal(again.currents, ours["currents"])
    assert again.activation_channels[0] == "cDAQ1Mod3/ao6"


def test_each_sweep_drives_one_electrode_and_the_device_ends_at_zero():
    config = small_config()
    device = SpyDevice(config)
    seen: list[IVProgress] = []
    curves = measure_iv(device, SweepSettings(points=40, up=False), progress=seen.append)
    assert len(device.sent) == 7 and device.at_zero()
    for k, data in enumerate(device.sent):
        others = np.delete(data, k, axis=0)
        assert not others.any() and data[k].min() < 0 < data[k].max()
    assert curves.voltages.shape == (7, 40) and curves.currents.shape == (7, 40, 1)
    assert [p.done for p in seen] == list(range(8)) and len(seen[-1].curves) == 7
    np.testing.assert_array_equal(seen[-1].curves[3].voltages, curves.voltages[3])


def test_peer_multi_device_iv_config_and_its_sweeps_touch_one_device(tmp_path, capsys):
    setup = load_iv_setup(IV_DATA / "brains_ivcurve_multi.yaml")
    assert setup.source == "bspysmg-iv"
    assert setup.settings == SweepSettings(points=100, up=True, shape="sawtooth")
    groups = device_groups(setup.config)
    assert [(g.name, g.electrodes, g.readouts) for g in groups] == [
        ("A", (0, 1, 2, 3), (0,)),
        ("B", (4, 5, 6), (1,)),
    ]
    device = SpyDevice(setup.config)
    curves = measure_iv(device, setup.settings)
    assert curves.currents.shape == (7, 100, 2)
    for k, data in enumerate(device.sent):
        mine = next(g for g in groups if k in g.electrodes)
        other = next(g for g in groups if g is not mine)
        assert not data[list(other.electrodes)].any(), f"sweep {k} touched device {other.name}"
    code = main(["iv", str(IV_DATA / "brains_ivcurve_multi.yaml"), "--out", str(tmp_path), "-q"])
    assert code == 0, capsys.readouterr().err
    ours = np.load(tmp_path / "iv_curves.npz", allow_pickle=False)
    assert list(ours["electrode_devices"]) == ["A"] * 4 + ["B"] * 3
    assert [g.name for g in read_iv(tmp_path / "iv_curves.npz").groups] == ["A", "B"]


def test_peer_single_device_template_with_a_nested_block():
    setup = load_iv_setup(IV_DATA / "brains_ivcurve_template.yaml")
    config = setup.config
    assert setup.settings == SweepSettings(points=500, up=False, shape="sine")
    assert config.fs == 500 and config.io_point_difference == 1
    assert list(config.amplification) == [41.0]
    assert config.layout().activation_channels[0] == "cDAQ1Mod3/ao6"
    np.testing.assert_array_equal(config.voltage_ranges()[3], [-1.3, 1.3])
    overridden = setup.settings.with_overrides(points=64, direction="up", shape="sawtooth")
    assert overridden == SweepSettings(64, True, "sawtooth")


def test_bad_configs_name_their_fields(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (IV_DATA / "brains_ivcurve_multi.yaml").read_text()
    bad.write_text(text.replace("[[-1.2, 0.6]", "[[-1.9, 0.6]", 1))
    with pytest.raises(ConfigError) as err:
        load_iv_setup(bad)
    assert "driver.instruments_setup.A.activation_voltage_ranges" in str(err.value)
    bad.write_text(text.replace('devices: ["A", "B"]', 'devices: ["A", "C"]'))
    with pytest.raises(ConfigError, match="C: is listed in devices but has no block"):
        load_iv_setup(bad)
    bad.write_text(text.replace("shape: 100", "shape: 99"))
    with pytest.raises(ConfigError, match="shape"):
        load_iv_setup(bad)
    bad.write_text("just: a mapping\n")
    with pytest.raises(ConfigError, match="neither a sampling config"):
        load_iv_setup(bad)


def test_cli_errors_are_one_line(tmp_path, capsys):
    config = BSPYSMG_FIXTURES / "small_sine" / "sampler_configs.json"
    assert main(["iv", str(config), "--points", "201", "--out", str(tmp_path / "a")]) == 1
    assert "even" in capsys.readouterr().err
    assert main(["iv", str(config), "--model", str(tmp_path / "none.pt"), "--out", "x"]) == 1
    assert "not found" in capsys.readouterr().err
    code = main(["iv", str(config), "--device", "nidaq", "--noise", "1", "--out", "x"])
    assert code == 1 and "simulated device" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_multi_device_sweeps_on_ni_hardware_write_zeros_to_the_other_device(monkeypatch):
    """Through the real nidaqmx Task code over the scripted driver (tests/test_nidaq_fake.py)."""
    from test_nidaq_fake import expected_nA, install_fake, multi_config, wired_lab

    from backend.characterise.device import characterisation_device

    config = multi_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    device = characterisation_device("nidaq", config)
    curves = measure_iv(device, SweepSettings(points=60))
    writes = daq.batch_writes()
    assert len(writes) == 7
    groups = device_groups(config)
    for k, write in enumerate(writes):
        mine = next(g for g in groups if k in g.electrodes)
        others = [i for i in range(7) if i not in mine.electrodes]
        assert write.data[others].max() == 0 == write.data[others].min()
        assert write.data[k].min() < 0 < write.data[k].max()
    inputs = np.zeros((60, 7))
    inputs[:, 2] = curves.voltages[2]
    np.testing.assert_allclose(curves.currents[2], expected_nA(config, daq, inputs), atol=1e-9)
    # every configured output (masked ones and the sync line too) ends at 0 V
    assert set(device.ao_names) <= set(daq.levels) and set(daq.levels.values()) == {0.0}
    assert daq.open_tasks() == []


@pytest.mark.parametrize("burst", [1, 4], ids=["sigterm", "burst"])
def test_sigterm_stops_a_sweep_with_nothing_written(tmp_path, burst):
    import os
    import signal
    import subprocess
    import sys
    import time

    config = small_config().model_copy(deep=True)
    config.driver.instruments_setup.activation_sampling_frequency = 200
    config.driver.instruments_setup.readout_sampling_frequency = 400
    config.input_data.batch_time, config.input_data.ramp_time = 0.25, 0.05
    from backend.config import save_config

    path = save_config(config, tmp_path / "slow.yaml")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "app.cli", "iv", str(path), "--realtime"]
    process = subprocess.Popen(
        [*command, "--points", "2000", "--out", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    started = time.monotonic()
    line = process.stderr.readline()  # "sweeping 7 electrodes ..." once the device is built
    assert "sweeping 7 electrodes" in line
    time.sleep(0.5)
    for sig in [signal.SIGTERM, signal.SIGINT, signal.SIGINT, signal.SIGTERM][:burst]:
        process.send_signal(sig)  # later ones land during the safe stop: never a traceback
        time.sleep(0.01)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and time.monotonic() - started < 30
    assert not out.exists() or not any(out.iterdir())

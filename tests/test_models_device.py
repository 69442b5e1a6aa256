"""A trained surrogate as the simulated device (the digital twin), through the one model path."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import BSPYSMG_FIXTURES, small_config

from app.cli import main
from backend.devices import FaultPlan, SimulatedDevice
from backend.devices.models import SurrogateModel as DeviceSurrogate
from backend.errors import DeviceError
from backend.models import SurrogateModel
from backend.recording.reader import Recording
from backend.sampling.session import resume_session, start_session

PEER_MODEL = BSPYSMG_FIXTURES / "lifecycle_small_sawtooth" / "training_data.pt"


def test_one_surrogate_class_for_devices_and_models():
    assert DeviceSurrogate is SurrogateModel


def test_twin_noise_defaults_to_the_models_test_rmse(tmp_path):
    config = small_config()
    model = SurrogateModel.load(PEER_MODEL)
    assert model.test_rmse_nA == pytest.approx(1.6182030)
    device = SimulatedDevice(config, model=str(PEER_MODEL))
    io = config.io_point_difference
    assert device.noise_nA == pytest.approx(model.test_rmse_nA * math.sqrt(io))
    assert device.drift_nA == 0.0
    described = device.describe()
    assert described["point_noise_nA"] == pytest.approx(model.test_rmse_nA)
    assert described["model"]["sha256"] == model.sha256 and len(model.sha256) == 64
    assert Path(described["model"]["source"]) == PEER_MODEL.resolve()
    chosen = SimulatedDevice(config, model=str(PEER_MODEL), point_noise_nA=0.25)
    assert chosen.noise_nA == pytest.approx(0.25 * math.sqrt(io))
    builtin = SimulatedDevice(config, model="analytic")
    assert (builtin.noise_nA, builtin.drift_nA) == (0.5, 2.0)


def test_twin_without_noise_reproduces_the_model(tmp_path):
    config = small_config(number_batches=2)
    session = start_session(
        config,
        "simulated",
        path=tmp_path / "twin.h5",
        seed=1,
        model=str(PEER_MODEL),
        point_noise_nA=0.0,
    )
    assert session.run().status == "complete"
    with Recording(tmp_path / "twin.h5") as rec:
        x, y = rec.inputs[:], rec.outputs[:]
        device = rec.device
    expected = np.clip(SurrogateModel.load(PEER_MODEL)(x), -156.68, 156.68)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-3)
    assert device["model"]["sha256"] == SurrogateModel.load(PEER_MODEL).sha256


def test_sample_cli_with_a_model_names_it_in_the_recording(tmp_path, capsys):
    cfg = BSPYSMG_FIXTURES / "small_sawtooth" / "sampler_configs.json"
    code = main(
        [
            "sample",
            str(cfg),
            "--out",
            str(tmp_path),
            "--batches",
            "2",
            "-q",
            "--model",
            str(PEER_MODEL),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    with Recording(out.strip().splitlines()[-1]) as rec:
        assert rec.device["model"]["model"] == "surrogate"
        assert rec.device["model"]["source"] == str(PEER_MODEL.resolve())
        digest = rec.device["model"]["sha256"]
    assert main(["info", out.strip().splitlines()[-1]]) == 0
    shown = capsys.readouterr().out
    assert f"model       {PEER_MODEL.resolve()} (sha256 {digest[:16]}...)" in shown


def test_twin_resumes_exactly_and_refuses_a_model_file_that_changed(tmp_path):
    model = tmp_path / "training_data.pt"
    shutil.copy(PEER_MODEL, model)
    config = small_config(number_batches=4)
    options = {"seed": 2, "model": str(model)}
    full = start_session(config, "simulated", path=tmp_path / "full.h5", **options).run()
    part = start_session(
        config,
        "simulated",
        path=tmp_path / "a.h5",
        faults=FaultPlan.parse("disconnect@2"),
        **options,
    ).run()
    assert part.status == "failed" and part.batches_done == 2
    shutil.copy(part.path, tmp_path / "b.h5")
    assert resume_session(part.path).run().status == "complete"
    with Recording(full.path) as a, Recording(part.path) as b:
        np.testing.assert_array_equal(a.outputs[:], b.outputs[:])
    shutil.copy(BSPYSMG_FIXTURES / "lifecycle_small_sine" / "training_data.pt", model)
    with pytest.raises(DeviceError, match="changed since the recording was made"):
        resume_session(tmp_path / "b.h5")

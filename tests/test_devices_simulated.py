"""Safety checks and the simulated device's readout chain."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from conftest import small_config

from backend.acquisition.safety import check_batch
from backend.acquisition.waves import BatchPlan, RampedBatch
from backend.config import ADC_LIMIT_V
from backend.devices import FaultPlan, SimulatedDevice, make_device
from backend.devices.models import FunctionModel, MLPModel, SurrogateModel
from backend.errors import (
    DeviceDisconnectedError,
    DeviceError,
    DeviceOverflowError,
    DeviceTimeoutError,
    FileFormatError,
    SafetyError,
)

RANGES = np.array([[-1.2, 0.6], [-0.7, 0.3]])


def _batch(data: np.ndarray, index: int = 0, ramp: int = 1) -> RampedBatch:
    return RampedBatch(index, data, ramp, data.shape[1] - 2 * ramp, np.zeros(len(data)), 0.0)


# --- safety ------------------------------------------------------------------------
def test_safe_batch_passes():
    check_batch(np.array([[0.0, 0.6, -1.2, 0.0], [0.0, 0.3, -0.7, 0.0]]), RANGES)


@pytest.mark.parametrize(
    ("row", "value", "why"),
    [(0, 0.61, "outside its allowed range"), (1, -0.71, "outside"), (0, np.nan, "NaN")],
)
def test_out_of_range_or_nan_is_refused(row, value, why):
    data = np.zeros((2, 4))
    data[row, 2] = value
    with pytest.raises(SafetyError, match=why):
        check_batch(data, RANGES)


def test_global_limit_applies_even_if_a_range_is_wider():
    data = np.zeros((1, 3))
    data[0, 1] = 1.7
    with pytest.raises(SafetyError, match=r"\[-1.6, 1.6\]"):
        check_batch(data, np.array([[-2.0, 2.0]]))


def test_batch_must_start_and_end_at_zero():
    with pytest.raises(SafetyError, match="start and end at 0 V"):
        check_batch(np.array([[0.1, 0.0, 0.0]]), np.array([[-1.0, 1.0]]))
    with pytest.raises(SafetyError, match="start and end at 0 V"):
        check_batch(np.array([[0.0, 0.0, 0.2]]), np.array([[-1.0, 1.0]]))


def test_wrong_shape_is_refused():
    with pytest.raises(SafetyError, match="shape"):
        check_batch(np.zeros((3, 5)), RANGES)


def test_device_never_sees_an_unsafe_batch():
    cfg = small_config()
    seen = []
    device = SimulatedDevice(cfg, model=FunctionModel(lambda x: seen.append(x) or x[:, :1], 7))
    data = BatchPlan(cfg).batch(0).data.copy()
    data[3, 20] = 0.9  # above electrode 3's 0.6 V maximum
    with device, pytest.raises(SafetyError):
        device.sample(_batch(data, ramp=10))
    assert seen == []


# --- simulated device ---------------------------------------------------------------------
def test_readout_chain_amplification_inversion_and_saturation():
    cfg = small_config()
    cfg.driver.inverted_output = True
    # A model giving a known current; noise and drift off.
    current = 200.0 * np.linspace(-1, 1, 50)[:, None]
    device = SimulatedDevice(cfg, model=FunctionModel(lambda x: current, 7), noise_nA=0, drift_nA=0)
    with device:
        out = device.sample(BatchPlan(cfg).batch(0))
    limit = ADC_LIMIT_V * 39.17
    np.testing.assert_allclose(out, np.clip(current, -limit, limit), atol=1e-9)
    # An amplifier that does not invert while the config says it does flips the sign.
    flipped = SimulatedDevice(
        cfg,
        model=FunctionModel(lambda x: current, 7),
        noise_nA=0,
        drift_nA=0,
        amplifier_inverts=False,
    )
    with flipped:
        np.testing.assert_allclose(
            flipped.sample(BatchPlan(cfg).batch(0)), -np.clip(current, -limit, limit)
        )


def test_noise_and_drift_are_pure_functions_of_seed_and_batch():
    cfg = small_config()
    plan = BatchPlan(cfg, seed=2)
    a = SimulatedDevice(cfg, model="analytic", seed=2)
    b = SimulatedDevice(cfg, model="analytic", seed=2)
    with a, b:
        forward = [a.sample(plan.batch(i)) for i in range(4)]
        backward = [b.sample(plan.batch(i)) for i in reversed(range(4))][::-1]
    for x, y in zip(forward, backward, strict=True):
        np.testing.assert_array_equal(x, y)
    c = SimulatedDevice(cfg, model="analytic", seed=3)
    with c:
        assert not np.array_equal(c.sample(plan.batch(0)), forward[0])


def test_mlp_device_is_nonlinear_coupled_and_dnpu_sized():
    cfg = small_config(number_batches=40)
    plan = BatchPlan(cfg, seed=0)
    with SimulatedDevice(cfg, seed=0) as device:
        out = np.concatenate([device.sample(plan.batch(i)) for i in range(40)])
    assert 20 < out.std() < 150
    model = MLPModel(cfg.voltage_ranges(), seed=0)
    x = np.zeros((1, 7))
    base = model(x)
    e0, e1 = np.eye(7)[0:1] * 0.3, np.eye(7)[1:2] * 0.3
    # Not additive: the response to both inputs differs from the sum of responses.
    assert abs((model(e0 + e1) - base) - ((model(e0) - base) + (model(e1) - base))).item() > 1e-3
    # The same model seed is the same device, whatever the session seed.
    np.testing.assert_array_equal(MLPModel(cfg.voltage_ranges(), seed=0)(x), base)


def test_realtime_pacing_sleeps_to_the_batch_duration():
    cfg = small_config()  # 70 points at 1 kHz = 70 ms per ramped batch
    with SimulatedDevice(cfg, model="analytic", realtime=True) as device:
        start = time.monotonic()
        device.sample(BatchPlan(cfg).batch(0))
        assert time.monotonic() - start >= 0.069


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("timeout@2", DeviceTimeoutError),
        ("overflow@2", DeviceOverflowError),
        ("disconnect@2", DeviceDisconnectedError),
    ],
)
def test_fault_injection(spec, error):
    cfg = small_config()
    plan = BatchPlan(cfg)
    device = SimulatedDevice(cfg, model="analytic", faults=FaultPlan.parse(spec))
    with device:
        device.sample(plan.batch(0))
        device.sample(plan.batch(1))
        with pytest.raises(error):
            device.sample(plan.batch(2))
        assert np.any(device.output_voltages != 0)  # stuck mid-waveform, like real hardware
    assert np.all(device.output_voltages == 0) and device.zeroed >= 1


def test_fault_spec_errors_and_open_failure():
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan.parse("explode@1")
    device = SimulatedDevice(small_config(), model="analytic", faults=FaultPlan.parse("open"))
    with pytest.raises(DeviceDisconnectedError):
        device.open()


def test_closed_device_refuses_to_sample():
    cfg = small_config()
    with pytest.raises(DeviceError, match="not open"):
        SimulatedDevice(cfg, model="analytic").sample(BatchPlan(cfg).batch(0))


def test_make_device_and_model_checks():
    cfg = small_config()
    assert make_device("simulated", cfg, model="analytic").describe()["kind"] == "simulated"
    with pytest.raises(ValueError, match="unknown device"):
        make_device("scope", cfg)
    with pytest.raises(ValueError, match="unknown simulated model"):
        SimulatedDevice(cfg, model="gpt")
    with pytest.raises(DeviceError, match="3 inputs"):
        SimulatedDevice(cfg, model=FunctionModel(lambda x: x[:, :1], 3))


# --- bspysmg surrogate ------------------------------------------------------------------
def _save_surrogate(path, amplification=39.17):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(7, 90), torch.nn.ReLU()]
    for _ in range(4):
        layers += [torch.nn.Linear(90, 90), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(90, 1))
    net = torch.nn.Sequential(*layers)
    state = {f"raw_model.{k}": v for k, v in net.state_dict().items()}
    info = {
        "model_structure": {"hidden_sizes": [90] * 5, "D_in": 7, "D_out": 1, "activation": "relu"},
        "electrode_info": {
            "output_electrodes": {"amplification": [amplification]},
            "activation_electrodes": {
                "voltage_ranges": np.array([[-1.2, 0.6]] * 7, dtype=np.float32)
            },
        },
    }
    torch.save({"model_state_dict": state, "info": info, "epoch": 3}, path)
    return net


def test_loads_a_bspysmg_surrogate_with_weights_only(tmp_path):
    path = tmp_path / "training_data.pt"
    net = _save_surrogate(path)
    model = SurrogateModel.load(path)
    x = np.random.default_rng(0).uniform(-1, 0.5, (20, 7))
    expected = net(torch.tensor(x, dtype=torch.float32)).detach().numpy() * 39.17
    np.testing.assert_allclose(model(x), expected, rtol=1e-4, atol=1e-4)
    cfg = small_config()
    device = SimulatedDevice(cfg, model=str(path), noise_nA=0, drift_nA=0)
    assert device.describe()["model"]["model"] == "surrogate"


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("true",))


def test_surrogate_with_code_in_it_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "info": _Evil()}, path)
    with pytest.raises(FileFormatError, match="not plain weights"):
        SurrogateModel.load(path)


def test_not_a_surrogate(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(FileFormatError, match="model_state_dict"):
        SurrogateModel.load(path)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(FileFormatError):
        SurrogateModel.load(junk)


def test_batch_drift_follows_the_exact_drift():
    cfg = small_config()
    device = SimulatedDevice(cfg, model="analytic", drift_nA=5.0)
    t0 = 1234.5
    exact = device.drift(t0 + np.arange(50) / cfg.fs)
    np.testing.assert_allclose(device.batch_drift(t0, 50), exact, rtol=0, atol=1e-5)
    assert device.batch_drift(t0, 1).shape == (1, 1)

"""Every NI-DAQmx failure becomes one clear SamplelabError; sessions survive them safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import (
    DaqError,
    DaqFunctionNotSupportedError,
    DaqNotFoundError,
    DaqNotSupportedError,
    DaqReadError,
    DaqWriteError,
)
from test_nidaq_fake import (
    cdaq_config,
    daq_error,
    expected_nA,
    install_fake,
    install_missing_driver,
    nidaq_config,
    wired_lab,
)

from app.cli import main
from backend.acquisition.waves import BatchPlan
from backend.config import save_config
from backend.devices import make_device
from backend.devices.ni_driver import DRIVER_MISSING, translated, translated_error
from backend.devices.nidaq import NIDevice
from backend.errors import (
    DeviceBusyError,
    DeviceDisconnectedError,
    DeviceError,
    DeviceOverflowError,
    DeviceTimeoutError,
    DriverNotFoundError,
    RoutingError,
    SamplelabError,
    UnknownChannelError,
)
from backend.recording.reader import Recording
from backend.sampling.session import SamplingSession, resume_session, start_session

BACKEND = Path(__file__).resolve().parents[1] / "backend" / "devices"


# --- driver missing ---------------------------------------------------------------------------
def test_daq_not_found_is_not_a_daq_error():
    """Why the translation catches nidaqmx.errors.Error: this one is no DaqError."""
    assert not issubclass(DaqNotFoundError, DaqError)


def test_missing_driver_is_a_clear_error(monkeypatch):
    install_missing_driver(monkeypatch)
    with pytest.raises(DriverNotFoundError) as info:
        make_device("nidaq", cdaq_config())
    assert info.value.message == DRIVER_MISSING
    assert "NI-DAQmx driver not found; install it or use the simulated device" in str(info.value)
    assert isinstance(info.value.__cause__, DaqNotFoundError)


def test_this_machine_without_the_driver_says_so():
    """No fake at all: the real nidaqmx on a PC without NI-DAQmx."""
    import nidaqmx.system
    from nidaqmx.errors import Error

    try:
        nidaqmx.system.System.local().driver_version  # noqa: B018
    except DaqNotFoundError:
        pass
    except Error:
        pytest.skip("NI-DAQmx answers here in an unexpected way")
    else:
        pytest.skip("NI-DAQmx is installed on this machine")
    with pytest.raises(DriverNotFoundError, match="install it or use the simulated device"):
        NIDevice(cdaq_config())


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (DaqNotSupportedError("unsupported OS"), DriverNotFoundError, "operating system"),
        (DaqFunctionNotSupportedError("DAQmxFoo"), DeviceError, "too old"),
    ],
)
def test_other_nidaqmx_errors(exc, kind, text):
    error = translated_error(exc, "doing it")
    assert type(error) is kind and text in error.message


# --- the error code table ------------------------------------------------------------------------
CASES = [
    ("start_task", DAQmxErrors.PAL_RESOURCE_RESERVED, DaqError, DeviceBusyError),
    ("start_task", DAQmxErrors.RESOURCE_ALREADY_RESERVED, DaqError, DeviceBusyError),
    ("read_analog_f64", DAQmxErrors.INPUT_FIFO_OVERFLOW, DaqReadError, DeviceOverflowError),
    ("read_analog_f64", DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE, DaqReadError, DeviceOverflowError),
    ("write_analog_f64", DAQmxErrors.OUTPUT_FIFO_UNDERFLOW, DaqWriteError, DeviceOverflowError),
    ("read_analog_f64", DAQmxErrors.SAMPLES_NOT_YET_AVAILABLE, DaqReadError, DeviceTimeoutError),
    (
        "wait_until_task_done",
        DAQmxErrors.WAIT_UNTIL_DONE_DOES_NOT_INDICATE_DONE,
        DaqError,
        DeviceTimeoutError,
    ),
    ("start_task", DAQmxErrors.DEV_ABSENT_OR_UNAVAILABLE, DaqError, DeviceDisconnectedError),
    ("read_analog_f64", DAQmxErrors.INVALID_ATTRIBUTE_VALUE, DaqReadError, DeviceError),
]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (-200220, UnknownChannelError),
        (-200170, UnknownChannelError),
        (-201237, UnknownChannelError),
        (-89125, RoutingError),
        (-89120, RoutingError),
        (-89130, RoutingError),
        (-200040, RoutingError),
        (-50103, DeviceBusyError),
        (-200022, DeviceBusyError),
        (-201105, DeviceBusyError),
        (-200010, DeviceOverflowError),
        (-200279, DeviceOverflowError),
        (-200016, DeviceOverflowError),
        (-200290, DeviceOverflowError),
        (-200284, DeviceTimeoutError),
        (-200560, DeviceTimeoutError),
        (-200474, DeviceTimeoutError),
        (-200324, DeviceDisconnectedError),
        (-201003, DeviceDisconnectedError),
        (-200045, DeviceDisconnectedError),
        (-200077, DeviceError),
    ],
)
def test_the_documented_code_table(code, expected):
    """The table in docs/hardware.md, code by code."""
    error = translated_error(DaqError(f"NI text for {code}", code), "testing")
    assert type(error) is expected and str(code) in error.message


@pytest.mark.parametrize(("method", "code", "raised", "expected"), CASES)
def test_batch_errors_map_to_clear_errors_and_leave_no_task(
    monkeypatch, method, code, raised, expected
):
    config = cdaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    device = NIDevice(config)
    device.open()
    daq.fail(method, daq_error(code, f"NI says: {code.name}", cls=raised))
    with pytest.raises(SamplelabError) as info:
        device.sample(BatchPlan(config).batch(0))
    error = info.value
    assert type(error) is expected
    assert f"NI-DAQmx error {int(code)} while sampling batch 0" in error.message
    assert f"NI says: {code.name}" in error.message and error.hint
    assert error.ni_error_code == int(code) and isinstance(error.__cause__, DaqError)
    assert daq.open_tasks() == []
    device.set_zero()  # works right after the failure
    assert daq.levels == dict.fromkeys(device.ao_names, 0.0)
    device.close()
    assert daq.open_tasks() == []


def test_an_unknown_code_keeps_the_ni_message_and_code(monkeypatch):
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    daq.fail("start_task", DaqError("Something odd happened.\nProperty: X", -123456))
    device = NIDevice(cdaq_config())
    device.open()
    with pytest.raises(DeviceError) as info:
        device.sample(BatchPlan(cdaq_config()).batch(0))
    assert type(info.value) is DeviceError
    assert info.value.message == (
        "NI-DAQmx error -123456 while sampling batch 0: Something odd happened.; Property: X"
    )
    device.close()


def test_unknown_instrument_fails_at_open_with_the_channel_named(monkeypatch):
    config = cdaq_config()
    config.driver.instruments_setup.readout_instrument = "cDAQ1Mod9"
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    device = NIDevice(config)
    with pytest.raises(UnknownChannelError, match="cDAQ1Mod9") as info:
        device.open()
    assert "samplelab devices" in info.value.hint
    assert device.is_open is False and daq.open_tasks() == []


def test_unknown_channel_number_and_trigger_source(monkeypatch):
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    bad_channel = cdaq_config()
    bad_channel.driver.instruments_setup.activation_channels = [6, 0, 7, 5, 2, 4, 31]
    with pytest.raises(UnknownChannelError, match="cDAQ1Mod3/ao31"):
        NIDevice(bad_channel).open()
    bad_trigger = cdaq_config()
    bad_trigger.driver.instruments_setup.trigger_source = "cDAQ7"
    with pytest.raises(RoutingError, match="cDAQ7"):
        NIDevice(bad_trigger).open()
    assert daq.open_tasks() == []
    daq.interpreter.write_analog_f64.assert_not_called()


def test_set_zero_failure_is_translated(monkeypatch):
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    device = NIDevice(cdaq_config())
    daq.fail(
        "write_analog_f64", daq_error(DAQmxErrors.DEV_ABSENT_OR_UNAVAILABLE, cls=DaqWriteError)
    )
    with pytest.raises(DeviceDisconnectedError, match="driving the outputs to 0 V"):
        device.set_zero()
    assert daq.open_tasks() == []


def test_translated_leaves_our_own_errors_alone():
    with pytest.raises(ValueError), translated("anything"):
        raise ValueError("not an NI error")


def test_driver_code_has_none_of_the_peers_weaknesses():
    """No sys.exit, no reset_device on close, no Windows-only import, no module threads."""
    names = ("nidaq.py", "ni_driver.py", "discovery.py", "ni_plan.py", "ni_sync.py", "ni_tasks.py")
    for path in (*(BACKEND / name for name in names), BACKEND.parent / "sampling" / "selftest.py"):
        source, name = path.read_text(), path.name
        for banned in ("sys.exit", "reset_device", "import win", "windll", "threading", "global "):
            assert banned not in source, f"{banned} in {name}"


# --- whole sessions -------------------------------------------------------------------------------
def test_full_session_on_the_fake_hardware(monkeypatch, tmp_path):
    config = nidaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    daq.lags = [3, 50, 5, 0, 7]  # one missed spike along the way
    session = start_session(config, "nidaq", path=tmp_path / "ni.h5", seed=5)
    assert isinstance(session, SamplingSession)
    result = session.run()
    assert result.status == "complete" and result.batches_done == 6
    with Recording(result.path) as rec:
        assert rec.device["kind"] == "nidaq" and rec.device["driver_version"] == "24.5.0"
        inputs, outputs = rec.read()
        assert outputs.shape == (300, 1)
        np.testing.assert_allclose(inputs, BatchPlan(config, seed=5).all_inputs())
        np.testing.assert_allclose(outputs, expected_nA(config, daq, inputs), atol=1e-9)
    assert daq.open_tasks() == []
    assert daq.levels == dict.fromkeys(session.device.ao_names, 0.0)
    assert len(daq.calls("create_task")) == 2 + len(daq.zero_writes())  # retries reuse tasks


def test_a_daq_error_mid_run_keeps_earlier_batches_zeroes_and_resumes(monkeypatch, tmp_path):
    config = cdaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    daq.fail(
        "read_analog_f64",
        daq_error(DAQmxErrors.INPUT_FIFO_OVERFLOW, cls=DaqReadError),
        call=3,
    )
    session = start_session(config, "nidaq", path=tmp_path / "ni.h5", seed=1)
    result = session.run()
    assert result.status == "failed" and result.batches_done == 2
    assert isinstance(result.error, DeviceOverflowError)
    with Recording(result.path) as rec:
        assert rec.status == "failed" and "-200010" in rec.message
        assert rec.batches_done == 2 and rec.n_rows == 100
        inputs, outputs = rec.read()
        np.testing.assert_allclose(outputs, expected_nA(config, daq, inputs), atol=1e-9)
    assert daq.zero_writes() and daq.open_tasks() == []
    last = daq.writes[-1]
    assert last.data.ndim == 1 and not last.data.any()
    assert daq.levels == dict.fromkeys(session.device.ao_names, 0.0)

    resumed = resume_session(result.path)  # the recording names its device: nidaq again
    assert isinstance(resumed.device, NIDevice)
    assert resumed.run().status == "complete"
    with Recording(result.path) as rec:
        inputs, outputs = rec.read()
        assert rec.batches_done == 6
        np.testing.assert_allclose(inputs, BatchPlan(config, seed=1).all_inputs())
        np.testing.assert_allclose(outputs, expected_nA(config, daq, inputs), atol=1e-9)


def test_cli_samples_on_nidaq_and_reports_a_missing_driver(monkeypatch, tmp_path, capsys):
    config_file = save_config(cdaq_config(), tmp_path / "config.yaml")
    install_fake(monkeypatch, wired_lab(cdaq_config()))
    code = main(["sample", str(config_file), "--device", "nidaq", "--out", str(tmp_path), "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    with Recording(out.strip().splitlines()[-1]) as rec:
        assert rec.batches_done == 6 and rec.device["kind"] == "nidaq"

    install_missing_driver(monkeypatch)
    code = main(["sample", str(config_file), "--device", "nidaq", "--out", str(tmp_path / "x")])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("samplelab: error: NI-DAQmx driver not found; install it or use")
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()  # no empty recording left behind

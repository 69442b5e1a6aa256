"""NI device discovery and `samplelab devices`, on the scripted driver of test_nidaq_fake."""

from __future__ import annotations

import json

import pytest
from nidaqmx.error_codes import DAQmxErrors
from test_nidaq_fake import FakeDAQ, daq_error, install_fake, install_missing_driver, lab_devices

from app.cli import main
from backend.devices.discovery import NIInventory, compact_channels, ni_inventory
from backend.devices.ni_driver import DRIVER_MISSING


def test_inventory_of_a_cdaq_chassis_and_a_pcie_card(monkeypatch):
    install_fake(monkeypatch)
    inv = ni_inventory()
    assert isinstance(inv, NIInventory)
    assert inv.driver_available and inv.driver_version == "24.5.0"
    assert inv.message == "NI-DAQmx 24.5.0: 6 devices"
    assert [d.name for d in inv.devices] == [
        "cDAQ1",
        "cDAQ1Mod1",
        "cDAQ1Mod2",
        "cDAQ1Mod3",
        "cDAQ1Mod4",
        "Dev1",
    ]
    chassis = inv.device("cDAQ1")
    assert chassis.product_type == "cDAQ-9178" and chassis.category == "COMPACT_DAQ_CHASSIS"
    assert chassis.modules == ("cDAQ1Mod1", "cDAQ1Mod2", "cDAQ1Mod3", "cDAQ1Mod4")
    assert chassis.ao_channels == () and chassis.ai_voltage_ranges == ()
    assert chassis.chassis is None and chassis.slot is None

    ao = inv.device("cDAQ1Mod3")
    assert (ao.product_type, ao.category, ao.chassis, ao.slot) == (
        "NI 9264",
        "C_SERIES_MODULE",
        "cDAQ1",
        3,
    )
    assert ao.ao_channels[:2] == ("cDAQ1Mod3/ao0", "cDAQ1Mod3/ao1") and len(ao.ao_channels) == 16
    assert ao.ao_voltage_ranges == ((-10.0, 10.0),) and ao.ao_max_rate == 25000.0
    assert ao.simulated is True and ao.serial_number == 0x1A2B3C

    ai = inv.device("cDAQ1Mod4")
    assert len(ai.ai_channels) == 32 and ai.ao_channels == ()
    assert ai.ai_voltage_ranges == ((-10, 10), (-5, 5), (-1, 1), (-0.2, 0.2))
    assert ai.ranges_of("cDAQ1Mod4/ai7") == ai.ai_voltage_ranges
    assert ai.ranges_of("cDAQ1Mod3/ao0") == ()

    card = inv.device("Dev1")
    assert card.chassis is None and card.slot is None and card.simulated is False
    assert card.category == "X_SERIES_DAQ" and card.ai_max_rate == 2e6
    assert len(card.ao_channels) == 4 and card.ao_voltage_ranges == ((-10, 10), (-5, 5))

    assert inv.chassis() == ["cDAQ1"]
    assert len(inv.ao_channels()) == 16 + 16 + 4 and "Dev1/ai31" in inv.ai_channels()
    assert inv.device("nope") is None
    assert json.loads(json.dumps(inv.to_dict()))["devices"][3]["name"] == "cDAQ1Mod3"


def test_inventory_without_the_driver(monkeypatch):
    install_missing_driver(monkeypatch)
    inv = ni_inventory()
    assert inv.driver_available is False and inv.devices == () and inv.driver_version is None
    assert inv.message.startswith(DRIVER_MISSING)
    assert inv.ao_channels() == [] and inv.chassis() == []


def test_inventory_with_no_devices(monkeypatch):
    install_fake(monkeypatch, FakeDAQ(devices=[]))
    inv = ni_inventory()
    assert inv.driver_available and inv.devices == ()
    assert "found no devices" in inv.message and "NI MAX" in inv.message


def test_inventory_when_the_driver_cannot_list_devices(monkeypatch):
    daq = install_fake(monkeypatch)
    daq.fail("get_system_info_attribute_string", daq_error(DAQmxErrors.PAL_RESOURCE_BUSY))
    inv = ni_inventory()
    assert inv.driver_available and inv.devices == ()
    assert inv.message.startswith("NI-DAQmx could not list its devices: NI-DAQmx error -50106")


def test_an_odd_device_does_not_break_the_inventory(monkeypatch):
    daq = install_fake(monkeypatch)
    daq.fail("get_device_attribute_int32", daq_error(DAQmxErrors.DEV_CANNOT_BE_ACCESSED))
    inv = ni_inventory()
    assert len(inv.devices) == 6 and inv.devices[0].category == "UNKNOWN"
    assert inv.devices[0].product_type == "cDAQ-9178" and inv.devices[1].category != "UNKNOWN"


def test_compact_channels():
    assert compact_channels([f"cDAQ1Mod3/ao{i}" for i in range(16)]) == "cDAQ1Mod3/ao0:15"
    assert compact_channels([]) == ""


# --- samplelab devices ------------------------------------------------------------------------
def test_cli_devices_lists_modules_channels_and_ranges(monkeypatch, capsys):
    install_fake(monkeypatch)
    assert main(["devices"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "NI-DAQmx 24.5.0: 6 devices" and err == ""
    assert any(ln.startswith("cDAQ1 ") and "cDAQ-9178" in ln for ln in lines)
    assert "modules: cDAQ1Mod1, cDAQ1Mod2, cDAQ1Mod3, cDAQ1Mod4" in out
    assert "NI 9264  c series module  in cDAQ1 slot 3  (simulated)" in out
    assert "AO 16: cDAQ1Mod3/ao0:15  ranges [-10, 10] V" in out
    assert "AI 32: cDAQ1Mod4/ai0:31  ranges [-10, 10], [-5, 5], [-1, 1], [-0.2, 0.2] V" in out
    assert "Dev1" in out and "PCIe-6363" in out


def test_cli_devices_json(monkeypatch, capsys):
    install_fake(monkeypatch, FakeDAQ(devices=lab_devices()[:2]))
    assert main(["devices", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["driver_available"] is True and data["driver_version"] == "24.5.0"
    assert [d["name"] for d in data["devices"]] == ["cDAQ1", "cDAQ1Mod1"]
    assert data["devices"][1]["ao_voltage_ranges"] == [[-10.0, 10.0]]


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_devices_without_the_driver(monkeypatch, capsys, as_json):
    install_missing_driver(monkeypatch)
    code = main(["devices", "--json"] if as_json else ["devices"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"samplelab: error: {DRIVER_MISSING}") and "Traceback" not in err
    if as_json:
        assert json.loads(out)["driver_available"] is False
    else:
        assert out == ""

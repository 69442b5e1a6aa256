"""The data layer opens I-V and consistency results (`samplelab info`, the Recordings page)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from chartools import LIFECYCLE, SpyDevice
from conftest import BSPYSMG_FIXTURES, small_config

from app.cli import main
from backend.characterise.iv import measure_iv
from backend.characterise.ivconfig import SweepSettings
from backend.characterise.ivfiles import write_iv
from backend.data.kinds import (
    describe_file,
    detect_kind,
    file_kinds,
    kind_labels,
    load_data,
    open_reader,
)


@pytest.fixture
def iv_folder(tmp_path):
    config = small_config()
    curves = measure_iv(SpyDevice(config), SweepSettings(20, up=False, shape="sine"))
    write_iv(curves, tmp_path, config)
    return tmp_path


def test_kinds_are_detected_by_content(iv_folder, tmp_path):
    life = BSPYSMG_FIXTURES / LIFECYCLE.format("sine")
    assert detect_kind(life / "iv_curves.npz") == "iv-curves"
    assert detect_kind(life / "consistency_results.npz") == "consistency"
    assert detect_kind(iv_folder / "iv_curves.npz") == "iv-curves"
    assert detect_kind(iv_folder / "iv_curves.h5") == "iv-curves"
    renamed = tmp_path / "whatever.bin"
    renamed.write_bytes((life / "consistency_results.npz").read_bytes())
    assert detect_kind(renamed) == "consistency"
    assert detect_kind(BSPYSMG_FIXTURES / "small_sine" / "reference_batch.npz") == "npz"
    assert {"iv-curves", "consistency"} <= set(file_kinds()) == set(kind_labels())


def test_an_iv_file_reads_as_a_table_per_electrode(iv_folder):
    for name in ("iv_curves.npz", "iv_curves.h5"):
        with open_reader(iv_folder / name) as reader:
            assert reader.shape == (20, 14) and reader.kind == "iv-curves"
            assert reader.channel_names[:2] == ["IV1 V", "IV1 cDAQ1Mod4/ai0"]
            assert reader.units[:2] == ["V", "nA"]
            assert "sine down" in reader.notes[0] and "IV1 = cDAQ1Mod3/ao6" in reader.notes[1]
            table = reader.read()
        curves = np.load(iv_folder / "iv_curves.npz")
        np.testing.assert_array_equal(table[:, 2], curves["voltages"][1])
        np.testing.assert_array_equal(table[:, 3], curves["currents"][1, :, 0])
    ranges = load_data(iv_folder / "iv_curves.npz", key="voltage_ranges")
    assert ranges.shape == (7, 2)
    assert load_data(iv_folder / "iv_curves.h5", key="voltages").shape == (7, 20)


def test_info_on_a_consistency_result_gives_the_numbers(capsys):
    life = BSPYSMG_FIXTURES / LIFECYCLE.format("sawtooth")
    assert main(["info", str(life / "consistency_results.npz")]) == 0
    out = capsys.readouterr().out
    assert "kind        consistency" in out and "100 rows x 3 channels" in out
    assert "RMSE per repetition 40.2, 40.2, 40.2 nA" in out
    assert "charge-up RMSE per batch: 5.22, 9.37, 56.1 nA" in out
    facts = describe_file(life / "iv_curves.npz")
    assert facts["kind"] == "iv-curves" and facts["shape"] == [200, 14]
    assert json.dumps(facts)


def test_a_broken_result_says_why(tmp_path):
    bad = tmp_path / "iv_curves.npz"
    np.savez(bad, voltages=np.zeros((7, 10)), currents=np.zeros((6, 10, 1)))
    from backend.errors import FileFormatError

    with pytest.raises(FileFormatError, match="do not match"):
        open_reader(bad)

"""Hostile configs: every one ends in a ConfigError naming its field, and nothing on disk.

Names that would leave the output folder or overwrite a file, sizes that
would exhaust memory, NaN/inf waves, YAML bombs, duplicate keys and inputs
that are not regular files (issue 12, items 1, 6, 7 and 11).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from conftest import BSPYSMG_FIXTURES, ROOT, small_config

from app.cli import main
from backend.config import config_problems, load_config, save_config
from backend.config.limits import MAX_NAME_CHARS
from backend.config.yamlsafe import MAX_YAML_BYTES, YamlLimitError, load_yaml
from backend.data.formats.bspysmg import BspysmgFolder
from backend.errors import ConfigError, SamplelabError
from backend.models.settings import read_small_yaml


def _data(**input_data) -> dict:
    data = small_config().to_bspysmg()
    data["input_data"].update(input_data)
    return data


def _paths(data: dict) -> dict[str, str]:
    cfg, problems = config_problems(data)
    assert cfg is None or not problems
    return {p.path: p.message for p in problems}


BAD_NAMES = [
    "", "../../x", "/etc/passwd", "a/b", "a\\b", "..", ".", "x\0.h5", "line\nbreak", "tab\tx",
    "bell\x07", "\ud800", "x\udfff", "CON", "nul", "com1", "LPT9.txt", "a:b", "a*b", 'q"', "a?",
    "trailing.", "trailing ", "x" * (MAX_NAME_CHARS + 1),
]  # fmt: skip


@pytest.mark.parametrize("name", BAD_NAMES)
def test_data_name_must_be_a_plain_file_name_stem(name):
    data = _data()
    data["data_name"] = name
    problems = _paths(data)
    assert list(problems) == ["data_name"]
    assert problems["data_name"].startswith("Name")


@pytest.mark.parametrize(
    "name", ["sampling", "run-01_7x1", "Übung ÄÖ", "a.b", "x" * MAX_NAME_CHARS]
)
def test_plain_names_are_accepted(name):
    data = _data()
    data["data_name"] = name
    assert _paths(data) == {}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"number_batches": 10**30}, "input_data.number_batches", "a session is at most"),
        ({"activation_electrode_no": 10**600}, "input_data.activation_electrode_no", "1024"),
        ({"number_batches": 10**600}, "input_data.number_batches", "~10^600 batches"),
        ({"batch_time": 10**400}, "input_data.batch_time", "must be a number"),
        ({"readout_electrode_no": 5000}, "input_data.readout_electrode_no", "1024"),
        ({"batch_time": 1e9}, "input_data.batch_time", "fit in memory"),
        ({"batch_time": "1e9"}, "input_data.batch_time", "fit in memory"),
        ({"batch_time": float("inf")}, "input_data.batch_time", "finite"),
        ({"batch_time": 1e308}, "input_data.batch_time", "fit in memory"),
        ({"batch_time": float("nan")}, "input_data.batch_time", "finite"),
        ({"ramp_time": float("inf")}, "input_data.ramp_time", "finite"),
        ({"batch_time": 80000.0}, "input_data.batch_time", "a batch must fit in memory"),
        ({"factor": float("inf")}, "input_data.factor", "finite"),
        ({"phase": [float("nan")] + [0.0] * 6}, "input_data.phase", "finite"),
        ({"phase": [1e300] + [0.0] * 6}, "input_data.phase", "within"),
        ({"input_frequency": [float("inf")] + [3] * 6}, "input_data.input_frequency", "finite"),
        ({"input_frequency": [10**400] + [3] * 6}, "input_data.input_frequency", "within"),
        ({"amplitude": [float("nan")] * 7, "offset": [0.0] * 7}, "input_data.amplitude", "fin"),
        ({"amplitude": [0.1] * 7, "offset": [float("-inf")] * 7}, "input_data.offset", "fin"),
    ],
)
def test_absurd_sizes_and_non_finite_waves_name_their_field(change, field, words):
    problems = _paths(_data(**change))
    assert field in problems, problems
    assert words in problems[field]


def test_rates_beyond_any_daq_are_refused():
    data = _data()
    data["driver"]["instruments_setup"]["activation_sampling_frequency"] = 10**30
    assert "driver.instruments_setup.activation_sampling_frequency" in _paths(data)


def test_deep_or_huge_mappings_and_broken_text_anywhere_are_refused():
    deep: list = []
    for _ in range(900):
        deep = [deep]
    data = _data(extra=deep)
    assert "nested deeper" in " ".join(_paths(data).values())
    data = _data()
    data["driver"]["instruments_setup"]["trigger_source"] = "cDAQ\ud8001"
    assert "lone surrogate" in _paths(data)["driver.instruments_setup.trigger_source"]


# --- YAML bounds ---------------------------------------------------------------------


def _laughs(levels: int = 10) -> str:
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels):
        text += f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n"
    return text


def test_billion_laughs_is_refused_quickly_with_flat_memory():
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(YamlLimitError, match="expands to more than"):
        load_yaml(_laughs())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 20 << 20


def test_modest_aliases_and_merge_keys_still_load():
    text = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\nlist: &l [1, 2]\nagain: *l\n"
    assert load_yaml(text) == {
        "base": {"x": 1, "y": 2},
        "d": {"x": 3, "y": 2},
        "list": [1, 2],
        "again": [1, 2],
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: " + "[" * 900 + "]" * 900, "nested deeper than"),
        ("a: &a [1, *a]\n", "loop"),
        ("a: 1\nb: 2\na: 3\n", "'a' is given twice"),
        ("x:\n  ramp_time: 0.5\n  batch_time: 1\n  ramp_time: 0.1\n", "'ramp_time' is given twice"),
    ],
)
def test_yaml_bounds_and_duplicate_keys_say_what_and_where(text, words):
    with pytest.raises(YamlLimitError, match=words) as info:
        load_yaml(text)
    assert "line" in str(info.value)


def test_duplicate_key_in_a_config_names_the_key_and_its_line(tmp_path):
    path = tmp_path / "dup.yaml"
    text = Path(save_config(small_config(), tmp_path / "ok.yaml")).read_text()
    path.write_text(text.replace("  ramp_time:", "  batch_time: 9\n  ramp_time:"))
    lines = path.read_text().splitlines()
    second = max(i for i, ln in enumerate(lines) if ln.startswith("  batch_time:")) + 1
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"line {second}: the key 'batch_time' is given twice" in str(info.value)


def test_oversized_yaml_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match="at most"):
        load_config(path)
    with pytest.raises(SamplelabError, match="at most"):
        read_small_yaml(path, "training config", "")


def _non_regular(tmp_path: Path) -> list[Path]:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    return [fifo, folder, Path("/dev/zero")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.timeout(30)
def test_only_regular_files_are_read_as_configs(tmp_path):
    for path in _non_regular(tmp_path):
        started = time.perf_counter()
        with pytest.raises(ConfigError, match="must be a regular file"):
            load_config(path)
        with pytest.raises(SamplelabError, match="must be a regular file"):
            read_small_yaml(path, "training config", "")
        assert time.perf_counter() - started < 5


# --- through the real CLI: nothing on disk for a refused config -----------------------


def _sample(config: Path, out: Path, *extra: str) -> int:
    return main(["sample", str(config), "--out", str(out), "-q", *extra])


@pytest.mark.parametrize(
    "name", ["{victim}\0.x", "../escaped", "{victim}", "CON", "sub/dir", "bad\ud800name"]
)
def test_sample_never_writes_outside_out_or_over_a_file(tmp_path, capsys, name):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    data = small_config().to_bspysmg()
    data["data_name"] = name.format(victim=victim)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(data))
    assert _sample(config, out) == 1
    err = capsys.readouterr().err
    assert "data_name: Name" in err and "Traceback" not in err
    assert list(out.iterdir()) == []
    assert victim.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "out", "victim"]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("number_batches: 6", "number_batches: 1000000000000000000000000000000"), "at most"),
        (("batch_time: 0.05", "batch_time: 1e9"), "fit in memory"),
        (("batch_time: 0.05", "batch_time: .inf"), "finite"),
        (("batch_time: 0.05", "batch_time: 1e308"), "fit in memory"),
        (("ramp_time: 0.01", "ramp_time: .nan"), "finite"),
        (("ramp_time: 0.01", "ramp_time: 0.01\n  ramp_time: 0.02"), "given twice"),
    ],
)
def test_sample_refuses_bad_configs_before_creating_anything(tmp_path, capsys, edit, words):
    text = save_config(small_config(), tmp_path / "c.yaml").read_text()
    assert edit[0] in text
    config = tmp_path / "c.yaml"
    config.write_text(text.replace(edit[0], edit[1]))
    out = tmp_path / "out"
    assert _sample(config, out) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []


def test_batches_override_is_bounded_like_the_file(tmp_path, capsys):
    config = save_config(small_config(), tmp_path / "c.yaml")
    assert _sample(config, tmp_path / "out", "--batches", str(10**30)) == 1
    assert "a session is at most" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.timeout(60)
def test_sample_with_a_fifo_device_or_folder_as_config(tmp_path, capsys):
    for path in _non_regular(tmp_path):
        assert _sample(path, tmp_path / "out") == 1
        assert "must be a regular file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- defaults: required by bspysmg, logged for ours -----------------------------------


def test_bspysmg_config_without_batch_time_is_an_error(tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(BSPYSMG_FIXTURES / "small_sawtooth", folder)
    config = folder / "sampler_configs.json"
    config.chmod(0o644)
    lines = config.read_text().splitlines(keepends=True)
    config.write_text("".join(ln for ln in lines if "batch_time:" not in ln))
    with pytest.raises(ConfigError, match=r"input_data\.batch_time: is required in a bspysmg"):
        BspysmgFolder(folder)
    for argv in (["postprocess", "--out", str(tmp_path / "pp")], ["dataset", "--quiet", "--out",
                 str(tmp_path / "ds")]):  # fmt: skip
        assert main([*argv, str(folder)]) == 1
        assert "batch_time: is required in a bspysmg" in capsys.readouterr().err


def test_defaults_applied_to_our_yaml_are_logged(tmp_path, caplog):
    data = small_config().to_bspysmg()
    del data["input_data"]["batch_time"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with caplog.at_level(logging.WARNING, logger="backend.config.files"):
        cfg = load_config(path)
    assert cfg.input_data.batch_time == 0.5
    assert "Batch time = 0.5 s" in caplog.text and "defaults used" in caplog.text
    caplog.clear()
    full = save_config(small_config(), tmp_path / "full.yaml")
    with caplog.at_level(logging.WARNING, logger="backend.config.files"):
        load_config(full)
    assert "defaults used" not in caplog.text


def test_every_yaml_read_goes_through_the_bounded_loader():
    """No module parses YAML itself: `backend/config/yamlsafe.py` is the one bounded loader."""
    pattern = re.compile(r"yaml\.(safe_load|load|full_load|unsafe_load)(_all)?\(|yaml\.Loader\b")
    offenders = [
        str(py.relative_to(ROOT))
        for folder in ("backend", "app", "widgets", "resources")
        for py in (ROOT / folder).rglob("*.py")
        if py.name != "yamlsafe.py" and pattern.search(py.read_text(encoding="utf-8"))
    ]
    assert offenders == []

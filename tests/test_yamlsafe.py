"""The safe YAML loader builds numpy arrays and refuses every other python tag."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from backend.config import load_config
from backend.config.yamlsafe import RefusedTagError, load_yaml
from backend.errors import ConfigError


@pytest.mark.parametrize("dtype", ["<f8", "<f4", "<i8", ">f8", "<u2", "<c16"])
@pytest.mark.parametrize("shape", [(0,), (7,), (3, 4)])
def test_numpy_arrays_round_trip_through_peer_tags(dtype, shape):
    arr = (np.arange(int(np.prod(shape))) * 1.5).astype(dtype).reshape(shape)
    text = yaml.dump({"a": arr}, Dumper=yaml.Dumper)
    assert "!!python/object/apply:numpy" in text
    out = load_yaml(text)["a"]
    assert out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)


def test_fortran_ordered_arrays():
    arr = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    out = load_yaml(yaml.dump({"a": arr}, Dumper=yaml.Dumper))["a"]
    np.testing.assert_array_equal(out, arr)


def test_old_numpy_core_tag_name_is_accepted():
    text = yaml.dump({"a": np.arange(3.0)}, Dumper=yaml.Dumper).replace(
        "numpy._core.multiarray", "numpy.core.multiarray"
    )
    np.testing.assert_array_equal(load_yaml(text)["a"], [0.0, 1.0, 2.0])


def test_numpy_scalars_become_python_numbers():
    text = yaml.dump({"x": np.float64(2.5), "n": np.int64(7)}, Dumper=yaml.Dumper)
    assert load_yaml(text) == {"x": 2.5, "n": 7}


MALICIOUS = [
    "!!python/object/apply:os.system ['echo pwned > {marker}']",
    "!!python/object/new:subprocess.Popen [['true']]",
    "!!python/name:os.system ''",
    "!!python/module:os ''",
    # An ndarray reconstruct whose 'ndarray' is really something else.
    "!!python/object/apply:numpy._core.multiarray._reconstruct\n"
    "  args: [!!python/name:os.system '', !!python/tuple [0], !!binary Yg==]\n"
    "  state: !!python/tuple [1, !!python/tuple [1], null, false, !!binary AAAAAAAAAAA=]\n",
]


@pytest.mark.parametrize("payload", MALICIOUS)
def test_python_tags_are_refused_and_never_run(payload, tmp_path):
    marker = tmp_path / "pwned"
    payload = payload.replace("{marker}", str(marker))
    text = "value:\n  " + payload.replace("\n", "\n  ")
    with pytest.raises(RefusedTagError):
        load_yaml(text)
    assert not marker.exists()


def test_object_dtype_is_refused():
    text = yaml.dump({"a": np.array([1, "x"], dtype=object)}, Dumper=yaml.Dumper)
    with pytest.raises(yaml.YAMLError):
        load_yaml(text)


def test_refused_tag_in_a_config_file_is_one_clear_error(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("driver: !!python/object/apply:os.system ['true']\ninput_data: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "refused YAML tag" in text and "line 1" in text
    assert "Traceback" not in text


def test_size_mismatch_is_refused():
    good = yaml.dump({"a": np.arange(3.0)}, Dumper=yaml.Dumper)
    bad = good.replace("- 3", "- 4", 1)
    assert bad != good
    with pytest.raises(RefusedTagError, match="does not match its shape"):
        load_yaml(bad)

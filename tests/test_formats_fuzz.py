"""Random bytes under any supported name give a clear FileFormatError: no crash, no hang."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import backend.data.formats.torchfiles  # noqa: F401  (torch's import, seconds, is no example's time)
from backend.data.kinds import describe_file, load_data
from backend.errors import FileFormatError

SUFFIXES = [
    ".h5", ".hdf5", ".mat", ".npy", ".npz", ".csv", ".tsv", ".txt", ".bin", ".dat",
    ".pt", ".pth", ".pkl", ".jl", ".xyz", "",
]  # fmt: skip

# Prefixes that send the bytes deep into each parser instead of failing at the signature.
PREFIXES = [
    b"",
    b"\x89HDF\r\n\x1a\n",
    b"\x93NUMPY\x01\x00",
    b"PK\x03\x04",
    b"MATLAB 5.0 MAT-file" + b" " * 97 + b"\x00\x01IM",
    b"# Input 0, Input 1, Output 0\n",
    b"a,b,c\n1,2,3\n",
    b"\x80\x04",
]


@pytest.mark.timeout(120)
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
@example(prefix=b"", body=b"")
@example(prefix=b"\x93NUMPY\x01\x00", body=b"\x10\x00{'descr': ('<f8'")  # header TokenError
def test_random_bytes_give_a_clear_error(tmp_path, suffix, prefix, body):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(prefix + body)
    try:
        data = load_data(path)
    except FileFormatError as exc:
        assert str(exc).strip()  # a message the user can read
        return
    # Some random bytes are a valid file of that kind (e.g. text of numbers): then a table.
    assert isinstance(data, np.ndarray) and data.ndim == 2


@pytest.mark.timeout(120)
@settings(
    max_examples=30, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=400))
def test_random_bytes_in_a_bspysmg_folder(tmp_path, body):
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    (folder / "IO.dat").write_bytes(b"# Input 0, Output 0\n" + body)
    (folder / "sampler_configs.json").write_bytes(body)
    try:
        describe_file(folder)
    except FileFormatError as exc:
        assert str(exc).strip()

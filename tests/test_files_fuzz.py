"""Damaged non-HDF5 files through every loader: a result or one SamplelabError, quickly.

Each valid file (our npz, a compressed npz, the peer's pickled npz, .npy,
an IO.dat sampling folder and its config, a csv table, raw binary with a
sidecar, MATLAB) is cut at every tenth of its length, has bytes flipped
(hypothesis), or gets an oversized header or a wrong shape, and then goes
through each loader a user reaches (`info`'s describe_file, load_data, the
npz config reader, postprocessing's open_source with a pass over the rows,
dataset export). Every case ends in success or one SamplelabError with a
message, within a time limit, with no file left behind and nothing unpickled.
`tests/test_formats_fuzz.py` feeds random bytes; this module damages real files.
"""

from __future__ import annotations

import io
import shutil
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from conftest import BSPYSMG_FIXTURES, small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.config import bspysmg_config_dict
from backend.data.formats.npz import load_npz
from backend.data.formats.npz_config import read_npz_config
from backend.data.formats.npz_write import config_to_json
from backend.data.formats.raw import sidecar_path, write_sidecar
from backend.data.kinds import describe_file, load_data
from backend.data.sources import open_source
from backend.datasets.export import export_dataset
from backend.errors import SamplelabError

PEER = BSPYSMG_FIXTURES / "small_sawtooth"
LIMIT_S = 10


def _ours(folder: Path, compressed: bool = False) -> Path:
    rng = np.random.default_rng(0)
    path = folder / ("packed.npz" if compressed else "ours.npz")
    save = np.savez_compressed if compressed else np.savez
    save(
        path,
        inputs=rng.uniform(-0.5, 0.5, (400, 7)),
        outputs=rng.normal(0, 10, (400, 1)),
        sampling_configs_json=np.array(config_to_json(bspysmg_config_dict(small_config()))),
    )
    return path


def _raw(folder: Path) -> Path:
    from backend.data.formats.raw import RawLayout

    path = folder / "signal.bin"
    np.arange(600, dtype="<f4").tofile(path)
    write_sidecar(path, RawLayout(dtype="<f4", n_channels=3, order="samples"))
    return path


def _make(kind: str, folder: Path) -> Path:
    """A valid file (or folder) of `kind` in `folder`; the path to damage is `_target`."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "ours.npz":
        return _ours(folder)
    if kind == "compressed.npz":
        return _ours(folder, compressed=True)
    if kind == "peer.npz":
        return Path(shutil.copy(PEER / "postprocessed_data.npz", folder / "peer.npz"))
    if kind == "npy":
        path = folder / "table.npy"
        np.save(path, np.random.default_rng(1).normal(size=(300, 4)))
        return path
    if kind in ("IO.dat", "sampler_configs.json"):
        run = folder / "run"
        shutil.copytree(PEER, run)
        for f in run.iterdir():
            f.chmod(0o644)
        return run
    if kind == "csv":
        path = folder / "table.csv"
        rows = np.random.default_rng(2).normal(size=(200, 3))
        path.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.6g}" for v in r) for r in rows))
        return path
    if kind in ("raw", "sidecar"):
        return _raw(folder)
    if kind == "mat":
        path = folder / "data.mat"
        scipy.io.savemat(path, {"data": np.random.default_rng(3).normal(size=(100, 4))})
        return path
    raise AssertionError(kind)


KINDS = [
    "ours.npz", "compressed.npz", "peer.npz", "npy", "IO.dat", "sampler_configs.json", "csv",
    "raw", "sidecar", "mat",
]  # fmt: skip


def _target(kind: str, path: Path) -> Path:
    """The file whose bytes are damaged: the folder's IO.dat/config, the raw file's sidecar."""
    if kind in ("IO.dat", "sampler_configs.json"):
        return path / kind
    if kind == "sidecar":
        return sidecar_path(path)
    return path


def _loaders(path: Path, out: Path) -> list[Callable[[], object]]:
    def rows() -> None:
        with open_source(path) as src:
            for _ in src.iter_chunks(128):
                pass

    calls: list[Callable[[], object]] = [lambda: describe_file(path), lambda: load_data(path)]
    if path.suffix == ".npz":
        calls += [lambda: read_npz_config(path), lambda: load_npz(path, need_config=False)]
    if path.is_dir():
        calls.append(rows)
    if path.suffix == ".npz" or path.is_dir():
        calls.append(lambda: export_dataset([path], out, overwrite=True))
    return calls


def _survives(path: Path, out: Path) -> list[str]:
    """Run every loader; each ends in a result or one SamplelabError. Returns the outcomes."""
    outcomes = []
    for call in _loaders(path, out):
        started = time.perf_counter()
        try:
            call()
            outcomes.append("ok")
        except SamplelabError as exc:
            assert str(exc).strip()
            outcomes.append("error")
        assert time.perf_counter() - started < LIMIT_S
    leftovers = [p.name for p in out.glob("*.partial")] if out.exists() else []
    assert leftovers == []
    return outcomes


@pytest.mark.filterwarnings("ignore")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", KINDS)
def test_cut_at_every_tenth(tmp_path, kind):
    whole = _make(kind, tmp_path / "valid")
    outcomes = _survives(whole, tmp_path / "ds0")
    if kind == "peer.npz":  # its config is a pickle: refused without trust, arrays read
        assert outcomes[:2] == ["ok", "ok"] and "error" in outcomes
    else:
        assert set(outcomes) == {"ok"}, "the undamaged file must load"
    data = _target(kind, whole).read_bytes()
    for tenth in range(10):
        path = _make(kind, tmp_path / f"cut{tenth}")
        _target(kind, path).write_bytes(data[: len(data) * tenth // 10])
        _survives(path, tmp_path / f"ds{tenth}")


FUZZ = dict(
    deadline=None,  # each case has its own LIMIT_S; the first one also imports torch
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FLIPS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=8)


def _flipped(kind: str, folder: Path, flips: list[tuple[float, int]]) -> Path:
    path = _make(kind, folder)
    target = _target(kind, path)
    data = bytearray(target.read_bytes())
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    target.write_bytes(bytes(data))
    return path


def _flips_case(tmp_path: Path, kind: str, flips: list[tuple[float, int]]) -> None:
    folder = tmp_path / f"f{time.monotonic_ns()}"
    _survives(_flipped(kind, folder, flips), folder / "ds")


def _flips_test(examples: int, timeout: int) -> Callable:
    """The flipped-bytes fuzzer with `examples` cases (the slow run takes many more)."""
    test = given(kind=st.sampled_from(KINDS), flips=FLIPS)(_flips_case)
    test = settings(max_examples=examples, **FUZZ)(test)
    return pytest.mark.filterwarnings("ignore")(pytest.mark.timeout(timeout)(test))


test_flipped_bytes = _flips_test(25, 300)
test_flipped_bytes_many = pytest.mark.slow(_flips_test(1500, 3000))


def _npy_bytes(array: np.ndarray, shape: tuple | None = None) -> bytes:
    """`np.save` bytes, optionally with a header claiming another shape."""
    buf = io.BytesIO()
    np.save(buf, array)
    raw = buf.getvalue()
    if shape is None:
        return raw
    header = repr({"descr": array.dtype.str, "fortran_order": False, "shape": shape})
    header = header.encode() + b" " * 16
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    data = raw[10 + int.from_bytes(raw[8:10], "little") :]
    return raw[:8] + struct.pack("<H", len(header)) + header + data


HEADER_DAMAGE = {
    "huge shape": lambda a: _npy_bytes(a, (10**12, a.shape[1])),
    "more rows": lambda a: _npy_bytes(a, (a.shape[0] + 1, a.shape[1])),
    "fewer rows": lambda a: _npy_bytes(a, (a.shape[0] - 1, a.shape[1])),
    "3-D": lambda a: _npy_bytes(a.reshape(2, -1, a.shape[1])),
    "0 columns": lambda a: _npy_bytes(np.empty((a.shape[0], 0))),
    "negative": lambda a: _npy_bytes(a, (-5, a.shape[1])),
    "header length 65535": lambda a: _npy_bytes(a)[:8] + b"\xff\xff" + _npy_bytes(a)[10:],
    "strings": lambda a: _npy_bytes(a.astype("U8")),
    "object": lambda a: _npy_bytes(np.array([{"x": 1}] * a.shape[0], dtype=object)),
    "one row short": lambda a: _npy_bytes(a[:-1]),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("damage", list(HEADER_DAMAGE))
@pytest.mark.parametrize("member", ["inputs", "outputs", "npy"])
def test_oversized_headers_and_wrong_shapes(tmp_path, member, damage):
    import zipfile

    rng = np.random.default_rng(4)
    table = rng.normal(size=(100, 7 if member != "outputs" else 1))
    if member == "npy":
        path = tmp_path / "table.npy"
        path.write_bytes(HEADER_DAMAGE[damage](table))
    else:
        path = _ours(tmp_path)
        with zipfile.ZipFile(path) as zin:
            members = {i.filename: zin.read(i) for i in zin.infolist()}
        members[f"{member}.npy"] = HEADER_DAMAGE[damage](table)
        with zipfile.ZipFile(path, "w") as zout:
            for name, data in members.items():
                zout.writestr(name, data)
    _survives(path, tmp_path / "ds")

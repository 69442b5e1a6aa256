"""A safe YAML loader that understands the numpy tags of bspysmg configs.

brainspy-smg writes `sampler_configs.json` with `yaml.dump`, so its numpy arrays
appear as `!!python/object/apply:numpy._core.multiarray._reconstruct` tags and
the peer reads them back with an unsafe loader. We build those arrays from their
raw bytes instead, for plain numeric dtypes only, and refuse every other python
tag: a config file from another lab can never run code here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml

_PY = "tag:yaml.org,2002:python/"
_RECONSTRUCT = ("numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct")
_SCALAR = ("numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar")
_NUMERIC_KINDS = "biufc"


class RefusedTagError(yaml.constructor.ConstructorError):
    """A python tag outside the numpy allow-list."""


class _NdarrayMarker:
    """Stands for `!!python/name:numpy.ndarray`; only valid inside a reconstruct."""


_NDARRAY = _NdarrayMarker()


class NumpySafeLoader(yaml.SafeLoader):
    """SafeLoader plus constructors for numpy arrays, scalars and dtypes."""


def _fail(node: yaml.Node, why: str) -> RefusedTagError:
    return RefusedTagError(None, None, why, node.start_mark)


def _tuple(loader: NumpySafeLoader, node: yaml.Node) -> tuple:
    return tuple(loader.construct_sequence(node, deep=True))


def _ndarray_name(loader: NumpySafeLoader, node: yaml.Node) -> _NdarrayMarker:
    return _NDARRAY


def _dtype(loader: NumpySafeLoader, node: yaml.Node) -> np.dtype:
    spec = loader.construct_mapping(node, deep=True)
    args, state = spec.get("args", ()), spec.get("state", ())
    if not args or not isinstance(args[0], str):
        raise _fail(node, "malformed numpy dtype")
    try:
        dtype = np.dtype(args[0])
    except TypeError as exc:
        raise _fail(node, f"unknown numpy dtype {args[0]!r}") from exc
    if dtype.kind not in _NUMERIC_KINDS:
        raise _fail(node, f"numpy dtype {args[0]!r} is not numeric; refused")
    if len(state) > 1 and state[1] in ("<", ">"):
        dtype = dtype.newbyteorder(state[1])
    return dtype


def _reconstruct(loader: NumpySafeLoader, node: yaml.Node) -> np.ndarray:
    spec = loader.construct_mapping(node, deep=True)
    args, state = spec.get("args", ()), spec.get("state", ())
    if not args or args[0] is not _NDARRAY or len(state) != 5:
        raise _fail(node, "only plain numpy arrays may be reconstructed")
    _version, shape, dtype, fortran, raw = state
    if not isinstance(dtype, np.dtype) or not isinstance(raw, bytes):
        raise _fail(node, "numpy array without a numeric dtype and raw bytes")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise _fail(node, f"bad numpy array shape {shape!r}")
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(raw):
        raise _fail(node, "numpy array data does not match its shape")
    flat = np.frombuffer(raw, dtype=dtype)
    return flat.reshape(shape, order="F" if fortran else "C").astype(dtype.newbyteorder("="))


def _scalar(loader: NumpySafeLoader, node: yaml.Node) -> Any:
    spec = loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) else {}
    args = spec.get("args") or (
        loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else ()
    )
    if len(args) != 2 or not isinstance(args[0], np.dtype) or not isinstance(args[1], bytes):
        raise _fail(node, "malformed numpy scalar")
    if len(args[1]) != args[0].itemsize:
        raise _fail(node, "numpy scalar data does not match its dtype")
    return np.frombuffer(args[1], dtype=args[0])[0].item()


def _refuse(loader: NumpySafeLoader, suffix: str, node: yaml.Node) -> Any:
    raise _fail(
        node,
        f"refused YAML tag '!!python/{suffix}': config files may hold plain values "
        "and numpy arrays only",
    )


NumpySafeLoader.add_constructor(_PY + "tuple", _tuple)
NumpySafeLoader.add_constructor(_PY + "name:numpy.ndarray", _ndarray_name)
NumpySafeLoader.add_constructor(_PY + "object/apply:numpy.dtype", _dtype)
for _name in _RECONSTRUCT:
    NumpySafeLoader.add_constructor(_PY + "object/apply:" + _name, _reconstruct)
for _name in _SCALAR:
    NumpySafeLoader.add_constructor(_PY + "object/apply:" + _name, _scalar)
NumpySafeLoader.add_multi_constructor(_PY, _refuse)


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML text; numpy tags become arrays, other python tags raise."""
    return yaml.load(text, Loader=NumpySafeLoader)


def dump_bspysmg_yaml(data: dict) -> str:
    """Serialise like the peer's `yaml.dump`, so numpy arrays keep their tags.

    Dumping is not the risky direction; the peer's readers expect these tags.
    """
    return yaml.dump(data, Dumper=yaml.Dumper)

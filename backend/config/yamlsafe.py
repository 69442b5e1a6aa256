"""A safe YAML loader that understands the numpy tags of bspysmg configs.

brainspy-smg writes `sampler_configs.json` with `yaml.dump`, so its numpy arrays
appear as `!!python/object/apply:numpy._core.multiarray._reconstruct` tags and
the peer reads them back with an unsafe loader. We build those arrays from their
raw bytes instead, for plain numeric dtypes only, and refuse every other python
tag: a config file from another lab can never run code here.

The loader is also bounded, so a hostile file is refused quickly instead of
exhausting memory or the stack: at most MAX_YAML_BYTES of text, MAX_YAML_DEPTH
levels of nesting and MAX_YAML_NODES values once aliases are expanded (the
"billion laughs" file is a few hundred bytes of aliases that expand to 10^9
values: it is refused while it is read, before anything walks it). A key given
twice in one mapping is refused with its line, instead of the last one silently
winning. Every YAML the app reads goes through `load_yaml` / `read_yaml_file`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import yaml

from backend.files import read_regular_bytes

#: Larger YAML is not a config (ours are 1-2 KB, bspysmg's with numpy tags ~5 KB).
MAX_YAML_BYTES = 1 << 20
#: Deeper nesting is not a config (ours nest 4 levels), and the parser recurses per level.
MAX_YAML_DEPTH = 64
#: Values (scalars, lists, mappings) after expanding aliases; a config has a few hundred.
MAX_YAML_NODES = 100_000

_PY = "tag:yaml.org,2002:python/"
_RECONSTRUCT = ("numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct")
_SCALAR = ("numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar")
_NUMERIC_KINDS = "biufc"


class RefusedTagError(yaml.constructor.ConstructorError):
    """A python tag outside the numpy allow-list."""


class YamlLimitError(yaml.YAMLError):
    """YAML that is too large, too deep, expands too far, or repeats a key.

    `problem` says what and why; `problem_mark` is where (its line), when known.
    """

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark

    def __str__(self) -> str:
        where = f" (line {self.problem_mark.line + 1})" if self.problem_mark else ""
        return f"{self.problem}{where}"


class _NdarrayMarker:
    """Stands for `!!python/name:numpy.ndarray`; only valid inside a reconstruct."""


_NDARRAY = _NdarrayMarker()


class NumpySafeLoader(yaml.SafeLoader):
    """SafeLoader plus constructors for numpy arrays, scalars and dtypes, and the bounds."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        # id(node) -> (values, depth) once aliases are expanded; nodes stay alive in the tree
        self._expanded: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlLimitError(
                    f"nested deeper than {MAX_YAML_DEPTH} levels; a config nests a few",
                    self.peek_event().start_mark,
                )
            alias = self.check_event(yaml.AliasEvent)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if not alias:
            self._expanded[id(node)] = self._measure(node)
        elif id(node) not in self._expanded:  # the alias names a node still being composed
            raise YamlLimitError(
                "an alias (*name) refers to a value that contains it: a loop, which a "
                "config cannot hold",
                node.start_mark,
            )
        return node

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        """(values, depth) of `node` with every alias inside it expanded."""
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            return 1, 1
        sizes = [self._expanded[id(c)] for c in children]
        values = 1 + sum(n for n, _ in sizes)
        depth = 1 + max((d for _, d in sizes), default=0)
        if values > MAX_YAML_NODES:
            raise YamlLimitError(
                f"expands to more than {MAX_YAML_NODES:,} values through aliases (&name/*name); "
                "a config holds a few hundred, so this file is refused",
                node.start_mark,
            )
        if depth > MAX_YAML_DEPTH:
            raise YamlLimitError(
                f"nested deeper than {MAX_YAML_DEPTH} levels once aliases are expanded",
                node.start_mark,
            )
        return values, depth

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicate_keys(loader: NumpySafeLoader, node: yaml.MappingNode) -> None:
    """A key given twice in one mapping (merge keys `<<` may be overridden, as YAML says)."""
    seen: set = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise YamlLimitError(
                f"the key {key!r} is given twice in one mapping; keep one", key_node.start_mark
            )
        seen.add(key)


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
    """Parse YAML text; numpy tags become arrays, other python tags raise.

    Text over the bounds above raises `YamlLimitError` (a `yaml.YAMLError`).
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(
            f"is {len(text):,} bytes; a config is at most {MAX_YAML_BYTES:,} bytes"
        )
    return yaml.load(text, Loader=NumpySafeLoader)


def read_yaml_file(path: str | os.PathLike, what: str = "config") -> Any:
    """Parse a YAML file: a regular file (never a FIFO or device) within MAX_YAML_BYTES.

    Raises FileFormatError for a missing, unreadable, non-regular or oversized
    file, and the `yaml.YAMLError`s of `load_yaml` for its content.
    """
    return load_yaml(read_regular_bytes(path, MAX_YAML_BYTES, what))


def dump_bspysmg_yaml(data: dict) -> str:
    """Serialise like the peer's `yaml.dump`, so numpy arrays keep their tags.

    Dumping is not the risky direction; the peer's readers expect these tags.
    """
    return yaml.dump(data, Dumper=yaml.Dumper)

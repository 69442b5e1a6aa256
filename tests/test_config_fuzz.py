"""Mutated configs through the real entry point (`load_config` on a file): a config or one
SamplelabError, quickly, nothing created, no code run.

Two mutators: values swapped at any path of a valid config (types, NaN/inf,
huge numbers, unicode, deep nesting), and hostile YAML text spliced in at any
line (aliases, python tags, duplicate keys, bombs). The default run takes a
few seconds; `-m slow` runs many more examples.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.config import load_config, parse_config
from backend.errors import SamplelabError

MARKER = "pwned-by-fuzz"


def _leaf_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _leaf_paths(value, (*prefix, i))
    return out


BASE = small_config().to_bspysmg()
PATHS = _leaf_paths(BASE)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


VALUES = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([10**30, -1, 0, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-320, float("nan"), float("inf"), -0.0]),
    st.text(max_size=30),
    st.sampled_from(["", "..", "../x", "/etc/passwd", "a\0b", "CON", "x" * 500, "1e9", "∞"]),
    st.booleans(),
    st.none(),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=4),
    st.integers(min_value=30, max_value=120).map(_nested),
)


def _set(data: dict, path: tuple, value: Any) -> None:
    """Put `value` at `path`, unless an earlier edit replaced what `path` goes through."""
    node: Any = data
    try:
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, list) and not isinstance(path[-1], int):
            return
        node[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        return


def _check(path: Path, folder: Path) -> None:
    """load_config ends in a config or one SamplelabError; quickly, creating nothing."""
    before = sorted(folder.iterdir())
    started = time.perf_counter()
    try:
        cfg = load_config(path)
    except SamplelabError as exc:
        assert str(exc).strip()
        assert len(str(exc)) < 20_000  # a message, not a dump
    else:
        assert cfg.batch_points >= 1 and math.isfinite(cfg.input_data.batch_time)
        assert cfg.total_rows <= 10**10
        parse_config(cfg.to_bspysmg())  # what it writes back validates again
    assert time.perf_counter() - started < 5
    assert sorted(folder.iterdir()) == before
    assert not any(MARKER in p.name for p in folder.iterdir())


FUZZ = dict(
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _write_mutated(path: Path, edits: list[tuple[tuple, Any]]) -> None:
    data = copy.deepcopy(BASE)
    for where, value in edits:
        _set(data, where, value)
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except (yaml.YAMLError, RecursionError):  # e.g. a surrogate PyYAML cannot write
        text = yaml.safe_dump(data, allow_unicode=False)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


EDITS = st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3)


def _mutated(tmp_path: Path, edits: list[tuple[tuple, Any]]) -> None:
    _write_mutated(tmp_path / "c.yaml", edits)
    _check(tmp_path / "c.yaml", tmp_path)


def _mutated_test(examples: int, timeout: int) -> Any:
    """The mutated-values fuzzer with `examples` cases (the slow run takes many more)."""
    test = settings(max_examples=examples, **FUZZ)(given(edits=EDITS)(_mutated))
    return pytest.mark.timeout(timeout)(test)


test_mutated_values = _mutated_test(60, 120)
test_mutated_values_many = pytest.mark.slow(_mutated_test(2000, 1200))


def _laughs() -> str:
    text = '{l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
    for i in range(1, 10):
        text += f", l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]"
    return text + "}"


SNIPPETS = [
    f"!!python/object/apply:os.system ['touch {MARKER}']",
    f"!!python/object/new:subprocess.Popen [['touch', '{MARKER}']]",
    "!!python/name:os.system ''",
    "!!python/module:os ''",
    f'!!python/object/apply:builtins.exec [\'open("{MARKER}", "w")\']',
    "!!binary AAAA",
    "!!set {a, b}",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "!!omap [a: 1, b: 2]",
    "&a [1, *a]",
    _laughs(),
    "[" * 1000 + "]" * 1000,
    "{a: 1, a: 2}",
    '"\\ud800"',
    '"\\0"',
    ".nan",
    "-.inf",
    "1e308",
    "100000000000000000000000000000000",
    "*undefined",
    "<<: 5",
    "~",
    "{}",
    "[]",
    "'",
    "\t",
    "%YAML 1.1",
    "---",
    "...",
    "? [1, 2]\n  : 3",
]


def _spliced(line: int, snippet: str, as_value: bool) -> bytes:
    text = yaml.safe_dump(BASE, sort_keys=False).splitlines()
    i = line % len(text)
    indent = text[i][: len(text[i]) - len(text[i].lstrip())]
    if as_value and ":" in text[i]:
        key = text[i].split(":", 1)[0]
        text[i] = f"{key}: {snippet}"
    else:
        text.insert(i, f"{indent}{snippet}")
    return "\n".join(text).encode("utf-8", "surrogatepass")


@pytest.mark.timeout(120)
@settings(max_examples=80, **FUZZ)
@given(line=st.integers(0, 200), snippet=st.sampled_from(SNIPPETS), as_value=st.booleans())
def test_hostile_yaml_spliced_in(tmp_path, line, snippet, as_value):
    path = tmp_path / "c.yaml"
    path.write_bytes(_spliced(line, snippet, as_value))
    _check(path, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(1200)
@settings(max_examples=1500, **FUZZ)
@given(
    line=st.integers(0, 200),
    snippet=st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=40)),
    as_value=st.booleans(),
)
def test_hostile_yaml_spliced_in_many(tmp_path, line, snippet, as_value):
    path = tmp_path / "c.yaml"
    path.write_bytes(_spliced(line, snippet, as_value))
    _check(path, tmp_path)


@pytest.mark.timeout(120)
@settings(max_examples=40, **FUZZ)
@given(data=st.binary(max_size=400))
def test_random_bytes_as_a_config(tmp_path, data):
    path = tmp_path / "c.yaml"
    path.write_bytes(data)
    _check(path, tmp_path)

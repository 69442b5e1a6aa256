"""User-facing errors keep their message and hint across processes (batch jobs pickle them)."""

from __future__ import annotations

import pickle

import pytest

from backend.errors import (
    ConfigError,
    DeviceTimeoutError,
    FileFormatError,
    Problem,
    SafetyError,
    SamplelabError,
)


@pytest.mark.parametrize("cls", [SamplelabError, DeviceTimeoutError, FileFormatError, SafetyError])
def test_message_and_hint_survive_pickling(cls):
    again = pickle.loads(pickle.dumps(cls("what went wrong", "what to do")))
    assert type(again) is cls
    assert (again.message, again.hint) == ("what went wrong", "what to do")
    assert str(again) == "what went wrong\nwhat to do"


def test_config_error_keeps_its_problems():
    error = ConfigError([Problem("input_data.phase", "has 3 values")], "lab.yaml")
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and again.source == "lab.yaml"
    assert str(again) == str(error)

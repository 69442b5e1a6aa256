"""Shared test fixtures: the bspysmg ground-truth folders, small configs, recordings."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from backend.config import SamplingConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
# Byte-identical copy of the ground truth brainspy-smg 1.0.7 wrote (see its README.md);
# the repository carries it so that a clone with nothing beside it passes its tests.
BSPYSMG_FIXTURES = ROOT / "tests" / "data" / "bspysmg-1.0.7"
FIXTURE_FOLDERS = ["small_sawtooth", "small_sine"]


def _fixture_digests() -> dict[str, str]:
    return {
        str(p.relative_to(BSPYSMG_FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(BSPYSMG_FIXTURES.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def fixtures_stay_untouched():
    """The peer's files are ground truth: fail loudly if any test changes or adds one."""
    before = _fixture_digests()
    yield
    after = _fixture_digests()
    assert after == before, "a test wrote into the bspysmg fixtures; always pass an --out folder"


@pytest.fixture
def own_handlers():
    """Put pytest's signal handlers back: a StopSignals that stopped keeps its own."""
    from app.commands.common import STOP_SIGNALS

    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(params=FIXTURE_FOLDERS)
def bspysmg_folder(request) -> Path:
    """Each folder written by brainspy-smg 1.0.7 itself (read-only ground truth)."""
    return BSPYSMG_FIXTURES / request.param


def small_config(**input_data) -> SamplingConfig:
    """A valid 7x1 config small enough for unit tests (6 batches of 50 rows)."""
    cfg = load_config(BSPYSMG_FIXTURES / "small_sawtooth" / "sampler_configs.json")
    data = cfg.to_bspysmg()
    data["input_data"].pop("amplitude", None)
    data["input_data"].pop("offset", None)
    data["input_data"].update({"number_batches": 6, **input_data})
    return SamplingConfig.model_validate(data)


@pytest.fixture
def config() -> SamplingConfig:
    return small_config()


@pytest.fixture
def recording(tmp_path, config) -> Path:
    """A complete recording of `config` on the analytic simulated device, seed 7."""
    from backend.sampling.session import start_session

    session = start_session(config, "simulated", path=tmp_path / "rec.h5", seed=7, model="analytic")
    result = session.run()
    assert result.status == "complete"
    return Path(result.path)

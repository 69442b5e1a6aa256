"""The repository's copy of the brainspy-smg ground truth is complete and unchanged."""

from __future__ import annotations

import hashlib

from conftest import BSPYSMG_FIXTURES


def test_every_fixture_file_matches_its_recorded_digest():
    listed = {}
    for line in BSPYSMG_FIXTURES.with_name("bspysmg-1.0.7.sha256").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.removeprefix("./")] = digest
    present = {
        str(p.relative_to(BSPYSMG_FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in BSPYSMG_FIXTURES.rglob("*")
        if p.is_file()
    }
    assert present == listed
    assert {"small_sawtooth", "small_sine", "lifecycle_small_sawtooth", "lifecycle_small_sine"} <= {
        name.split("/")[0] for name in present
    }

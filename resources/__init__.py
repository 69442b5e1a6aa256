"""Files shipped with samplelab: config presets, icons, style sheets."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
PRESETS = ROOT / "presets"


def preset_paths() -> dict[str, Path]:
    """Preset name (file stem) -> path, sorted by name."""
    return {p.stem: p for p in sorted(PRESETS.glob("*.yaml"))}


def preset_path(name: str) -> Path:
    presets = preset_paths()
    if name not in presets:
        raise KeyError(f"no preset {name!r}; available: {', '.join(presets)}")
    return presets[name]

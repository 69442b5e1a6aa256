"""Files shipped with samplelab: config presets, icons, style sheets."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
PRESETS = ROOT / "presets"
#: The application icon (window, task bar, About box); drawn for samplelab, MIT like the rest.
ICON = ROOT / "icons" / "samplelab.svg"


def preset_paths() -> dict[str, Path]:
    """Preset name (file stem) -> path, sorted by name."""
    return {p.stem: p for p in sorted(PRESETS.glob("*.yaml"))}


def preset_summary(path: Path) -> str:
    """The first sentence of a preset's leading comment (what it is for)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(lines)
    return text.split(". ")[0].rstrip(".") if text else ""


def preset_path(name: str) -> Path:
    presets = preset_paths()
    if name not in presets:
        raise KeyError(f"no preset {name!r}; available: {', '.join(presets)}")
    return presets[name]

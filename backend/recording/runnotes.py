"""Run notes: what a person writes down about a session (sample, operator, remarks).

They are stored with the recording (its `run_notes_json` attribute, see
docs/recording-format.md), shown by `samplelab info` and the GUI, and carried
into exports (HDF5 attribute, npz member, `run_notes.json` beside an IO.dat).
"""

from __future__ import annotations

import json

#: Note key -> how it is shown.
NOTE_LABELS = {"sample_id": "Sample / device ID", "operator": "Operator", "notes": "Notes"}
#: The npz member and the file beside IO.dat that carry notes in exports.
NOTES_MEMBER = "run_notes_json"
NOTES_FILE = "run_notes.json"


def run_notes(sample_id: str = "", operator: str = "", notes: str = "") -> dict[str, str]:
    """The notes worth storing: stripped, empty ones left out."""
    given = {"sample_id": sample_id, "operator": operator, "notes": notes}
    return {key: text.strip() for key, text in given.items() if text and text.strip()}


def notes_from_json(text: str) -> dict[str, str]:
    """The notes stored in a file: a damaged or foreign value never stops the file opening."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"notes": str(text)} if text else {}
    if not isinstance(value, dict):
        return {"notes": str(value)}
    return {str(k): str(v) for k, v in value.items()}

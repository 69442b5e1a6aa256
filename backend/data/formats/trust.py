"""The pickle trust rule, in one place.

Unpickling a file can run any code hidden in it, so nothing from a file is
unpickled unless the caller opted in for it (`trust_pickle=True`; CLI
`--trust-pickle`; the GUI asks first). Every path that unpickles (pickle and
joblib files, pickled npz members, the peer's pickled `sampling_configs`)
calls `require_trust` first.
"""

from __future__ import annotations

from backend.errors import FileFormatError

TRUST_HINT = (
    "If you trust where this file came from (e.g. your own bspysmg run), open it with "
    "--trust-pickle (API: trust_pickle=True). Unpickling can run code hidden in the file."
)


class UntrustedPickleError(FileFormatError):
    """The file's content is a Python pickle and the caller did not opt in to trust it."""


def require_trust(trust_pickle: bool, message: str, hint: str = TRUST_HINT) -> None:
    """Raise `UntrustedPickleError(message)` unless the caller trusts the file."""
    if not trust_pickle:
        raise UntrustedPickleError(message, hint)

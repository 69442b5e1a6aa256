"""Where samplelab keeps its own files: settings, logs and caches, per platform.

Folders come from `platformdirs` (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA%
on Windows). `SAMPLELAB_HOME` puts them all under one folder instead (tests,
portable installs); `SAMPLELAB_CACHE_DIR` moves only the cache. Each function
returns the path without creating it: whoever writes there creates it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "samplelab"


def _home(kind: str) -> Path | None:
    root = os.environ.get("SAMPLELAB_HOME")
    return Path(root) / kind if root else None


def cache_dir() -> Path:
    """Derived data that can be rebuilt (overview pyramids of read-only recordings)."""
    env = os.environ.get("SAMPLELAB_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # on use: app.main imports this module

    return _home("cache") or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def log_dir() -> Path:
    """The rotating application log."""
    import platformdirs  # on use: app.main imports this module

    return _home("logs") or Path(platformdirs.user_log_dir(APP, appauthor=False))


def settings_dir() -> Path:
    """Settings and remembered state (window geometry, folders, theme)."""
    import platformdirs  # on use: app.main imports this module

    return _home("settings") or Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """The default recordings folder: the user's documents, not a hidden folder."""
    import platformdirs  # on use: app.main imports this module

    return _home("data") or Path(platformdirs.user_documents_dir()) / APP

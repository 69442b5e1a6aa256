"""samplelab's own files go to the platform's folders (backend.userdirs) or under SAMPLELAB_HOME."""

from __future__ import annotations

from pathlib import Path

import app.settings as app_settings
from backend import userdirs
from backend.display import pyramid


def test_the_overview_cache_and_the_settings_follow_samplelab_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SAMPLELAB_CACHE_DIR", raising=False)
    monkeypatch.delenv(app_settings.SETTINGS_DIR_ENV, raising=False)
    monkeypatch.setattr(app_settings, "_redirected", None)
    monkeypatch.setenv("SAMPLELAB_HOME", str(tmp_path))
    assert pyramid.default_cache_dir() == tmp_path / "cache" / "overviews"
    assert app_settings.settings_file() == tmp_path / "settings" / "samplelab.ini"
    assert userdirs.log_dir() == tmp_path / "logs"


def test_without_overrides_the_platform_decides(monkeypatch):
    import platformdirs

    for name in ("SAMPLELAB_HOME", "SAMPLELAB_CACHE_DIR", app_settings.SETTINGS_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app_settings, "_redirected", None)
    cache = platformdirs.user_cache_dir("samplelab", appauthor=False)
    config = platformdirs.user_config_dir("samplelab", appauthor=False)
    assert pyramid.default_cache_dir() == Path(cache) / "overviews"
    assert str(app_settings.settings_file().parent) == config


def test_a_read_only_recording_folder_puts_its_overview_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMPLELAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(pyramid.os, "access", lambda path, mode: False)  # as for a non-root user
    sidecar = pyramid.overview_path(tmp_path / "rec.h5")
    assert sidecar.parent == tmp_path / "cache" / "overviews"

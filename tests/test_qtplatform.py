"""Start-up on a Linux desktop that cannot show Qt: one line and exit 1, never Qt's abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from app import qtplatform

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux")

# `ldd libqxcb.so` of PySide6 6.9.3 on a stock Debian 12 desktop (shortened).
DEBIAN_12_LDD = """\
\tlinux-vdso.so.1 (0x00007feb7c4a8000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x1)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007feb7c348000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007feb7c2f5000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007feb7c2ee000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007feb7b7f8000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-randr.so.0 => /lib/x86_64-linux-gnu/libxcb-randr.so.0 (0x00007feb7b7e5000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007feb7a61e000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f6a09eca000)
"""


def test_the_parser_names_each_missing_library_once():
    missing = qtplatform.missing_libraries(DEBIAN_12_LDD)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert qtplatform.missing_libraries("\tnot a dynamic executable\n") == []


def test_the_message_gives_the_exact_install_commands():
    message = qtplatform.missing_libraries_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "\n" not in message
    assert "missing libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 (" in message
    assert "Fedora: sudo dnf install xcb-util-wm xcb-util-keysyms" in message
    assert "Arch: sudo pacman -S xcb-util-wm xcb-util-keysyms" in message


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_names(soname, package):
    assert qtplatform.debian_package(soname) == package


def test_unknown_libraries_and_our_own_qt_are_said_plainly():
    message = qtplatform.missing_libraries_message(["libfoo.so.3", "libQt6XcbQpa.so.6"])
    assert "sudo apt-get install libfoo3" in message
    assert "other distributions: the packages that provide libfoo.so.3" in message
    assert "reinstall PySide6-Essentials" in message


@pytest.mark.parametrize(
    ("env", "uses_xcb"),
    [
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
    ],
)
def test_only_an_xcb_start_is_checked(env, uses_xcb):
    assert qtplatform._uses_xcb(env) is uses_xcb


def _samplelab(env_changes: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND"))}
    env.update(PYTHONPATH=str(ROOT), SAMPLELAB_HOME=str(tmp_path / "home"), **env_changes)
    return subprocess.run(
        [sys.executable, "-m", "app"], env=env, capture_output=True, text=True, timeout=60
    )


@linux_only
def test_a_dead_display_is_one_clear_line(tmp_path):
    run = _samplelab({"DISPLAY": ":93"}, tmp_path)
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("samplelab: error: ")
    assert "cannot open the X display :93" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]


@linux_only
@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_a_hidden_dependency_of_the_real_plugin_is_named(tmp_path):
    # The real xcb plugin, copied with its Qt libraries beside it, less one of them:
    # where Qt would abort, samplelab names the library and exits 1.
    real = qtplatform.xcb_plugin({})
    assert real is not None
    platforms = tmp_path / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    shutil.copy2(real, platforms / real.name)
    lib = tmp_path / "lib"  # the plugin's RUNPATH is $ORIGIN/../../lib
    lib.mkdir()
    for library in (real.parents[2] / "lib").iterdir():
        if not library.name.startswith("libQt6XcbQpa.so"):
            (lib / library.name).symlink_to(library)
    run = _samplelab({"DISPLAY": ":93", "QT_QPA_PLATFORM_PLUGIN_PATH": str(platforms)}, tmp_path)
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "missing libQt6XcbQpa.so.6" in lines[0] and "reinstall PySide6-Essentials" in lines[0]


@linux_only
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_a_live_display_is_reached(tmp_path):
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as fh:
            number = fh.readline().strip()
        assert number.isdigit()
        assert qtplatform.display_unreachable(f":{number}") is None
    finally:
        server.terminate()
        server.wait(10)

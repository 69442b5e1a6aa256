"""Whether Qt can open a window on this Linux desktop, asked before Qt is started.

Qt aborts the whole process (no exception, exit 134) when its X11 platform
plugin cannot load, and its message names the wrong library on a stock
Debian. So before the QApplication exists we ask `ldd` what the xcb plugin
misses and try to reach the X server ourselves, and say in one line what is
wrong and the exact command that fixes it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

LDD_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0

# soname -> (Fedora package, Arch package). Debian/Ubuntu names follow from the soname.
OTHER_DISTROS: dict[str, tuple[str, str]] = {
    "libxcb-icccm.so.4": ("xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-cursor.so.0": ("xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-image.so.0": ("xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon", "libxkbcommon"),
    "libX11-xcb.so.1": ("libX11-xcb", "libx11"),
    "libX11.so.6": ("libX11", "libx11"),
    "libGL.so.1": ("libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libglvnd-egl", "libglvnd"),
    "libOpenGL.so.0": ("libglvnd-opengl", "libglvnd"),
    "libfontconfig.so.1": ("fontconfig", "fontconfig"),
    "libfreetype.so.6": ("freetype", "freetype2"),
    "libdbus-1.so.3": ("dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("glib2", "glib2"),
}
# Core libxcb extensions (randr, shm, sync, xfixes, render, shape, xkb, ...) are one package.
_XCB_CORE = re.compile(r"libxcb(-[a-z]+)?\.so\.\d+$")
_DEBIAN_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0"}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames `ldd` reports as 'not found', each once, in the order listed."""
    found = []
    for line in ldd_output.splitlines():
        match = _NOT_FOUND.match(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def debian_package(soname: str) -> str:
    """Debian/Ubuntu's package for a library: libfoo.so.4 -> libfoo4, libx-11.so.0 -> libx-11-0."""
    if soname in _DEBIAN_EXCEPTIONS:
        return _DEBIAN_EXCEPTIONS[soname]
    stem, _, version = soname.partition(".so.")
    stem = stem.lower()
    major = version.split(".")[0]
    return f"{stem}-{major}" if stem[-1:].isdigit() else f"{stem}{major}"


def _other_distros(sonames: list[str]) -> str:
    fedora, arch = [], []
    for soname in sonames:
        if soname in OTHER_DISTROS:
            names = OTHER_DISTROS[soname]
        elif _XCB_CORE.match(soname):
            names = ("libxcb", "libxcb")
        else:
            return f"other distributions: the packages that provide {', '.join(sonames)}"
        fedora += [names[0]] if names[0] not in fedora else []
        arch += [names[1]] if names[1] not in arch else []
    return f"Fedora: sudo dnf install {' '.join(fedora)}; Arch: sudo pacman -S {' '.join(arch)}"


def missing_libraries_message(missing: list[str]) -> str:
    """One line: what the xcb plugin misses and the commands that install it."""
    ours = [m for m in missing if m.startswith("libQt6") or m.startswith("libpyside6")]
    system = [m for m in missing if m not in ours]
    parts = [f"Qt cannot load its X11 (xcb) platform plugin: missing {', '.join(missing)}."]
    if system:
        packages = " ".join(dict.fromkeys(debian_package(m) for m in system))
        parts.append(f"Install with: sudo apt-get install {packages} ({_other_distros(system)}).")
    if ours:
        parts.append(
            "The Qt libraries of PySide6 are incomplete: reinstall PySide6-Essentials "
            "(delete .venv and run python3 bootstrap.py again)."
        )
    return " ".join(parts)


def xcb_plugin(env: Mapping[str, str]) -> Path | None:
    """The xcb plugin file Qt would load, searched where Qt searches; None if none."""
    folders = []
    if env.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        folders.append(Path(env["QT_QPA_PLATFORM_PLUGIN_PATH"]))
    for root in filter(None, env.get("QT_PLUGIN_PATH", "").split(os.pathsep)):
        folders.append(Path(root) / "platforms")
    from PySide6.QtCore import QLibraryInfo

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    folders.append(Path(plugins) / "platforms")
    for folder in folders:
        if (folder / "libqxcb.so").is_file():
            return folder / "libqxcb.so"
    return None


def ldd_missing(library: Path) -> list[str]:
    """Sonames `library` needs but the loader cannot find; [] when ldd cannot tell."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        done = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_libraries(done.stdout)


def display_unreachable(display: str) -> str | None:
    """Why no X server can be reached at `display`, or None when one answers.

    Asked through libxcb itself (the xcb plugin's own way in, auth included),
    with a time bound: a display on a host that does not answer must not hang us.
    """
    name = ctypes.util.find_library("xcb")
    if name is None:
        return None  # the missing-library check names libxcb
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    result: list[int] = []

    def connect() -> None:
        connection = xcb.xcb_connect(display.encode(), None)
        result.append(xcb.xcb_connection_has_error(connection))
        xcb.xcb_disconnect(connection)

    worker = threading.Thread(target=connect, name="x11-probe", daemon=True)
    worker.start()
    worker.join(CONNECT_TIMEOUT_S)
    if not result:
        return f"the X display {display} does not answer (waited {CONNECT_TIMEOUT_S:g} s)"
    if result[0]:
        return f"cannot open the X display {display} (no X server there, or it refused us)"
    return None


def _uses_xcb(env: Mapping[str, str]) -> bool:
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    wayland = env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland"
    return bool(env.get("DISPLAY")) and not wayland


def xcb_problem(env: Mapping[str, str] | None = None) -> str | None:
    """Why Qt's X11 plugin would abort here (dead display, missing libraries), or None."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or not _uses_xcb(env):
        return None
    problems = []
    display = env.get("DISPLAY", "")
    unreachable = display_unreachable(display) if display else "DISPLAY is unset"
    if unreachable:
        problems.append(
            f"{unreachable}; check DISPLAY, or set QT_QPA_PLATFORM=offscreen to run headless."
        )
    plugin = xcb_plugin(env)
    missing = ldd_missing(plugin) if plugin is not None else []
    if missing:
        problems.append(missing_libraries_message(missing))
    return " ".join(problems) or None

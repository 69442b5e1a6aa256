"""The application on a real X server, started and driven the way a person does it.

Everything else runs offscreen; this starts `python -m app gui CONFIG` (what
the `samplelab` command runs) under Xvfb with Qt's `xcb` platform, and drives
it with real X input through xdotool (XTEST: the same events a mouse and a
keyboard make): the wheel rolled over the whole config form, F5 to start a
session, Ctrl+Q to quit. It then checks that the wheel changed nothing in the
config the session recorded, that the session completed, that a screenshot
of the screen is not blank, and that the app exited cleanly.

Skips, saying why, where Xvfb or xdotool is not installed (`.ci/run`
installs them where apt-get is available).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT
from guitools import write_config
from PySide6.QtGui import QImage

from backend.config import load_config
from backend.recording.reader import Recording

WIDTH, HEIGHT = 1280, 860


def _missing_tools() -> str:
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool)"
    return ""


pytestmark = pytest.mark.skipif(bool(_missing_tools()), reason=_missing_tools() or "ok")


@pytest.fixture
def display(tmp_path):
    """A fresh Xvfb server on a display number it picks itself (no clashes); its name."""
    read, write = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "xvfb.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    if not number:
        server.kill()
        pytest.skip(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text(errors='replace')}")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def xdotool(display: str, *args: str, timeout: float = 30) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout.strip()


def wait_for(condition, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def screenshot(display: str, path: Path) -> list[int]:
    """The X server's whole screen as a PNG at `path` (grabbed by Qt over xcb); its pixels."""
    grab = (
        "import sys; from PySide6.QtGui import QGuiApplication; "
        "app = QGuiApplication(sys.argv[:1]); "
        "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)"
    )
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    subprocess.run([sys.executable, "-c", grab, str(path)], env=env, check=True, timeout=60)
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    return [
        image.pixel(x, y) for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
    ]


def wait_for_window(display: str, app: subprocess.Popen, title: str, log: Path) -> str:
    """The X window id of the app's main window, once it is mapped."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if app.poll() is not None:
            output = log.read_text(errors="replace")
            if 'Could not load the Qt platform plugin "xcb"' in output:
                pytest.skip(
                    "Qt's xcb plugin cannot load here (system libraries missing; .ci/run "
                    f"lists them): {output.strip().splitlines()[0]}"
                )
            raise AssertionError(f"samplelab exited with {app.returncode}:\n{output}")
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.split()[0]
        time.sleep(0.2)
    raise AssertionError(f"no window titled {title!r} within 60 s")


def test_the_app_on_a_real_display_driven_by_real_input(tmp_path, display):
    config_path = write_config(tmp_path, number_batches=20)
    out = tmp_path / "recordings"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")  # the conftest's offscreen
    }
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        SAMPLELAB_HOME=str(tmp_path / "home"),
        SAMPLELAB_SETTINGS_DIR=str(tmp_path / "settings"),
    )
    log = open(tmp_path / "app.log", "wb")  # noqa: SIM115 - closed below
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "gui", str(config_path)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        window = wait_for_window(display, app, "small.yaml - samplelab", tmp_path / "app.log")
        xdotool(display, "windowsize", "--sync", window, str(WIDTH), str(HEIGHT))
        xdotool(display, "windowmove", "--sync", window, "0", "0")
        xdotool(display, "windowfocus", "--sync", window)
        time.sleep(1.0)  # device discovery and the first paint

        # Roll the wheel down over every part of the config form (left column), as a
        # person scrolling through it does: over fields, labels and combo boxes alike.
        moves: list[str] = []
        for y in range(100, HEIGHT - 180, 30):
            for x in range(40, 540, 60):
                moves += ["mousemove", str(x), str(y), "click", "5"]
        xdotool(display, *moves, timeout=120)

        xdotool(display, "key", "F5")  # Start
        wait_for(lambda: any(out.glob("*.h5")), 30, "the recording to appear")
        recording = next(out.glob("*.h5"))

        def complete() -> bool:
            try:
                with Recording(recording) as rec:
                    return rec.status == "complete"
            except Exception:
                return False

        wait_for(complete, 60, "the session to complete")
        with Recording(recording) as rec:
            assert rec.batches_done == 20
            stored = rec.config.to_bspysmg()
        assert stored == load_config(config_path).to_bspysmg(), "the wheel edited the config"
        time.sleep(0.5)  # the last frame
        shot = screenshot(display, tmp_path / "screen.png")
        colours = Counter(shot)
        assert len(colours) > 200, f"blank screen: {tmp_path / 'screen.png'}"
        dominant = colours.most_common(1)[0][1] / len(shot)
        assert dominant < 0.8, f"one colour covers {dominant:.0%} of the screen"

        xdotool(display, "key", "ctrl+q")  # Quit (nothing edited: no question)
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        log.close()
    text = (tmp_path / "app.log").read_text(errors="replace")
    assert "Traceback" not in text, text

    home_log = tmp_path / "home" / "logs" / "samplelab.log"
    assert "sampling 20 batches" in home_log.read_text(encoding="utf-8")

"""The data pages under a real X server: Xvfb, the app started as a user starts it
(`app.main.run_gui` with a config), and xdotool's real mouse, wheel and keys at 1024x700.

    python tools/xdrive_data_pages.py [--display 35|auto] [--shots DIR]

Checks, and prints what it saw: the Recordings page starts in the recordings folder and
offers the newest recording; the cursor over the y axis reads nothing and at the data's
left edge a row >= 0; the wheel zooms; on the Postprocess page a file added through the
file dialog, the HI line dragged (the preview follows), Run, both export menus in the
window and a CSV written from one; on the Streams page the moving average ticked while
the stream runs. Screenshots of each page go to --shots. Needs Xvfb, xdotool and
ImageMagick's `import`. `--display auto` lets Xvfb pick a free display number. Exits 1
when a check times out or the app does not quit cleanly.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--display", default="35", help="X display number for Xvfb, or auto")
ARGS.add_argument("--shots", default=str(Path(tempfile.gettempdir()) / "samplelab-xshots"))
OPTS = ARGS.parse_args()
W = Path(tempfile.mkdtemp(prefix="samplelab-xdrive-"))
SHOTS = Path(OPTS.shots)
SHOTS.mkdir(parents=True, exist_ok=True)
ENV = dict(
    os.environ,
    DISPLAY=f":{OPTS.display}",
    QT_QPA_PLATFORM="xcb",
    SAMPLELAB_HOME=str(W / "home"),
    SAMPLELAB_SETTINGS_DIR=str(W / "settings"),
    PROBE_OUT=str(W / "probe.json"),
)
PY = sys.executable
log = []


def say(*a):
    print(*a, flush=True)
    log.append(" ".join(map(str, a)))


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], env=ENV, check=True)


def probe():
    try:
        return json.loads((W / "probe.json").read_text())
    except Exception:
        return None


def wait(cond, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        p = probe()
        if p is not None:
            try:
                if cond(p):
                    return p
            except (KeyError, TypeError, IndexError):
                pass
        time.sleep(0.2)
    raise SystemExit(f"TIMEOUT waiting for {what}")


def centre(r):
    return r[0] + r[2] // 2, r[1] + r[3] // 2


def click_at(x, y, button=1):
    xdo("mousemove", x, y)
    time.sleep(0.15)
    xdo("click", button)
    time.sleep(0.3)


def click_widget(p, name):
    x, y = centre(p["widgets"][name]["rect"])
    click_at(x, y)


def start_xvfb(display):
    """An Xvfb server on `display` (or on a free number it picks for "auto"); (server, number)."""
    args = ["-screen", "0", "1280x800x24", "-nolisten", "tcp"]
    if display != "auto":
        server = subprocess.Popen(["Xvfb", f":{display}", *args])
        time.sleep(1.5)
        return server, display
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), *args], pass_fds=(write,))
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    if not number.strip():
        raise SystemExit("Xvfb did not start")
    return server, number.decode().strip()


def shot(name):
    subprocess.run(
        ["import", "-display", ENV["DISPLAY"], "-window", "root", str(SHOTS / name)], check=True
    )
    say("screenshot", SHOTS / name)


def type_path(path):
    xdo("type", "--delay", "20", str(path))
    time.sleep(0.2)
    xdo("key", "Return")
    time.sleep(0.5)


# --- data: a config recording into W/recordings, two recordings made there ---------------
subprocess.run(
    [
        PY,
        "-c",
        f"""
import sys; sys.path.insert(0, {str(REPO)!r})
from backend.config import load_config, save_config
from backend.sampling.session import start_session
from resources import preset_path
cfg = load_config(preset_path('quick-demo')).model_copy(deep=True)
cfg.save_directory = '{W}/recordings'
cfg.input_data.number_batches = 8
save_config(cfg, '{W}/demo.yaml')
names = ('quick_demo_2026_12_07_030101', 'quick_demo_2026_12_07_030505_a_rather_long_name')
for seed, name in enumerate(names, 1):
    start_session(cfg, 'simulated', path='{W}/recordings/' + name + '.h5', seed=seed).run()
""",
    ],
    check=True,
    env=ENV,
)

xvfb, number = start_xvfb(OPTS.display)
ENV["DISPLAY"] = f":{number}"
app = subprocess.Popen(
    [PY, str(REPO / "tools" / "xprobe.py"), str(W / "demo.yaml")],
    env=ENV,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    p = wait(lambda p: "Recordings" in p["tabs"], "the window")
    wid = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "samplelab"],
        env=ENV,
        capture_output=True,
        text=True,
    ).stdout.split()[0]
    xdo("windowmove", wid, 0, 0)
    xdo("windowsize", wid, 1024, 700)
    p = wait(lambda p: p["state"]["size"] == [1024, 700], "1024x700")
    say("window", p["state"]["size"])

    # --- Recordings: the recordings folder, the newest offered, cursor edge, wheel ---------
    click_at(*p["tabs"]["Recordings"])
    p = wait(  # the offer is made before the page shows: wait for its button on screen too
        lambda p: "Newest:" in p["state"]["offer"] and "button_open_offered" in p["widgets"],
        "the newest offer",
    )
    say("tree root:", p["state"]["tree_root"], "| offer:", p["state"]["offer"])
    click_widget(p, "button_open_offered")
    p = wait(
        lambda p: p["state"]["header"].endswith("rows)") and p["state"].get("data_rect"), "the file"
    )
    say("header:", p["state"]["header"])
    ax, ay = p["state"]["axis_point"]
    xdo("mousemove", ax, ay)
    time.sleep(0.6)
    p = probe()
    say("over the y axis: cursor row", p["state"]["values_row"])
    x0, y0, x1, y1 = p["state"]["data_rect"]
    xdo("mousemove", x0 + 1, (y0 + y1) // 2)
    time.sleep(0.8)
    p = wait(lambda p: p["state"]["values_row"] is not None, "a cursor row")
    say(
        "at the data's left edge: row",
        p["state"]["values_row"],
        "| readout starts:",
        p["state"]["readout"][:40],
    )
    before = p["state"]["x_range"]
    xdo("mousemove", (x0 + x1) // 2, (y0 + y1) // 2)
    time.sleep(0.3)
    for _ in range(3):
        xdo("click", 4)
        time.sleep(0.15)
    p = wait(
        lambda p: p["state"]["x_range"][1] - p["state"]["x_range"][0] < before[1] - before[0],
        "a wheel zoom",
    )
    say(
        "wheel: x range",
        [round(v, 3) for v in before],
        "->",
        [round(v, 3) for v in p["state"]["x_range"]],
    )
    time.sleep(1)
    shot("recordings-1024x700-xvfb.png")

    # --- Postprocess: add a file by the file dialog, drag HI, run, export from the menu ----
    click_at(*p["tabs"]["Postprocess"])
    p = wait(lambda p: "button_add_files" in p["widgets"], "the Postprocess page")
    click_widget(p, "button_add_files")
    p = wait(lambda p: "file_dialog" in p, "the file dialog")
    rec = sorted((W / "recordings").glob("*.h5"))[0]
    type_path(rec)
    p = wait(lambda p: p["state"]["estimate"].startswith("Would drop"), "the preview")
    say("preview (default clip):", p["state"]["estimate"])
    hx, hy, hv = p["state"]["clip_lines"][1]
    xdo("mousemove", hx, hy)
    time.sleep(0.3)
    xdo("mousedown", 1)
    for k in range(1, 13):
        xdo("mousemove", hx - 6 * k, hy)
        time.sleep(0.03)
    xdo("mouseup", 1)
    time.sleep(0.6)
    p = probe()
    say(
        "dragged HI:",
        round(hv, 3),
        "->",
        p["state"]["custom"],
        "mode",
        p["state"]["clip_mode"],
        "|",
        p["state"]["estimate"],
    )
    click_widget(p, "button_run")
    p = wait(lambda p: p["state"]["outcome"] is not None, "the run", 60)
    say("run dropped", p["state"]["outcome"], "rows; status:", p["state"]["status"])
    for name in ("button_export_kept", "button_export_all", "button_run"):
        r = p["widgets"][name]["rect"]
        say(f"{name} at {r}: inside 1024x700:", r[0] + r[2] <= 1024 and r[1] + r[3] <= 700)
    click_widget(p, "button_export_all")
    p = wait(lambda p: "menu_export_all" in p["menus"], "the export menu")
    menu = p["menus"]["menu_export_all"]
    say("menu entries:", {k: v[2] for k, v in menu.items()})
    shot("postprocess-menu-1024x700-xvfb.png")
    x, y, _ = menu["CSV…"]
    click_at(x, y)
    p = wait(lambda p: "file_dialog" in p, "the save dialog")
    target = W / "every_row.csv"
    xdo("key", "ctrl+a")
    type_path(target)
    p = wait(lambda p: p["state"]["last_export"] == str(target), "the export", 60)
    say(
        "exported",
        target,
        "lines:",
        len(target.read_text().splitlines()),
        "| status:",
        p["state"]["status"],
    )
    click_widget(p, "button_export_kept")
    p = wait(lambda p: "menu_export_kept" in p["menus"], "the kept menu")
    say("kept menu entries:", {k: v[2] for k, v in p["menus"]["menu_export_kept"].items()})
    xdo("key", "Escape")
    time.sleep(0.4)
    shot("postprocess-1024x700-xvfb.png")

    # --- Streams: a random signal, then the moving average ticked while it runs ----------
    p = probe()
    click_at(*p["tabs"]["Streams"])
    p = wait(lambda p: "stream_source" in p["widgets"], "the Streams page")
    click_widget(p, "stream_source")
    time.sleep(0.4)
    xdo("key", "End")
    xdo("key", "Return")
    time.sleep(0.3)
    p = probe()
    say("source:", p["widgets"]["stream_source"].get("currentText"))
    click_widget(p, "button_stream_start")
    p = wait(
        lambda p: (
            p["state"]["stream_status"].count("\n") == 2 and "rows/s" in p["state"]["stream_status"]
        ),
        "the stream",
    )
    cx, cy, checked, enabled = p["state"]["average_check"]
    say("while running, moving average enabled:", enabled)
    click_at(cx, cy)
    p = wait(lambda p: any("avg" in n for n in p["state"]["stream_names"]), "the new processing")
    say("processing changed while running:", p["state"]["stream_names"][-1])
    say("stream status:", p["state"]["stream_status"].replace("\n", " | "))
    time.sleep(1)
    shot("streams-1024x700-xvfb.png")
    click_widget(p, "button_stream_stop")

    def stopped(p):
        return p["state"]["stream_status"].startswith("Stopped")

    # No second click: Stop once moved as the status lines above it re-wrapped, and
    # a click aimed where it had been was lost (the buttons are now pinned below them).
    p = wait(stopped, "the stream to stop", 10)
    say("after Stop:", p["state"]["stream_status"].replace("\n", " | "))
    xdo("key", "ctrl+q")
    for _ in range(60):
        if app.poll() is not None:
            break
        time.sleep(0.25)
    if app.poll() is None:
        shot("after-quit.png")
        say("still running 15 s after Ctrl+Q")
finally:
    if app.poll() is None:
        app.terminate()
        app.wait(10)
    xvfb.terminate()
    xvfb.wait(5)
    shutil.rmtree(W, ignore_errors=True)
print("app exit code", app.returncode)
sys.exit(0 if app.returncode == 0 else 1)

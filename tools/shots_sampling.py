"""Screenshots of the Sampling page (called by screenshots.py).

Mid-session on the simulated device (real-time pacing, seed 7), at the
sizes a lab PC and a laptop show it, in both themes; then paused, with every
validation problem of two bad values at once, with a saturating config, and
the Help window.

    sampling-{light,dark}.png                 the docs' shots (1500 x 950)
    sampling-{light,dark}-1024x700.png        a small laptop screen
    sampling-{light,dark}-1920x1080.png       a full HD monitor
    sampling-paused-dark.png, sampling-validation.png, sampling-saturation.png, help.png
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

SIZES = ((1500, 950, ""), (1024, 700, "-1024x700"), (1920, 1080, "-1920x1080"))


def _session(window, pump: Callable[[float], None], seconds: float) -> None:
    page = window.pages["sampling"]
    page.start_action.trigger()
    pump(seconds)


def _stop(window, pump: Callable[[float], None]) -> None:
    page = window.pages["sampling"]
    page.stop_action.trigger()
    page.runner.wait(30)
    pump(0.5)


def _theme(window, dark: bool, pump: Callable[[float], None]) -> None:
    if window.dark_action.isChecked() != dark:
        window.dark_action.trigger()
        pump(1.0)


def shoot(
    window, out: Path, work: Path, pump: Callable[[float], None], seconds: float = 4.0
) -> list[str]:
    """Write the Sampling page's shots into `out`; returns their names."""
    page = window.pages["sampling"]
    window.tabs.setCurrentWidget(page)
    page.form.set_value("save_directory", str(work / "recordings"))
    page.run_options.realtime.setChecked(True)
    page.run_options.seed.setText("7")
    page.notes.set_values("D-17 (chip 4)", "Ada", "first run after annealing")
    page.files._mark_saved()  # the output folder above is the shots' own, not an edit
    pump(1.0)  # device discovery finishes
    names = []
    for width, height, suffix in SIZES:
        window.resize(width, height)
        _theme(window, False, pump)
        _session(window, pump, seconds)
        names.append(f"sampling-light{suffix}.png")
        window.grab().save(str(out / names[-1]))
        _theme(window, True, pump)
        pump(1.0)
        names.append(f"sampling-dark{suffix}.png")
        window.grab().save(str(out / names[-1]))
        if not suffix:
            page.pause_action.trigger()
            pump(1.0)
            names.append("sampling-paused-dark.png")
            window.grab().save(str(out / names[-1]))
        _stop(window, pump)

    window.resize(1500, 950)
    _theme(window, False, pump)
    amplification = page.form.editors["driver.amplification"]
    amplification.setText("1")  # 4 nA full scale: the simulated device saturates
    _session(window, pump, seconds)
    names.append("sampling-saturation.png")
    window.grab().save(str(out / names[-1]))
    _stop(window, pump)
    amplification.setText("39.17")

    # Two bad values of different kinds: both messages at once, each naming its field.
    page.form.editors["input_data.batch_time"].setText("0")
    page.form.table.table.item(2, 3).setText("5")  # Input 2's maximum, past the 1.6 V limit
    scroll = page.form.parentWidget().parentWidget().parentWidget()
    scroll.ensureWidgetVisible(page.form.table)
    pump(0.5)
    names.append("sampling-validation.png")
    window.grab().save(str(out / names[-1]))
    page.form.editors["input_data.batch_time"].setText("0.5")
    page.form.table.table.item(2, 3).setText("0.6")
    page.files._mark_saved()
    pump(0.3)

    help_window = window.show_docs("gui")
    help_window.resize(1024, 700)
    pump(1.0)
    names.append("help.png")
    help_window.grab().save(str(out / names[-1]))
    help_window.close()
    return names

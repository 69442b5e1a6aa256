"""Screenshots of the data pages at several window sizes, light and dark.

The Postprocess page (two sources, custom limits, results; and three sources,
one damaged, each on its own on a local Dask cluster), the Dataset
export dialog, the Recordings page (a recording zoomed in with the cursor,
and the whole span with channels stacked) and the Streams page following a
paced session, each at every size and theme asked for:

    python tools/shots_data_pages.py [--out docs/screenshots] \
        [--sizes 1024x700,1920x1080] [--themes light,dark]

Files are named `<page>-<W>x<H>-<theme>.png`. Each shot's line says whether the
window really had the size asked for (a layout that needs more room makes the
window larger than asked, which is itself a defect to look at).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import pump  # noqa: E402


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        pump(0.05)
    if not condition():
        raise RuntimeError(f"timed out waiting for {what}")


def _record(folder: Path, name: str, preset: str, batches: int, seed: int) -> Path:
    from backend.config import load_config
    from backend.sampling.session import start_session
    from resources import preset_path

    config = load_config(preset_path(preset)).model_copy(deep=True)
    config.input_data.number_batches = batches
    session = start_session(config, "simulated", path=folder / f"{name}.h5", seed=seed)
    return Path(session.run().path)


class Shooter:
    """Grabs the window (or a dialog) at every size and theme."""

    def __init__(self, window, out: Path, sizes: list[tuple[int, int]], themes: list[str]):
        self.window, self.out, self.sizes, self.themes = window, out, sizes, themes
        self.written: list[str] = []

    def shoot(self, name: str, widget=None, before: Callable[[], None] | None = None) -> None:
        widget = widget or self.window
        for theme in self.themes:
            self.window.dark_action.setChecked(theme == "dark")
            for w, h in self.sizes:
                widget.resize(w, h)
                pump(0.4)
                if before is not None:
                    before()
                    pump(0.4)
                file = f"{name}-{w}x{h}-{theme}.png"
                widget.grab().save(str(self.out / file))
                got = widget.size()
                note = "" if (got.width(), got.height()) == (w, h) else " (LARGER THAN ASKED)"
                print(f"{self.out / file}: {got.width()}x{got.height()}{note}")
                self.written.append(file)


def postprocess_shots(shooter: Shooter, sources: list[Path], work: Path) -> None:
    import numpy as np

    window = shooter.window
    page = window.pages["postprocess"]
    window.tabs.setCurrentWidget(page)
    page.inputs.add_sources([str(p) for p in sources])
    _wait(lambda: page.inputs.preview is not None and not page.inputs.checking, 60, "the scan")
    hist = page.inputs.preview.histogram(1024)
    cumulative = np.cumsum(hist.counts) / hist.total
    lo = float(hist.edges[np.searchsorted(cumulative, 0.03)])
    hi = float(hist.edges[np.searchsorted(cumulative, 0.97) + 1])
    page.clip.set_custom_limits(round(lo, 1), round(hi, 1))
    page.out_edit.setText(str(work / "postprocessed"))
    pump(0.3)
    page.run()
    _wait(lambda: page.run_worker is None, 180, "postprocessing")
    if page.outcome is None:
        raise RuntimeError("postprocessing failed in the screenshot run")
    shooter.shoot("postprocess")

    page.open_dataset_dialog()
    dialog = page.dataset_dialog
    _wait(lambda: bool(dialog.source_paths()) and not dialog.inputs.pending, 30, "the dialog")
    dialog.blocks.setChecked(True)
    dialog.block_rows.setValue(1000)
    dialog.seed.setValue(7)
    dialog.out_edit.setText(str(work / "dataset"))
    dialog.run()
    _wait(lambda: dialog.worker is None, 120, "the dataset export")
    sizes = shooter.sizes  # the dialog on a screen of each size
    shooter.sizes = [(min(w - 124, 900), min(h - 100, 700)) for w, h in sizes]
    shooter.shoot("dataset-export", dialog)
    shooter.sizes = sizes
    dialog.close()


def postprocess_each_shots(shooter: Shooter, sources: list[Path], work: Path) -> None:
    """Each source on its own (one damaged) on a local 2-process Dask cluster when the
    extra is installed (else here): the per-source table after the run."""
    window = shooter.window
    page = window.pages["postprocess"]
    window.tabs.setCurrentWidget(page)
    page.fanout.each_radio.setChecked(True)
    if page.fanout.missing is None:
        page.fanout.where_combo.setCurrentIndex(1)  # a local cluster
        page.fanout.workers.setValue(2)
    damaged = sources[0].with_name("damaged_run.h5")
    damaged.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 200)
    page.inputs.remove_sources(list(page.inputs.paths))
    page.inputs.add_sources([str(sources[0]), str(damaged), *map(str, sources[1:])])
    _wait(lambda: page.inputs.preview is not None and not page.inputs.checking, 60, "the scan")
    page.clip.set_mode("default")
    page.out_edit.setText(str(work / "each"))
    pump(0.3)
    page.run()
    _wait(lambda: page.each_run.worker is None, 180, "postprocessing each source")
    page.each_results.table.selectRow(0)
    shooter.shoot("postprocess-each")


def recordings_shots(shooter: Shooter, path: Path) -> None:
    window = shooter.window
    page = window.pages["recordings"]
    window.tabs.setCurrentWidget(page)
    page.folder.set_root(str(path.parent))
    _wait(lambda: page.tree.select(path), 10, "the file tree")
    view = page.view
    _wait(lambda: view.info is not None and view.window is not None, 20, "the file")
    _wait(lambda: page.ranges is not None, 20, "the channel ranges")

    def zoomed() -> None:
        view.show_rows(45_000, 48_000)
        pump(0.4)
        x0, x1 = view.plot.x_range()
        view.show_cursor_at(x0 + 0.62 * (x1 - x0))
        _wait(lambda: view.values is not None, 10, "the cursor")

    page.meta.collapseItem(page.meta.item_at(["Batches"]))
    page.meta.expand_section("Channels")
    page.meta.scrollToTop()
    shooter.shoot("recordings", before=zoomed)
    shooter.shoot("recordings-whole", before=view.show_everything)


def streams_shots(shooter: Shooter, work: Path) -> None:
    from resources import preset_path

    window = shooter.window
    sampling = window.pages["sampling"]
    page = window.pages["streams"]
    sampling.files.load(preset_path("quick-demo"), quiet=True)
    sampling.form.set_value("save_directory", str(work / "recordings"))
    sampling.run_options.realtime.setChecked(True)
    _wait(sampling.start_action.isEnabled, 10, "the Sampling page")
    sampling.start_action.trigger()
    _wait(lambda: sampling.runner.state == "running", 20, "the session")
    window.tabs.setCurrentWidget(page)
    form = page.form
    form.select_source("session")
    form.average.setChecked(True)
    form.taps.setValue(200)
    form.window_s.setValue(1.0)
    page.start_action.trigger()
    _wait(lambda: page.stats.rows >= 6000, 30, "the stream")
    shooter.shoot("streams")
    page.stop_action.trigger()
    sampling.stop_action.trigger()
    sampling.runner.wait(30)
    pump(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--sizes", default="1024x700,1920x1080")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--pages", default="postprocess,postprocess-each,recordings,streams")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    themes = args.themes.split(",")
    pages = args.pages.split(",")
    work = Path(tempfile.mkdtemp(prefix="samplelab-shots-"))
    os.environ["SAMPLELAB_HOME"] = str(work / "home")

    from app.main import ensure_app
    from app.settings import AppSettings, use_settings_dir

    use_settings_dir(work / "settings")
    app = ensure_app()
    from app.mainwindow import MainWindow
    from resources import preset_path

    window = MainWindow(AppSettings(), config_path=str(preset_path("quick-demo")))
    window.show()
    pump(1.0)
    shooter = Shooter(window, out, sizes, themes)
    try:
        folder = work / "recordings"
        folder.mkdir(parents=True)
        if "postprocess" in pages:
            first = _record(folder, "quick_demo_a", "quick-demo", 12, 7)
            second = _record(folder, "quick_demo_b", "quick-demo", 8, 8)
            postprocess_shots(shooter, [first, second], work)
        if "postprocess-each" in pages:
            sources = [
                _record(folder, f"day{i}", "quick-demo", 6 + 2 * i, 20 + i) for i in range(3)
            ]
            postprocess_each_shots(shooter, sources, work)
        if "recordings" in pages:
            recordings_shots(shooter, _record(folder, "dnpu_sine", "dnpu-7x1-sine", 40, 11))
        if "streams" in pages:
            streams_shots(shooter, work)
    finally:
        from app import dialogs

        # The shots edited the Sampling form (its save folder): closing would ask.
        dialogs.ask_save_changes = lambda *args, **kwargs: "discard"
        window.dark_action.setChecked(False)
        window.close()
        pump(0.2)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if app is not None else 1


if __name__ == "__main__":
    sys.exit(main())

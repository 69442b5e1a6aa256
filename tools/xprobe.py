"""Start samplelab as a user does (app.main.run_gui) and write, every 200 ms, where the
widgets are on the screen and what they say, so xdotool can send real X input to them.

Used by tools/xdrive_data_pages.py; run under an X server (DISPLAY, QT_QPA_PLATFORM=xcb):
    PROBE_OUT=probe.json python tools/xprobe.py CONFIG
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import contextlib

from PySide6.QtCore import QPoint, QPointF, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLineEdit,
    QMenu,
    QStyle,
    QStyleOptionGroupBox,
    QTabBar,
    QWidget,
)

from app.main import ensure_app, run_gui

OUT = os.environ["PROBE_OUT"]
app = ensure_app()


def rect(w):
    p = w.mapToGlobal(QPoint(0, 0))
    return [p.x(), p.y(), w.width(), w.height()]


def dump():
    data = {"widgets": {}, "tabs": {}, "menus": {}, "state": {}}
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        for w in [top, *top.findChildren(QWidget)]:
            name = w.objectName()
            if not name or not w.isVisible():
                continue
            entry = {"rect": rect(w)}
            for attr in ("text", "currentText"):
                if hasattr(w, attr):
                    with contextlib.suppress(TypeError):
                        entry[attr] = getattr(w, attr)()
            data["widgets"].setdefault(name, entry)
        for bar in top.findChildren(QTabBar):
            if bar.isVisible():
                for i in range(bar.count()):
                    r = bar.tabRect(i)
                    p = bar.mapToGlobal(r.center())
                    data["tabs"][bar.tabText(i)] = [p.x(), p.y()]
        if isinstance(top, QMenu):
            data["menus"][top.objectName()] = {
                a.text(): [
                    top.mapToGlobal(top.actionGeometry(a).center()).x(),
                    top.mapToGlobal(top.actionGeometry(a).center()).y(),
                    a.isEnabled(),
                ]
                for a in top.actions()
                if not a.isSeparator()
            }
        if isinstance(top, QFileDialog):
            edit = top.findChild(QLineEdit, "fileNameEdit")
            if edit is not None:
                data["file_dialog"] = rect(edit)
        win = top if hasattr(top, "pages") else None
        if win is None:
            continue
        data["state"]["status"] = win.statusBar().currentMessage()
        data["state"]["size"] = [win.width(), win.height()]
        pp = win.pages["postprocess"]
        plot = pp.preview_plot
        vb = plot.plot_item.getViewBox()
        y0, y1 = vb.viewRange()[1]
        lines = []
        for line in plot._lines:
            sp = vb.mapViewToScene(QPointF(line.value(), (y0 + y1) / 2))
            gp = plot.viewport().mapToGlobal(plot.mapFromScene(sp))
            lines.append([gp.x(), gp.y(), line.value()])
        data["state"]["clip_lines"] = lines
        data["state"]["clip_mode"] = pp.clip.mode()
        data["state"]["custom"] = list(pp.clip.custom_limits())
        data["state"]["estimate"] = pp.clip.estimate.text()
        data["state"]["outcome"] = pp.outcome.summary["rows_dropped"] if pp.outcome else None
        data["state"]["last_export"] = (
            str(pp.exporter.last_written) if pp.exporter.last_written else None
        )
        data["state"]["stale"] = pp.results.stale.text() if pp.results.stale.isVisible() else ""
        rec = win.pages["recordings"]
        view = rec.view
        data["state"]["values_row"] = view.values[0] if view.values else None
        data["state"]["readout"] = view.readout.text()
        data["state"]["header"] = rec.file_label.text()
        data["state"]["x_range"] = list(view.plot.x_range()) if view.plot.plots else None
        data["state"]["tree_root"] = rec.tree.root
        data["state"]["offer"] = rec.tree.offer_text()
        if view.plot.plots:
            axis = view.plot.plots[0].getAxis("left").sceneBoundingRect().center()
            gp = view.plot.viewport().mapToGlobal(view.plot.mapFromScene(axis))
            data["state"]["axis_point"] = [gp.x(), gp.y()]
            vbr = view.plot.plots[-1].getViewBox().sceneBoundingRect()
            g0 = view.plot.viewport().mapToGlobal(view.plot.mapFromScene(vbr.topLeft()))
            g1 = view.plot.viewport().mapToGlobal(view.plot.mapFromScene(vbr.bottomRight()))
            data["state"]["data_rect"] = [g0.x(), g0.y(), g1.x(), g1.y()]
        st = win.pages["streams"]
        box = st.form.average
        opt = QStyleOptionGroupBox()
        box.initStyleOption(opt)
        r = box.style().subControlRect(
            QStyle.ComplexControl.CC_GroupBox, opt, QStyle.SubControl.SC_GroupBoxCheckBox, box
        )
        c = box.mapToGlobal(r.center())
        data["state"]["average_check"] = [c.x(), c.y(), box.isChecked(), box.isEnabled()]
        data["state"]["stream_status"] = st.status_label.text()
        data["state"]["stream_names"] = st.layout_.names if st.layout_ else []
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, OUT)


timer = QTimer()
timer.timeout.connect(dump)
timer.start(200)
sys.exit(run_gui(sys.argv[1] if len(sys.argv) > 1 else None))

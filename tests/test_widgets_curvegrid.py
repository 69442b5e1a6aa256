"""CurveGrid: panels change with the wiring, many times, without crashing a repaint."""

from __future__ import annotations

import numpy as np

from widgets.curvegrid import CurveGrid


def test_rebuilding_the_grid_again_and_again_keeps_painting(qtbot):
    # Before plots were reused, deleting a shown, titled, gridded PlotItem made the
    # next paint segfault within a few rebuilds (this test then killed pytest).
    grid = CurveGrid(columns=4)
    qtbot.addWidget(grid)
    grid.resize(800, 600)
    grid.show()
    x = np.linspace(-1, 1, 200)
    for k in range(30):
        n = (7, 3, 5, 2, 8)[k % 5]
        grid.set_panels([f"Input {i}" for i in range(n)], f"V {k}", "nA")
        for i in range(n):
            grid.set_curve(i, x, [np.sin(3 * x + i + k)])
        qtbot.wait(5)  # the event loop paints between rebuilds, as in the app
        assert grid.panels_with_data() == list(range(n))
        assert [p.titleLabel.text for p in grid.plots] == [f"Input {i}" for i in range(n)]
    assert not grid.grab().isNull()
    assert len(grid._pool) == 8  # the most panels ever shown: nothing piles up
    assert grid.heading is not None and "nA against V 29" in grid.heading.text


def test_a_panel_shown_again_starts_empty_and_follows_its_new_data(qtbot):
    grid = CurveGrid(columns=2)
    qtbot.addWidget(grid)
    grid.set_panels(["a", "b", "c"], "V", "nA")
    grid.set_curve(2, np.arange(5.0), [np.arange(5.0) * 100])
    grid.set_panels(["a"], "V", "nA")
    grid.set_panels(["a", "b", "c"], "V", "nA")
    assert grid.panels_with_data() == []
    grid.set_curve(2, np.arange(3.0), [np.ones(3)])
    _y0, y1 = grid.plots[2].getViewBox().childrenBounds()[1]
    assert y1 <= 1.0 + 1e-9  # the old 400 nA no longer sets the range

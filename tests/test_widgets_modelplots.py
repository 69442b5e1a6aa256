"""Loss curves: the epoch axis counts whole epochs, whatever the zoom."""

from __future__ import annotations

from widgets.modelplots import LossCurves


def epoch_ticks(plot: LossCurves) -> list[float]:
    axis = plot.item.getAxis("bottom")
    lo, hi = plot.item.getViewBox().viewRange()[0]
    return [v for _, values in axis.tickValues(lo, hi, axis.width()) for v in values]


def test_two_epochs_show_whole_epoch_ticks_even_zoomed_in(qtbot):
    plot = LossCurves()
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_curves([25.0, 11.0], [12.0, 10.1], best_epoch=1, test=10.0)
    qtbot.waitUntil(lambda: epoch_ticks(plot) != [])
    ticks = epoch_ticks(plot)
    assert ticks and all(float(v).is_integer() for v in ticks) and {0.0, 1.0} <= set(ticks)
    plot.item.setXRange(0.1, 0.9, padding=0)  # no whole epoch in view: no tick, not 0.2, 0.4...
    assert epoch_ticks(plot) == []

"""The plot's lanes as a part of their own: placement without a plot or Qt items."""

from __future__ import annotations

import numpy as np

from widgets.channellanes import LANE_FILL, Lanes


def test_lanes_stack_plots_of_two_channels_or_more_and_keep_values_otherwise():
    lanes = Lanes()
    y = np.array([-1.0, 0.0, 3.0])
    assert lanes.count([0, 1, 2]) == 0  # not stacked: values as they are
    np.testing.assert_array_equal(lanes.place(0, y, lanes.centres([[0, 1, 2]])), y)

    lanes.set_stacked(True)
    shown = [[0, 1, 2], [3]]  # the lone channel of the second plot keeps its values
    assert [lanes.count(s) for s in shown] == [3, 0]
    centres = lanes.centres(shown)
    assert centres == {0: 2, 1: 1, 2: 0}  # the plot's first channel on top
    for channel in (0, 1, 2):
        lanes.note(channel, y)
        placed = lanes.place(channel, y, centres)
        lane = centres[channel]
        np.testing.assert_allclose(
            [placed.min(), placed.max()], [lane - LANE_FILL / 2, lane + LANE_FILL / 2]
        )
    np.testing.assert_array_equal(lanes.place(3, y, centres), y)


def test_a_given_range_scales_the_lane_rather_than_the_first_data():
    lanes = Lanes()
    lanes.set_stacked(True)
    lanes.set_ranges([-2.0, 0.0], [2.0, 1.0])
    lanes.note(0, np.array([0.0, 1.0]))  # first data spans half the given range
    placed = lanes.place(0, np.array([-2.0, 2.0]), {0: 1})
    np.testing.assert_allclose(placed, [1 - LANE_FILL / 2, 1 + LANE_FILL / 2])
    lanes.set_stacked(False)  # back to values: the scales are forgotten with it
    np.testing.assert_array_equal(lanes.place(0, np.array([5.0]), {0: 1}), [5.0])

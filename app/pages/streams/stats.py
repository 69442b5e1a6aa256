"""What the Streams page says about a running stream: counts, paces, and who keeps up.

`PumpStats` is filled by the pump (`streams_pipeline.pump`) on its thread:
display rows and their rate, the rows the source delivered and its pace
(averaged over PACE_WINDOW_S, because a paced session delivers a batch and
then waits for the next), rows waiting to be read and rows dropped.
`describe_stats` turns them into the page's three lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.pages.streams.pipeline import Layout

#: The source's pace is averaged over this long (a paced session's batches come in bursts).
PACE_WINDOW_S = 5.0
#: A file or random signal read this far behind its speed is "behind".
BEHIND_S = 0.5


@dataclass
class PumpStats:
    rows: int = 0  # display rows appended
    rate: float = 0.0  # display rows per second over the last second
    dropped: int = 0  # rows the session overwrote before they were read
    first_row: int | None = None  # recording row of the first row seen (sessions)
    ended: bool = False
    source_rows: int = 0  # rows the source delivered so far (a session: into its ring)
    source_rate: float = 0.0  # their rate over the last PACE_WINDOW_S (0: not known yet)
    waiting: int = 0  # source rows delivered (or due, at the chosen speed) but not yet read
    behind_s: float = 0.0  # `waiting` in seconds of the source
    _marks: list[tuple[float, int]] = field(default_factory=list)
    _source_marks: list[tuple[float, int]] = field(default_factory=list)

    def mark(self, now: float) -> None:
        self.rate = _rate(self._marks, now, self.rows, 1.0)
        self.source_rate = _rate(self._source_marks, now, self.source_rows, PACE_WINDOW_S)

    def snapshot(self) -> PumpStats:
        return PumpStats(
            self.rows,
            self.rate,
            self.dropped,
            self.first_row,
            self.ended,
            self.source_rows,
            self.source_rate,
            self.waiting,
            self.behind_s,
        )


def _rate(marks: list[tuple[float, int]], now: float, count: int, window: float) -> float:
    """Count per second over the last `window` seconds (marks are kept that long)."""
    marks.append((now, count))
    while len(marks) > 2 and now - marks[1][0] >= window:
        marks.pop(0)
    t0, c0 = marks[0]
    return (count - c0) / (now - t0) if now - t0 >= min(window, 1.0) / 2 else 0.0


def _hz(rate: float) -> str:
    return f"{rate / 1e6:,.3g} M" if rate >= 1e6 else f"{rate:,.0f}"


def describe_stats(
    layout: Layout, stats: PumpStats, speed: float | None, final: str = ""
) -> list[str]:
    """The page's lines about a stream: what it is, the source's pace, the display's.

    A paced session samples at its rate in batches and then waits for the next
    batch, so it delivers fewer rows per second than its sampling rate; that is
    the source's pace, not the display falling behind, and the lines say which is which.
    """
    s = stats
    if layout.live:
        head = final or "Following the session"
        if s.first_row is not None:
            head += f" from recording row {s.first_row:,}"
        pace = "measuring…" if not s.source_rate else f"{_hz(s.source_rate)} rows/s on average"
        batches = f", in {layout.batch_rows:,}-row batches" if layout.batch_rows else ""
        source = (
            f"Source: {s.source_rows:,} rows, {pace} "
            f"(sampled at {layout.source_fs:,.6g} Hz{batches})"
        )
        if s.dropped:
            display = f"Display fell behind: {s.dropped:,} rows dropped"
        elif layout.batch_rows and s.waiting > layout.batch_rows:
            display = f"Display behind: {s.waiting:,} rows waiting"
        else:
            display = "Display keeps up: every row shown, none dropped"
    else:
        head = final or "Streaming"
        chosen = (
            "as fast as possible" if speed is None else f"{speed:g}× of {layout.source_fs:,.6g} Hz"
        )
        rate = f"{_hz(s.source_rate)} rows/s" if s.source_rate else "measuring…"
        source = f"Source: {s.source_rows:,} rows, {rate} ({chosen})"
        if speed is None:
            display = "Display reads as fast as it can"
        elif s.behind_s > BEHIND_S:
            display = f"Display behind by {s.behind_s:.1f} s: this speed is more than it can show"
        else:
            display = "Display keeps up"
    if layout.factor > 1:
        display += f"; shows 1 row in {layout.factor} ({layout.fs:,.6g} Hz)"
    return [head, source, display]

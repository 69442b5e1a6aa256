"""A short, safe acceptance run of a device before a long session (`samplelab selftest`).

It samples the config's own wiring, rates and ramps, but with small test waves
(at most +-`amplitude` V, always inside each electrode's range) and with the
first and last batch at 0 V, through the normal session: the same safety checks,
the same recording, 0 V on every way out. Then it judges what happened:

- tasks and routes: the tasks committed at open (NI: start-trigger route made);
- sample clocks: the hardware runs the configured rates (NI: read back);
- batches: every batch was sampled;
- sync: cdaq_to_nidaq found the spike in every batch at the first attempt;
- read timing: no batch came near its timeout;
- readout: finite, not saturated; its 0 V level at the start and the end;
- 0 V at the end: every configured AO channel was driven to 0 V last.

The recording and a JSON report beside it stay as evidence.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.acquisition.waves import BatchPlan, RampedBatch
from backend.config import SamplingConfig, saturation_current
from backend.errors import (
    Cancelled,
    DeviceError,
    DriverNotFoundError,
    RoutingError,
    SafetyError,
    SampleClockError,
)
from backend.files import write_text_atomic
from backend.jobs import CancelToken, JobProgress, ProgressFn
from backend.recording.reader import Recording
from backend.sampling.session import start_session

#: Default half-span of the test waves (V) and the most the self-test ever allows.
DEFAULT_AMPLITUDE_V = 0.1
MAX_AMPLITUDE_V = 0.5
DEFAULT_BATCHES = 50
#: Test batches last about this long (s); ramps keep the config's own ramp time.
TEST_BATCH_TIME_S = 0.2
#: A batch slower than this times its nominal duration (plus the margin) is worth a warning.
SLOW_BATCH_FACTOR = 1.5
SLOW_BATCH_MARGIN_S = 0.25
STATUSES = ("pass", "warn", "fail", "skip")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass | warn | fail | skip
    detail: str


@dataclass(frozen=True)
class SelftestReport:
    device: str
    checks: tuple[Check, ...]
    recording: str | None
    batches_planned: int

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["passed"] = self.passed
        return out


class SelftestPlan(BatchPlan):
    """The test waves, with the first and the last batch held at 0 V."""

    def batch(self, index: int) -> RampedBatch:
        batch = super().batch(index)
        if index in (0, len(self) - 1):
            return dataclasses.replace(batch, data=np.zeros_like(batch.data))
        return batch


def selftest_config(
    config: SamplingConfig,
    batches: int = DEFAULT_BATCHES,
    amplitude_v: float = DEFAULT_AMPLITUDE_V,
) -> SamplingConfig:
    """`config`'s wiring, rates and ramps with small in-range test waves and few batches.

    Refuses (SafetyError) an amplitude above MAX_AMPLITUDE_V, and any config (or
    derived test wave) that validation would not pass.
    """
    if not 0 < amplitude_v <= MAX_AMPLITUDE_V:
        raise SafetyError(
            f"the self-test amplitude must be in (0, {MAX_AMPLITUDE_V:g}] V, not {amplitude_v:g} V",
            "The self-test uses small test waves only; sample the full ranges with "
            "`samplelab sample`.",
        )
    if batches < 3:
        raise SafetyError("the self-test needs at least 3 batches (0 V, waves, 0 V)")
    _refuse_problems(config, "the config")
    ranges = config.voltage_ranges()
    lo = np.maximum(ranges[:, 0], -amplitude_v)
    hi = np.minimum(ranges[:, 1], amplitude_v)
    data = config.to_bspysmg()
    fs = config.fs
    data["data_name"] = f"selftest_{config.data_name}"
    data["setup_insights"] = (
        f"samplelab selftest: batches 0 and {batches - 1} at 0 V, the others test waves "
        f"within +-{amplitude_v:g} V of 0 and inside each electrode's range"
    )
    data["input_data"].update(
        number_batches=int(batches),
        batch_time=max(1, round(TEST_BATCH_TIME_S * fs)) / fs,
        amplitude=((hi - lo) / 2).tolist(),
        offset=((hi + lo) / 2).tolist(),
        random_phase_shift_each=0,
    )
    test = SamplingConfig.model_validate(data)
    _refuse_problems(test, "the self-test's waves")
    return test


def _refuse_problems(config: SamplingConfig, what: str) -> None:
    problems = config.problems()
    if problems:
        raise SafetyError(
            f"{what} would not pass validation, so nothing is run: "
            + "; ".join(str(p) for p in problems),
            "Fix the config first (`samplelab devices --plan CONFIG` shows what it sends).",
        )


def run_selftest(
    config: SamplingConfig,
    device: str = "nidaq",
    out_dir: str | os.PathLike = "selftest",
    batches: int = DEFAULT_BATCHES,
    amplitude_v: float = DEFAULT_AMPLITUDE_V,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    **device_options: Any,
) -> SelftestReport:
    """Run the self-test of `config`'s device; the report, also saved beside the recording."""
    test = selftest_config(config, batches, amplitude_v)
    if cancel is not None:
        cancel.raise_if_cancelled()
    try:
        session = start_session(
            test, device, out_dir=out_dir, seed=seed, cancel=cancel, **device_options
        )
    except DriverNotFoundError:
        raise
    except DeviceError as exc:  # wiring, routes, clocks, a busy module: a failed check
        return SelftestReport(device, _open_failed(exc, device), None, batches)
    session.plan = SelftestPlan(test, session.plan.seed)
    if progress is not None:
        session.on_progress = lambda p: progress(JobProgress("self-test", p.batch, p.total))
    result = session.run()
    if result.status == "cancelled":
        raise Cancelled()
    checks = _judge(session, result, test, device)
    report = SelftestReport(device, tuple(checks), result.path, batches)
    _save_report(report)
    return report


def _open_failed(exc: DeviceError, device: str) -> tuple[Check, ...]:
    """The checks of a device that did not even open: which step it failed at."""
    message = exc.message
    if device != "nidaq":
        tasks, clocks = (
            Check("tasks and routes", "skip", "the simulated device has no tasks"),
            (Check("sample clocks", "skip", "the simulated device has no clocks")),
        )
    elif isinstance(exc, SampleClockError):
        tasks = Check("tasks and routes", "pass", "both tasks committed")
        clocks = Check("sample clocks", "fail", message)
    else:
        what = "the start-trigger route" if isinstance(exc, RoutingError) else "the tasks"
        tasks = Check("tasks and routes", "fail", f"{what} could not be made: {message}")
        clocks = Check("sample clocks", "skip", "not reached")
    return (tasks, clocks, Check("batches", "fail", f"nothing was sampled: {message}"))


def _judge(session: Any, result: Any, test: SamplingConfig, device: str) -> list[Check]:
    dev = session.device
    nidaq = device == "nidaq"
    checks: list[Check] = []
    if nidaq:
        trigger = dev.plan.activation.trigger
        route = f"start trigger {trigger} routed" if trigger else "no shared trigger (sync spike)"
        checks.append(Check("tasks and routes", "pass", f"both tasks committed; {route}"))
        ao, ai = dev.rates or (float("nan"), float("nan"))
        checks.append(
            Check("sample clocks", "pass", f"AO {ao:.9g} Hz, AI {ai:.9g} Hz, as configured")
        )
    else:
        checks.append(Check("tasks and routes", "skip", "the simulated device has no tasks"))
        checks.append(Check("sample clocks", "skip", "the simulated device has no clocks"))
    done, planned = result.batches_done, test.number_batches
    if result.status == "complete":
        checks.append(Check("batches", "pass", f"{done} of {planned} batches sampled"))
    else:
        checks.append(Check("batches", "fail", f"{done} of {planned} batches: {result.error}"))
    checks.append(_sync_check(dev, result))
    with Recording(result.path) as rec:
        durations = np.asarray(rec.batches["duration"], dtype=float)
        outputs = rec.read()[1] if rec.n_rows else np.zeros((0, test.n_outputs))
    checks.append(_timing_check(dev, test, durations))
    checks.append(_readout_check(test, outputs))
    checks.append(_zero_check(dev))
    return checks


def _sync_check(dev: Any, result: Any) -> Check:
    stats = getattr(dev, "sync_stats", None)
    if not getattr(dev, "sync", False) or stats is None:
        return Check("sync", "skip", "no sync spike in this wiring")
    where = f"edge at raw samples {min(stats.edges)}..{max(stats.edges)}" if stats.edges else ""
    if stats.rejected == 0 and result.status == "complete":
        return Check("sync", "pass", f"spike found in {stats.batches} of {stats.batches} "
                     f"batches at the first attempt; {where}")  # fmt: skip
    reasons = "; ".join(sorted(set(stats.reasons))) or str(result.error)
    status = "warn" if result.status == "complete" else "fail"
    return Check(
        "sync",
        status,
        f"{stats.rejected} readouts without a usable spike in {stats.batches} batches "
        f"({reasons}); {where}",
    )


def _timing_check(dev: Any, test: SamplingConfig, durations: np.ndarray) -> Check:
    if durations.size == 0:
        return Check("read timing", "fail", "no batch completed")
    plan = getattr(dev, "plan", None)
    points = plan.write_points(test.batch_points + 2 * test.ramp_points) if plan else (
        test.batch_points + 2 * test.ramp_points
    )  # fmt: skip
    nominal = points / test.fs
    timeout = plan.timeout_s if plan else nominal * 1.1 + 2.0
    worst, median = float(durations.max()), float(np.median(durations))
    detail = (
        f"median {median:.3f} s, slowest {worst:.3f} s per batch of {nominal:.3f} s "
        f"(timeout {timeout:.3g} s)"
    )
    if worst > timeout:
        return Check("read timing", "fail", detail)
    if getattr(dev, "kind", "") == "nidaq" and median > nominal * SLOW_BATCH_FACTOR + (
        SLOW_BATCH_MARGIN_S
    ):
        return Check("read timing", "warn", detail + "; slow: check the USB/Ethernet link")
    return Check("read timing", "pass", detail)


def _readout_check(test: SamplingConfig, outputs: np.ndarray) -> Check:
    if outputs.size == 0:
        return Check("readout", "fail", "no readout recorded")
    if not np.isfinite(outputs).all():
        return Check("readout", "fail", "the readout holds NaN or infinite values")
    bp = test.batch_points
    full = saturation_current(test.amplification)
    saturated = (np.abs(outputs) >= 0.99 * full).any(axis=0)
    at_zero = f"at 0 V: {np.round(outputs[:bp].mean(axis=0), 3).tolist()} nA first, " + (
        f"{np.round(outputs[-bp:].mean(axis=0), 3).tolist()} nA last"
    )
    span = f"test waves: {np.round(outputs.min(axis=0), 3).tolist()}.." + (
        f"{np.round(outputs.max(axis=0), 3).tolist()} nA"
    )
    if saturated.any():
        which = ", ".join(test.output_names()[i] for i in np.flatnonzero(saturated))
        return Check(
            "readout",
            "warn",
            f"{which} reaches the ADC limit with small test waves: check the amplification "
            f"and the wiring; {at_zero}; {span}",
        )
    return Check("readout", "pass", f"{at_zero}; {span}")


def _zero_check(dev: Any) -> Check:
    plan = getattr(dev, "plan", None)
    wanted = [c.name for c in plan.zero_channels] if plan else list(dev.activation_channels)
    missing = [c for c in wanted if c not in dev.last_zero]
    if missing:
        return Check("0 V at the end", "fail", f"not driven to 0 V: {', '.join(missing)}")
    return Check("0 V at the end", "pass", f"{len(wanted)} AO channels driven to 0 V last")


def report_path(recording: str | os.PathLike) -> Path:
    """Where the JSON report of a self-test recording lies: beside it."""
    path = Path(recording)
    return path.with_name(path.stem + ".selftest.json")


def _save_report(report: SelftestReport) -> None:
    write_text_atomic(report_path(report.recording), json.dumps(report.to_dict(), indent=2))

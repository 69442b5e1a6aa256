"""The app's one-job Runner: a Stop asked for at any moment of a start reaches that job."""

from __future__ import annotations

from app.runner import Runner
from app.workers import WorkerPool


def until_cancelled(announce, report, token):
    """A job that announces itself and runs until it is cancelled (at most 3 s)."""
    announce("handle", "value")
    return "stopped" if token.wait(3.0) else "never stopped"


def run_once(qtbot, runner: Runner) -> None:
    with qtbot.waitSignal(runner.finished, timeout=5_000):
        runner.start(until_cancelled)
        runner.stop()


def test_a_stop_as_the_state_turns_starting_stops_the_new_job(qtbot):
    """A view that stops on "starting" (before the job's worker was known) is honoured."""
    runner = Runner(WorkerPool(), "job")
    run_once(qtbot, runner)  # a finished worker from before is left in `runner.worker`
    runner.state_changed.connect(lambda state: state == "starting" and runner.stop())
    with qtbot.waitSignal(runner.finished, timeout=5_000) as ended:
        runner.start(until_cancelled)
    assert ended.args == ["stopped"], "the Stop went to the job before"
    assert runner.state == "idle" and not runner.worker.running


def test_stop_before_the_job_announced_itself_and_twice(qtbot):
    runner = Runner(WorkerPool(), "job")
    states: list[str] = []
    runner.state_changed.connect(states.append)
    for _ in range(20):
        with qtbot.waitSignal(runner.finished, timeout=5_000):
            runner.start(until_cancelled)
            runner.stop()
            runner.stop()  # a second click while stopping changes nothing
        assert runner.state == "idle" and not runner.worker.running
    assert states[:3] == ["starting", "stopping", "idle"]

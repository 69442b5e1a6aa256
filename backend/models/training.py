"""Training a surrogate: brainspy-smg's procedure, fast, as a cancellable job.

The procedure (`bspysmg.model.training`): targets are outputs /
amplification, Adam (betas 0.9, 0.75) on the MSE, a training pass per epoch
(batches in a fresh random order), then a validation pass; RMSE in nA =
sqrt(MSE) * amplification; the weights with the best validation RMSE are
kept; at the end every split is scored with them.

What is ours: rows live in memory as tensors and batches are index
selections of a shuffled order (no per-item Dataset or DataLoader); the
step is `backend.models.step` (no autograd bookkeeping, no `.item()`: the
loss is summed on the device and read once per epoch); optional early
stopping; the best checkpoint is also written every `checkpoint_every_s`.

Seeding: one `torch.Generator` seeded with the run's seed draws the split,
the initial weights and each epoch's order, in the same sequence the peer's
global RNG does (random_split, then NeuralNetworkModel, then per epoch the
DataLoader's two draws and the validation loader's one). So the same data,
seed and settings give the peer's split, weights and batch order; on the CPU
the run is deterministic. The global RNG is never used.

Cancelling (CancelToken, Ctrl+C) after at least one epoch keeps the best
checkpoint: the outputs are written for it and `TrainingCancelled` (a
`Cancelled`) carries the result.
"""

from __future__ import annotations

import copy
import math
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.datasets.splits import SPLIT_NAMES, split_sizes
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken, JobControl, JobProgress, ProgressFn
from backend.models.data import TrainingData, load_training_data
from backend.models.evaluate import split_mse
from backend.models.network import SurrogateNetwork
from backend.models.outputs import clear_outputs, finish, refuse_existing, write_checkpoint
from backend.models.run import Checkpointed, Run, rms
from backend.models.settings import TrainingSettings
from backend.models.step import TrainStep, make_optimizer

REPORT_EVERY_S = 0.2


@dataclass(frozen=True)
class EpochProgress(JobProgress):
    """Training progress: `done`/`total` count steps; the loss curves so far (RMSE, nA)."""

    epoch: int = 0  # epochs finished
    epochs: int = 0
    train_nA: tuple[float, ...] = ()
    val_nA: tuple[float, ...] = ()
    best_epoch: int | None = None
    eta_s: float | None = None


class TrainingCancelled(Cancelled):
    """Cancelled after some epochs: `result` is the run finished with the best epoch so far."""

    def __init__(self, result: Any) -> None:
        super().__init__("training cancelled; the best checkpoint so far was kept")
        self.result = result


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when torch sees a GPU, else the CPU; 'cuda' without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SamplelabError(
            "no CUDA GPU is available to torch on this machine",
            "Train with --device cpu (or auto), or install a CUDA build of torch.",
        )
    return torch.device(name)


@contextmanager
def cpu_threads(count: int, device: torch.device) -> Iterator[None]:
    """While training on the CPU: torch's intra-op threads set to `count`, denormals flushed.

    Threads: this network's ops are small (a 256 x 90 matmul is ~20 us); split
    over threads they gain little, and when other programs share the cores,
    OpenMP threads waiting for each other cost far more (measured on a busy
    2-core machine: 122 us per row with 2 threads against 10 with one).
    Denormals: Adam's second moments of idle units decay into denormal floats,
    on which x86 arithmetic is ~25x slower (13 % of a step here); flushed to
    zero they change no weight (the fixtures' runs are identical either way).
    Both are restored afterwards (flushing is per thread, and off by default).
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(before)


def _on(device: torch.device, tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` on `device`: through pinned memory with a non-blocking copy on a GPU."""
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


def _draw(generator: torch.Generator) -> int:
    """One int64 draw, as a DataLoader iterator makes for its base seed or its sampler."""
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator))


def split_rows(data: TrainingData, settings: TrainingSettings, g: torch.Generator) -> dict:
    """Split name -> row indices: the files' own splits, or a random split drawn from `g`."""
    if data.given is not None:
        if "train" not in data.given:
            raise SamplelabError("the datasets hold no training split")
        return {k: torch.from_numpy(v) for k, v in data.given.items() if len(v)}
    sizes = split_sizes(data.n_rows, settings.split)
    if len(sizes) == 1:
        return {"train": torch.arange(data.n_rows)}
    perm = torch.randperm(data.n_rows, generator=g)
    bounds = np.cumsum([0, *sizes])
    return {
        SPLIT_NAMES[i]: perm[bounds[i] : bounds[i + 1]]
        for i in range(len(sizes))
        if bounds[i + 1] > bounds[i]
    }


def prepare(
    data: TrainingData, settings: TrainingSettings, out_dir: str | os.PathLike
) -> tuple[Run, torch.Generator]:
    """The run before its first epoch: split, network, optimiser, tensors on the device."""
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**32)
    device = resolve_device(settings.device)
    g = torch.Generator().manual_seed(seed)
    rows = split_rows(data, settings, g)
    if settings.patience is not None and "validation" not in rows:
        raise SamplelabError("early stopping (patience) needs a validation split")
    net = SurrogateNetwork(settings.structure(data.d_in, data.d_out), g).to(device)
    adam = make_optimizer(net, settings.learning_rate)
    run = Run(
        settings=settings,
        data=data,
        out_dir=Path(out_dir),
        seed=seed,
        device=device,
        net=net,
        adam=adam,
        rows=rows,
        amp32=torch.tensor(data.amplification, dtype=torch.float32),
        x=_on(device, torch.from_numpy(data.inputs)),
        y=_on(device, torch.from_numpy(data.targets)),
    )
    return run, g


def _snapshot(run: Run, epoch: int) -> Checkpointed:
    state = {k: v.detach().clone() for k, v in run.net.state_dict().items()}
    val = run.val_nA[-1] if run.val_nA else torch.full_like(run.amp32, math.inf)
    return Checkpointed(epoch, state, copy.deepcopy(run.adam.state_dict()), val)


def train_epochs(
    run: Run,
    g: torch.Generator,
    control: JobControl,
    checkpoint_every_s: float | None = 60.0,
) -> None:
    """Run epochs until done, early stopping or cancel (which raises `Cancelled`)."""
    s = run.settings
    device, batch, x, y = run.device, s.batch_size, run.x, run.y
    train_rows = run.rows["train"]
    val_rows = _on(device, run.rows["validation"]) if run.has_validation else None
    n_train = len(train_rows)
    steps_per_epoch = -(-n_train // batch)
    total_steps = steps_per_epoch * s.epochs
    step = TrainStep(run.net, run.adam)
    best_nA = math.inf
    last_write, written = time.monotonic(), None  # when, and which best epoch, was written
    last_report = 0.0
    for epoch in range(s.epochs):
        started, cpu = time.perf_counter(), time.process_time()
        _draw(g)  # the training loader's base seed
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(_draw(g)))
        order = _on(device, train_rows[order])
        xs, ys = x.index_select(0, order), y.index_select(0, order)  # one gather, batches are views
        run.net.train()
        total = torch.zeros((), dtype=torch.float64, device=device)
        for i, a in enumerate(range(0, n_train, batch)):
            control.check()
            loss = step(xs[a : a + batch], ys[a : a + batch])
            total += loss.double() * min(batch, n_train - a)
            now = time.monotonic()
            if now - last_report > REPORT_EVERY_S:
                last_report = now
                _report(run, control, epoch * steps_per_epoch + i + 1, total_steps)
        run.train_nA.append(run.amp32 * math.sqrt(total.item() / n_train))
        run.train_curve.append(rms(run.train_nA[-1]))
        if val_rows is not None:
            _draw(g)  # the validation loader's base seed
            mse = split_mse(run.net, x, y, val_rows, batch).item()
            run.val_nA.append(run.amp32 * math.sqrt(mse))
            run.val_curve.append(rms(run.val_nA[-1]))
            if float(run.val_nA[-1].mean()) < best_nA:
                best_nA = float(run.val_nA[-1].mean())
                run.best = _snapshot(run, epoch)
        else:  # no validation split: the peer keeps the last epoch
            run.best = _snapshot(run, epoch)
        run.epoch_s.append(time.perf_counter() - started)
        run.epoch_cpu_s.append(time.process_time() - cpu)
        due = checkpoint_every_s is not None and time.monotonic() - last_write > checkpoint_every_s
        if due and run.best is not None and run.best.epoch != written:
            write_checkpoint(run, with_test=False)  # a crash keeps the best epoch so far
            last_write, written = time.monotonic(), run.best.epoch
        now = time.monotonic()
        if now - last_report > REPORT_EVERY_S or epoch == s.epochs - 1:
            last_report = now  # the curves carry every epoch: no report is needed for each
            _report(run, control, (epoch + 1) * steps_per_epoch, total_steps)
        if s.patience is not None and run.best is not None and epoch - run.best.epoch >= s.patience:
            run.status = "early_stopped"
            return
    run.status = "complete"


def _report(run: Run, control: JobControl, done: int, total: int) -> None:
    if control.progress is None:
        return
    epochs = len(run.train_nA)
    eta = None
    if run.epoch_s:
        eta = (run.settings.epochs - epochs) * float(np.mean(run.epoch_s[-5:]))
    control.progress(
        EpochProgress(
            "training",
            done,
            total,
            epoch=epochs,
            epochs=run.settings.epochs,
            train_nA=tuple(run.train_curve),
            val_nA=tuple(run.val_curve),
            best_epoch=None if run.best is None else run.best.epoch,
            eta_s=eta,
        )
    )


def train_surrogate(
    datasets: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    settings: TrainingSettings | None = None,
    *,
    trust_pickle: bool = False,
    overwrite: bool = False,
    checkpoint_every_s: float | None = 60.0,
    figures: bool = True,
    data: TrainingData | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Train on `datasets`, write `training_data.pt`, figures and summary into `out_dir`.

    Returns a `backend.models.outputs.TrainingResult` (`figures=False`: no PNGs,
    for scripts and tests that only need the numbers). Raises
    `TrainingCancelled` (with the result of the best epoch so far) when
    cancelled after an epoch, plain `Cancelled` before.
    """
    settings = (settings or TrainingSettings()).check()
    control = JobControl(progress, cancel)
    refuse_existing(out_dir, overwrite)
    if data is None:
        data = load_training_data(
            datasets, settings.steps, trust_pickle=trust_pickle, progress=progress, cancel=cancel
        )
    run, g = prepare(data, settings, out_dir)
    out = Path(out_dir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    clear_outputs(out)
    with cpu_threads(settings.threads, run.device):
        try:
            train_epochs(run, g, control, checkpoint_every_s)
        except Cancelled:
            run.status = "cancelled"
            if run.train_nA:
                raise TrainingCancelled(finish(run, figures)) from None
            _remove_empty(out, created)
            raise
        except BaseException:
            _remove_empty(out, created)
            raise
        return finish(run, figures)


def _remove_empty(out: Path, created: bool) -> None:
    """Undo the folder a run made if it holds nothing (a periodic checkpoint stays)."""
    if created and out.is_dir() and not any(out.iterdir()):
        out.rmdir()

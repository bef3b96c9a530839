"""Evaluations on a snapshot of the model in a worker thread, while the trainer goes on stepping."""
from __future__ import annotations

import copy
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import torch
from torch import nn

from ..models import SequenceModel
from ..tasks import Task

if TYPE_CHECKING:
    from .trainer import Trainer


def lower_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux: a thread id is a process id to setpriority), so that
    where runs already use every core an evaluation yields to training; it still runs, and the trainer waits for
    it before the next one. Elsewhere nothing changes."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + 10))
    except (AttributeError, OSError):
        pass


def weights_finite(model: nn.Module) -> bool:
    """Whether every weight is finite (one fused norm per tensor, one host sync)."""
    tensors = [t for t in model.parameters() if t.is_floating_point()]
    return bool(torch.stack(torch._foreach_norm(tensors)).isfinite().all()) if tensors else True


class BackgroundEvaluations:
    """Evaluations on a snapshot of the model, in one worker thread, while the trainer goes on stepping.

    The snapshot is a deep copy taken between two steps, so a record describes exactly the weights
    after its step, as an evaluation on the live model would; torch releases the GIL inside its
    kernels, so the worker uses a core the single-threaded training loop leaves idle. One
    evaluation runs at a time: when the next falls due before the last has finished, the trainer
    waits for it (a snapshot per step would pile up). Nothing here reads the global random
    generator, so training's own randomness (dropout, batches) is the same as with inline evaluation.
    """

    def __init__(self, trainer: "Trainer", task: Task, probe: dict) -> None:
        self.trainer, self.task, self.probe = trainer, task, probe
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluation")
        self.pending: list[Future] = []

    def submit(self, step: int) -> None:
        self._wait_for_running()
        trainer = self.trainer
        snapshot = self._snapshot(trainer.model)
        if snapshot is None:  # evaluate the live model now instead
            done: Future = Future()
            done.set_result(trainer.evaluate(self.task, self.probe, step))
            self.pending.append(done)
            return
        gates = trainer.take_gate_stats()
        snapshot.core.record_gates(False)
        threads = torch.get_num_threads()
        copied = copy_done(trainer.device)
        self.pending.append(self.worker.submit(self._run, snapshot, step, gates, threads, copied))

    @staticmethod
    def _snapshot(model: SequenceModel) -> SequenceModel | None:
        """A copy of the weights after this step, in a model the trainer never touches; None where the live model
        must be evaluated instead: diverged weights (so the run ends at this very step), or a model holding
        non-leaf tensors, which deepcopy refuses."""
        if not weights_finite(model):
            return None
        try:
            return copy.deepcopy(model)
        except RuntimeError:
            return None

    def _run(self, snapshot: SequenceModel, step: int, gates: dict, threads: int, copied) -> dict:
        torch.set_num_threads(threads)
        lower_priority()
        with side_stream(self.trainer.device, copied):
            return self.trainer.evaluation_record(snapshot, self.task, self.probe, step, gates)

    def _wait_for_running(self) -> None:
        for future in self.pending:
            future.exception()  # blocks until done; the result (or the error) is taken by `finished`

    def finished(self) -> list[dict]:
        """The records of the evaluations that have finished, oldest first (an error in one is raised here)."""
        done = []
        while self.pending and self.pending[0].done():
            done.append(self.pending.pop(0).result())
        return done

    def close(self) -> list[dict]:
        """Wait for the evaluations still running and return their records."""
        self._wait_for_running()
        records = self.finished()
        self.worker.shutdown(wait=True)
        return records


def copy_done(device: torch.device):
    """On a CUDA device, an event after the snapshot's copy kernels (queued on the training thread's stream)."""
    if device.type != "cuda":
        return None
    event = torch.cuda.Event()
    event.record()
    return event


@contextmanager
def side_stream(device: torch.device, copied) -> Iterator[None]:
    """On a CUDA device, the evaluation's kernels go to a stream of their own, so the GPU can run them beside
    the training steps' instead of queueing them in between. The stream starts after the snapshot's copy
    (`copied`), and has finished everything before the snapshot is freed (its memory came from the training
    stream's pool). Elsewhere nothing changes."""
    if device.type != "cuda":
        yield
        return
    stream = torch.cuda.Stream(device)
    stream.wait_event(copied)
    try:
        with torch.cuda.stream(stream):
            yield
    finally:
        stream.synchronize()

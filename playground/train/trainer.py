"""The training loop. It knows no model insides (only the model contract) and no UI: it reports
through callbacks, and anything may ask it to stop or change its clipping between steps."""
from __future__ import annotations

import copy
import math
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn

from ..config import CLIP_MODES, ConfigError, TrainConfig
from ..models import SequenceModel
from ..models.inference import map_state
from ..tasks import Task
from . import diagnostics


class Callback:
    """Override what you need. Every hook gets the trainer first (for `trainer.model`, `set_clipping`...)."""

    def on_start(self, trainer: "Trainer", info: dict) -> None: ...
    def before_step(self, trainer: "Trainer", step: int) -> None: ...
    def on_step(self, trainer: "Trainer", record: dict) -> None: ...
    def on_eval(self, trainer: "Trainer", record: dict) -> None: ...
    def on_checkpoint(self, trainer: "Trainer", step: int) -> None: ...
    def on_end(self, trainer: "Trainer", result: "TrainResult") -> None: ...


@dataclass
class TrainResult:
    status: str  # completed | stopped | diverged
    steps: int  # optimisation steps taken
    message: str = ""  # for diverged runs: what went non-finite, and where
    history: list[dict] = field(default_factory=list)  # every step record
    evals: list[dict] = field(default_factory=list)  # every evaluation record


def make_optimizer(cfg: TrainConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def detach_state(state):
    """Cut the graph at a batch boundary (truncated BPTT) while keeping the values."""
    return map_state(state, torch.Tensor.detach)


class Trainer:
    def __init__(self, cfg: TrainConfig, device: torch.device | str = "cpu") -> None:
        cfg.validate()
        self.cfg = cfg
        self.device = torch.device(device)
        self.clip_mode, self.clip_threshold = cfg.clip, cfg.clip_threshold
        self.model: SequenceModel | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.step = 0
        self.headline_keys: list[str] = []  # the task's headline metric(s), for progress displays

    def set_clipping(self, mode: str, threshold: float) -> None:
        """Change gradient clipping; it applies from the next step on."""
        if mode not in CLIP_MODES:
            raise ConfigError(f"clip must be one of {', '.join(CLIP_MODES)}")
        if mode != "none" and not threshold > 0:
            raise ConfigError("clip_threshold must be positive")
        self.clip_mode, self.clip_threshold = mode, float(threshold)

    def clip_gradients(self, params: list[nn.Parameter], total_norm: float) -> tuple[float, bool]:
        """Apply the current clipping to gradients whose global norm is `total_norm`.
        Returns (global norm after clipping, whether anything was clipped).

        norm:  scale all gradients by thr / (norm + 1e-6) when norm > thr (torch's clip_grad_norm_)
        value: clamp every element to [-thr, thr] (char-rnn's grad_clip)
        """
        grads = [p.grad for p in params if p.grad is not None]
        if self.clip_mode == "norm":
            coef = self.clip_threshold / (total_norm + 1e-6)
            if coef < 1.0:
                torch._foreach_mul_(grads, coef)
                return total_norm * coef, True
            return total_norm, False
        if self.clip_mode == "value":
            thr = self.clip_threshold
            clipped = any(bool((g.abs() > thr).any()) for g in grads)
            if clipped:
                torch._foreach_clamp_min_(grads, -thr)
                torch._foreach_clamp_max_(grads, thr)
                after = torch.stack(torch._foreach_norm(grads)).double().norm().item()
                return after, True
            return total_norm, False
        return total_norm, False

    def fit(self, model: SequenceModel, task: Task, callbacks: Iterable[Callback] = (),
            should_stop: Callable[[], bool] = lambda: False) -> TrainResult:
        cfg = self.cfg
        callbacks = list(callbacks)
        self.model = model.to(self.device)
        self.optimizer = make_optimizer(cfg, model.parameters())
        named = list(model.named_parameters())
        params = [p for _, p in named]
        generator = torch.Generator().manual_seed(cfg.seed)
        batches = task.train_batches(cfg.batch_size, cfg.seq_len, generator)
        probe = self._to_device(task.probe_batch(cfg.batch_size, cfg.seq_len))
        tracks_gates = model.core.record_gates(True)
        self.headline_keys = [task.headline_metric]
        result = TrainResult("completed", 0)
        info = {"device": str(self.device), "parameters": sum(p.numel() for p in params), "gate_stats": tracks_gates}
        for cb in callbacks:
            cb.on_start(self, info)

        model.train()
        # Evaluations that cannot change the run's course run on a snapshot in a worker thread while training
        # goes on; a run that stops when solved must see each verdict before its next step, so it waits for it.
        background = BackgroundEvaluations(self, task, probe) if cfg.eval_in_background and not cfg.stop_when_solved else None
        state, started = None, time.perf_counter()
        for step in range(1, cfg.steps + 1):
            if should_stop():
                result.status = "stopped"
                break
            self.step = step
            for cb in callbacks:
                cb.before_step(self, step)
            tick = time.perf_counter()
            batch = next(batches)
            if batch.pop("new_stream", True):
                state = None
            batch = self._to_device(batch)
            # a model with a closed-form readout (an echo state network) learns from the batch without gradients
            out = model(batch, state) if model.trains_by_gradient else model.learn(batch, state)
            state = detach_state(out.state) if task.carries_state else None
            self.optimizer.zero_grad(set_to_none=True)
            if model.trains_by_gradient:
                out.loss.backward()
            loss = out.loss.item()
            norm, layer_norms = diagnostics.grad_norms(named)  # (0.0, {}) without gradients: nothing is clipped
            finite = math.isfinite(loss) and math.isfinite(norm)
            after, clipped = self.clip_gradients(params, norm) if finite else (norm, False)
            if finite:
                self.optimizer.step()
            seconds = time.perf_counter() - tick
            tokens = task.batch_tokens(batch)
            record = {
                "step": step, "loss": loss, "grad_norm": norm, "grad_norm_clipped": after, "clipped": clipped,
                "clip": self.clip_mode, "clip_threshold": self.clip_threshold, "layer_norms": layer_norms,
                "lr": self.optimizer.param_groups[0]["lr"], "tokens_per_s": tokens / max(seconds, 1e-9),
                "time": time.perf_counter() - started,
                "trains_by_gradient": model.trains_by_gradient,  # False: grad norms are 0 and clipping does not apply
            }
            result.history.append(record)
            result.steps = step
            for cb in callbacks:
                cb.on_step(self, record)
            if not finite:
                what = "loss" if not math.isfinite(loss) else "gradient norm"
                result.status = "diverged"
                result.message = (f"the {what} became {loss if what == 'loss' else norm} at step {step}: "
                                  "training diverged. Clip the gradients or lower the learning rate.")
                break
            due = step == 1 or step % cfg.eval_every == 0 or step == cfg.steps
            if background is not None:
                if due:
                    background.submit(step)
                finished = background.finished()
            else:
                finished = [self.evaluate(task, probe, step)] if due else []
            if self._take_evaluations(finished, result, callbacks):
                break
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                for cb in callbacks:
                    cb.on_checkpoint(self, step)

        if background is not None:  # evaluations still running: their records belong to this run
            self._take_evaluations(background.close(), result, callbacks)
        model.core.record_gates(False)
        if result.status == "stopped" and result.steps:
            for cb in callbacks:
                cb.on_checkpoint(self, result.steps)
        for cb in callbacks:
            cb.on_end(self, result)
        return result

    def _take_evaluations(self, records: list[dict], result: TrainResult, callbacks: list[Callback]) -> bool:
        """Report finished evaluations; True when one of them ends the run (divergence, or solved)."""
        for record in records:
            step = record["step"]
            result.evals.append(record)
            for cb in callbacks:
                cb.on_eval(self, record)
            if not math.isfinite(record.get("val_loss", 0.0)):  # that step's update made the weights non-finite
                result.status = "diverged"
                noticed = f" (its evaluation finished at step {self.step})" if self.step != step else ""
                result.message = (f"the validation loss became {record['val_loss']} after step {step}{noticed}: "
                                  "training diverged. Clip the gradients or lower the learning rate.")
                return True
            if self.cfg.stop_when_solved and record.get("solved"):  # the task's held-out metric passed its threshold
                result.message = f"solved at step {step}: stopped early (stop_when_solved)"
                for cb in callbacks:
                    cb.on_checkpoint(self, step)
                return True
        return False

    def take_gate_stats(self) -> dict:
        """The gate statistics since the last evaluation, starting a fresh window (scratch backend only)."""
        core = self.model.core
        gates = core.gate_stats()
        if gates:
            core.record_gates(True)
        return gates

    def evaluate(self, task: Task, probe: dict, step: int) -> dict:
        """Validation metrics, a sample, block radii, the state Jacobian's readouts, gradient flow and gate statistics,
        measured on the live model."""
        gates = self.take_gate_stats()
        self.model.core.record_gates(False)  # the probe and the sample must not count as training activity
        try:
            return self.evaluation_record(self.model, task, probe, step, gates)
        finally:
            if gates:
                self.model.core.record_gates(True)

    def evaluation_record(self, model: SequenceModel, task: Task, probe: dict, step: int, gates: dict) -> dict:
        """Everything an evaluation measures on `model` (the live model, or a snapshot of it)."""
        cfg = self.cfg
        record = {"step": step, **task.evaluate(model, cfg.batch_size, cfg.seq_len, cfg.eval_batches)}
        if not math.isfinite(record.get("val_loss", 0.0)):  # diverged weights: sampling from NaN probabilities would fail
            return record
        record["gradient_flow"] = diagnostics.gradient_flow(model, probe)
        record["flow_causal"] = model.causal_flow  # whether a decay rate per step of that flow means anything
        record["spectral_radius"] = diagnostics.spectral_radii(model)  # the block radius (candidate block if gated)
        record["eigenvalues"] = diagnostics.eigenvalues(model)  # of the same blocks, [re, im] pairs: the unit-circle view
        record.update(diagnostics.block_singular_values_and_jacobian(model, probe))  # jacobian_radius, growth, ...
        record.update(model.diagnostics(probe))  # the model's own (an ESN's echo-state check, a decoder's attention)
        if "attention_map" in record:
            record["attention_labels"] = task.attention_labels(probe)
        generator = torch.Generator().manual_seed(cfg.seed + step)
        record["sample"] = task.sample(model, length=cfg.sample_length, temperature=cfg.sample_temperature,
                                       generator=generator)["text"]
        if gates:
            record["gate_stats"] = gates
        return record

    def _to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


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

    def __init__(self, trainer: Trainer, task: Task, probe: dict) -> None:
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
        self.pending.append(self.worker.submit(self._run, snapshot, step, gates, threads))

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

    def _run(self, snapshot: SequenceModel, step: int, gates: dict, threads: int) -> dict:
        torch.set_num_threads(threads)
        lower_priority()
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

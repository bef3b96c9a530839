"""The training loop. It knows no model insides (only the model contract) and no UI: it reports
through callbacks, and anything may ask it to stop or change its clipping between steps."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import Tensor, nn

from ..config import CLIP_MODES, ConfigError, TrainConfig
from ..models import SequenceModel
from ..models.inference import map_state
from ..tasks import Task
from . import diagnostics
from .background import BackgroundEvaluations
from .penalties import Penalties
from .step_scalars import READ_EVERY, READ_SECONDS, PendingStep, StepScalars


class Callback:
    """Override what you need. Every hook gets the trainer first (for `trainer.model`, `set_clipping`...).

    `before_step` comes before every step. `on_step` gets the step records a window at a time (the trainer reads
    each step's numbers back from the device in batches, see `step_scalars`): the last record of a window is that
    of the step just taken, and every record comes before any evaluation, checkpoint or the end that follows it."""

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
        self.read_every, self.read_seconds = READ_EVERY, READ_SECONDS  # how often step scalars are read back

    def set_clipping(self, mode: str, threshold: float) -> None:
        """Change gradient clipping; it applies from the next step on."""
        if mode not in CLIP_MODES:
            raise ConfigError(f"clip must be one of {', '.join(CLIP_MODES)}")
        if mode != "none" and not threshold > 0:
            raise ConfigError("clip_threshold must be positive")
        self.clip_mode, self.clip_threshold = mode, float(threshold)

    def clip_gradients(self, params: list[nn.Parameter], total_norm: Tensor) -> Tensor:
        """Apply the current clipping in place to the gradients of `params`, whose global norm is `total_norm`
        (a tensor), without reading anything back to the host. Returns what `step_scalars.clip_outcome` needs to
        tell afterwards what it did (float64, on the device): nothing for norm and none; for value
        [max |g| before, sum of squares after].

        norm:  scale all gradients by thr / (norm + 1e-6) when norm > thr (torch's clip_grads_with_norm_:
               it multiplies by the coefficient clamped to 1, which leaves unclipped gradients exactly as they were)
        value: clamp every element to [-thr, thr] (char-rnn's grad_clip; a clamp within the bounds changes nothing)
        """
        readout = total_norm.new_zeros(0, dtype=torch.float64)
        grads = [p.grad for p in params if p.grad is not None]
        if not grads or self.clip_mode == "none":
            return readout
        if self.clip_mode == "norm":
            # the coefficient in the gradients' precision, as clip_grad_norm_ computes it (and a CUDA foreach fast path)
            nn.utils.clip_grads_with_norm_(params, self.clip_threshold, total_norm.to(grads[0].dtype))
            return readout
        thr = self.clip_threshold
        largest = torch.stack(torch._foreach_norm(grads, float("inf"))).max().double()
        torch._foreach_clamp_min_(grads, -thr)
        torch._foreach_clamp_max_(grads, thr)
        after = torch.stack(torch._foreach_norm(grads)).double().pow(2).sum()
        return torch.stack([largest, after])

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
        penalties = Penalties(cfg, model)  # a penalty that cannot apply to this cell or backend is a ConfigError
        self.headline_keys = [task.headline_metric]
        result = TrainResult("completed", 0)
        info = {"device": str(self.device), "parameters": sum(p.numel() for p in params), "gate_stats": tracks_gates}
        for cb in callbacks:
            cb.on_start(self, info)

        model.train()
        # Evaluations that cannot change the run's course run on a snapshot in a worker thread while training
        # goes on; a run that stops when solved must see each verdict before its next step, so it waits for it.
        background = BackgroundEvaluations(self, task, probe) if cfg.eval_in_background and not cfg.stop_when_solved else None
        # each step's scalars stay on the device and are read a window at a time (no host sync per step)
        scalars = StepScalars(named, self.read_every, self.read_seconds)
        state, started = None, time.perf_counter()
        for step in range(1, cfg.steps + 1):
            if should_stop():
                if not self._report_steps(scalars, result, callbacks):  # a divergence among them ends it instead
                    result.status = "stopped"
                break
            self.step = step
            for cb in callbacks:
                cb.before_step(self, step)
            tick = time.perf_counter()
            batch = next(batches)
            if batch.pop("new_stream", True):
                state = None
            tokens = task.batch_tokens(batch)  # counted on the host's copy: on the device it would wait for the GPU
            batch = self._to_device(batch)
            try:
                state, values, with_grad, penalty_names = self._train_step(model, task, batch, state, params, penalties)
            except Exception:
                # an earlier step not yet read may have made the weights non-finite, and this one failed on them
                # (a linear solve, sampling): that divergence is what ended the run
                if self._report_steps(scalars, result, callbacks):
                    break
                raise
            scalars.add(PendingStep(
                step=step, values=values, grads=with_grad, clip=self.clip_mode, clip_threshold=self.clip_threshold,
                lr=self.optimizer.param_groups[0]["lr"], tokens=tokens, seconds=time.perf_counter() - tick,
                time=time.perf_counter() - started, trains_by_gradient=model.trains_by_gradient, penalties=penalty_names))
            due = step == 1 or step % cfg.eval_every == 0 or step == cfg.steps
            checkpoint_due = step % cfg.checkpoint_every == 0 or step == cfg.steps
            if due or checkpoint_due or scalars.due():  # what follows must see this step's record first
                if self._report_steps(scalars, result, callbacks):
                    break
            if background is not None:
                if due:
                    background.submit(step)
                finished = background.finished()
                if finished and self._report_steps(scalars, result, callbacks):  # steps come before evaluations
                    break
            else:
                finished = [self.evaluate(task, probe, step)] if due else []
            if self._take_evaluations(finished, result, callbacks):
                break
            if checkpoint_due:
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

    def _train_step(self, model: SequenceModel, task: Task, batch: dict, state, params: list[nn.Parameter],
                    penalties: Penalties):
        """One optimisation step, queued without a host sync: (state to carry, the step's scalars (float64 on the
        device: loss, squared gradient norms, clipping readout), indices of the parameters with a gradient).

        A step whose loss or gradients are non-finite is still applied (skipping it would need their values on
        the host now). The window is read before any evaluation, checkpoint or end, so the run ends as diverged
        at that step with the records up to it, and no checkpoint or evaluation sees the weights it spoilt
        (the live model after a diverged run may hold them)."""
        # a model with a closed-form readout (an echo state network) learns from the batch without gradients
        penalties.before_forward()
        out = model(batch, state) if model.trains_by_gradient else model.learn(batch, state)
        state = detach_state(out.state) if task.carries_state else None
        self.optimizer.zero_grad(set_to_none=True)
        penalty_values: dict[str, torch.Tensor] = {}
        if model.trains_by_gradient:
            objective, penalty_values = penalties.objective(out.loss) if penalties.active else (out.loss, {})
            objective.backward()
        with_grad, squares, loss = StepScalars.measure(out.loss, params)
        readout = self.clip_gradients(params, squares.sum().sqrt())
        if with_grad:
            self.optimizer.step()
        extra = [value.double().reshape(1) for value in penalty_values.values()]  # read with the rest, last
        return state, torch.cat([loss, squares, readout, *extra]), with_grad, tuple(penalty_values)

    def _report_steps(self, scalars: StepScalars, result: TrainResult, callbacks: list[Callback]) -> bool:
        """Read the pending steps and report them; True when one was non-finite: the run ends there as diverged,
        and the steps after it (run before it was read) are dropped."""
        for record in scalars.read():
            if result.status == "diverged":
                continue
            result.history.append(record)
            result.steps = record["step"]
            for cb in callbacks:
                cb.on_step(self, record)
            loss, norm = record["loss"], record["grad_norm"]
            if not (math.isfinite(loss) and math.isfinite(norm)):
                what = "loss" if not math.isfinite(loss) else "gradient norm"
                result.status = "diverged"
                result.message = (f"the {what} became {loss if what == 'loss' else norm} at step {record['step']}: "
                                  "training diverged. Clip the gradients or lower the learning rate.")
                self.step = record["step"]
        return result.status == "diverged"

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

"""The training loop. It knows no model insides (only the model contract) and no UI: it reports
through callbacks, and anything may ask it to stop or change its clipping between steps."""
from __future__ import annotations

import math
import time
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
            if step == 1 or step % cfg.eval_every == 0 or step == cfg.steps:
                record = self.evaluate(task, probe, step)
                result.evals.append(record)
                for cb in callbacks:
                    cb.on_eval(self, record)
                if not math.isfinite(record.get("val_loss", 0.0)):  # this step's update made the weights non-finite
                    result.status = "diverged"
                    result.message = (f"the validation loss became {record['val_loss']} after step {step}: "
                                      "training diverged. Clip the gradients or lower the learning rate.")
                    break
                if cfg.stop_when_solved and record.get("solved"):  # the task's held-out metric passed its threshold
                    result.message = f"solved at step {step}: stopped early (stop_when_solved)"
                    for cb in callbacks:
                        cb.on_checkpoint(self, step)
                    break
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                for cb in callbacks:
                    cb.on_checkpoint(self, step)

        model.core.record_gates(False)
        if result.status == "stopped" and result.steps:
            for cb in callbacks:
                cb.on_checkpoint(self, result.steps)
        for cb in callbacks:
            cb.on_end(self, result)
        return result

    def evaluate(self, task: Task, probe: dict, step: int) -> dict:
        """Validation metrics, a sample, block radii, the state Jacobian's readouts, gradient flow and gate statistics."""
        model, cfg = self.model, self.cfg
        gates = model.core.gate_stats()
        model.core.record_gates(False)  # the probe and the sample must not count as training activity
        record = {"step": step, **task.evaluate(model, cfg.batch_size, cfg.seq_len, cfg.eval_batches)}
        if not math.isfinite(record.get("val_loss", 0.0)):  # diverged weights: sampling from NaN probabilities would fail
            return record
        record["gradient_flow"] = diagnostics.gradient_flow(model, probe)
        record["flow_causal"] = model.causal_flow  # whether a decay rate per step of that flow means anything
        record["spectral_radius"] = diagnostics.spectral_radii(model)  # the block radius (candidate block if gated)
        record.update(diagnostics.block_singular_values_and_jacobian(model, probe))  # jacobian_radius, growth, ...
        record.update(model.diagnostics(probe))  # the model's own (an ESN's echo-state check)
        generator = torch.Generator().manual_seed(cfg.seed + step)
        record["sample"] = task.sample(model, length=cfg.sample_length, temperature=cfg.sample_temperature,
                                       generator=generator)["text"]
        if gates:
            record["gate_stats"] = gates
            model.core.record_gates(True)  # a fresh window of statistics until the next evaluation
        return record

    def _to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

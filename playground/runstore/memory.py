"""Will a run fit in memory? An estimate made before anything large is allocated.

Parameters are counted exactly by building the model on torch's "meta" device (shapes, no storage);
training memory adds gradients and the optimiser's two moment buffers (Adam: 4 copies of the
parameters in all) and the activations backpropagation through time keeps: every time step of every
layer's gate pre-activations and states, the embedded inputs and the output scores, for the batch.
The estimate errs high (a factor for the allocator's slack and temporaries), so a refusal means a run
that would have come close to the limit; a run that passes is not guaranteed, but no longer dies with
a bare allocation failure halfway into building.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch

from ..config import ConfigError, RunConfig

BYTES_PER_VALUE = 4  # float32
OPTIMISER_COPIES = 4  # weights + gradients + two moment buffers (Adam; SGD with momentum and RMSprop need fewer)
SLACK = 1.5  # the allocator's fragmentation and a step's temporaries


@dataclass
class MemoryEstimate:
    parameters: int  # learned and fixed numbers in the model
    parameter_bytes: int  # weights, gradients and optimiser state
    activation_bytes: int  # what one training step keeps for backpropagation
    total_bytes: int  # both, with slack

    def describe(self) -> str:
        return (f"about {_size(self.total_bytes)} ({self.parameters:,} parameters: {_size(self.parameter_bytes)} "
                f"with gradients and optimiser state; activations of one batch: {_size(self.activation_bytes)})")


def _size(n: float) -> str:
    if n >= 2**40:
        return f"{n / 2**40:,.0f} TiB"
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def count_parameters(cfg: RunConfig, spec: dict) -> int:
    """Parameters and buffers of the model `cfg` describes, without allocating their storage."""
    from .. import models  # here: models imports config, and this module is imported by the runner

    shapes_only = dataclasses.replace(cfg.model, init="default")  # inits that compute on the weights need data
    try:
        with torch.device("meta"):
            model = models.build(shapes_only, spec)
        return sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    except (NotImplementedError, RuntimeError):  # a model that computes on its weights while building (a reservoir)
        m = cfg.model
        width = m.hidden * (2 if m.bidirectional else 1)
        return m.layers * (2 if m.bidirectional else 1) * 4 * m.hidden * (m.embedding + m.hidden + 2) \
            + _classes(spec) * (m.embedding + width) + 2 * width * width  # embedding, readout, its normal equations


def _classes(spec: dict) -> int:
    """The widest vocabulary or output layer a task's spec names (vocab_size, target_vocab, outputs, ...)."""
    sizes = [v for k, v in spec.items() if isinstance(v, int) and not isinstance(v, bool)
             and any(word in k for word in ("vocab", "outputs", "classes"))]
    return max(sizes, default=1)


def estimate(cfg: RunConfig, spec: dict) -> MemoryEstimate:
    m, t = cfg.model, cfg.train
    parameters = count_parameters(cfg, spec)
    directions = 2 if m.bidirectional else 1
    per_position = (m.layers * directions * m.hidden * 8  # gate pre-activations, gates and states (LSTM: 4 + 4)
                    + m.embedding + 3 * _classes(spec))  # embedded input; scores, their softmax and its gradient
    steps = max(t.seq_len, cfg.task.max_len)  # a decoder also unrolls over its target
    activation_bytes = t.batch_size * steps * per_position * BYTES_PER_VALUE * 2  # forward values + their gradients
    parameter_bytes = parameters * BYTES_PER_VALUE * OPTIMISER_COPIES
    return MemoryEstimate(parameters, parameter_bytes, activation_bytes, int((parameter_bytes + activation_bytes) * SLACK))


def available_bytes(device: torch.device | str = "cpu") -> int | None:
    """Memory a run may use now: free accelerator memory, or the system's MemAvailable (None if unknown)."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    limit = os.environ.get("PLAYGROUND_MEMORY_LIMIT")  # for tests and shared servers: bytes one run may use
    if limit:
        try:
            return int(float(limit))
        except ValueError:
            raise ConfigError(f"PLAYGROUND_MEMORY_LIMIT must be a number of bytes (got {limit!r})") from None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(cfg: RunConfig, spec: dict, device: torch.device | str = "cpu") -> MemoryEstimate:
    """The estimate, or a ConfigError with the estimate and the memory available when it does not fit."""
    needed = estimate(cfg, spec)
    free = available_bytes(device)
    if free is not None and needed.total_bytes > free:
        raise ConfigError(f"this run needs {needed.describe()}, but only {_size(free)} of memory is available: "
                          "use a smaller hidden size, vocabulary, batch or sequence length")
    return needed

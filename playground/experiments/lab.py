"""The gradient lab: experiments on why vanilla RNNs fail on long sequences and what fixes it.

Pure functions that the Gradients page and `python -m playground lab ...` share:

    gradient_flow_at_init(arch, spectral_radius, ...)   no training: ||dL_T/dx_t|| by lag beside radius^lag
    clipping_twins(cfg, ...) / summarize_twins(...)      one model, one seed, one batch order: no clip, by norm, by value
    memory_sweep(cfg, archs, seq_lens) / summarize_sweep(...)   held-out metric against T, the longest T solved
    gate_watch(history)                                  gate histograms and saturation over training (scratch backend)

Experiments that train are lists of `RunConfig`s sharing a `group` label: start them with
`jobs.start` (the app) or `run_in_process` (the CLI), then summarise what the store holds.
"""
from __future__ import annotations

import copy
import math
import secrets
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from ..runstore import jobs, runner
from ..runstore.history import RunHistory, recent_train_loss
from ..runstore.runner import describe_clip
from ..runstore.store import RunRecord, RunStore
from ..tasks import TASKS, task_spec
from ..train import diagnostics

VANISHES_BELOW, EXPLODES_ABOVE = 0.97, 1.03  # fitted per-step factors of the gradient flow that get a verdict


def new_group(kind: str) -> str:
    """A fresh label for runs started together: 'twins-20250101-120000-1a2b'."""
    return f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def runs_in_group(store: RunStore, group: str) -> list[RunRecord]:
    """The runs that share `group`, oldest first."""
    return sorted((r for r in store.list_runs(group_prefix=group) if r.config.group == group), key=lambda r: r.created)


def start_group(store: RunStore, configs: list[RunConfig], owner: str = "") -> list[str]:
    """Start every config as a background job (they queue beyond the parallel-run cap); returns the run ids."""
    return [jobs.start(store, cfg, owner=owner) for cfg in configs]


def run_in_process(store: RunStore, configs: list[RunConfig], callbacks_for=lambda cfg: []) -> list[str]:
    """Record and train the configs one after another in this process (the CLI's way); returns the run ids."""
    run_ids = []
    for cfg in configs:
        runner.prepare(cfg)  # a bad setting fails before anything is recorded
        run_id = store.create_run(cfg)
        runner.execute(store, run_id, list(callbacks_for(cfg)), handle_signals=False)
        run_ids.append(run_id)
    return run_ids


# -- gradient flow at initialisation ----------------------------------------------------------------------
@dataclass
class FlowAtInit:
    arch: str
    spectral_radius: float  # of W_hh (each gate block of it for the LSTM and GRU; the reservoir for an ESN)
    seq_len: int
    flow: list[float]  # ||dL_T/dx_t|| by lag: flow[k] is for t = T - 1 - k (flow[0] is the last step)
    theory: list[float]  # a linearised vanilla RNN: flow[0] * radius^lag
    decay_rate: float | None  # the measured per-step factor (log-linear fit): < 1 vanishes, > 1 explodes
    measured_radius: dict[str, float] = field(default_factory=dict)  # the block radius of each layer's W_hh
    causal: bool = True  # lag is distance back from the loss (False for a bidirectional core: no rate is fitted)
    largest_singular_value: dict[str, float] = field(default_factory=dict)  # of each layer's W_hh block
    jacobian: dict[str, dict] = field(default_factory=dict)  # the state Jacobian's readouts (train/state_jacobian.py)

    @property
    def lags(self) -> list[int]:
        return list(range(len(self.flow)))

    @property
    def verdict(self) -> str:
        """'vanishes', 'explodes' or 'holds', from the fitted per-step factor ('no rate' where lag is not distance)."""
        if not self.causal:
            return "no rate"
        if self.decay_rate is None:
            return "vanishes"  # every gradient underflowed to zero
        if self.decay_rate < VANISHES_BELOW:
            return "vanishes"
        return "explodes" if self.decay_rate > EXPLODES_ABOVE else "holds"

    @property
    def steps_per_decade(self) -> float | None:
        """Lags over which the flow changes tenfold (None when it holds)."""
        if self.decay_rate is None or self.decay_rate <= 0 or abs(math.log10(self.decay_rate)) < 1e-9:
            return None
        return 1.0 / abs(math.log10(self.decay_rate))

    def to_dict(self) -> dict:
        return {"arch": self.arch, "spectral_radius": self.spectral_radius, "seq_len": self.seq_len,
                "flow": self.flow, "theory": self.theory, "decay_rate": self.decay_rate, "verdict": self.verdict,
                "steps_per_decade": self.steps_per_decade, "measured_radius": self.measured_radius,
                "causal": self.causal, "largest_singular_value": self.largest_singular_value, **self.jacobian}


def flow_config(arch: str, spectral_radius: float, seq_len: int = 100, hidden: int = 64, task: str = "adding",
                seed: int = 0, **model_settings) -> RunConfig:
    """The run whose untrained model the gradient-flow experiment probes: W_hh at `spectral_radius`."""
    return RunConfig(task=TaskConfig(name=task),
                     model=ModelConfig(arch=arch, hidden=hidden, init="spectral", spectral_radius=spectral_radius,
                                       **model_settings),
                     train=TrainConfig(seq_len=seq_len, seed=seed, batch_size=8)).validate()


def gradient_flow_at_init(arch: str, spectral_radius: float = 1.0, seq_len: int = 100, hidden: int = 64,
                          task: str = "adding", seed: int = 0, **model_settings) -> FlowAtInit:
    """||dL_T/dx_t|| of an untrained model against the lag T-1-t, beside a linearised vanilla RNN's radius^lag.

    The model is built from `seed` with init "spectral" (W_hh rescaled to `spectral_radius`) and probed
    on up to 8 held-out sequences of the task. For a tanh RNN each step back multiplies the gradient by
    W_hh^T diag(tanh'). The spectral radius alone bounds nothing: for a non-normal W_hh a product of such
    factors can grow even with radius < 1. What guarantees vanishing is a largest singular value of W_hh
    below 1 (|tanh'| <= 1; Pascanu et al. 2013), so both are reported, beside the state Jacobian's measured
    radius and growth per step. radius^lag is the linear, normal-matrix picture the measurement is set against.
    For a ReLU RNN half the units are typically off (ReLU' = 0), so the measured factor is well below radius.
    """
    cfg = flow_config(arch, spectral_radius, seq_len, hidden, task, seed, **model_settings)
    task_obj, model = runner.prepare(cfg)
    probe = task_obj.probe_batch(cfg.train.batch_size, seq_len)
    oldest_first = diagnostics.gradient_flow(model, probe)
    flow = list(reversed(oldest_first))
    theory = [flow[0] * spectral_radius ** lag for lag in range(len(flow))]
    causal = model.causal_flow
    return FlowAtInit(arch, spectral_radius, seq_len, flow, theory,
                      diagnostics.decay_rate(oldest_first) if causal else None, diagnostics.spectral_radii(model),
                      causal, diagnostics.block_singular_values(model), diagnostics.state_jacobian(model, probe))


# -- clipping twins ------------------------------------------------------------------------------------------
CLIP_ORDER = ("none", "norm", "value")


# The twins' own thresholds: by norm at 0.5 (about a fifth of the raw norms of the demo's calm steps, so the
# clipped twin still follows the gradient's direction at a sane step), by value at 0.1.
TWINS_NORM_THRESHOLD, TWINS_VALUE_THRESHOLD = 0.5, 0.1


def twins_demo_config(steps: int = 400, seed: int = 0) -> RunConfig:
    """Pascanu, Mikolov & Bengio (2013) in one run: a ReLU RNN with W_hh = I (IRNN init), 64 units, on the
    temporal-order problem at T=20, SGD with momentum 0.9 at lr 0.1. Its forward pass is tame (the first loss
    is about ln 4), but the first few gradients through 20 identity-like steps are large: unclipped, one of them
    throws the weights off (seed 0: a non-finite loss at step 5); clipped by norm at 0.5, the same batches
    train it to solve the task (held-out accuracy 1.0 against chance 0.25 by step 400)."""
    return RunConfig(task=TaskConfig(name="temporal-order"),
                     model=ModelConfig(arch="rnn-relu", hidden=64, init="identity"),
                     train=TrainConfig(steps=steps, batch_size=32, seq_len=20, optimizer="sgd", lr=0.1, momentum=0.9,
                                       seed=seed, eval_every=max(1, steps // 10), checkpoint_every=steps)).validate()


def forward_overflow(cfg: RunConfig) -> str | None:
    """Why clipping cannot be the lesson of `cfg`, or None. Before any gradient step, the untrained model's loss
    on its first training batch or that loss's gradient is already infinite or NaN: the forward pass overflowed
    (a ReLU RNN at spectral radius 2 over 50 steps reaches a loss near 1e23 and an infinite gradient norm), and
    clipping an infinite gradient gives NaN, so every twin fails at step 1 and none shows what clipping does."""
    task, model = runner.prepare(cfg)
    if not model.trains_by_gradient:
        return None
    generator = torch.Generator().manual_seed(cfg.train.seed)
    batch = next(task.train_batches(cfg.train.batch_size, cfg.train.seq_len, generator))
    batch.pop("new_stream", None)
    output_loss = model(batch).loss
    grads = torch.autograd.grad(output_loss, [p for p in model.parameters() if p.requires_grad], allow_unused=True)
    norm = math.sqrt(sum(float(g.norm()) ** 2 for g in grads if g is not None))  # float32 per tensor, as trained
    loss = float(output_loss.detach())
    if math.isfinite(loss) and math.isfinite(norm):  # the norm as the trainer measures it (float32 per tensor)
        return None
    return (f"before any gradient step the untrained model's loss is {loss:.3g} and its gradient norm "
            f"{norm:.3g} on the first batch: the forward pass overflows, so clipping gradients cannot help "
            f"(every twin would fail at step 1). Lower the spectral radius (now {cfg.model.spectral_radius:g} with "
            f"init {cfg.model.init}), the sequence length or the initialisation's scale, or use rnn-tanh")


def clipping_twins(cfg: RunConfig, norm_threshold: float = TWINS_NORM_THRESHOLD,
                   value_threshold: float = TWINS_VALUE_THRESHOLD, group: str | None = None) -> list[RunConfig]:
    """Three copies of `cfg`, identical (seed included, so the same initial weights and the same batches)
    but for clipping: none, by global norm at `norm_threshold`, by value at `value_threshold`.
    Refuses (ConfigError) settings whose forward pass overflows before any step: see `forward_overflow`."""
    problem = forward_overflow(cfg)
    if problem:
        raise ConfigError(problem)
    group = group or new_group("twins")
    base = cfg.name or cfg.label()
    twins = []
    for mode, threshold in zip(CLIP_ORDER, (cfg.train.clip_threshold, norm_threshold, value_threshold)):
        twin = copy.deepcopy(cfg)
        twin.train.clip, twin.train.clip_threshold = mode, float(threshold)
        twin.name, twin.group = f"{base} · {describe_clip(mode, threshold)}", group
        twins.append(twin.validate())
    return twins


# -- Omega twins: the vanishing-gradient regulariser on and off (train/penalties.py) -------------------------
OMEGA_WEIGHT = 2.0  # Pascanu et al. (2013) used weights of about this size on their tanh RNNs
FIRST_STEPS = 5  # "the first time steps": the gradient flow averaged over t = 0 .. 4, the longest lags


def omega_demo_config(steps: int = 600, seed: int = 0) -> RunConfig:
    """A tanh RNN (32 units, scratch backend: Omega needs each step's state) on the adding problem at T=50,
    Adam at lr 0.001, clipping by norm at 1: long enough for its gradient to vanish before the first steps."""
    return RunConfig(task=TaskConfig(name="adding", test_sequences=256),
                     model=ModelConfig(arch="rnn-tanh", hidden=32, backend="scratch"),
                     train=TrainConfig(steps=steps, batch_size=32, seq_len=50, lr=1e-3, seed=seed,
                                       eval_every=max(1, steps // 10), checkpoint_every=steps)).validate()


def omega_twins(cfg: RunConfig, weight: float = OMEGA_WEIGHT, group: str | None = None) -> list[RunConfig]:
    """Two copies of `cfg`, identical (seed, so the same initial weights and batches) but for Omega: off, and on
    with `weight`. The backend is the scratch one in both, so only the penalty differs."""
    group = group or new_group("omega")
    base = cfg.name or cfg.label()
    twins = []
    for value in (0.0, float(weight)):
        twin = copy.deepcopy(cfg)
        twin.model.backend, twin.train.omega = "scratch", value
        twin.name, twin.group = f"{base} · " + (f"Omega {value:g}" if value else "no Omega"), group
        twins.append(twin.validate())
    return twins


@dataclass
class OmegaSummary:
    name: str
    omega: float  # the penalty's weight
    status: str
    metric: str  # the task's headline metric
    chance: float | None
    metric_by_step: list[tuple[int, float]]  # (step, held-out metric) at every evaluation
    first_steps_flow: list[tuple[int, float]]  # (step, mean ||dL_T/dx_t|| over the first FIRST_STEPS steps t)
    last_step_flow: list[tuple[int, float]]  # (step, ||dL_T/dx_T||): the scale the first steps are read against
    final_omega: float | None  # Omega's value at the last step (None for the twin that does not weigh it in)
    seconds: float | None


def summarize_omega(store: RunStore, run_ids: list[str]) -> list[OmegaSummary]:
    out = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        history = RunHistory.load(store, run_id)
        spec = task_spec(record.config.task.name)
        metric = spec.headline
        flows = [(r["step"], r["gradient_flow"]) for r in history.evals if r.get("gradient_flow")]
        penalties = history.penalties().get("omega")
        out.append(OmegaSummary(
            name=record.name, omega=record.config.train.omega, status=record.status, metric=metric,
            chance=spec.headline_metric.chance_in(history.evals[-1] if history.evals else {}),
            metric_by_step=[(r["step"], r.get(metric)) for r in history.evals],
            first_steps_flow=[(step, float(np.mean(flow[:FIRST_STEPS]))) for step, flow in flows],
            last_step_flow=[(step, float(flow[-1])) for step, flow in flows],
            final_omega=float(penalties[-1]) if penalties is not None and len(penalties) else None,
            seconds=record.summary.get("seconds")))
    return out


@dataclass
class TwinSummary:
    run_id: str
    name: str
    clip: str  # none | norm | value
    clip_threshold: float
    status: str  # queued | running | completed | stopped | diverged | failed
    steps: int  # steps recorded so far
    clipped_steps: int  # steps whose gradients were clipped
    clip_steps: list[int]  # the step numbers of those clip events
    diverged: bool  # the loss, the gradient norm or the validation loss became non-finite
    diverged_at: int | None  # the step where that happened (None if it did not)
    final_loss: float | None  # mean of the last 20 finite training losses
    max_grad_norm: float | None  # largest finite gradient norm before clipping
    max_grad_norm_clipped: float | None  # largest finite gradient norm after clipping
    metric: str = ""  # the task's headline held-out metric ("accuracy", "mse", "bits_per_char", ...)
    value: float | None = None  # its value at the latest evaluation with finite weights (None: none, or diverged)
    chance: float | None = None  # the task's chance level of that metric (None where the task has none)

    @property
    def clipped_fraction(self) -> float:
        return self.clipped_steps / self.steps if self.steps else 0.0


def summarize_twins(store: RunStore, run_ids: list[str]) -> list[TwinSummary]:
    """What each twin did so far: clip events, divergence, losses and gradient norms (works while they train)."""
    out = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        history = RunHistory.load(store, run_id)
        steps = history.step_numbers()
        clipped = history.clipped()
        diverged_at = history.first_nonfinite_step() or (record.step if record.status == "diverged" else None)
        metric = TASKS[record.config.task.name].headline_metric
        evals = store.metrics(run_id, "eval")
        last = evals[-1] if evals else {}
        finite = diverged_at is None and math.isfinite(last.get("val_loss", math.nan))
        out.append(TwinSummary(
            run_id=run_id, name=record.name, clip=record.config.train.clip,
            clip_threshold=record.config.train.clip_threshold, status=record.status, steps=len(history.steps),
            clipped_steps=int(clipped.sum()), clip_steps=[int(s) for s in steps[clipped]],
            diverged=diverged_at is not None, diverged_at=diverged_at,
            final_loss=recent_train_loss(history.column("loss")),
            max_grad_norm=_finite_max(history.column("grad_norm")),
            max_grad_norm_clipped=_finite_max(history.column("grad_norm_clipped")),
            metric=metric, value=last.get(metric) if finite else None, chance=last.get("chance"),
        ))
    return out


def _finite_max(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else None


# -- how long can it remember ----------------------------------------------------------------------------------
# A reservoir that remembers: bigger than the trained cells (only its readout learns), leaky (slow states, a time
# constant of about 10 steps), radius just below 1 and gentle inputs. It solves the adding problem to about T=80.
ESN_MEMORY_SETTINGS = {"hidden": 200, "spectral_radius": 0.99, "leak_rate": 0.1, "input_scaling": 0.5}


def sweep_base_config(task: str = "adding", steps: int = 600, hidden: int = 32, seed: int = 0) -> RunConfig:
    """Settings under which a small LSTM solves the adding problem at T=30 in a few hundred steps; every run
    of a sweep stops at the first evaluation that reaches the task's solved threshold."""
    return RunConfig(task=TaskConfig(name=task), model=ModelConfig(arch="lstm", hidden=hidden, embedding=16),
                     train=TrainConfig(steps=steps, batch_size=32, lr=1e-2, clip="norm", clip_threshold=1.0, seed=seed,
                                       eval_every=50, checkpoint_every=steps, stop_when_solved=True)).validate()
def memory_sweep(cfg: RunConfig, archs: list[str], seq_lens: list[int], group: str | None = None,
                 model_overrides: dict[str, dict] | None = None) -> list[RunConfig]:
    """One run per (architecture, T) on `cfg`'s task, identical otherwise. `model_overrides` maps an
    architecture to ModelConfig settings for it alone (a bigger reservoir for an ESN, say)."""
    group = group or new_group("sweep")
    configs = []
    for arch in archs:
        for seq_len in sorted(seq_lens):
            run = copy.deepcopy(cfg)
            run.model.arch = arch
            for key, value in (model_overrides or {}).get(arch, {}).items():
                setattr(run.model, key, value)
            run.train.seq_len = seq_len
            run.name, run.group = f"{arch} T={seq_len} on {cfg.task.name}", group
            configs.append(run.validate())
    return configs


@dataclass
class SweepCell:
    run_id: str
    arch: str
    seq_len: int
    status: str
    step: int  # steps trained so far
    total_steps: int
    metric: float | None  # the task's held-out metric at the latest evaluation
    chance: float | None
    solved: bool  # the latest evaluation passed the task's threshold


@dataclass
class SweepSummary:
    task: str
    metric: str  # mse | accuracy
    higher_is_better: bool
    solved_threshold: float | None
    cells: list[SweepCell]

    @property
    def archs(self) -> list[str]:
        return list(dict.fromkeys(cell.arch for cell in self.cells))

    @property
    def finished(self) -> int:
        return sum(cell.status not in ("queued", "running") for cell in self.cells)

    @property
    def progress(self) -> float:
        """Share of all the sweep's training steps done (0-1)."""
        total = sum(cell.total_steps for cell in self.cells)
        done = sum(cell.total_steps if cell.status not in ("queued", "running") else cell.step for cell in self.cells)
        return done / total if total else 1.0

    def curve(self, arch: str) -> tuple[list[int], list[float | None]]:
        """(T values, held-out metric at each) for one architecture, T ascending."""
        cells = sorted((c for c in self.cells if c.arch == arch), key=lambda c: c.seq_len)
        return [c.seq_len for c in cells], [c.metric for c in cells]

    def longest_solved(self, arch: str) -> int | None:
        """The longest T this architecture solved (None if it solved none)."""
        solved = [c.seq_len for c in self.cells if c.arch == arch and c.solved]
        return max(solved) if solved else None


def summarize_sweep(store: RunStore, run_ids: list[str]) -> SweepSummary:
    """Held-out metric against T per architecture from the runs' latest evaluations (works while they train)."""
    cells, task, threshold = [], "", None
    for run_id in run_ids:
        record = store.get_run(run_id)
        task = record.config.task.name
        metric = TASKS[task].headline_metric
        evals = store.metrics(run_id, "eval")
        last = evals[-1] if evals else {}
        threshold = last.get("solved_threshold", threshold)
        cells.append(SweepCell(run_id, record.config.model.arch, record.config.train.seq_len, record.status,
                               record.step, record.total_steps, last.get(metric), last.get("chance"),
                               bool(last.get("solved"))))
    headline = TASKS[task].about.headline_metric if task else None
    return SweepSummary(task, headline.name if headline else "val_loss", bool(headline and headline.higher_is_better),
                        threshold, cells)


# -- gate watch -------------------------------------------------------------------------------------------------
@dataclass
class GateTimeline:
    steps: list[int]  # evaluation steps
    histograms: list[list[float]]  # per evaluation: the share of activations in each of `bins` equal bins of [0, 1]
    saturated: list[float]  # per evaluation: share of activations below 0.05 or above 0.95
    mean: list[float]  # per evaluation: the mean activation

    @property
    def bin_edges(self) -> list[float]:
        bins = len(self.histograms[0]) if self.histograms else 0
        return [i / bins for i in range(bins + 1)] if bins else []


def gate_watch(history: RunHistory) -> dict[str, GateTimeline]:
    """Each gate's activations over training (LSTM input/forget/output, GRU reset/update), from the statistics
    the scratch backend records between evaluations. Empty for runs on the fused backend or without gates."""
    steps, stats = history.gate_stats()
    out: dict[str, GateTimeline] = {}
    for step, by_gate in zip(steps, stats):
        for gate, values in by_gate.items():
            timeline = out.setdefault(gate, GateTimeline([], [], [], []))
            timeline.steps.append(step)
            timeline.histograms.append(values["histogram"])
            timeline.saturated.append(values["saturated"])
            timeline.mean.append(values["mean"])
    return out


"""Training throughput: the playground trainer against a bare hand-written PyTorch loop.

Both train the same char-level LSTM (vocab ~100, hidden 256, 1 layer, batch 32, sequence 128,
Adam, clip by norm) on the same batches, in one process, alternating round by round so that
machine noise hits both alike. The playground trainer runs with its diagnostics at their
defaults (per-step global and per-layer gradient norms, clip statistics, and every
`eval_every` steps validation, a sample, spectral radii and the gradient-flow probe); its
tokens/s is wall-clock over whole rounds, evaluations included.

Also printed: the scratch (textbook-cell) backend's ratio, and a numpy vanilla RNN in the style
of min-char-rnn (hidden 100, sequence 25, batch 1) against the playground trainer on the same
small vanilla RNN and on the LSTM.

    python benchmarks/train_throughput.py [--rounds 3] [--steps 500] [--device cuda]
Target: trainer / bare >= 0.98 on a CPU, >= 0.95 on a GPU (evaluations included; they run on a
snapshot of the model in a worker thread). The same trainer with evaluations inline
(`eval_in_background=False`) is measured in the same rounds, for comparison.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# glibc's allocator default makes the fused LSTM page-fault on every step; the app's child
# processes set these too (playground/runstore/jobs.py). Re-exec once with them in the environment.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "268435456"}
if any(os.environ.get(k) != v for k, v in ALLOCATOR.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ALLOCATOR})

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import devices, models, tasks  # noqa: E402
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.train.trainer import Trainer  # noqa: E402


def lstm_config(steps: int, backend: str = "fused", device: str = "cpu", background: bool = True) -> RunConfig:
    return RunConfig(
        task=TaskConfig(name="char", dataset="stdlib", max_chars=400_000),
        model=ModelConfig(arch="lstm", layers=1, hidden=256, embedding=64, backend=backend),
        train=TrainConfig(steps=steps, batch_size=32, seq_len=128, lr=2e-3, clip="norm", clip_threshold=1.0,
                          checkpoint_every=10**9, device=device, eval_in_background=background),
    )


def playground_tokens_per_s(cfg: RunConfig, task, steps_only: list | None = None) -> float:
    """Wall-clock tokens/s of one `Trainer.fit`, evaluations and diagnostics included. Appends to
    `steps_only` the tokens/s of its training steps alone (per-step diagnostics in, evaluations out)."""
    torch.manual_seed(cfg.train.seed)
    model = models.build(cfg.model, task.spec)
    started = time.perf_counter()
    result = Trainer(cfg.train, devices.resolve(cfg.train.device)).fit(model, task)
    seconds = time.perf_counter() - started
    tokens = result.steps * cfg.train.batch_size * cfg.train.seq_len
    if steps_only is not None:
        step_seconds = sum(cfg.train.batch_size * cfg.train.seq_len / r["tokens_per_s"] for r in result.history)
        steps_only.append(tokens / step_seconds)
    return tokens / seconds


class BareLSTM(nn.Module):
    def __init__(self, vocab: int, embedding: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def bare_tokens_per_s(cfg: RunConfig, task) -> float:
    """The loop anyone would write by hand: no diagnostics, no evaluation."""
    torch.manual_seed(cfg.train.seed)
    t = cfg.train
    device = devices.resolve(t.device)
    model = BareLSTM(task.spec["vocab_size"], cfg.model.embedding, cfg.model.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=t.lr)
    batches = task.train_batches(t.batch_size, t.seq_len, torch.Generator().manual_seed(t.seed))
    state = None
    started = time.perf_counter()
    for _ in range(t.steps):
        batch = next(batches)
        if batch["new_stream"]:
            state = None
        x, y = batch["x"].to(device), batch["y"].to(device)
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), t.clip_threshold)
        optimizer.step()
        loss.item()  # read every step, as a hand-written loop that logs its loss does (on a GPU: a sync per step)
    return t.steps * t.batch_size * t.seq_len / (time.perf_counter() - started)


def min_char_rnn_tokens_per_s(text: str, steps: int, hidden: int = 100, seq_len: int = 25) -> float:
    """Karpathy's min-char-rnn (numpy, batch 1, Adagrad, clip by value 5), timed per token."""
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text[: steps * seq_len + 1]])
    vocab = len(chars)
    rng = np.random.default_rng(0)
    Wxh, Whh, Why = (rng.standard_normal(s) * 0.01 for s in ((hidden, vocab), (hidden, hidden), (vocab, hidden)))
    bh, by = np.zeros((hidden, 1)), np.zeros((vocab, 1))
    params = [Wxh, Whh, Why, bh, by]
    memory = [np.zeros_like(p) for p in params]
    hprev = np.zeros((hidden, 1))
    started = time.perf_counter()
    for step in range(steps):
        inputs = data[step * seq_len: (step + 1) * seq_len]
        targets = data[step * seq_len + 1: (step + 1) * seq_len + 1]
        xs, hs, ps = {}, {-1: hprev}, {}
        for t in range(seq_len):
            xs[t] = np.zeros((vocab, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            y = Why @ hs[t] + by
            ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        grads = [np.zeros_like(p) for p in params]
        dWxh, dWhh, dWhy, dbh, dby = grads
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(seq_len)):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] ** 2) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        for p, g, m in zip(params, grads, memory):
            np.clip(g, -5, 5, out=g)
            m += g * g
            p -= 0.1 * g / np.sqrt(m + 1e-8)
        hprev = hs[seq_len - 1]
    return steps * seq_len / (time.perf_counter() - started)


def synchronize(model: nn.Module) -> None:
    device = next(model.parameters()).device
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def evaluation_costs(cfg: RunConfig, task, repeats: int = 5) -> dict[str, float]:
    """Milliseconds of one training step and of each part of one evaluation, on the benchmark's model."""
    from playground.train import diagnostics

    torch.manual_seed(cfg.train.seed)
    t = cfg.train
    model = models.build(cfg.model, task.spec).to(devices.resolve(t.device))
    trainer = Trainer(t, devices.resolve(t.device))
    trainer.model = model
    probe = trainer._to_device(task.probe_batch(t.batch_size, t.seq_len))
    batch = trainer._to_device({k: v for k, v in next(task.train_batches(t.batch_size, t.seq_len, torch.Generator()))
                                .items() if k != "new_stream"})
    optimizer = torch.optim.Adam(model.parameters(), lr=t.lr)

    def step():
        out = model(batch)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()

    parts = {
        "training step": step,
        "validation batches": lambda: task.evaluate(model, t.batch_size, t.seq_len, t.eval_batches),
        "gradient-flow probe": lambda: diagnostics.gradient_flow(model, probe),
        "spectral radii": lambda: diagnostics.spectral_radii(model),
        "state Jacobian": lambda: diagnostics.block_singular_values_and_jacobian(model, probe),
        "sample": lambda: task.sample(model, length=t.sample_length, temperature=t.sample_temperature,
                                      generator=torch.Generator().manual_seed(0)),
        "snapshot (deep copy)": lambda: __import__("copy").deepcopy(model),
    }
    costs = {}
    for name, part in parts.items():
        part()
        synchronize(model)
        started = time.perf_counter()
        for _ in range(repeats):
            part()
        synchronize(model)  # on a GPU: until its kernels have run, not only been queued
        costs[name] = (time.perf_counter() - started) / repeats * 1000
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each loop")
    parser.add_argument("--steps", type=int, default=500, help="training steps per round")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps (the numpy baseline stays on the CPU)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # each run sets its own; one is fastest for small recurrent models

    cfg = lstm_config(args.steps, device=args.device)
    task = tasks.build(cfg.task)
    print(f"char LSTM: vocab {len(task.vocab)}, hidden 256, batch 32, sequence 128, Adam, clip by norm, "
          f"{args.rounds} alternating rounds of {args.steps} steps, torch {torch.__version__}, 1 CPU thread, "
          f"{devices.describe(devices.resolve(args.device))}\n")
    costs = evaluation_costs(cfg, task)
    step_ms = costs.pop("training step")
    print(f"one training step {step_ms:.1f} ms; one evaluation (every {cfg.train.eval_every} steps): " + ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in costs.items()) + f" = {sum(costs.values()) / step_ms:.2f} steps\n")
    warm_up = lstm_config(10, device=args.device)  # oneDNN primitives and allocator pools, created once for both loops
    playground_tokens_per_s(warm_up, task)
    bare_tokens_per_s(warm_up, task)
    inline_cfg = lstm_config(args.steps, device=args.device, background=False)
    playground, inline, bare, steps_only = [], [], [], []
    for round_ in range(args.rounds):
        playground.append(playground_tokens_per_s(cfg, task, steps_only))
        bare.append(bare_tokens_per_s(cfg, task))
        inline.append(playground_tokens_per_s(inline_cfg, task))
        print(f"  round {round_ + 1}: playground {playground[-1]:9,.0f} tok/s   bare loop {bare[-1]:9,.0f} tok/s   "
              f"ratio {playground[-1] / bare[-1]:.3f}   (inline evaluations: {inline[-1] / bare[-1]:.3f})")
    p, b, q = statistics.median(playground), statistics.median(bare), statistics.median(inline)
    target = 0.95 if args.device.startswith("cuda") else 0.98
    print(f"\nplayground trainer (fused, diagnostics on) {p:9,.0f} tok/s")
    print(f"bare nn.LSTM loop                          {b:9,.0f} tok/s")
    print(f"ratio                                      {p / b:9.3f}   (target >= {target})")
    print(f"ratio with evaluations inline              {q / b:9.3f}")
    s = statistics.median(steps_only)
    print(f"training steps alone (evaluations excluded) {s:9,.0f} tok/s   ratio {s / b:.3f}")

    scratch_cfg = lstm_config(max(20, args.steps // 4), backend="scratch", device=args.device)
    scratch = playground_tokens_per_s(scratch_cfg, task)
    print(f"\nscratch backend (textbook cells)           {scratch:9,.0f} tok/s   ratio to bare {scratch / b:.3f}")

    small = RunConfig(task=cfg.task, model=ModelConfig(arch="rnn-tanh", hidden=100, embedding=64),
                      train=TrainConfig(steps=args.steps, batch_size=32, seq_len=25, clip="value", clip_threshold=5.0,
                                        checkpoint_every=10**9, device=args.device))
    small_tps = playground_tokens_per_s(small, task)
    numpy_tps = min_char_rnn_tokens_per_s(task.text, steps=200)
    print(f"\nmin-char-rnn (numpy, hidden 100, seq 25)   {numpy_tps:9,.0f} tok/s")
    print(f"playground rnn-tanh, hidden 100, seq 25    {small_tps:9,.0f} tok/s   ({small_tps / numpy_tps:.1f}x)")
    print(f"playground LSTM, hidden 256, seq 128       {p:9,.0f} tok/s   ({p / numpy_tps:.1f}x)")


if __name__ == "__main__":
    main()

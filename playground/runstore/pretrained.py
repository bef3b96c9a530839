"""The small pretrained models shipped in `pretrained/`, and the recipe that regenerates them.

Regenerate with `python -m playground pretrain` (a few minutes on a laptop CPU).
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch

from . import checkpoint
from .. import atomic, devices, models, tasks
from .checkpoint import CheckpointError
from ..config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from ..data.corpora import BUILTIN
from ..paths import PRETRAINED_DIR
from .store import RunStore
from ..train.trainer import Callback, Trainer


def _char_recipe(dataset: str, steps: int, hidden: int) -> RunConfig:
    return RunConfig(
        name=f"pretrained LSTM on {dataset}",
        task=TaskConfig(name="char", dataset=dataset),
        model=ModelConfig(arch="lstm", layers=1, hidden=hidden, embedding=48),
        train=TrainConfig(steps=steps, batch_size=32, seq_len=128, lr=3e-3, clip="norm", clip_threshold=1.0,
                          eval_every=250, eval_batches=16, checkpoint_every=10**9, seed=0),
    )


def _translation_recipe(dataset: str, steps: int, bidirectional: bool) -> RunConfig:
    """A small GRU with Bahdanau attention: above 0.99 held-out exact match within a few minutes on a CPU."""
    return RunConfig(
        name=f"pretrained {'bi-' if bidirectional else ''}GRU + Bahdanau attention on {dataset}",
        task=TaskConfig(name="translation", dataset=dataset, pairs=20_000, data_seed=0),
        model=ModelConfig(arch="gru", layers=1, hidden=128, embedding=32, attention="bahdanau",
                          bidirectional=bidirectional),
        train=TrainConfig(steps=steps, batch_size=64, lr=3e-3, clip="norm", clip_threshold=1.0, eval_every=250,
                          eval_batches=8, checkpoint_every=10**9, seed=0),
    )


def _captioning_recipe(steps: int) -> RunConfig:
    """An LSTM with soft attention over a small CNN's grid: above 0.9 held-out exact match on two-shape
    scenes within a few CPU minutes, and a checkpoint under 1 MB."""
    return RunConfig(
        name="pretrained LSTM + soft attention captioner on two-shape scenes",
        task=TaskConfig(name="captioning", dataset="shapes2"),
        model=ModelConfig(arch="lstm", layers=1, hidden=128, embedding=32, attention="soft"),
        train=TrainConfig(steps=steps, batch_size=64, lr=3e-3, clip="norm", clip_threshold=1.0, eval_every=250,
                          eval_batches=4, checkpoint_every=10**9, seed=0),
    )


def _langid_recipe(steps: int) -> RunConfig:
    """A bidirectional LSTM over characters: eight languages' held-out words and pseudo-sentences of up to three
    words, read far above the 1/8 of guessing, in about a minute on a CPU and a checkpoint well under 1 MB."""
    cfg = RunConfig(
        name="pretrained bi-LSTM language identifier (8 languages)",
        task=TaskConfig(name="langid", dataset="wordfreq"),
        model=ModelConfig(arch="lstm", layers=1, hidden=96, embedding=32, bidirectional=True),
        train=TrainConfig(steps=steps, batch_size=64, lr=4e-3, clip="norm", clip_threshold=1.0, eval_every=250,
                          eval_batches=4, checkpoint_every=10**9, seed=0))
    cfg.task.langid.sentence_words = 3
    return cfg


RECIPES: dict[str, RunConfig] = {
    "char-tiny": _char_recipe("tiny", steps=400, hidden=128),
    "char-pydoc": _char_recipe("pydoc", steps=2000, hidden=320),
    "char-stdlib": _char_recipe("stdlib", steps=2000, hidden=320),
    # human dates -> ISO 8601; bidirectional, so each encoder output describes its own character and the
    # attention map puts every output digit on the digit it copies (a forward-only encoder looks one step late)
    "dates": _translation_recipe("dates", steps=800, bidirectional=True),
    "numbers": _translation_recipe("numbers", steps=2000, bidirectional=False),  # number words -> digits
    "captioner": _captioning_recipe(steps=2000),  # generated scenes -> "a small red circle above a large blue square"
    "langid": _langid_recipe(steps=1500),  # a word or a short phrase -> which of eight languages it is in
}


def available() -> list[dict]:
    """Every shipped model with its description: name, config, metrics."""
    found = []
    for folder in sorted(PRETRAINED_DIR.glob("*/")):
        if folder.name.startswith("."):  # a regeneration's staging folder
            continue
        try:
            meta = checkpoint.read_meta(folder)
        except CheckpointError:
            continue
        found.append({"name": folder.name, "path": folder, **meta})
    return found


def resolve(ref: str, store: RunStore | None = None) -> Path:
    """The checkpoint folder of a pretrained model name, a run id of the store, or a folder path."""
    if (PRETRAINED_DIR / ref / checkpoint.META).is_file():
        return PRETRAINED_DIR / ref
    store = store or RunStore()
    if store.get_run(ref) is not None:
        folder = store.checkpoint_dir(ref)
        if not (folder / checkpoint.META).is_file():
            raise CheckpointError(f"run {ref} has no checkpoint yet (it saves one every checkpoint_every steps and at the end)")
        return folder
    if Path(ref).is_dir():
        return Path(ref)
    names = ", ".join(m["name"] for m in available()) or "none"
    raise CheckpointError(f"{ref!r} is neither a pretrained model ({names}), a run id nor a checkpoint folder")


def pretrain(names: list[str] | None = None, out_dir: Path = PRETRAINED_DIR,
             callbacks: list[Callback] = (), log=print) -> list[Path]:
    """Train each recipe from scratch and write its checkpoint and model card to `out_dir/NAME`."""
    written = []
    for name in names or list(RECIPES):
        cfg = RECIPES[name]
        torch.manual_seed(cfg.train.seed)
        task = tasks.build(cfg.task, train=cfg.train)
        model = models.build(cfg.model, task.spec)
        device = devices.resolve("auto")
        started = time.time()
        log(f"pretraining {name}: {cfg.label()} for {cfg.train.steps} steps on {devices.describe(device)}")
        result = Trainer(cfg.train, device).fit(model, task, callbacks)
        model.cpu()
        metrics = task.evaluate(model, cfg.train.batch_size, cfg.train.seq_len)  # the whole held-out split
        metrics.update(steps=result.steps, train_seconds=round(time.time() - started, 1),
                       train_loss=result.history[-1]["loss"])
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = checkpoint.save(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir), model, cfg, task, result.steps,
                                  metrics)
        atomic.write_text(staging / "README.md", model_card(name, cfg, task, metrics, model.parameter_count()))
        folder = checkpoint.publish(staging, out_dir / name)  # weights, config and card replaced as one folder
        log(f"  {name}: held-out {task.headline_metric} {metrics[task.headline_metric]:.4f}")
        written.append(folder)
    return written


def model_card(name: str, cfg: RunConfig, task, metrics: dict, parameters: int) -> str:
    corpus = BUILTIN.get(cfg.task.dataset) if task.about.try_view == "sample" else None  # a text model's corpus
    data = f"{corpus.title} (`{corpus.name}`): {corpus.description}" if corpus else f"`{cfg.task.dataset}`"
    facts = ", ".join(f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k.replace('_', ' ')} {v:.3g}"
                      for k, v in task.describe().items() if isinstance(v, (int, float)))
    scores = "\n".join(f"  - {k}: {v:.4f}" if isinstance(v, float) else f"  - {k}: {v}"
                       for k, v in metrics.items() if isinstance(v, (int, float)))
    m, t, headline = cfg.model, cfg.train, task.about.headline_metric
    return f"""# {name}

{cfg.label()}: trained by `python -m playground pretrain --only {name}`.

- Task: {task.about.title} (`{cfg.task.name}`). Data: {data} {facts}. The held-out split is never trained on.
- Model: {"bidirectional " if m.bidirectional else ""}{m.arch}, {m.layers} layer(s) of {m.hidden} units, embedding {m.embedding}, attention {m.attention}, \
{parameters:,} parameters.
- Training: {t.steps} steps of batch {t.batch_size}, {t.optimizer} at lr {t.lr}, clip by {t.clip} at \
{t.clip_threshold}, seed {t.seed}.
- Held-out quality (headline: **{headline.label} = {metrics[headline.name]:.4f}** {headline.unit}, \
{"higher" if headline.higher_is_better else "lower"} is better):
{scores}
{task.card_notes(metrics)}
```json
{json.dumps(cfg.to_dict(), indent=2)}
```
"""

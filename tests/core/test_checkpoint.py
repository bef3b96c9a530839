"""Checkpoints: weights-only state_dict + config.json; portable between backends; foreign files refused."""
from __future__ import annotations

import json
import os
import pickle

import pytest
import torch

from playground.runstore import checkpoint, pretrained
from playground import models, tasks
from playground.runstore.checkpoint import CheckpointError
from playground.config import RunConfig

pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")


@pytest.fixture
def saved(tmp_path, tiny_config):
    """A briefly trained fused 2-layer LSTM, saved; returns (folder, model, task, config)."""
    cfg = tiny_config(model={"arch": "lstm", "layers": 2, "hidden": 12})
    torch.manual_seed(0)
    task = tasks.build(cfg.task)
    model = models.build(cfg.model, task.spec)
    with torch.no_grad():  # move away from the initial weights, so a fresh model would not match
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    folder = checkpoint.save(tmp_path / "ckpt", model, cfg, task, step=17, metrics={"val_loss": 1.25})
    return folder, model.eval(), task, cfg


def _batch(task):
    return task.probe_batch(4, 16)


def test_saved_files_load_weights_only(saved):
    folder, model, _, cfg = saved
    weights = checkpoint.weights_file(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["config.json", weights.name])
    state = torch.load(weights, weights_only=True)
    assert state.keys() == model.state_dict().keys()
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    meta = json.loads((folder / "config.json").read_text())
    assert meta["format"] == checkpoint.FORMAT and meta["step"] == 17 and meta["metrics"] == {"val_loss": 1.25}
    assert RunConfig.from_dict(meta["config"]) == cfg
    assert meta["parameters"] == model.parameter_count()


def test_loaded_model_gives_identical_logits(saved):
    folder, model, task, cfg = saved
    loaded = checkpoint.load(folder)
    assert loaded.config == cfg and loaded.meta["step"] == 17 and not loaded.model.training
    assert loaded.task.vocab.symbols == task.vocab.symbols
    batch = _batch(task)
    with torch.no_grad():
        assert torch.equal(loaded.model(batch).logits, model(batch).logits)
    # a fresh model (other weights) would not match: the comparison above means something
    torch.manual_seed(1)
    fresh = models.build(cfg.model, task.spec).eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(batch).logits, model(batch).logits)


def test_task_rebuilt_from_checkpoint_without_its_text(saved):
    folder, model, task, _ = saved
    loaded = checkpoint.load(folder)
    assert loaded.task._text is None  # the vocabulary came from the checkpoint
    out = loaded.task.sample(loaded.model, length=20, prime="The ", generator=torch.Generator().manual_seed(0))
    assert len(out["text"]) == 20 and set(out["text"]) <= set(task.vocab.symbols)


def test_fused_checkpoint_loads_into_scratch_backend(saved, tmp_path):
    folder, model, task, cfg = saved
    meta = json.loads((folder / "config.json").read_text())
    meta["config"]["model"]["backend"] = "scratch"
    (folder / "config.json").write_text(json.dumps(meta))
    loaded = checkpoint.load(folder)
    assert loaded.model.core.backend == "scratch"
    assert type(loaded.model.core.rnn).__name__ == "Stack"
    batch = _batch(task)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(batch).logits, model(batch).logits, rtol=1e-5, atol=1e-5)
    # and the scratch backend records gate statistics
    assert loaded.model.core.record_gates(True)
    with torch.no_grad():
        loaded.model(batch)
    stats = loaded.model.core.gate_stats()
    assert set(stats) == {"input", "forget", "output"}
    assert all(0 < s["mean"] < 1 and abs(sum(s["histogram"]) - 1) < 1e-5 for s in stats.values())


class NotOurs:
    pass


def _weights_cases():
    return {
        "random bytes": lambda p: p.write_bytes(os.urandom(4096)),
        "text": lambda p: p.write_bytes(b"hello, this is not a checkpoint"),
        "empty": lambda p: p.write_bytes(b""),
        "pickled object": lambda p: p.write_bytes(pickle.dumps({"weights": NotOurs()})),
        "pickled module": lambda p: torch.save(torch.nn.Linear(2, 2), p),
        "not tensors": lambda p: torch.save({"a": 1, "b": "two"}, p),
    }


@pytest.mark.parametrize("case", list(_weights_cases()))
def test_foreign_weights_are_refused(saved, case):
    folder = saved[0]
    _weights_cases()[case](checkpoint.weights_file(folder))
    with pytest.raises(CheckpointError) as err:
        checkpoint.load(folder)
    assert checkpoint.weights_file(folder).name in str(err.value)


def test_many_random_files_all_give_checkpoint_error(saved):
    folder = saved[0]
    for seed in range(40):  # random bytes have made torch.load raise KeyError, IndexError, ...
        checkpoint.weights_file(folder).write_bytes(torch.randint(0, 256, (2048,), generator=torch.Generator().manual_seed(seed),
                                                        dtype=torch.uint8).numpy().tobytes())
        with pytest.raises(CheckpointError):
            checkpoint.load(folder)


def test_pickle_payload_is_never_executed(saved, tmp_path):
    folder = saved[0]
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    checkpoint.weights_file(folder).write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError):
        checkpoint.load(folder)
    assert not marker.exists()


@pytest.mark.parametrize("text, words", [
    ('{"config": {}, "step": 1}', "format sequence-playground/1 expected"),
    ('{"format": "someone-else/3"}', "format sequence-playground/1 expected"),
    ("[1, 2, 3]", "not a Sequence Playground checkpoint"),
    ("\x00\x01 not json", "not JSON"),
])
def test_foreign_descriptions_are_refused(saved, text, words):
    folder = saved[0]
    (folder / "config.json").write_text(text)
    with pytest.raises(CheckpointError, match=words):
        checkpoint.load(folder)


def test_damaged_or_mismatched_checkpoints(saved, tmp_path):
    folder, *_ = saved
    meta = json.loads((folder / "config.json").read_text())
    meta["config"]["model"]["hidden"] = 20  # the weights are for 12 units
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.load(folder)
    meta["config"]["model"] = {"arch": "transformer"}
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="damaged configuration"):
        checkpoint.load(folder)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path / "empty-folder")
    checkpoint.weights_file(folder).unlink()
    meta["config"]["model"]["arch"] = "lstm"
    with pytest.raises(CheckpointError):
        checkpoint.load(folder)


def test_resolve_refs(store, saved):
    folder = saved[0]
    assert pretrained.resolve(str(folder), store) == folder
    with pytest.raises(CheckpointError, match="neither a pretrained model"):
        pretrained.resolve("no-such-thing", store)
